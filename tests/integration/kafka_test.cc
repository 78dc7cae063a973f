// Kafka adapters against the broker the test command started (Apache Kafka,
// or forewarn-devkafka with --kafka mock), exported as FOREWARN_TEST_KAFKA.
// Each test creates its topics (the broker creates none on demand) under
// names of its own, and deletes them at the end.

#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/kafka/codec.h"
#include "services/kafka/kafka_consumer.h"
#include "services/kafka/kafka_dead_letters.h"
#include "services/kafka/kafka_producer.h"
#include "tests/support/kafka_topics.h"
#include "tests/integration/kafka_test_topics.h"

namespace forewarn {
namespace {

constexpr absl::Duration kPollWait = absl::Milliseconds(200);
constexpr int kMaxPolls = 300;  // 300 x 200 ms: generous for group joins

class KafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = testing::TestKafkaConfig("forewarn-kafka-test");
    if (!config) GTEST_SKIP() << "FOREWARN_TEST_KAFKA not set (run scripts/test.sh)";
    config_ = *std::move(config);
    // The group coordinator waits up to about a session timeout for members
    // to (re)join; keep it short so restarts in these tests are quick.
    config_.session_timeout = std::chrono::milliseconds(3000);
    config_.heartbeat_interval = std::chrono::milliseconds(500);
    // These tests use topics of their own, unique per test and run, created
    // on first use (a real broker needs auto.create.topics.enable, its
    // default). The services never auto-create: see kafka_topic_admin_test.
    config_.extra["allow.auto.create.topics"] = "true";
  }

  void TearDown() override {
    auto st = testing::DeleteTestTopics(config_.bootstrap_servers, topics_);
    EXPECT_TRUE(st.ok()) << st;
  }

  // Topic and group names unique to this test and run: the broker is shared.
  static std::string Unique(std::string_view what) { return testing::UniqueTestKafkaName(what); }

  // A new topic of `partitions` partitions under a unique name; deleted in TearDown.
  std::string NewTopic(std::string_view what, int partitions = 4) {
    std::string name = Unique(what);
    auto st = testing::CreateTestTopics(config_.bootstrap_servers, {{name, partitions}});
    EXPECT_TRUE(st.ok()) << st;
    topics_.push_back(name);
    return name;
  }

