#pragma once

// The flags of what notices carry besides their facts (issue 19): the
// status page link and the verification code. The notifier needs them to
// send; the intake to preview notices as customers will see them.

#include <string>

#include "absl/status/statusor.h"
#include "services/core/notice_links.h"

namespace CLI {
class App;
}

namespace forewarn {

struct NoticeLinkFlags {
  // e.g. https://status.example.com: notices link to BASE/n/TOKEN ("": no link).
  std::string status_base_url;
  // One line of 32+ bytes, the status page's file too.
  std::string message_code_secret_file;
  // The kinds whose notices carry the link; default: all but the IBAN ones.
  std::string status_link_kinds = DefaultStatusLinkKindsText();

  static std::string DefaultStatusLinkKindsText();
};

void AddNoticeLinkFlags(CLI::App& app, NoticeLinkFlags& flags);

// The settings the flags describe. FAILED_PRECONDITION naming
// --message-code-secret-file when it cannot be read or is unusable (or,
// with `code_required`, is missing); INVALID_ARGUMENT naming
// --status-base-url (not https://, or http:// off loopback) or
// --status-link-kinds (an unknown kind).
absl::StatusOr<NoticeLinkSettings> ToNoticeLinkSettings(const NoticeLinkFlags& flags, bool code_required);

}  // namespace forewarn
