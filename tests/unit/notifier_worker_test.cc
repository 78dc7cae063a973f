#include "notifier/worker/notifier_worker.h"

#include <gtest/gtest.h>

#include "tests/support/new_incidents.h"
#include "tests/unit/fakes.h"

namespace forewarn {
namespace {

class NotifierWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    incident_ = *store_.Create(testing::OutageIncident("k", "electricity", "riyadh", {"عطل في المحطة", "Station fault"},
                                                       clock_.Now() + absl::Hours(2)),
                               clock_.Now(), testing::NoPlan);
  }
  NoticeJob Job(int64_t customer, Channel ch, std::string locale = "en") {
    NoticeJob job;
    job.incident_id = incident_.id;
    job.version = 1;
    job.recipient = Recipient{customer, ch, ch == Channel::kSms ? "+966500000001" : "x@example.com", locale,
                              "Asia/Riyadh", "N", AudienceRole::kAffected, ""};
    return job;
  }
  FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  testing::FakeIncidentStore store_;
  testing::FakeLedger ledger_;
  testing::FakeRenderer renderer_;
  testing::FakeChannel sms_, email_;
  NotifierWorker worker_{store_, ledger_, renderer_, {{Channel::kSms, &sms_}, {Channel::kEmail, &email_}}, clock_};
  Incident incident_;
};

TEST_F(NotifierWorkerTest, SendsEachJobOnItsChannelAndRecordsSent) {
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms, "ar"), Job(1, Channel::kEmail), Job(2, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 2u);
  EXPECT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].second.text, "عطل في المحطة");
  for (const auto& [key, state] : ledger_.rows) EXPECT_EQ(state, NoticeState::kSent);
  EXPECT_EQ(worker_.stats().sent, 3);
}

TEST_F(NotifierWorkerTest, RedeliveredJobsAreNotSentTwice) {
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), Job(1, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(worker_.stats().skipped, 1);
}

TEST_F(NotifierWorkerTest, ReclaimedNoticeTheProviderAlreadyHasIsRecordedNotResent) {
  // A worker delivered and died before the ledger recorded it: the key is
  // still claimed. The redelivered job must not reach the customer twice.
  ASSERT_TRUE(ledger_.Claim({KeyOf(Job(9, Channel::kSms))}, clock_.Now()).ok());
  RenderedNotice earlier;
  earlier.message_id = MessageIdFor(KeyOf(Job(9, Channel::kSms)));
  ASSERT_TRUE(sms_.Send(Job(9, Channel::kSms).recipient, earlier).ok());
  ASSERT_TRUE(worker_.ProcessBatch({Job(9, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(ledger_.rows.begin()->second, NoticeState::kSent);
}

TEST_F(NotifierWorkerTest, DuplicatesInsideOneBatchAreSentOnce) {
  ASSERT_TRUE(worker_.ProcessBatch({Job(3, Channel::kEmail), Job(3, Channel::kEmail)}).ok());
  EXPECT_EQ(email_.sent.size(), 1u);
}

TEST_F(NotifierWorkerTest, RetryableFailureKeepsTheNoticeClaimedAndRetryDeliversItOnce) {
  sms_.failures = {absl::UnavailableError("gateway down")};
  auto s = worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms)});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sms_.sent.size(), 1u);  // customer 2 went through
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 2u);  // customer 1 now; customer 2 not again
}

TEST_F(NotifierWorkerTest, PermanentFailureIsRecordedAsFailedAndNotRetried) {
  sms_.failures = {absl::InvalidArgumentError("number not reachable")};
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  EXPECT_EQ(ledger_.rows.begin()->second, NoticeState::kFailed);
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  EXPECT_TRUE(sms_.sent.empty());
  EXPECT_EQ(worker_.stats().failed, 1);
}

