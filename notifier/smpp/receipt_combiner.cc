#include "notifier/smpp/receipt_combiner.h"

#include <utility>

namespace forewarn::smpp {

struct ReceiptCombiner::Notice {
  absl::Time begun;
  std::vector<std::string> ids;  // per part; empty until accepted
  std::vector<bool> delivered;
  int delivered_count = 0;
  std::optional<Receipt> waiting;  // a failure waiting for the first part's id
  bool reported = false;
  bool abandoned = false;
};

ReceiptCombiner::Handle ReceiptCombiner::Begin(int parts, absl::Time now) {
  auto n = std::make_shared<Notice>();
  n->begun = now;
  n->ids.resize(static_cast<size_t>(std::max(1, parts)));
  n->delivered.resize(n->ids.size(), false);
  std::lock_guard lock(mu_);
  PruneLocked(now);
  by_age_.push_back(n);
  return n;
}

std::optional<Receipt> ReceiptCombiner::Attach(const Handle& notice, int index, const std::string& part_id) {
  std::lock_guard lock(mu_);
  if (index < 0 || static_cast<size_t>(index) >= notice->ids.size()) return std::nullopt;
  notice->ids[static_cast<size_t>(index)] = part_id;
  parts_[part_id] = {notice, index};
  if (index != 0 || !notice->waiting || notice->reported || notice->abandoned) return std::nullopt;
  notice->reported = true;
  Receipt r = *std::move(notice->waiting);
  notice->waiting.reset();
  r.provider_id = part_id;
  return r;
}

void ReceiptCombiner::Abandon(const Handle& notice) {
  std::lock_guard lock(mu_);
  notice->abandoned = true;
}

std::optional<Receipt> ReceiptCombiner::OnPart(const std::string& part_id, Receipt part) {
  std::lock_guard lock(mu_);
  auto it = parts_.find(part_id);
  if (it == parts_.end()) {
    part.provider_id = part_id;
    return part;
  }
  Notice& n = *it->second.first;
  const auto index = static_cast<size_t>(it->second.second);
  if (n.reported || n.abandoned) return std::nullopt;
  if (part.status == ReceiptStatus::kDelivered) {
    if (!n.delivered[index]) {
      n.delivered[index] = true;
      ++n.delivered_count;
    }
    if (static_cast<size_t>(n.delivered_count) < n.ids.size()) return std::nullopt;
  }
  if (n.ids[0].empty()) {  // only a failure gets here without the first part's id
    if (!n.waiting) n.waiting = std::move(part);
    return std::nullopt;
  }
  n.reported = true;
  part.provider_id = n.ids[0];
  return part;
}

size_t ReceiptCombiner::tracked_parts() const {
  std::lock_guard lock(mu_);
  return parts_.size();
}

void ReceiptCombiner::PruneLocked(absl::Time now) {
  while (!by_age_.empty() && now - by_age_.front()->begun > max_age_) {
    for (const std::string& id : by_age_.front()->ids) {
      if (!id.empty()) parts_.erase(id);
    }
    by_age_.pop_front();
  }
}

}  // namespace forewarn::smpp
