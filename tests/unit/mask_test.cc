#include "services/core/mask.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

TEST(Mask, HidesTheMiddleOfPhonesEmailsAndIbans) {
  EXPECT_EQ(MaskPhone("+966512345678"), "+9665*****678");
  EXPECT_EQ(MaskEmail("customer42@example.com"), "c***@example.com");
  EXPECT_EQ(MaskIban("SA03 8000 0000 6080 1016 7519"), "SA03 **** 7519");
  EXPECT_EQ(MaskAddress("a@b.c"), "a***@b.c");
  EXPECT_EQ(MaskAddress("+966512345678"), "+9665*****678");
}

TEST(Mask, NeverReturnsShortInputsInFull) {
  EXPECT_EQ(MaskPhone("12345"), "*****");
  EXPECT_EQ(MaskEmail("nobody"), "******");
}

}  // namespace
}  // namespace forewarn
