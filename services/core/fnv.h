#pragma once

// FNV-1a, 64 bits: a fast, stable hash (same value in every process and
// build, unlike std::hash), for values that are stored or compared across
// processes. Not for anything an attacker chooses to collide.

#include <cstdint>
#include <string_view>

namespace forewarn {

class Fnv1a64 {
 public:
  Fnv1a64& Byte(unsigned char c) {
    h_ = (h_ ^ c) * 1099511628211ull;
    return *this;
  }
  Fnv1a64& Bytes(std::string_view s) {
    for (const char c : s) Byte(static_cast<unsigned char>(c));
    return *this;
  }
  // The bytes, then `end`: fields that follow one another cannot trade bytes.
  Fnv1a64& Field(std::string_view s, unsigned char end) { return Bytes(s).Byte(end); }
  // Eight bytes, little-endian.
  Fnv1a64& Number(int64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i)));
    return *this;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 14695981039346656037ull;
};

}  // namespace forewarn
