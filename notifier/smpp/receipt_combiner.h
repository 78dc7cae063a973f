#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/core/receipts.h"

namespace forewarn::smpp {

// Turns the receipts of the parts of concatenated messages into one receipt
// per notice. Every part of an SMPP message gets its own message id and its
// own receipt; a notice's provider id is its first part's id. The notice is
// DELIVERED once every part's receipt said DELIVRD, UNDELIVERED or EXPIRED
// on the first part that failed (reported once; the later parts' receipts
// are dropped). A receipt for an id this process did not send (a restart in
// between) is passed on as it is, with provider_id = the receipted id: the
// ledger matches single-part messages by it.
//
// A failed part's receipt may arrive before the first part's id is known
// (the first part throttled and sent again): it waits until Attach gives
// that id. Notices are forgotten `max_age` after Begin (the receipts of
// messages that never get one, "silent" ones, do not pile up).
// Thread-safe.
class ReceiptCombiner {
 public:
  struct Notice;
  using Handle = std::shared_ptr<Notice>;

  explicit ReceiptCombiner(absl::Duration max_age = absl::Hours(72)) : max_age_(max_age) {}

  // A notice of `parts` parts about to be submitted.
  Handle Begin(int parts, absl::Time now);
  // Part `index` (0-based) was accepted as `part_id`. Returns the notice's
  // receipt when a failed part waited for the first part's id.
  std::optional<Receipt> Attach(const Handle& notice, int index, const std::string& part_id);
  // The notice was not sent after all (a part refused or lost): its parts'
  // receipts are dropped.
  void Abandon(const Handle& notice);
  // A part's receipt (reported_at, source and detail as they came):
  // the notice's receipt when this one settles it.
  std::optional<Receipt> OnPart(const std::string& part_id, Receipt part);

  size_t tracked_parts() const;

 private:
  void PruneLocked(absl::Time now);

  const absl::Duration max_age_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<Handle, int>> parts_;  // part id -> (notice, index)
  std::deque<Handle> by_age_;
};

}  // namespace forewarn::smpp
