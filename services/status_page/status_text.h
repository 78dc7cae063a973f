#pragma once

// The status page's words in Arabic and English.

#include <string>

#include "absl/time/time.h"
#include "services/core/model.h"
#include "services/status_page/status_view.h"
#include "services/status_page/viewer.h"

namespace forewarn {

struct UiText {
  const char* title;          // "Service status"
  const char* outages;        // section headings of the overview
  const char* maintenance;
  const char* restored;
  const char* none;
  const char* reference;
  const char* type;
  const char* state;
  const char* service;
  const char* where;
  const char* reason;
  const char* started;
  const char* starts;
  const char* expected;
  const char* restored_at;
  const char* updated;
  const char* timeline;
  const char* times_in;       // "Times in $0"
  const char* overview;       // link back to the overview
  const char* check;          // "Check a message"
  const char* check_intro;
  const char* code;
  const char* check_button;
  const char* genuine;        // $0 kind, $1 ref, $2 version
  const char* rejected;
  const char* not_found;
  const char* too_many;       // $0 seconds
  const char* unavailable;
  const char* other_language; // the switch link's text: the other language's name
  const char* feed;
  // Timeline entries.
  const char* outage_reported;      // $0 expected restoration
  const char* maintenance_announced;  // $0 start, $1 end
  const char* estimate_moved;       // $0 from, $1 to
  const char* start_moved;          // $0 from, $1 to
  const char* reason_updated;       // $0 reason
  const char* targets_changed;
  const char* details_updated;
  const char* service_restored;     // $0 time
  const char* maintenance_completed;  // $0 time
  const char* cancelled;
};

const UiText& Ui(const Viewer& viewer);
const std::string& Localized(const LocalizedText& text, const Viewer& viewer);
std::string KindLabel(IncidentKind kind, const Viewer& viewer);
// "Ongoing", "Scheduled", "In progress", "Restored", "Completed", "Cancelled".
std::string StateLabel(const StatusIncident& incident, absl::Time now, const Viewer& viewer);
// What a notice of `kind` announced ("outage started", ...), for the message check.
std::string NoticeKindLabel(NoticeKind kind, const Viewer& viewer);

}  // namespace forewarn
