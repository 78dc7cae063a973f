#pragma once

// A small read-through cache for forewarn-status: each key's value is
// loaded at most once per `ttl` however many requests ask (one load at a
// time per key; the others wait for it), so 1,000 requests a second for a
// page become one database read a second. OK results and NOT_FOUND are
// kept; other errors (the database unreachable) are not.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/clock.h"

namespace forewarn {

template <typename V>
class TtlCache {
 public:
  using Value = std::shared_ptr<const absl::StatusOr<V>>;
  using Loader = std::function<absl::StatusOr<V>()>;

  // At most `max_entries` keys are kept: beyond that, expired ones are
  // dropped, and when none has expired the whole map is.
  TtlCache(const Clock& clock, absl::Duration ttl, size_t max_entries = 10000)
      : clock_(clock), ttl_(ttl), max_entries_(max_entries) {}

  Value Get(const std::string& key, const Loader& load) {
    std::shared_ptr<Entry> entry = EntryFor(key);
    std::lock_guard lock(entry->mu);
    const absl::Time now = clock_.Now();
    if (entry->value && now - entry->loaded_at < ttl_) return entry->value;
    auto loaded = std::make_shared<const absl::StatusOr<V>>(load());
    const absl::StatusCode code = loaded->status().code();
    if (code != absl::StatusCode::kOk && code != absl::StatusCode::kNotFound) return loaded;
    entry->value = loaded;
    entry->loaded_at = now;
    return loaded;
  }

 private:
  struct Entry {
    std::mutex mu;  // held while loading: one load per key at a time
    Value value;
    absl::Time loaded_at = absl::InfinitePast();
  };

  std::shared_ptr<Entry> EntryFor(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) return it->second;
    if (entries_.size() >= max_entries_) Sweep();
    return entries_.emplace(key, std::make_shared<Entry>()).first->second;
  }

  // Caller holds mu_. An entry being loaded is kept by its holder's
  // shared_ptr; dropping it from the map only means a later load.
  void Sweep() {
    const absl::Time now = clock_.Now();
    std::erase_if(entries_, [&](const auto& kv) {
      std::unique_lock entry_lock(kv.second->mu, std::try_to_lock);
      return entry_lock.owns_lock() && now - kv.second->loaded_at >= ttl_;
    });
    if (entries_.size() >= max_entries_) entries_.clear();
  }

  const Clock& clock_;
  const absl::Duration ttl_;
  const size_t max_entries_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace forewarn