  std::unique_ptr<KafkaProducer> NewProducer() {
    auto p = KafkaProducer::Create(config_);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<KafkaConsumer> NewConsumer(const std::string& group, const std::string& topic) {
    auto c = KafkaConsumer::Create(config_, group, {topic});
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Produces `n` messages "v<i>" with key "k<i>" and waits for the acks.
  // Produces "k<i>" -> "v<i>" for i in [from, from + n) with a producer of
  // its own, and flushes.
  void ProduceNumbered(const std::string& topic, int from, int n) {
    auto producer = NewProducer();
    ASSERT_NE(producer, nullptr);
    for (int i = from; i < from + n; ++i) {
      ASSERT_TRUE(producer->Produce(topic, absl::StrCat("k", i), absl::StrCat("v", i)).ok());
    }
    auto st = producer->Flush(absl::Seconds(30));
    ASSERT_TRUE(st.ok()) << st;
  }

  // Polls until `want` messages arrived (or the poll budget is spent),
  // storing offsets of each batch when `store` is set.
  static std::vector<KafkaMessage> Receive(KafkaConsumer& consumer, size_t want, bool store) {
    std::vector<KafkaMessage> all;
    for (int i = 0; i < kMaxPolls && all.size() < want; ++i) {
      auto batch = consumer.Poll(500, kPollWait);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok()) break;
      if (store) {
        auto st = consumer.StoreOffsets(*batch);
        EXPECT_TRUE(st.ok()) << st;
      }
      all.insert(all.end(), batch->begin(), batch->end());
    }
    return all;
  }

  // Polls for a fixed number of rounds and returns whatever arrived.
  static std::vector<KafkaMessage> ReceiveFor(KafkaConsumer& consumer, int rounds) {
    std::vector<KafkaMessage> all;
    for (int i = 0; i < rounds; ++i) {
      auto batch = consumer.Poll(500, kPollWait);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (batch.ok()) all.insert(all.end(), batch->begin(), batch->end());
    }
    return all;
  }

  static std::multiset<std::string> Values(const std::vector<KafkaMessage>& msgs) {
    std::multiset<std::string> out;
    for (const auto& m : msgs) out.insert(m.value);
    return out;
  }

  static std::multiset<std::string> Numbered(int from, int n) {
    std::multiset<std::string> out;
    for (int i = from; i < from + n; ++i) out.insert(absl::StrCat("v", i));
    return out;
  }

  KafkaConfig config_;
  std::vector<std::string> topics_;
};

NoticeJob JobFor(int64_t customer_id, const std::string& incident) {
  NoticeJob job;
  job.incident_id = incident;
  job.version = 1;
  job.kind = NoticeKind::kOutageStarted;
  job.recipient.customer_id = customer_id;
  job.recipient.channel = customer_id % 2 == 0 ? Channel::kSms : Channel::kEmail;
  job.recipient.address =
      customer_id % 2 == 0 ? absl::StrCat("+9665", 10000000 + customer_id)
                           : absl::StrCat("c", customer_id, "@example.com");
  job.recipient.locale = "ar";
  job.recipient.time_zone = "Asia/Riyadh";
  return job;
}

TEST_F(KafkaTest, NoticeJobsRoundTripThroughSinkAndConsumer) {
  const std::string topic = NewTopic("notices");
  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  KafkaNoticeSink sink(*producer, topic);
  constexpr int kJobs = 1000;
  for (int i = 1; i <= kJobs; ++i) {
    ASSERT_TRUE(sink.Enqueue(JobFor(i, "inc-1")).ok());
  }
  auto flushed = sink.Flush();
  ASSERT_TRUE(flushed.ok()) << flushed;

  auto consumer = NewConsumer(Unique("group"), topic);
  ASSERT_NE(consumer, nullptr);
  const auto msgs = Receive(*consumer, kJobs, /*store=*/true);
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kJobs));

  std::set<int64_t> customers;
  std::map<std::string, int32_t> partition_of_key;
  for (const KafkaMessage& m : msgs) {
    EXPECT_EQ(m.topic, topic);
    auto job = DecodeJob(m.value);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(m.key, std::to_string(job->recipient.customer_id));
    EXPECT_EQ(job->recipient.address, JobFor(job->recipient.customer_id, "x").recipient.address);
    customers.insert(job->recipient.customer_id);
    auto [it, inserted] = partition_of_key.emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition);
  }
  EXPECT_EQ(customers.size(), static_cast<size_t>(kJobs));
  std::set<int32_t> partitions;
  for (const auto& [key, p] : partition_of_key) partitions.insert(p);
  EXPECT_GT(partitions.size(), 1u) << "keys should spread over partitions";
  std::cout << "[ INFO     ] keys spread over " << partitions.size() << " partitions\n";
  EXPECT_TRUE(consumer->Commit().ok());
  consumer->Close();
}

TEST_F(KafkaTest, EventPublisherKeysByIncidentId) {
  const std::string topic = NewTopic("events");
  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  KafkaEventPublisher publisher(*producer, topic);
  std::vector<IncidentEvent> events;
  for (int i = 1; i <= 3; ++i) {
    events.push_back({.incident_id = absl::StrCat("incident-", i),
                      .version = i,
                      .notice_kind = NoticeKind::kOutageUpdated,
                      .outbox_id = 100 + i, .occasion = ""});
  }
  auto st = publisher.Publish(events);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_TRUE(publisher.Publish({}).ok());

  auto consumer = NewConsumer(Unique("group"), topic);
  ASSERT_NE(consumer, nullptr);
  const auto msgs = Receive(*consumer, 3, /*store=*/true);
  ASSERT_EQ(msgs.size(), 3u);
  std::set<int64_t> outbox_ids;
  for (const KafkaMessage& m : msgs) {
    auto event = DecodeEvent(m.value);
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_EQ(m.key, event->incident_id);
    EXPECT_EQ(event->notice_kind, NoticeKind::kOutageUpdated);
    outbox_ids.insert(event->outbox_id);
  }
  EXPECT_EQ(outbox_ids, (std::set<int64_t>{101, 102, 103}));
}

