// The consume loop shared by the resolver and the notifier, over a fake
// message source and a fake clock.
#include "services/consumer/consumer_loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace forewarn {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// Partitions as in-memory logs with a read position each; pause and seek
// as a broker-backed consumer would.
class FakeMessageSource final : public MessageSource {
 public:
  void Add(int32_t partition, std::string value) { log_[{"t", partition}].push_back(std::move(value)); }

  absl::StatusOr<std::vector<ConsumedMessage>> Poll(int max_messages, absl::Duration) override {
    if (poll_errors > 0) {
      --poll_errors;
      return absl::UnavailableError("broker down");
    }
    std::vector<ConsumedMessage> out;
    for (auto& [tp, values] : log_) {
      int64_t& at = position_[tp];
      while (!paused.contains(tp) && at < static_cast<int64_t>(values.size()) &&
             static_cast<int>(out.size()) < max_messages) {
        out.push_back({tp.topic, tp.partition, at, "", values[at], -1});
        ++at;
      }
    }
    return out;
  }
  absl::Status StoreOffsets(const std::vector<ConsumedMessage>& done) override {
    for (const auto& m : done) {
      int64_t& next = stored[{m.topic, m.partition}];
      next = std::max(next, m.offset + 1);
    }
    return absl::OkStatus();
  }
  absl::Status PauseAt(const TopicPartition& tp, int64_t offset) override {
    if (fail_pause) return absl::UnavailableError("seek failed");
    paused.insert(tp);
    position_[tp] = offset;
    return absl::OkStatus();
  }
  absl::Status Resume(const TopicPartition& tp) override {
    paused.erase(tp);
    return absl::OkStatus();
  }
  absl::Status Commit() override {
    ++commits;
    return absl::OkStatus();
  }
  void Close() override { closed = true; }

  int64_t Stored(int32_t partition) const {
    auto it = stored.find({"t", partition});
    return it == stored.end() ? 0 : it->second;
  }

  int poll_errors = 0;
  bool fail_pause = false;
  std::set<TopicPartition> paused;
  std::map<TopicPartition, int64_t> stored;  // next offset per partition
  int commits = 0;
  bool closed = false;

 private:
  std::map<TopicPartition, std::vector<std::string>> log_;
  std::map<TopicPartition, int64_t> position_;
};

// "name" or "name@S" (not before kStart + S seconds); "bad..." does not decode.
struct Item {
  std::string name;
  absl::Time not_before = absl::InfinitePast();
};

absl::StatusOr<Item> DecodeItem(const ConsumedMessage& m) {
  if (m.value.rfind("bad", 0) == 0) return absl::InvalidArgumentError("not an item");
  std::vector<std::string> parts = absl::StrSplit(m.value, '@');
  Item item{parts[0]};
  int64_t seconds = 0;
  if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &seconds)) item.not_before = kStart + absl::Seconds(seconds);
  return item;
}

std::vector<std::string> Names(const std::vector<Item>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i.name);
  return out;
}

class ConsumerLoopTest : public ::testing::Test {
 protected:
  ConsumerLoop<Item> MakeLoop(int poll_max = 100, int batch_max = 100) {
    ConsumeHandlers<Item> h;
    h.decode = DecodeItem;
    h.not_before = [](const Item& i) { return i.not_before; };
    h.handle = [this](const std::vector<Item>& items, std::vector<size_t>* busy) {
      calls.push_back(Names(items));
      stored_at_call.push_back(source.Stored(0));
      busy_given.push_back(busy != nullptr);
      if (busy != nullptr) {
        for (size_t i = 0; i < items.size(); ++i) {
          if (busy_names.erase(items[i].name) > 0) busy->push_back(i);
        }
      }
      if (failures > 0) {
        --failures;
        return absl::UnavailableError("ledger down");
      }
      return absl::OkStatus();
    };
    h.on_retry = [this] { ++retries; };
    h.on_handled = [this](const std::vector<Item>& items, absl::Duration) { handled.push_back(Names(items)); };
    ConsumeRuntime rt;
    rt.clock = &clock;
    rt.sleep = [this](absl::Duration d) {
      clock.Advance(d);
      return true;
    };
    // Up to `attempts` calls, then gives up as a stopping process does.
    rt.retry_until_ok = [this](const std::string&, const std::function<absl::Status()>& fn) {
      absl::Status s;
      for (int i = 0; i < attempts; ++i) {
        if ((s = fn()).ok()) break;
        clock.Advance(absl::Milliseconds(100));
      }
      return s;
    };
    ConsumeOptions options;
    options.poll_max = poll_max;
    options.batch_max = batch_max;
    options.busy_wait = absl::Seconds(2);
    return ConsumerLoop<Item>(source, std::move(h), std::move(rt), options);
  }

  FakeMessageSource source;
  FakeClock clock{kStart};
  std::vector<std::vector<std::string>> calls, handled;
  std::vector<int64_t> stored_at_call;
  std::vector<bool> busy_given;
  std::set<std::string> busy_names;
  int failures = 0;
  int retries = 0;
  int attempts = 10;
};

using Names_ = std::vector<std::string>;

