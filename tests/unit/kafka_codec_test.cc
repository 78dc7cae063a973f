#include "services/kafka/codec.h"

#include <string>

#include "gtest/gtest.h"

namespace forewarn {
namespace {

NoticeJob SampleJob() {
  NoticeJob job;
  job.incident_id = "7f8c1a52-3b0e-4c1e-9a57-2f4d6b8e9c01";
  job.version = 3;
  job.kind = NoticeKind::kOutageUpdated;
  job.recipient.customer_id = 1234567890123;
  job.recipient.channel = Channel::kEmail;
  job.recipient.address = "amal@example.com";
  job.recipient.locale = "ar";
  job.recipient.time_zone = "Asia/Riyadh";
  job.recipient.name = "أمل";
  return job;
}

TEST(KafkaCodec, EventRoundTripsAllFields) {
  IncidentEvent in;
  in.incident_id = "7f8c1a52-3b0e-4c1e-9a57-2f4d6b8e9c01";
  in.version = 42;
  in.notice_kind = NoticeKind::kOutageRestored;
  in.outbox_id = 9001;
  auto out = DecodeEvent(EncodeEvent(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->incident_id, in.incident_id);
  EXPECT_EQ(out->version, 42);
  EXPECT_EQ(out->notice_kind, NoticeKind::kOutageRestored);
  EXPECT_EQ(out->outbox_id, 9001);
}

TEST(KafkaCodec, JobRoundTripsAllFields) {
  const NoticeJob in = SampleJob();
  auto out = DecodeJob(EncodeJob(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->incident_id, in.incident_id);
  EXPECT_EQ(out->version, 3);
  EXPECT_EQ(out->kind, NoticeKind::kOutageUpdated);
  EXPECT_EQ(out->recipient.customer_id, 1234567890123);
  EXPECT_EQ(out->recipient.channel, Channel::kEmail);
  EXPECT_EQ(out->recipient.address, "amal@example.com");
  EXPECT_EQ(out->recipient.locale, "ar");
  EXPECT_EQ(out->recipient.time_zone, "Asia/Riyadh");
  EXPECT_EQ(out->recipient.name, "أمل");
  EXPECT_EQ(KeyOf(*out), KeyOf(in));
}

TEST(KafkaCodec, RetryAndDeadLetterFieldsRoundTrip) {
  NoticeJob in = SampleJob();
  EXPECT_EQ(DecodeJob(EncodeJob(in))->not_before, absl::InfinitePast());  // unset stays unset
  in.attempt = 4;
  in.not_before = absl::FromUnixMicros(1'800'000'000'123'456);
  in.revive = true;
  in.last_error = "gateway 503";
  in.dead_at = absl::FromUnixSeconds(1'800'000'100);
  auto out = DecodeJob(EncodeJob(in));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->attempt, 4);
  EXPECT_EQ(out->not_before, in.not_before);
  EXPECT_TRUE(out->revive);
  EXPECT_EQ(out->last_error, "gateway 503");
  EXPECT_EQ(out->dead_at, in.dead_at);
}

TEST(KafkaCodec, GarbageIsInvalidArgumentNotACrash) {
  const std::string inputs[] = {
      std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 10),
      std::string("\x0a\x7f", 2),                 // length-delimited field overruns
      std::string("not a protobuf at all"),
      std::string(1, '\0'),
      std::string(),                              // empty message: no incident id
  };
  for (const std::string& in : inputs) {
    auto event = DecodeEvent(in);
    EXPECT_EQ(event.status().code(), absl::StatusCode::kInvalidArgument) << event.status();
    auto job = DecodeJob(in);
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument) << job.status();
  }
}

TEST(KafkaCodec, UnknownEnumTextIsInvalidArgument) {
  // An event is a valid protobuf, but not a valid job: fields 3 and 5 differ.
  IncidentEvent event;
  event.incident_id = "x";
  EXPECT_EQ(DecodeJob(EncodeEvent(event)).status().code(), absl::StatusCode::kInvalidArgument);

  NoticeJob job = SampleJob();
  std::string bytes = EncodeJob(job);
  // Corrupt the channel text "email" -> "emaix".
  const auto pos = bytes.find("email");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos + 4] = 'x';
  EXPECT_EQ(DecodeJob(bytes).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaCodec, EveryPrefixOfAJobDecodesOrFailsCleanly) {
  const std::string bytes = EncodeJob(SampleJob());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto job = DecodeJob(std::string_view(bytes).substr(0, n));
    if (!job.ok()) {
      EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace forewarn