TEST_F(KafkaTest, TwoConsumersInOneGroupSplitPartitionsAndSeeEachMessageOnce) {
  const std::string topic = NewTopic("split");
  const std::string group = Unique("group");
  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  // A message from before the group forms: consumed while it settles.
  ASSERT_TRUE(producer->Produce(topic, "warmup", "warmup").ok());
  ASSERT_TRUE(producer->Flush(absl::Seconds(30)).ok());

  auto a = NewConsumer(group, topic);
  auto b = NewConsumer(group, topic);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  // Serve both until the group has settled with partitions on each member.
  std::vector<KafkaMessage> got_a, got_b;
  bool settled = false;
  for (int i = 0; i < kMaxPolls && !settled; ++i) {
    for (auto* c : {a.get(), b.get()}) {
      auto batch = c->Poll(500, absl::Milliseconds(50));
      ASSERT_TRUE(batch.ok()) << batch.status();
      ASSERT_TRUE(c->StoreOffsets(*batch).ok());
      (c == a.get() ? got_a : got_b).insert((c == a.get() ? got_a : got_b).end(), batch->begin(),
                                            batch->end());
    }
    auto pa = a->Assignment();
    auto pb = b->Assignment();
    ASSERT_TRUE(pa.ok() && pb.ok());
    settled = !pa->empty() && !pb->empty();
  }
  ASSERT_TRUE(settled) << "group never split the partitions";

  constexpr int kMessages = 1000;
  ProduceNumbered(topic, 0, kMessages);
  for (int i = 0; i < kMaxPolls && got_a.size() + got_b.size() < kMessages + 1; ++i) {
    for (auto* c : {a.get(), b.get()}) {
      auto batch = c->Poll(500, absl::Milliseconds(50));
      ASSERT_TRUE(batch.ok()) << batch.status();
      ASSERT_TRUE(c->StoreOffsets(*batch).ok());
      auto& got = c == a.get() ? got_a : got_b;
      got.insert(got.end(), batch->begin(), batch->end());
    }
  }
  // A few more rounds: nothing may arrive twice.
  for (int i = 0; i < 5; ++i) {
    for (auto* c : {a.get(), b.get()}) {
      auto batch = c->Poll(500, absl::Milliseconds(50));
      ASSERT_TRUE(batch.ok());
      auto& got = c == a.get() ? got_a : got_b;
      got.insert(got.end(), batch->begin(), batch->end());
    }
  }

  std::multiset<std::string> all = Values(got_a);
  const std::multiset<std::string> values_b = Values(got_b);
  all.insert(values_b.begin(), values_b.end());
  all.erase("warmup");  // consumed while the group was forming
  EXPECT_EQ(all, Numbered(0, kMessages));
  size_t numbered_a = 0, numbered_b = 0;
  std::set<int32_t> parts_a, parts_b;
  // Once settled, each partition is one member's (the warm-up message was
  // read while the group formed, when partitions legitimately moved).
  for (const auto& m : got_a) {
    if (m.value != "warmup") ++numbered_a, parts_a.insert(m.partition);
  }
  for (const auto& m : got_b) {
    if (m.value != "warmup") ++numbered_b, parts_b.insert(m.partition);
  }
  EXPECT_GT(numbered_a, 0u);
  EXPECT_GT(numbered_b, 0u);
  for (int32_t p : parts_a) EXPECT_EQ(parts_b.count(p), 0u) << "partition " << p << " on both";
  a->Close();
  b->Close();
}

