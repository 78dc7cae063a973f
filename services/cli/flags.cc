#include "absl/time/clock.h"
#include "services/cli/command.h"
#include "services/cli/format.h"

namespace forewarn::cli {

CLI::App& AddGroup(CLI::App& app, const char* name, const char* help) {
  CLI::App& group = *app.add_subcommand(name, help);
  group.require_subcommand(1);
  return group;
}

void AddIncidentId(CLI::App* app, std::string& id) { app->add_option("id", id, "incident id")->required(); }

void AddExpectedVersion(CLI::App* app, int64_t& expected_version) {
  app->add_option("--expected-version", expected_version, "fail if the incident changed meanwhile");
}

void AddIdempotencyKey(CLI::App* app, std::string& key) {
  app->add_option("--idempotency-key", key, "unique key; a retry with the same key is safe")->required();
}

void ReasonFlags::Add(CLI::App* app, const char* en_help, const char* ar_help, bool required) {
  auto* en_option = app->add_option("--reason-en", en, en_help);
  auto* ar_option = app->add_option("--reason-ar", ar, ar_help);
  if (required) {
    en_option->required();
    ar_option->required();
  }
}

void ReasonFlags::Set(v1::LocalizedText* out) const {
  out->set_en(en);
  out->set_ar(ar);
}

void NewIncidentFlags::Add(CLI::App* app) {
  AddIdempotencyKey(app, key);
  app->add_option("--service", services, "affected service code (repeatable)")->required();
  app->add_option("--region", regions, "affected region code (repeatable)")->required();
  reason.Add(app, "reason, English", "reason, Arabic", /*required=*/true);
}

void RestorationFlags::Add(CLI::App* app, const char* at_help, const char* in_help) {
  auto* at_option = app->add_option("--restore-at", at, at_help);
  auto* in_option = app->add_option("--restore-in", in, in_help);
  at_option->excludes(in_option);
}

std::string RestorationFlags::Set(google::protobuf::Timestamp* out) const {
  std::string err;
  if (!at.empty()) {
    if (!ParseTime(at, out, &err)) return "--restore-at: " + err;
  } else if (!in.empty()) {
    absl::Duration d;
    if (!absl::ParseDuration(in, &d) || d <= absl::ZeroDuration()) {
      return "--restore-in: expected a positive duration like 90m or 3h";
    }
    ToWholeSeconds(absl::Now() + d, out);
  }
  return "";
}

}  // namespace forewarn::cli
