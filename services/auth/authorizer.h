#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forewarn {

// Who a caller is. What each role may do is RoleAllows (below), the one
// place that decides it:
//   viewer:    read incidents (get, list, delivery report, previews, history)
//   submitter: viewer + create, update, schedule maintenance, announce IBAN changes
//   operator:  submitter + resolve, cancel, reconcile (and DLQ replay), and
//              the customer directory
//   directory: the customer directory only (a CRM's sync job): import, get,
//              list, erase customers, set preferences; no incident method
enum class Role { kViewer, kSubmitter, kOperator, kDirectory };

// What an RPC needs: every method names one.
enum class Permission {
  kReadIncidents,    // viewer, submitter, operator
  kWriteIncidents,   // submitter, operator
  kOperate,          // operator
  kCustomerData,     // directory, operator (personal data: not viewer, not submitter)
};

// The rule: whether `role` grants `permission`.
bool RoleAllows(Role role, Permission permission);

const std::string& ToString(Role role);
absl::StatusOr<Role> ParseRole(std::string_view text);

// An authenticated caller. `name` is what the audit trail records.
struct Caller {
  std::string name;
  Role role = Role::kViewer;
};

// Bearer-token authentication and role checks, independent of transport.
//
// The tokens file has one caller per line, "TOKEN ROLE NAME", separated by
// spaces or tabs; blank lines and lines starting with '#' are ignored.
// Tokens must be at least 16 characters, names match [A-Za-z0-9._@-]+. Only
// SHA-256 digests of the tokens are kept in memory, and no error message
// or log line ever contains a token.
class Authorizer {
 public:
  static constexpr size_t kMinTokenLength = 16;

  // INVALID_ARGUMENT naming the line ("tokens:3: unknown role 'admin'") for
  // a malformed line, a duplicate token or an empty file; `source` names
  // the input in messages.
  static absl::StatusOr<Authorizer> Parse(std::string_view text, std::string_view source = "tokens");
  // As Parse, from a file; FAILED_PRECONDITION when it cannot be read.
  static absl::StatusOr<Authorizer> Load(const std::string& path);

  // From the value of the "authorization" header ("Bearer TOKEN", scheme
  // case-insensitive). UNAUTHENTICATED when missing, malformed or unknown.
  absl::StatusOr<Caller> Authenticate(std::string_view authorization) const;

  // PERMISSION_DENIED unless the caller's role grants `required`
  // ("dashboards (viewer) may not GetCustomer; requires directory or operator").
  static absl::Status Permit(const Caller& caller, Permission required, std::string_view what);

  size_t size() const { return callers_.size(); }

 private:
  std::map<std::string, Caller> callers_;  // by SHA-256 digest of the token
};

// The SHA-256 digest of `data` (32 raw bytes).
std::string Sha256(std::string_view data);

}  // namespace forewarn