TEST_F(KafkaTest, UnstoredMessagesAreRedeliveredToTheNextMember) {
  const std::string topic = NewTopic("redeliver");
  const std::string group = Unique("group");
  ASSERT_NO_FATAL_FAILURE(ProduceNumbered(topic, 0, 100));

  {
    auto first = NewConsumer(group, topic);
    ASSERT_NE(first, nullptr);
    const auto msgs = Receive(*first, 100, /*store=*/false);
    EXPECT_EQ(Values(msgs), Numbered(0, 100));
    EXPECT_TRUE(first->Commit().ok());  // nothing stored: nothing to commit
    first->Close();                     // "crashes" before finishing the work
  }
  auto second = NewConsumer(group, topic);
  ASSERT_NE(second, nullptr);
  const auto again = Receive(*second, 100, /*store=*/true);
  EXPECT_EQ(Values(again), Numbered(0, 100));
}

TEST_F(KafkaTest, PauseAtRewindsAPartitionUntilResumed) {
  const std::string topic = NewTopic("pause");
  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(producer->Produce(topic, "one-key", absl::StrCat("v", i)).ok());
  ASSERT_TRUE(producer->Flush(absl::Seconds(30)).ok());
  auto consumer = NewConsumer(Unique("group"), topic);
  ASSERT_NE(consumer, nullptr);
  auto first = Receive(*consumer, 10, /*store=*/false);
  ASSERT_EQ(first.size(), 10u);
  // v5 is "not due": keep v0..v4, rewind to v5 and pause.
  const KafkaMessage& fifth = first[5];
  EXPECT_EQ(fifth.value, "v5");
  ASSERT_TRUE(consumer->StoreOffsets({first.begin(), first.begin() + 5}).ok());
  ASSERT_TRUE(consumer->PauseAt({fifth.topic, fifth.partition}, fifth.offset).ok());
  ASSERT_TRUE(producer->Produce(topic, "one-key", "v10").ok());
  ASSERT_TRUE(producer->Flush(absl::Seconds(30)).ok());
  EXPECT_TRUE(ReceiveFor(*consumer, 3).empty()) << "a paused partition delivers nothing";
  ASSERT_TRUE(consumer->Resume({fifth.topic, fifth.partition}).ok());
  auto again = Receive(*consumer, 6, /*store=*/true);
  EXPECT_EQ(Values(again), Numbered(5, 6));
}

// Polls both members until they share the topic's `partitions` between
// them, each with some; returns false if they never do. Messages that
// arrive meanwhile are appended to `got_a` and `got_b`, nothing is stored.
bool SettleTwoMembers(KafkaConsumer& a, KafkaConsumer& b, int partitions, std::vector<KafkaMessage>& got_a,
                      std::vector<KafkaMessage>& got_b) {
  for (int i = 0; i < kMaxPolls; ++i) {
    for (auto [c, got] : {std::pair{&a, &got_a}, std::pair{&b, &got_b}}) {
      auto batch = c->Poll(500, absl::Milliseconds(50));
      if (!batch.ok()) return false;
      got->insert(got->end(), batch->begin(), batch->end());
    }
    auto pa = a.Assignment();
    auto pb = b.Assignment();
    if (!pa.ok() || !pb.ok()) return false;
    std::set<int32_t> all;
    for (const auto& p : *pa) all.insert(p.partition);
    for (const auto& p : *pb) all.insert(p.partition);
    if (!pa->empty() && !pb->empty() && static_cast<int>(all.size()) == partitions &&
        static_cast<int>(pa->size() + pb->size()) == partitions) {
      return true;
    }
  }
  return false;
}

std::vector<KafkaPartition> Sorted(absl::StatusOr<std::vector<KafkaPartition>> parts) {
  EXPECT_TRUE(parts.ok()) << parts.status();
  if (!parts.ok()) return {};
  std::sort(parts->begin(), parts->end(),
            [](const KafkaPartition& x, const KafkaPartition& y) { return x.partition < y.partition; });
  return *parts;
}

std::vector<KafkaMessage> WithoutMarker(std::vector<KafkaMessage> msgs) {
  std::erase_if(msgs, [](const KafkaMessage& m) { return m.value == testing::kTopicCreatedMarker; });
  return msgs;
}