TEST_F(NotifierWorkerTest, PermanentSmsFailureFallsBackToEmailOnce) {
  NoticeJob sms = Job(4, Channel::kSms);
  sms.recipient.fallback_email = "four@example.com";
  sms_.failures = {absl::InvalidArgumentError("invalid phone number")};
  ASSERT_TRUE(worker_.ProcessBatch({sms}).ok());
  ASSERT_EQ(email_.sent.size(), 1u);
  EXPECT_EQ(email_.sent[0].first.address, "four@example.com");
  EXPECT_EQ(worker_.stats().fallbacks, 1);
  // The customer also chose email: that notice is the same one, not a second.
  ASSERT_TRUE(worker_.ProcessBatch({Job(4, Channel::kEmail)}).ok());
  EXPECT_EQ(email_.sent.size(), 1u);
}

TEST_F(NotifierWorkerTest, RetryableSmsFailureDoesNotFallBack) {
  NoticeJob sms = Job(5, Channel::kSms);
  sms.recipient.fallback_email = "five@example.com";
  sms_.failures = {absl::UnavailableError("gateway 503")};
  EXPECT_FALSE(worker_.ProcessBatch({sms}).ok());
  EXPECT_TRUE(email_.sent.empty());
}

TEST_F(NotifierWorkerTest, LedgerOutageFailsTheBatchWithoutSending) {
  ledger_.claim_error = absl::UnavailableError("db down");
  EXPECT_EQ(worker_.ProcessBatch({Job(1, Channel::kSms)}).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sms_.sent.empty());
}

TEST_F(NotifierWorkerTest, AStaleVersionIsSupersededNotSent) {
  IncidentUpdate u;
  u.id = incident_.id;
  u.expected_restoration_at = clock_.Now() + absl::Hours(5);
  ASSERT_TRUE(store_.Update(u, clock_.Now(), {}).ok());  // now at version 2
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());  // a version-1 job
  EXPECT_TRUE(sms_.sent.empty());
  EXPECT_EQ(ledger_.rows.begin()->second, NoticeState::kSuperseded);
  EXPECT_EQ(worker_.stats().superseded, 1);
  NoticeJob v2 = Job(1, Channel::kSms);
  v2.version = 2;
  v2.kind = NoticeKind::kOutageUpdated;
  ASSERT_TRUE(worker_.ProcessBatch({v2}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);  // the current facts, once
}

TEST_F(NotifierWorkerTest, NonUrgentNoticeAtNightIsHeldThenSentWhenReleasedInTheWindow) {
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 4, 23, 0), absl::UTCTimeZone()));  // 02:00 Riyadh
  NoticeJob reminder = Job(7, Channel::kSms, "ar");
  reminder.kind = NoticeKind::kMaintenanceReminder;
  reminder.occasion = "lead-2h";
  ASSERT_TRUE(worker_.ProcessBatch({reminder}).ok());
  EXPECT_TRUE(sms_.sent.empty());
  ASSERT_EQ(ledger_.held.size(), 1u);
  EXPECT_EQ(ledger_.held[0].second, absl::FromCivil(absl::CivilMinute(2027, 1, 5, 6, 0), absl::UTCTimeZone()));
  clock_.Set(ledger_.held[0].second);  // the scheduler releases it at 09:00 Riyadh
  ASSERT_TRUE(worker_.ProcessBatch({reminder}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
  ASSERT_TRUE(worker_.ProcessBatch({reminder}).ok());  // a duplicate release
  EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierWorkerTest, UrgentNoticesInABatchGoBeforeReminders) {
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 4, 9, 0), absl::UTCTimeZone()));  // 12:00 Riyadh
  NoticeJob reminder = Job(1, Channel::kSms);
  reminder.kind = NoticeKind::kMaintenanceReminder;
  reminder.occasion = "lead-2h";
  ASSERT_TRUE(worker_.ProcessBatch({reminder, Job(2, Channel::kSms)}).ok());
  ASSERT_EQ(sms_.sent.size(), 2u);
  EXPECT_EQ(sms_.sent[0].first.customer_id, 2);
  EXPECT_EQ(sms_.sent[1].first.customer_id, 1);
}

