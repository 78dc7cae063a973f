#include "services/core/iban.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

TEST(NormalizeIban, AcceptsValidIbansFromSeveralCountries) {
  for (const char* iban : {"SA03 8000 0000 6080 1016 7519", "SA4420000001234567891234", "GB82 WEST 1234 5698 7654 32",
                           "DE89 3704 0044 0532 0130 00", "AE07 0331 2345 6789 0123 456", "FR14 2004 1010 0505 0001 3M02 606",
                           "NL91ABNA0417164300", "BH67BMAG00001299123456", "kw81cbkU0000000000001234560101"}) {
    auto r = NormalizeIban("iban", iban);
    EXPECT_TRUE(r.ok()) << iban << ": " << r.status();
  }
  EXPECT_EQ(*NormalizeIban("iban", "gb82 west 1234 5698 7654 32"), "GB82WEST12345698765432");
}

TEST(NormalizeIban, RejectsBadChecksumLengthCountryAndCharacters) {
  auto expect = [](const char* iban, const char* message) {
    auto r = NormalizeIban("old_iban", iban);
    ASSERT_FALSE(r.ok()) << iban;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(r.status().message()), message) << iban;
  };
  expect("SA03 8000 0000 6080 1016 7518", "old_iban: check digits do not match");
  expect("SA03 8000 0000 6080 1016 751", "old_iban: SA IBANs have 24 characters, got 23");
  expect("GB82 WEST 1234 5698 7654 3", "old_iban: GB IBANs have 22 characters, got 21");
  expect("ZZ82 WEST 1234 5698 7654 32", "old_iban: unknown IBAN country 'ZZ'");
  expect("SA03-8000-0000-6080-1016-7519", "old_iban: may contain only letters, digits and spaces");
  expect("", "old_iban: is required");
  expect("3A03 8000", "old_iban: must start with a country code and two check digits");
}

TEST(FormatIban, GroupsByFour) { EXPECT_EQ(FormatIban("SA0380000000608010167519"), "SA03 8000 0000 6080 1016 7519"); }

}  // namespace
}  // namespace forewarn