// A worker pauses partitions at retries that are not due (PauseAt), then a
// second worker joins: with the cooperative-sticky assignor only the
// partitions that move are revoked. A paused partition that stays delivers
// nothing until resumed and then starts again at the rewound message; one
// that moves starts there on the other worker; a finished partition is not
// delivered again, wherever it ends up.
TEST_F(KafkaTest, CooperativeRebalanceKeepsPausedPartitionsPausedAndRewound) {
  // The incremental protocol is opt-in for the services (--kafka-prop).
  config_.extra["partition.assignment.strategy"] = "cooperative-sticky";
  const std::string topic = Unique("coop");
  const std::string group = Unique("group");
  auto created = testing::CreateTestTopic(config_, topic, 4);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->partitions, 4);
  ASSERT_NO_FATAL_FAILURE(ProduceNumbered(topic, 0, 40));
  auto a = NewConsumer(group, topic);
  ASSERT_NE(a, nullptr);
  const auto first = WithoutMarker(Receive(*a, created->admin ? 40 : 41, /*store=*/false));
  ASSERT_EQ(Values(first), Numbered(0, 40));
  EXPECT_EQ(a->RebalanceProtocol(), "COOPERATIVE");

  // One partition is finished; the three others are rewound to their first
  // message and paused. Two of the four move to the new member, so at least
  // one paused partition stays and at least one moves.
  std::map<int32_t, std::vector<KafkaMessage>> by_partition;
  for (const auto& m : first) by_partition[m.partition].push_back(m);
  ASSERT_EQ(by_partition.size(), 4u) << "40 keys should reach all 4 partitions";
  const int32_t finished = by_partition.begin()->first;
  ASSERT_TRUE(a->StoreOffsets(by_partition.begin()->second).ok());
  for (const auto& [p, msgs] : by_partition) {
    if (p != finished) {
      ASSERT_TRUE(a->PauseAt({topic, p}, msgs.front().offset).ok());
    }
  }

  auto b = NewConsumer(group, topic);
  ASSERT_NE(b, nullptr);
  std::vector<KafkaMessage> got_a, got_b;
  ASSERT_TRUE(SettleTwoMembers(*a, *b, created->partitions, got_a, got_b)) << "the group never split the partitions";
  EXPECT_EQ(b->RebalanceProtocol(), "COOPERATIVE");
  for (int i = 0; i < 5; ++i) {  // what stayed paused delivers nothing
    for (auto [c, got] : {std::pair{a.get(), &got_a}, std::pair{b.get(), &got_b}}) {
      auto batch = c->Poll(500, kPollWait);
      ASSERT_TRUE(batch.ok());
      got->insert(got->end(), batch->begin(), batch->end());
    }
  }
  const std::vector<KafkaPartition> kept = Sorted(a->Assignment());
  std::multiset<std::string> want_a, want_b;
  for (const auto& [p, msgs] : by_partition) {
    if (p == finished) continue;
    const bool stayed = std::count(kept.begin(), kept.end(), KafkaPartition{topic, p}) == 1;
    for (const auto& m : msgs) (stayed ? want_a : want_b).insert(m.value);
  }
  ASSERT_FALSE(want_a.empty()) << "no paused partition stayed with the first member";
  ASSERT_FALSE(want_b.empty()) << "no paused partition moved to the second member";
  EXPECT_TRUE(WithoutMarker(got_a).empty()) << got_a.size() << " messages from partitions that stayed paused";
  for (const auto& p : kept) ASSERT_TRUE(a->Resume(p).ok());
  const auto resumed = Receive(*a, want_a.size(), /*store=*/true);
  for (int i = 0; i < kMaxPolls && WithoutMarker(got_b).size() < want_b.size(); ++i) {
    auto batch = b->Poll(500, kPollWait);
    ASSERT_TRUE(batch.ok());
    got_b.insert(got_b.end(), batch->begin(), batch->end());
  }
  const auto extra_a = ReceiveFor(*a, 3), extra_b = ReceiveFor(*b, 3);
  EXPECT_EQ(Values(resumed), want_a) << "the partitions that stayed, again from their rewound message";
  EXPECT_EQ(Values(WithoutMarker(got_b)), want_b) << "the partitions that moved, from their first unfinished message";
  EXPECT_TRUE(WithoutMarker(extra_a).empty() && WithoutMarker(extra_b).empty()) << "delivered twice";
  a->Close();
  b->Close();
}