TEST_F(NotifierWorkerTest, UrgentNoticeAtNightGoesAtOnce) {
  clock_.Set(absl::FromCivil(absl::CivilMinute(2027, 1, 4, 23, 0), absl::UTCTimeZone()));
  ASSERT_TRUE(worker_.ProcessBatch({Job(8, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierWorkerTest, IncidentVersionsAreReadOncePerBatchStream) {
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms), Job(3, Channel::kSms)}).ok());
  EXPECT_EQ(store_.version_reads, 1);
}

// --- retry and dead-letter topics ---

class NotifierRetryTest : public NotifierWorkerTest {
 protected:
  void SetUp() override {
    NotifierWorkerTest::SetUp();
    worker_.set_requeue(&requeue_, {3, absl::Seconds(2), absl::Seconds(5)});
  }
  NoticeState StateOf(const NoticeJob& job) { return ledger_.rows.at(testing::Tuple(KeyOf(job))); }
  testing::FakeRequeue requeue_;
};

TEST(NotifierBackoffTest, DoublesUpToTheCapWithAJitteredHalf) {
  const NotifierWorker::RetryPolicy p{5, absl::Seconds(2), absl::Seconds(10)};
  EXPECT_EQ(NotifierWorker::Backoff(p, 1, 0.0), absl::Seconds(1));
  EXPECT_EQ(NotifierWorker::Backoff(p, 1, 1.0), absl::Seconds(2));
  EXPECT_EQ(NotifierWorker::Backoff(p, 2, 1.0), absl::Seconds(4));
  EXPECT_EQ(NotifierWorker::Backoff(p, 3, 0.5), absl::Seconds(6));
  EXPECT_EQ(NotifierWorker::Backoff(p, 4, 1.0), absl::Seconds(10));
  EXPECT_EQ(NotifierWorker::Backoff(p, 60, 1.0), absl::Seconds(10));
}

TEST_F(NotifierRetryTest, TransientFailureGoesToTheRetryTopicAndTheBatchCompletes) {
  sms_.failures = {absl::UnavailableError("gateway 503")};
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
  ASSERT_EQ(requeue_.retried.size(), 1u);
  const NoticeJob& retry = requeue_.retried[0];
  EXPECT_EQ(retry.recipient.customer_id, 1);
  EXPECT_EQ(retry.attempt, 1);
  EXPECT_EQ(retry.last_error, "gateway 503");
  EXPECT_GE(retry.not_before, clock_.Now() + absl::Seconds(1));
  EXPECT_LE(retry.not_before, clock_.Now() + absl::Seconds(2));
  EXPECT_EQ(StateOf(Job(1, Channel::kSms)), NoticeState::kRetrying);
  EXPECT_EQ(worker_.stats().retried, 1);
  // The retry copy delivers it once.
  ASSERT_TRUE(worker_.ProcessBatch({retry}).ok());
  EXPECT_EQ(sms_.sent.size(), 2u);
  EXPECT_EQ(StateOf(Job(1, Channel::kSms)), NoticeState::kSent);
}

