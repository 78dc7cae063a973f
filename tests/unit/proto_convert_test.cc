#include "services/convert/proto_convert.h"

#include "gtest/gtest.h"

namespace forewarn {
namespace {

TEST(ProtoConvert, TimestampsRoundTripWithNanosInRange) {
  const absl::Time t = absl::FromUnixSeconds(1795456800) + absl::Nanoseconds(123456789);
  google::protobuf::Timestamp ts;
  ToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 1795456800);
  EXPECT_EQ(ts.nanos(), 123456789);
  EXPECT_EQ(FromProto(ts), t);
}

TEST(ProtoConvert, TimestampsPastTheNanosecondRangeStayExact) {
  // int64 nanoseconds since 1970 end in 2262; Timestamp goes to 9999.
  const absl::Time t = absl::FromUnixSeconds(253402300799);  // 9999-12-31T23:59:59Z
  google::protobuf::Timestamp ts;
  ToProto(t, &ts);
  EXPECT_EQ(ts.seconds(), 253402300799);
  EXPECT_EQ(ts.nanos(), 0);
  EXPECT_EQ(FromProto(ts), t);
}

TEST(ProtoConvert, CheckedTimeRejectsTimestampsOutsideRfc3339) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(253402300800);
  auto t = CheckedTime("ends_at", ts);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(), "ends_at: timestamp out of range");
  ts.set_seconds(0);
  ts.set_nanos(-1);
  EXPECT_FALSE(CheckedTime("ends_at", ts).ok());
}

TEST(ProtoConvert, EnumsRoundTripAndUnspecifiedHasNoDomainValue) {
  for (auto s : {IncidentState::kOpen, IncidentState::kResolved, IncidentState::kCancelled}) {
    EXPECT_EQ(FromProto(ToProto(s)), s);
  }
  for (auto k : {IncidentKind::kUnplannedOutage, IncidentKind::kPlannedMaintenance, IncidentKind::kIbanChange}) {
    EXPECT_EQ(FromProto(ToProto(k)), k);
  }
  for (auto c : {Channel::kSms, Channel::kEmail}) EXPECT_EQ(FromProto(ToProto(c)), c);
  EXPECT_EQ(FromProto(v1::INCIDENT_STATE_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(FromProto(static_cast<v1::IncidentState>(42)), std::nullopt);
  EXPECT_EQ(FromProto(v1::CHANNEL_UNSPECIFIED), std::nullopt);
  EXPECT_EQ(ToProto(NoticeState::kDead), v1::DEAD_LETTERED);
}

}  // namespace
}  // namespace forewarn
