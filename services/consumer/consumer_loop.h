#pragma once

// The one consume loop of Forewarn's consumer-group services (the resolver
// and the notifier): poll -> decode -> hand a batch over -> store offsets,
// with at-least-once semantics:
//  - offsets of a batch are stored only after its handler returned OK; a
//    handler that fails is called again with the same batch (backoff through
//    ConsumeRuntime::retry_until_ok) until OK or the process stops, so a
//    batch is never skipped; a stop leaves its offsets unstored (redelivered);
//  - a message that cannot be decoded never will be: it is logged
//    (event=bad_<name>) and skipped (its offset stored with the batch);
//  - a message not due yet (ConsumeHandlers::not_before later than now)
//    pauses its partition and rewinds it to that message, resumed once due;
//    the rest of the partition in this poll waits with it. If the rewind
//    fails the message is handed over now rather than skipped;
//  - items the handler reports busy (in flight elsewhere) rewind their
//    partition to the first of them and pause it for Options::busy_wait;
//    nothing from there on is stored. Items whose partition cannot be
//    rewound are handed over again at once (busy == nullptr: finish them).
// Thread-compatible: run from one thread.

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/consumer/message_source.h"
#include "services/core/clock.h"

namespace forewarn {

struct ConsumeOptions {
  std::string name = "message";       // in logs: event=bad_<name>
  std::string handle_what = "handle batch";  // in retry logs
  std::string busy_what = "handle batch in flight elsewhere";
  int poll_max = 1000;                 // messages per poll
  int batch_max = 1000;                // messages handed over (and stored) together
  absl::Duration poll_timeout = absl::Milliseconds(200);
  absl::Duration busy_wait = absl::Seconds(2);
  absl::Duration poll_error_wait = absl::Seconds(1);
};

// How the loop tells time (when a message is due), waits and retries. Production: the service clock,
// SleepUnlessStopped and RetryUntilOk on the stop flag.
struct ConsumeRuntime {
  const Clock* clock = nullptr;
  // Waits up to d; false when stopping.
  std::function<bool(absl::Duration)> sleep;
  // Calls fn until OK or stopping; returns its last status.
  std::function<absl::Status(const std::string& what, const std::function<absl::Status()>& fn)> retry_until_ok;
};

template <typename T>
struct ConsumeHandlers {
  // The message as T. Not OK: it can never be read; logged and skipped.
  std::function<absl::StatusOr<T>(const ConsumedMessage&)> decode;
  // Optional: when an item may be handled (later than now: not due yet).
  std::function<absl::Time(const T&)> not_before;
  // Handles a batch; not OK: called again with the same batch. When `busy`
  // is not null it may receive indices of items to try again later.
  std::function<absl::Status(const std::vector<T>& items, std::vector<size_t>* busy)> handle;
  // Optional: before each repeated call of `handle` for a batch.
  std::function<void()> on_retry;
  // Optional: after a batch was handled, with the (real) time it took, retries included.
  std::function<void(const std::vector<T>& items, absl::Duration took)> on_handled;
};

// Partitions paused by the loop and when to resume them. Not templated: the
// part of the loop that does not depend on the payload type.
class PausedPartitions {
 public:
  explicit PausedPartitions(MessageSource& source) : source_(source) {}
  // Resumes every partition due at `now` (failures logged).
  void ResumeDue(absl::Time now);
  // Pauses `partition` rewound to `offset` until `until`; false (logged) when
  // the source could not.
  bool PauseUntil(const TopicPartition& partition, int64_t offset, absl::Time until);
  // Rewinds each partition of `busy` (partition, offset) to its lowest offset
  // and pauses it until `until`; removes from `done` what it will deliver
  // again and adds it to `deferred`. Returns the partitions not rewound.
  std::set<TopicPartition> RewindBusy(const std::vector<std::pair<TopicPartition, int64_t>>& busy, absl::Time until,
                                      std::vector<ConsumedMessage>& done, std::set<TopicPartition>& deferred);
  size_t size() const { return until_.size(); }

 private:
  MessageSource& source_;
  std::map<TopicPartition, absl::Time> until_;
};

// Logging shared by every instantiation.
void LogUndecodable(const std::string& name, const ConsumedMessage& message, const absl::Status& status);
void LogPollError(const absl::Status& status);
// Stores `done` (failures are logged: the messages come again after a restart).
void StoreDone(MessageSource& source, const std::vector<ConsumedMessage>& done);
// Commits and closes the source (a failed commit is logged).
void CommitAndClose(MessageSource& source);

template <typename T>
class ConsumerLoop {
 public:
  ConsumerLoop(MessageSource& source, ConsumeHandlers<T> handlers, ConsumeRuntime runtime, ConsumeOptions options)
      : source_(source),
        h_(std::move(handlers)),
        rt_(std::move(runtime)),
        opt_(std::move(options)),
        paused_(source) {}

