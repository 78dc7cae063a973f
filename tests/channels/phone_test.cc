#include "notifier/sms/phone.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace forewarn {
namespace {

TEST(NormalizeE164, AcceptsSaudiMobileNumbersInEveryCommonForm) {
  for (const char* in :
       {"+966501234567", "+966 50 123 4567", "0501234567", "050-123-4567", "00966501234567", "(050) 123 4567"}) {
    auto e164 = NormalizeE164(in);
    ASSERT_TRUE(e164.ok()) << in << ": " << e164.status();
    EXPECT_EQ(*e164, "+966501234567") << in;
  }
  for (const char* in : {"+966551234567", "+966 54 123 4567", "+966591234567"}) {
    EXPECT_TRUE(NormalizeE164(in).ok()) << in;
  }
}

TEST(NormalizeE164, UsesTheDefaultRegionOnlyWithoutACountryCode) {
  auto gb = NormalizeE164("07400 123456", "GB");
  ASSERT_TRUE(gb.ok()) << gb.status();
  EXPECT_EQ(*gb, "+447400123456");
  auto intl = NormalizeE164("+44 7400 123456", "SA");
  ASSERT_TRUE(intl.ok()) << intl.status();
  EXPECT_EQ(*intl, "+447400123456");
}

TEST(NormalizeE164, RejectsGarbageWithInvalidArgument) {
  for (const char* in :
       {"", "hello", "12", "+966 12", "+96650123456789", "+999 501234567", "0501234567890123", "+966 50 123 45"}) {
    auto e164 = NormalizeE164(in);
    ASSERT_FALSE(e164.ok()) << in << " -> " << *e164;
    EXPECT_EQ(e164.status().code(), absl::StatusCode::kInvalidArgument) << in;
    EXPECT_FALSE(e164.status().message().empty());
  }
  auto bad = NormalizeE164("+966 50 123 45");
  EXPECT_FALSE(absl::StrContains(bad.status().message(), "5012345")) << "the number must not be echoed";
}

TEST(NormalizeE164, CanonicalInputTakesTheFastPathWithTheSameVerdict) {
  // Each number canonical ("+..." digits only) and spaced (the general
  // parser): both forms must agree, valid or not.
  for (const char* in : {"+966501234567", "+447400123456", "+12025550123", "+14165550123", "+971501234567",
                         "+33612345678", "+393123456789", "+390612345678", "+8613812345678", "+96650123456",
                         "+9665012345678", "+999501234567", "+4412", "+2125550123", "+1202555012"}) {
    std::string spaced = std::string(in).insert(3, " ");
    auto fast = NormalizeE164(in);
    auto general = NormalizeE164(spaced);
    EXPECT_EQ(fast.ok(), general.ok()) << in << ": " << fast.status() << " / " << general.status();
    if (fast.ok() && general.ok()) {
      EXPECT_EQ(*fast, *general) << in;
    } else if (!fast.ok() && !general.ok()) {
      EXPECT_EQ(fast.status(), general.status()) << in;
    }
  }
}

TEST(IsPlausibleEmail, AcceptsOrdinaryAddresses) {
  for (const char* ok : {"a@example.com", "first.last+tag@mail.example.co.uk", "x_y-z@sub-domain.example.sa",
                         "user@xn--mgbaam7a8h.xn--mgberp4a5d4ar", "عميل@مثال.السعودية"}) {
    EXPECT_TRUE(IsPlausibleEmail(ok)) << ok;
  }
}

TEST(IsPlausibleEmail, RejectsWhatCannotBeDelivered) {
  const std::string long_local = std::string(65, 'a') + "@example.com";
  for (const std::string& bad : {std::string(""),
                                 std::string("plain"),
                                 std::string("@example.com"),
                                 std::string("a@"),
                                 std::string("a@localhost"),
                                 std::string("a@@example.com"),
                                 std::string("a@b@example.com"),
                                 std::string("a b@example.com"),
                                 std::string("a@exa mple.com"),
                                 std::string("a@example..com"),
                                 std::string("a@.example.com"),
                                 std::string("a@example.com."),
                                 std::string(".a@example.com"),
                                 std::string("a..b@example.com"),
                                 std::string("a@-example.com"),
                                 std::string("a\r\n@example.com"),
                                 std::string("<a@example.com>"),
                                 std::string("a@example.com,b@example.com"),
                                 long_local,
                                 std::string("a@") + std::string(250, 'b') + ".com"}) {
    EXPECT_FALSE(IsPlausibleEmail(bad)) << bad;
  }
}

TEST(SendableE164, AgreesWithNormalizeE164OnValidNumbersInEveryForm) {
  for (const char* in : {"+966501234567", "+447400123456", "+12025550123", "+971501234567", "0501234567",
                         "00966501234567", "+966 50 123 4567"}) {
    auto sendable = SendableE164(in);
    auto normalized = NormalizeE164(in);
    ASSERT_TRUE(sendable.ok()) << in << ": " << sendable.status();
    ASSERT_TRUE(normalized.ok()) << in;
    EXPECT_EQ(*sendable, *normalized) << in;
  }
}

TEST(SendableE164, RefusesImpossibleLengthsUnknownCountryCodesAndGarbage) {
  for (const char* in : {"+96600000", "+96650123456", "+966501234567890", "+4412", "+999501234567", "hello", ""}) {
    auto sendable = SendableE164(in);
    EXPECT_EQ(sendable.status().code(), absl::StatusCode::kInvalidArgument) << in;
  }
}

TEST(SendableE164, LeavesTheNumberingPlanToWhereNumbersEnter) {
  // A Saudi number of a possible length whose prefix no operator holds: the
  // directory refuses it (NormalizeE164); the notifier does not check the
  // plan again, and would hand it to the provider.
  EXPECT_EQ(NormalizeE164("+966412345678").status().code(), absl::StatusCode::kInvalidArgument);
  auto sendable = SendableE164("+966412345678");
  ASSERT_TRUE(sendable.ok()) << sendable.status();
  EXPECT_EQ(*sendable, "+966412345678");
}

}  // namespace
}  // namespace forewarn
