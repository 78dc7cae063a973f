#pragma once

#include "services/core/ports.h"

namespace forewarn {

// The re-drive rule of `incident reconcile`, decided with the incident
// locked: re-drive the current notice only when some of its audience has no
// ledger row or is still pending (held, retrying, claimed), and only when no
// fan-out of the incident is under way (unpublished events, notices being
// sent), which a re-drive could race. Returns true to re-drive; otherwise
// sets `check.note` to say why not. Dead-lettered and permanently failed
// notices are never re-driven (a re-drive would not resend them).
bool DecideRedrive(Completeness& check, const FanOutActivity& activity);

// The note of a check that found no notice queued for the current version.
std::string NothingQueuedNote(int64_t version);

}  // namespace forewarn
