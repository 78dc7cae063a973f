#include "services/runtime/notice_link_flags.h"

#include <utility>
#include <vector>

#include "CLI/CLI.hpp"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/runtime/policy_flags.h"

namespace forewarn {

std::string NoticeLinkFlags::DefaultStatusLinkKindsText() {
  std::vector<std::string> names;
  for (NoticeKind kind : DefaultStatusLinkKinds()) names.emplace_back(ToString(kind));
  return absl::StrJoin(names, ",");
}

void AddNoticeLinkFlags(CLI::App& app, NoticeLinkFlags& flags) {
  app.add_option("--status-base-url", flags.status_base_url,
                 "status page base URL, e.g. https://status.example.com: notices link to BASE/n/TOKEN "
                 "(https://, or http:// for a loopback host; empty: no link)")
      ->envname("FOREWARN_STATUS_BASE_URL");
  app.add_option("--message-code-secret-file", flags.message_code_secret_file,
                 "secret of the notices' verification codes (one line of 32+ bytes), the status page's too")
      ->envname("FOREWARN_MESSAGE_CODE_SECRET_FILE");
  app.add_option("--status-link-kinds", flags.status_link_kinds,
                 "notice kinds that carry the status link (comma list, or none); the others carry only the code")
      ->envname("FOREWARN_STATUS_LINK_KINDS");
}

absl::StatusOr<NoticeLinkSettings> ToNoticeLinkSettings(const NoticeLinkFlags& flags, bool code_required) {
  std::optional<MessageCodes> codes;
  if (!flags.message_code_secret_file.empty()) {
    auto loaded = MessageCodes::FromFile(flags.message_code_secret_file);
    if (!loaded.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("--message-code-secret-file: ", loaded.status().message()));
    }
    codes = *std::move(loaded);
  } else if (code_required) {
    return absl::FailedPreconditionError(
        "--message-code-secret-file: is required (every notice carries a verification code)");
  }
  std::set<NoticeKind> kinds;
  if (auto s = ParseNoticeKindList("--status-link-kinds", flags.status_link_kinds, &kinds); !s.ok()) return s;
  auto settings = NoticeLinkSettings::Create(flags.status_base_url, std::move(codes), std::move(kinds));
  if (!settings.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--status-base-url: ", settings.status().message()));
  }
  return settings;
}

}  // namespace forewarn
