#include "services/pg/customer_hash.h"

#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <vector>

namespace forewarn::pg {
namespace {

// Length-prefixed fields: no two different records serialise alike.
void Put(std::string& out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(s);
}

// The shortest text that reads back as `x` (one text per double).
void PutDouble(std::string& out, double x) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof text, x).ptr;
  Put(out, std::string_view(text, static_cast<size_t>(end - text)));
}

// The asset links and location, after everything else and only when the
// record has them: a record without either hashes as it did before they
// existed (no re-import counts every customer as updated).
void PutTargeting(std::string& buf, const Customer& c) {
  if (!c.assets.empty()) {
    std::vector<const AssetLink*> links;
    for (const auto& l : c.assets) links.push_back(&l);
    std::sort(links.begin(), links.end(), [](auto* a, auto* b) { return *a < *b; });
    buf += 'A';
    Put(buf, std::to_string(links.size()));
    for (const auto* l : links) {
      Put(buf, l->service);
      Put(buf, l->asset);
    }
  }
  if (c.location) {
    buf += 'L';
    PutDouble(buf, c.location->latitude);
    PutDouble(buf, c.location->longitude);
  }
}

char Bits(const ChannelSet& c) { return static_cast<char>((c.sms ? 1 : 0) | (c.email ? 2 : 0)); }

}  // namespace

std::string CustomerContentHash(const Customer& c) {
  std::string buf = "fwc1";  // the serialisation's version
  buf.reserve(256);
  for (std::string_view f : {std::string_view(c.external_id), std::string_view(c.name), std::string_view(c.locale),
                             std::string_view(c.time_zone), std::string_view(c.phone), std::string_view(c.email)}) {
    Put(buf, f);
  }
  std::vector<const ServiceRegion*> services;
  for (const auto& s : c.services) services.push_back(&s);
  std::sort(services.begin(), services.end(), [](auto* a, auto* b) { return *a < *b; });
  Put(buf, std::to_string(services.size()));
  for (const auto* s : services) {
    Put(buf, s->service);
    Put(buf, s->region);
  }
  std::vector<std::string_view> accounts(c.accounts.begin(), c.accounts.end());
  std::sort(accounts.begin(), accounts.end());
  Put(buf, std::to_string(accounts.size()));
  for (auto a : accounts) Put(buf, a);
  std::vector<const Beneficiary*> beneficiaries;
  for (const auto& b : c.beneficiaries) beneficiaries.push_back(&b);
  std::sort(beneficiaries.begin(), beneficiaries.end(),
            [](auto* a, auto* b) { return std::tie(a->iban, a->nickname) < std::tie(b->iban, b->nickname); });
  Put(buf, std::to_string(beneficiaries.size()));
  for (const auto* b : beneficiaries) {
    Put(buf, b->iban);
    Put(buf, b->nickname);
  }
  const Preferences& p = c.preferences;
  buf += {Bits(p.unplanned_outages), Bits(p.planned_maintenance), Bits(p.banking_changes)};
  PutTargeting(buf, c);
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace forewarn::pg
