#include "services/core/mask.h"

#include <algorithm>

namespace forewarn {

std::string MaskPhone(std::string_view phone) {
  if (phone.size() <= 7) return std::string(phone.size(), '*');
  std::string out(phone.substr(0, 5));
  out.append(phone.size() - 8, '*');
  out.append(phone.substr(phone.size() - 3));
  return out;
}

std::string MaskEmail(std::string_view email) {
  const auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::string(email.size(), '*');
  std::string out(email.substr(0, 1));
  out.append("***");
  out.append(email.substr(at));
  return out;
}

std::string MaskIban(std::string_view iban) {
  std::string compact;
  for (char c : iban) {
    if (c != ' ') compact.push_back(c);
  }
  if (compact.size() <= 8) return std::string(compact.size(), '*');
  std::string out = compact.substr(0, 4);
  out.append(" **** ");
  out.append(compact.substr(compact.size() - 4));
  return out;
}

std::string MaskAddress(std::string_view address) {
  return address.find('@') != std::string_view::npos ? MaskEmail(address) : MaskPhone(address);
}

}  // namespace forewarn