TEST_F(KafkaTest, AKafkaPropOverridesTheCooperativeAssignor) {
  const std::string topic = Unique("eager");
  auto created = testing::CreateTestTopic(config_, topic, 1);
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_NO_FATAL_FAILURE(ProduceNumbered(topic, 0, 1));
  KafkaConfig eager = config_;
  eager.extra["partition.assignment.strategy"] = "range";
  auto consumer = KafkaConsumer::Create(eager, Unique("group"), {topic});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  EXPECT_EQ(Values(Receive(**consumer, 1, /*store=*/true)), Numbered(0, 1));
  EXPECT_EQ((*consumer)->RebalanceProtocol(), "EAGER");
}

// Static membership (group.instance.id, --instance-id): a member that stops
// does not leave its group, so its partitions wait for it instead of moving
// to the others, and when it comes back under the same id it gets them again
// without shuffling anyone else's.
TEST_F(KafkaTest, AStaticMemberThatStopsKeepsItsPartitionsUntilItComesBack) {
  const std::string topic = Unique("static");
  const std::string group = Unique("group");
  auto created = testing::CreateTestTopic(config_, topic, 4);
  ASSERT_TRUE(created.ok()) << created.status();
  if (!created->admin) GTEST_SKIP() << "librdkafka's mock cluster does not implement static membership";
  KafkaConfig pod = config_;
  pod.group_instance_id = Unique("pod");
  pod.session_timeout = std::chrono::milliseconds(15000);  // the time a restart may take
  auto a = KafkaConsumer::Create(pod, group, {topic});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = NewConsumer(group, topic);
  ASSERT_NE(b, nullptr);
  std::vector<KafkaMessage> ignored_a, ignored_b;
  ASSERT_TRUE(SettleTwoMembers(**a, *b, created->partitions, ignored_a, ignored_b));
  const auto a_parts = Sorted((*a)->Assignment());
  const auto b_parts = Sorted(b->Assignment());
  (*a)->Close();
  a->reset();

  const absl::Time until = absl::Now() + absl::Seconds(4);
  while (absl::Now() < until) {  // well inside the static member's session
    ASSERT_TRUE(b->Poll(500, absl::Milliseconds(100)).ok());
    EXPECT_EQ(Sorted(b->Assignment()), b_parts) << "the stopped member's partitions moved";
  }
  auto back = KafkaConsumer::Create(pod, group, {topic});
  ASSERT_TRUE(back.ok()) << back.status();
  std::vector<KafkaPartition> back_parts;
  for (int i = 0; i < kMaxPolls && back_parts.empty(); ++i) {
    ASSERT_TRUE((*back)->Poll(500, absl::Milliseconds(50)).ok());
    ASSERT_TRUE(b->Poll(500, absl::Milliseconds(50)).ok());
    back_parts = Sorted((*back)->Assignment());
  }
  EXPECT_EQ(back_parts, a_parts) << "the member came back to its own partitions";
  EXPECT_EQ(Sorted(b->Assignment()), b_parts);
  (*back)->Close();
  b->Close();
}