TEST_F(NotifierRetryTest, AnOlderCopyDoesNotOvertakeTheWaitingRetry) {
  sms_.failures = {absl::UnavailableError("gateway 503")};
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  // The original is redelivered (e.g. after a rebalance): not its turn.
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  EXPECT_TRUE(sms_.sent.empty());
  EXPECT_EQ(StateOf(Job(1, Channel::kSms)), NoticeState::kRetrying);
  // Original and retry in one batch: the retry wins, once.
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), requeue_.retried[0]}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierRetryTest, OutOfAttemptsTheNoticeIsDeadLetteredWithoutFallback) {
  NoticeJob job = Job(1, Channel::kSms);
  job.recipient.fallback_email = "one@example.com";
  sms_.failures = {absl::UnavailableError("503"), absl::DeadlineExceededError("timeout"),
                   absl::UnavailableError("502")};
  ASSERT_TRUE(worker_.ProcessBatch({job}).ok());
  ASSERT_TRUE(worker_.ProcessBatch({requeue_.retried.at(0)}).ok());
  ASSERT_TRUE(worker_.ProcessBatch({requeue_.retried.at(1)}).ok());
  EXPECT_EQ(requeue_.retried.size(), 2u);
  ASSERT_EQ(requeue_.dead.size(), 1u);
  EXPECT_EQ(requeue_.dead[0].attempt, 3);
  EXPECT_EQ(requeue_.dead[0].last_error, "502");
  EXPECT_EQ(requeue_.dead[0].dead_at, clock_.Now());
  EXPECT_EQ(StateOf(job), NoticeState::kDead);
  EXPECT_TRUE(email_.sent.empty());
  EXPECT_EQ(worker_.stats().dead_lettered, 1);
  // Dead is final for ordinary copies...
  ASSERT_TRUE(worker_.ProcessBatch({job, requeue_.retried.at(1)}).ok());
  EXPECT_TRUE(sms_.sent.empty());
  // ...and a replay revives it.
  NoticeJob replay = requeue_.dead[0];
  replay.attempt = 0;
  replay.revive = true;
  ASSERT_TRUE(worker_.ProcessBatch({replay}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(StateOf(job), NoticeState::kSent);
}

TEST_F(NotifierRetryTest, AnOpenCircuitKeepsTheBatchWithoutUsingAttempts) {
  sms_.failures = {ProviderPausedError("sms: circuit open")};
  EXPECT_EQ(worker_.ProcessBatch({Job(1, Channel::kSms)}).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(requeue_.retried.empty());
  EXPECT_EQ(StateOf(Job(1, Channel::kSms)), NoticeState::kClaimed);
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierRetryTest, WhenTheRetryTopicRefusesTheNoticeStaysClaimedForAnInPlaceRetry) {
  sms_.failures = {absl::UnavailableError("503")};
  requeue_.error = absl::UnavailableError("broker down");
  EXPECT_EQ(worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms)}).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(StateOf(Job(1, Channel::kSms)), NoticeState::kClaimed);
  EXPECT_EQ(StateOf(Job(2, Channel::kSms)), NoticeState::kSent);
  requeue_.error = absl::OkStatus();
  ASSERT_TRUE(worker_.ProcessBatch({Job(1, Channel::kSms), Job(2, Channel::kSms)}).ok());
  EXPECT_EQ(sms_.sent.size(), 2u);
}

// Nothing twice at a provider: groups, durable records, fencing.
class NotifierRecordingTest : public NotifierWorkerTest {
 protected:
  std::vector<NoticeJob> Jobs(int n) {
    std::vector<NoticeJob> jobs;
    for (int c = 1; c <= n; ++c) jobs.push_back(Job(c, Channel::kSms));
    return jobs;
  }
  void Recording(int every, absl::Duration interval = absl::Hours(1)) {
    worker_.set_record_policy({every, interval, [this](absl::Duration d) {
                                 waited_ += d;
                                 clock_.Advance(d);
                                 return !stopping_;
                               }});
  }
  absl::Duration waited_;
  bool stopping_ = false;
};

TEST_F(NotifierRecordingTest, SendsAreRecordedInGroupsOfRecordEvery) {
  Recording(20);
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(45)).ok());
  EXPECT_EQ(sms_.sent.size(), 45u);
  EXPECT_EQ(ledger_.claim_calls, 3);
  EXPECT_EQ(ledger_.recorded_groups, (std::vector<size_t>{20, 20, 5}));
}

TEST_F(NotifierRecordingTest, ASlowProviderHasItsSendsRecordedEveryInterval) {
  Recording(20, absl::Milliseconds(200));
  sms_.on_send = [this] { clock_.Advance(absl::Milliseconds(250)); };
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(5)).ok());
  // 250 ms per send: when a send completes 250 ms after the oldest
  // unrecorded one, the two are recorded.
  EXPECT_EQ(ledger_.recorded_groups, (std::vector<size_t>{2, 2, 1}));
}

