#pragma once

// Whether the SMS templates, with what the notices carry besides the facts
// (the reference, the status link with the configured base URL and the
// verification code), stay within their segment budgets
// (templates/sms_budgets.json) for a long notice: a 60-character reason,
// dates in another year, the longest reference. The notifier checks at
// start-up, so a base URL too long for the budget is found before a fan-out.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/core/model.h"
#include "services/core/ports.h"
#include "services/preview/notice_preview.h"

namespace forewarn {

// One rendered SMS against its budget.
struct SmsBudgetUse {
  NoticeKind kind = NoticeKind::kOutageStarted;
  std::string language;  // "ar" | "en"
  std::string text;
  std::string encoding;  // "GSM-7" | "UCS-2"
  int segments = 0;
  int budget = 0;
};

// Every kind in both languages rendered by `renderer` (whose notice marks
// should be the longest ones: NoticeLinkSettings::Longest) for the long
// sample notice. A render error is returned as it is.
absl::StatusOr<std::vector<SmsBudgetUse>> MeasureSms(Renderer& renderer, const SmsBudgets& budgets);

// OK when every use of MeasureSms is within its budget; FAILED_PRECONDITION
// naming the kinds, languages and parts otherwise.
absl::Status CheckSmsBudgets(Renderer& renderer, const SmsBudgets& budgets);

}  // namespace forewarn