TEST_F(KafkaTest, DeadLetterReaderReadsTheWholeTopicAndMovesNothing) {
  const std::string retry = NewTopic("retry"), dlq = NewTopic("dlq");
  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  KafkaNoticeRequeue requeue(*producer, retry, dlq);
  std::vector<NoticeJob> dead;
  for (int64_t c = 1; c <= 5; ++c) {
    NoticeJob job = JobFor(c, "3f1c2a5e-0b7d-4c1e-9a8f-2d6b5e4c3a21");
    job.attempt = 5;
    job.last_error = "gateway 503";
    job.dead_at = absl::FromUnixSeconds(1'800'000'000 + c);
    dead.push_back(job);
  }
  ASSERT_TRUE(requeue.DeadLetter(dead).ok());
  ASSERT_TRUE(requeue.Retry({JobFor(9, "3f1c2a5e-0b7d-4c1e-9a8f-2d6b5e4c3a21")}).ok());
  KafkaDeadLetterReader reader(config_, dlq);
  for (int round = 0; round < 2; ++round) {  // reading twice sees the same
    auto jobs = reader.ReadAll();
    ASSERT_TRUE(jobs.ok()) << jobs.status();
    ASSERT_EQ(jobs->size(), 5u);
    std::set<int64_t> customers;
    for (const auto& j : *jobs) {
      customers.insert(j.recipient.customer_id);
      EXPECT_EQ(j.attempt, 5);
      EXPECT_EQ(j.last_error, "gateway 503");
    }
    EXPECT_EQ(customers, (std::set<int64_t>{1, 2, 3, 4, 5}));
  }
  auto retried = NewConsumer(Unique("group"), retry);
  ASSERT_NE(retried, nullptr);
  auto msgs = Receive(*retried, 1, /*store=*/false);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].key, "9");
}

TEST_F(KafkaTest, StoredOffsetsAreRespectedAfterRestart) {
  const std::string topic = NewTopic("restart");
  const std::string group = Unique("group");
  ASSERT_NO_FATAL_FAILURE(ProduceNumbered(topic, 0, 100));

  std::multiset<std::string> done;
  {
    auto first = NewConsumer(group, topic);
    ASSERT_NE(first, nullptr);
    const auto msgs = Receive(*first, 100, /*store=*/false);
    ASSERT_EQ(msgs.size(), 100u);
    // Finish the first 40 received: a prefix of every partition's stream.
    const std::vector<KafkaMessage> finished(msgs.begin(), msgs.begin() + 40);
    ASSERT_TRUE(first->StoreOffsets(finished).ok());
    auto st = first->Commit();
    EXPECT_TRUE(st.ok()) << st;
    done = Values(finished);
    first->Close();
  }
  std::multiset<std::string> rest;
  {
    auto second = NewConsumer(group, topic);
    ASSERT_NE(second, nullptr);
    const auto msgs = Receive(*second, 60, /*store=*/true);
    rest = Values(msgs);
    const auto extra = ReceiveFor(*second, 5);
    EXPECT_TRUE(extra.empty()) << extra.size() << " unexpected messages";
    second->Close();  // commits the stored offsets
  }
  EXPECT_EQ(rest.size(), 60u);
  std::multiset<std::string> all = done;
  all.insert(rest.begin(), rest.end());
  EXPECT_EQ(all, Numbered(0, 100));

  // Everything is done: a third member starts at the end.
  ProduceNumbered(topic, 100, 1);
  auto third = NewConsumer(group, topic);
  ASSERT_NE(third, nullptr);
  const auto msgs = Receive(*third, 1, /*store=*/true);
  EXPECT_EQ(Values(msgs), Numbered(100, 1));
}

TEST(KafkaProducerTest, FlushReportsUndeliveredMessages) {
  KafkaConfig config;
  config.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  config.message_timeout = std::chrono::milliseconds(300);
  auto producer = KafkaProducer::Create(config);
  ASSERT_TRUE(producer.ok()) << producer.status();
  ASSERT_TRUE((*producer)->Produce("forewarn.test", "k", "v").ok());
  auto st = (*producer)->Flush(absl::Seconds(10));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  // The failed batch is settled; an empty flush afterwards is clean.
  EXPECT_TRUE((*producer)->Flush(absl::Seconds(1)).ok());
}

TEST(KafkaConfigTest, BadPropertyIsInvalidArgument) {
  KafkaConfig config;
  config.bootstrap_servers = "127.0.0.1:1";
  config.extra["no.such.property"] = "1";
  EXPECT_EQ(KafkaProducer::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KafkaConsumer::Create(config, "g", {"t"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forewarn
