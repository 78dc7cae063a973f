#include "services/core/incident_ref.h"

#include "absl/strings/ascii.h"

namespace forewarn {
namespace {

char CrockfordDigit(char ch) {
  const char up = absl::ascii_toupper(static_cast<unsigned char>(ch));
  if (up == 'O') return '0';
  if (up == 'I' || up == 'L') return '1';
  return up;
}

bool IsCrockford(char ch) { return kCrockfordAlphabet.find(ch) != std::string_view::npos; }

}  // namespace

std::string CrockfordEncode(uint64_t value, int chars) {
  std::string out(static_cast<size_t>(chars), '0');
  for (int i = chars - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kCrockfordAlphabet[value & 31];
    value >>= 5;
  }
  return out;
}

std::string NormalizeCrockford(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch != '-' && ch != ' ') out.push_back(CrockfordDigit(ch));
  }
  return out;
}

std::string NormalizeIncidentRef(std::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  std::string out = absl::AsciiStrToUpper(trimmed);
  const size_t dash = out.find('-');
  if (dash == 3) {
    for (size_t i = dash + 1; i < out.size(); ++i) out[i] = CrockfordDigit(out[i]);
  }
  return out;
}

bool IsIncidentRef(std::string_view text) {
  if (text.size() < 8 || text.size() > 10 || text[3] != '-') return false;
  for (size_t i = 0; i < 3; ++i) {
    if (text[i] < 'A' || text[i] > 'Z') return false;
  }
  for (size_t i = 4; i < text.size(); ++i) {
    if (!IsCrockford(text[i])) return false;
  }
  return true;
}

}  // namespace forewarn
