#include "services/core/reconcile.h"

#include "absl/strings/str_cat.h"

namespace forewarn {

bool DecideRedrive(Completeness& check, const FanOutActivity& activity) {
  if (check.missing + check.pending == 0) {
    check.note = check.dead > 0     ? "only dead-lettered and failed notices remain: see forewarn dlq list"
                 : check.failed > 0 ? "only permanently failed notices remain; re-driving would not resend them"
                                    : "nothing to re-drive";
    return false;
  }
  if (activity.unpublished_events > 0 || activity.notices_sending > 0) {
    check.note = absl::StrCat("fan-out in progress (", activity.unpublished_events, " events not yet published, ",
                              activity.notices_sending, " notices being sent); try again shortly");
    return false;
  }
  return true;
}

std::string NothingQueuedNote(int64_t version) {
  return absl::StrCat("no notice has been queued for version ", version, " yet");
}

}  // namespace forewarn
