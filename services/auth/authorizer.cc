#include "services/auth/authorizer.h"

#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace forewarn {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '@' && c != '-') {
      return false;
    }
  }
  return true;
}

bool ValidToken(std::string_view token) {
  for (char c : token) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

constexpr Role kAllRoles[] = {Role::kViewer, Role::kSubmitter, Role::kOperator, Role::kDirectory};

// "directory or operator": the roles that grant `permission`.
std::string RolesGranting(Permission permission) {
  std::vector<std::string> names;
  for (Role r : kAllRoles) {
    if (RoleAllows(r, permission)) names.push_back(ToString(r));
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

bool RoleAllows(Role role, Permission permission) {
  switch (permission) {
    case Permission::kReadIncidents:
      return role == Role::kViewer || role == Role::kSubmitter || role == Role::kOperator;
    case Permission::kWriteIncidents: return role == Role::kSubmitter || role == Role::kOperator;
    case Permission::kOperate: return role == Role::kOperator;
    case Permission::kCustomerData: return role == Role::kDirectory || role == Role::kOperator;
  }
  return false;
}

const std::string& ToString(Role role) {
  static const std::string kViewer = "viewer", kSubmitter = "submitter", kOperator = "operator",
                           kDirectory = "directory";
  switch (role) {
    case Role::kViewer: return kViewer;
    case Role::kSubmitter: return kSubmitter;
    case Role::kOperator: return kOperator;
    case Role::kDirectory: return kDirectory;
  }
  return kViewer;
}

absl::StatusOr<Role> ParseRole(std::string_view text) {
  for (Role r : kAllRoles) {
    if (text == ToString(r)) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role '", absl::string_view(text.data(), text.size()),
                   "' (expected viewer, submitter, operator or directory)"));
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

absl::StatusOr<Authorizer> Authorizer::Parse(std::string_view text, std::string_view source) {
  Authorizer out;
  const absl::string_view src(source.data(), source.size());
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto error = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat(src, ":", line_no, ": ", what));
    };
    if (fields.size() != 3) {
      return error(absl::StrCat("expected \"TOKEN ROLE NAME\", got ", fields.size(), " fields"));
    }
    const std::string_view token(fields[0].data(), fields[0].size());
    if (token.size() < kMinTokenLength) {
      return error(absl::StrCat("token too short (at least ", kMinTokenLength, " characters)"));
    }
    if (!ValidToken(token)) return error("token has non-printable characters");
    auto role = ParseRole(std::string_view(fields[1].data(), fields[1].size()));
    if (!role.ok()) return error(std::string(role.status().message()));
    if (!ValidName(std::string_view(fields[2].data(), fields[2].size()))) {
      return error(absl::StrCat("invalid name '", fields[2], "' (letters, digits and ._@- only)"));
    }
    if (!out.callers_.emplace(Sha256(token), Caller{std::string(fields[2]), *role}).second) {
      return error("duplicate token");
    }
  }
  if (out.callers_.empty()) return absl::InvalidArgumentError(absl::StrCat(src, ": no tokens"));
  return out;
}

absl::StatusOr<Authorizer> Authorizer::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read tokens file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

absl::StatusOr<Caller> Authorizer::Authenticate(std::string_view authorization) const {
  if (authorization.empty()) return absl::UnauthenticatedError("missing bearer token (authorization metadata)");
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(authorization.data(), kScheme.size()),
                              absl::string_view(kScheme.data(), kScheme.size()))) {
    return absl::UnauthenticatedError("authorization metadata must be \"Bearer <token>\"");
  }
  auto token = absl::StripAsciiWhitespace(
      absl::string_view(authorization.data() + kScheme.size(), authorization.size() - kScheme.size()));
  auto it = callers_.find(Sha256(std::string_view(token.data(), token.size())));
  if (it == callers_.end()) return absl::UnauthenticatedError("unknown bearer token");
  return it->second;
}

absl::Status Authorizer::Permit(const Caller& caller, Permission required, std::string_view what) {
  if (RoleAllows(caller.role, required)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(caller.name, " (", ToString(caller.role), ") may not ",
                                                  absl::string_view(what.data(), what.size()), "; requires ",
                                                  RolesGranting(required)));
}

}  // namespace forewarn