TEST_F(NotifierRecordingTest, AFailedRecordIsRetriedWithoutSendingAgain) {
  Recording(20);
  ledger_.record_failures = {absl::UnavailableError("connection lost"), absl::AbortedError("42P05")};
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(3)).ok());
  EXPECT_EQ(sms_.sent.size(), 3u);
  EXPECT_EQ(ledger_.record_calls, 3);
  EXPECT_EQ(worker_.stats().record_retries, 2);
  EXPECT_EQ(waited_, absl::Milliseconds(100 + 200));  // backoff doubles
  for (const auto& [key, state] : ledger_.rows) EXPECT_EQ(state, NoticeState::kSent);
}

TEST_F(NotifierRecordingTest, StoppingWhileTheRecordFailsAbandonsTheRecordNotResends) {
  Recording(20);
  stopping_ = true;
  ledger_.record_failures = {absl::UnavailableError("connection lost")};
  EXPECT_EQ(worker_.ProcessBatch(Jobs(2)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sms_.sent.size(), 2u);
  EXPECT_EQ(ledger_.record_calls, 1);
}

TEST_F(NotifierRecordingTest, ANoticeWhoseLeaseWasTakenOverIsNeitherSentNorRecorded) {
  Recording(20);
  ledger_.lost.insert(testing::Tuple(KeyOf(Job(2, Channel::kSms))));
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(3)).ok());
  ASSERT_EQ(sms_.sent.size(), 2u);
  EXPECT_EQ(sms_.sent[0].first.customer_id, 1);
  EXPECT_EQ(sms_.sent[1].first.customer_id, 3);
  EXPECT_EQ(ledger_.rows[testing::Tuple(KeyOf(Job(2, Channel::kSms)))], NoticeState::kClaimed);
  EXPECT_EQ(worker_.stats().fenced, 1);
  EXPECT_EQ(ledger_.fence_calls, 3);
}

TEST_F(NotifierRecordingTest, AnUnconfirmedLeaseStopsSendingAndKeepsTheBatch) {
  Recording(20);
  ledger_.fence_error = absl::UnavailableError("lease not confirmed");
  EXPECT_EQ(worker_.ProcessBatch(Jobs(3)).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(sms_.sent.empty());
  ledger_.fence_error = absl::OkStatus();
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(3)).ok());
  EXPECT_EQ(sms_.sent.size(), 3u);
}

TEST_F(NotifierRecordingTest, NoticesBusyUnderAnotherLeaseAreLeftAndTheBatchComesBack) {
  Recording(20);
  ledger_.busy.insert(testing::Tuple(KeyOf(Job(1, Channel::kSms))));
  EXPECT_EQ(worker_.ProcessBatch(Jobs(2)).code(), absl::StatusCode::kUnavailable);
  ASSERT_EQ(sms_.sent.size(), 1u);
  EXPECT_EQ(sms_.sent[0].first.customer_id, 2);
  EXPECT_EQ(worker_.stats().busy, 1);
  // The other worker settled it: the batch now completes, nothing twice.
  ledger_.busy.clear();
  ledger_.rows[testing::Tuple(KeyOf(Job(1, Channel::kSms)))] = NoticeState::kSent;
  ASSERT_TRUE(worker_.ProcessBatch(Jobs(2)).ok());
  EXPECT_EQ(sms_.sent.size(), 1u);
}

TEST_F(NotifierRecordingTest, BusyJobsAreListedForTheCallerToBringBackAndTheRestIsDone) {
  Recording(2);
  const std::vector<NoticeJob> jobs = Jobs(5);
  ledger_.busy.insert(testing::Tuple(KeyOf(jobs[1])));
  ledger_.busy.insert(testing::Tuple(KeyOf(jobs[4])));
  std::vector<size_t> busy;
  ASSERT_TRUE(worker_.ProcessBatch(jobs, &busy).ok());
  EXPECT_EQ(busy, (std::vector<size_t>{1, 4}));
  EXPECT_EQ(sms_.sent.size(), 3u);
  EXPECT_EQ(worker_.stats().busy, 2);
}

}  // namespace
}  // namespace forewarn