  // Runs until `stop`, then commits the stored offsets and closes the source.
  void Run(const std::atomic<bool>& stop) {
    while (!stop.load() && RunOnce()) {
    }
    CommitAndClose(source_);
  }

  // One poll and the batches in it. False: stopping with a batch unfinished
  // (its offsets are not stored).
  bool RunOnce() {
    const absl::Time now = rt_.clock->Now();
    paused_.ResumeDue(now);
    auto polled = source_.Poll(opt_.poll_max, opt_.poll_timeout);
    if (!polled.ok()) {
      LogPollError(polled.status());
      rt_.sleep(opt_.poll_error_wait);
      return true;
    }
    std::set<TopicPartition> deferred;  // partitions rewound in this poll
    const size_t step = static_cast<size_t>(std::max(1, opt_.batch_max));
    for (size_t at = 0; at < polled->size(); at += step) {
      const size_t end = std::min(polled->size(), at + step);
      Batch batch = Build(*polled, at, end, now, deferred);
      if (!HandOver(batch, deferred)) return false;
    }
    return true;
  }

  const PausedPartitions& paused() const { return paused_; }

 private:
  struct Batch {
    std::vector<T> items;
    std::vector<size_t> item_message;  // index in `done` of items[i]'s message
    std::vector<ConsumedMessage> done;
  };

  Batch Build(const std::vector<ConsumedMessage>& polled, size_t at, size_t end, absl::Time now,
              std::set<TopicPartition>& deferred) {
    Batch b;
    for (size_t i = at; i < end; ++i) {
      const ConsumedMessage& msg = polled[i];
      const TopicPartition tp{msg.topic, msg.partition};
      if (deferred.contains(tp)) continue;  // comes again after the partition resumes
      absl::StatusOr<T> item = h_.decode(msg);
      if (!item.ok()) {
        LogUndecodable(opt_.name, msg, item.status());
        b.done.push_back(msg);
        continue;
      }
      if (h_.not_before) {
        const absl::Time due = h_.not_before(*item);
        if (due > now && paused_.PauseUntil(tp, msg.offset, due)) {
          deferred.insert(tp);
          continue;
        }
      }
      b.items.push_back(*std::move(item));
      b.item_message.push_back(b.done.size());
      b.done.push_back(msg);
    }
    return b;
  }

  bool HandOver(Batch& b, std::set<TopicPartition>& deferred) {
    if (b.done.empty()) return true;
    if (!b.items.empty()) {
      const absl::Time started = absl::Now();  // `took` is real time, whatever the service clock says
      std::vector<size_t> busy;
      bool first_try = true;
      absl::Status status = rt_.retry_until_ok(opt_.handle_what, [&] {
        if (!first_try && h_.on_retry) h_.on_retry();
        first_try = false;
        busy.clear();
        return h_.handle(b.items, &busy);
      });
      if (status.ok() && !busy.empty()) status = DeferBusy(b, busy, deferred);
      if (!status.ok()) return false;
      if (h_.on_handled) h_.on_handled(b.items, absl::Now() - started);
    }
    StoreDone(source_, b.done);
    return true;
  }

  absl::Status DeferBusy(Batch& b, const std::vector<size_t>& busy, std::set<TopicPartition>& deferred) {
    std::vector<std::pair<TopicPartition, int64_t>> at;
    for (size_t i : busy) {
      const ConsumedMessage& m = b.done[b.item_message[i]];
      at.push_back({{m.topic, m.partition}, m.offset});
    }
    const std::set<TopicPartition> failed =
        paused_.RewindBusy(at, rt_.clock->Now() + opt_.busy_wait, b.done, deferred);
    std::vector<T> stuck;
    for (size_t k = 0; k < busy.size(); ++k) {
      if (failed.contains(at[k].first)) stuck.push_back(b.items[busy[k]]);
    }
    if (stuck.empty()) return absl::OkStatus();
    return rt_.retry_until_ok(opt_.busy_what, [&] { return h_.handle(stuck, nullptr); });
  }

  MessageSource& source_;
  ConsumeHandlers<T> h_;
  ConsumeRuntime rt_;
  ConsumeOptions opt_;
  PausedPartitions paused_;
};

}  // namespace forewarn