TEST_F(ConsumerLoopTest, HandsABatchOverAndStoresItsOffsetsOnlyAfterItIsHandled) {
  for (const char* v : {"a", "b", "c"}) source.Add(0, v);
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], (Names_{"a", "b", "c"}));
  EXPECT_EQ(stored_at_call[0], 0);  // nothing stored while the batch was being handled
  EXPECT_EQ(source.Stored(0), 3);
  EXPECT_EQ(handled, (std::vector<Names_>{{"a", "b", "c"}}));
}

TEST_F(ConsumerLoopTest, SplitsAPollIntoBatchesStoringEachWhenHandled) {
  for (const char* v : {"a", "b", "c", "d", "e"}) source.Add(0, v);
  auto loop = MakeLoop(/*poll_max=*/5, /*batch_max=*/2);
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "b"}, {"c", "d"}, {"e"}}));
  EXPECT_EQ(stored_at_call, (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(source.Stored(0), 5);
}

TEST_F(ConsumerLoopTest, RetriesAFailedBatchInsteadOfSkippingIt) {
  for (const char* v : {"a", "b"}) source.Add(0, v);
  failures = 2;
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "b"}, {"a", "b"}, {"a", "b"}}));
  EXPECT_EQ(retries, 2);
  EXPECT_EQ(stored_at_call, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(source.Stored(0), 2);
}

TEST_F(ConsumerLoopTest, StoppingWithAnUnfinishedBatchStoresNothing) {
  source.Add(0, "a");
  failures = 100;
  attempts = 3;
  auto loop = MakeLoop();
  EXPECT_FALSE(loop.RunOnce());
  EXPECT_EQ(calls.size(), 3u);
  EXPECT_TRUE(source.stored.empty());
  EXPECT_TRUE(handled.empty());
}

TEST_F(ConsumerLoopTest, SkipsAnUndecodableMessageAndStoresItsOffset) {
  for (const char* v : {"a", "bad payload", "b"}) source.Add(0, v);
  source.Add(1, "bad too");
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "b"}}));
  EXPECT_EQ(source.Stored(0), 3);
  // A poll of nothing but undecodable messages hands nothing over, and
  // still moves past them.
  EXPECT_EQ(source.Stored(1), 1);
}

TEST_F(ConsumerLoopTest, PausesAndRewindsANotDueRetryUntilItIsDue) {
  for (const char* v : {"a", "r@60", "c"}) source.Add(0, v);
  source.Add(1, "d");
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "d"}}));  // c waits behind r
  EXPECT_TRUE(source.paused.contains({"t", 0}));
  EXPECT_EQ(source.Stored(0), 1);
  EXPECT_EQ(source.Stored(1), 1);

  clock.Advance(absl::Seconds(59));
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls.size(), 1u);  // not due yet: nothing handed over
  EXPECT_TRUE(source.paused.contains({"t", 0}));

  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_FALSE(source.paused.contains({"t", 0}));
  EXPECT_EQ(calls.back(), (Names_{"r", "c"}));
  EXPECT_EQ(source.Stored(0), 3);
}

TEST_F(ConsumerLoopTest, HandsANotDueRetryOverNowWhenItsPartitionCannotBeRewound) {
  for (const char* v : {"a", "r@60", "c"}) source.Add(0, v);
  source.fail_pause = true;
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "r", "c"}}));
  EXPECT_EQ(source.Stored(0), 3);
}

TEST_F(ConsumerLoopTest, DefersBusyItemsByRewindingTheirPartitionForTheBusyWait) {
  for (const char* v : {"a", "b", "c"}) source.Add(0, v);
  source.Add(1, "d");
  busy_names = {"b"};
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "b", "c", "d"}}));
  EXPECT_TRUE(source.paused.contains({"t", 0}));
  EXPECT_EQ(source.Stored(0), 1);  // only a: b and c come again
  EXPECT_EQ(source.Stored(1), 1);

  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls.size(), 1u);

  clock.Advance(absl::Seconds(1));
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls.back(), (Names_{"b", "c"}));
  EXPECT_EQ(source.Stored(0), 3);
}

TEST_F(ConsumerLoopTest, FinishesBusyItemsAtOnceWhenTheirPartitionCannotBeRewound) {
  for (const char* v : {"a", "b", "c"}) source.Add(0, v);
  busy_names = {"b"};
  source.fail_pause = true;
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a", "b", "c"}, {"b"}}));
  EXPECT_EQ(busy_given, (std::vector<bool>{true, false}));  // the second call must finish them
  EXPECT_EQ(source.Stored(0), 3);
}

TEST_F(ConsumerLoopTest, WaitsAfterAPollErrorAndGoesOn) {
  source.Add(0, "a");
  source.poll_errors = 1;
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(clock.Now(), kStart + absl::Seconds(1));
  ASSERT_TRUE(loop.RunOnce());
  EXPECT_EQ(calls, (std::vector<Names_>{{"a"}}));
}

TEST_F(ConsumerLoopTest, RunCommitsAndClosesTheSourceWhenStopped) {
  source.Add(0, "a");
  auto loop = MakeLoop();
  ASSERT_TRUE(loop.RunOnce());
  const std::atomic<bool> stop{true};
  loop.Run(stop);
  EXPECT_EQ(source.commits, 1);
  EXPECT_TRUE(source.closed);
  EXPECT_EQ(source.Stored(0), 1);
}

}  // namespace
}  // namespace forewarn
