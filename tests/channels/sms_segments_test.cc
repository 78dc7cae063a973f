#include "notifier/sms/sms_segments.h"

#include <string>

#include "gtest/gtest.h"

namespace forewarn {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

const std::string kAlef = "ب";   // U+0628, 2 bytes in UTF-8, 1 UTF-16 unit
const std::string kEmoji = "😀";  // U+1F600, outside the BMP: a surrogate pair

TEST(CountSmsSegments, EmptyTextIsOneGsmSegment) {
  const SmsCost c = CountSmsSegments("");
  EXPECT_EQ(c.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(c.units, 0);
  EXPECT_EQ(c.segments, 1);
}

TEST(CountSmsSegments, Gsm7SingleAndConcatenatedBoundaries) {
  struct Case {
    int chars;
    int segments;
  };
  for (const Case& c :
       {Case{1, 1}, Case{160, 1}, Case{161, 2}, Case{306, 2}, Case{307, 3}, Case{459, 3}, Case{460, 4}}) {
    const SmsCost cost = CountSmsSegments(std::string(c.chars, 'a'));
    EXPECT_EQ(cost.encoding, SmsEncoding::kGsm7) << c.chars;
    EXPECT_EQ(cost.units, c.chars);
    EXPECT_EQ(cost.segments, c.segments) << c.chars;
  }
}

TEST(CountSmsSegments, BasicTableCharactersCountOne) {
  const std::string all_basic =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
      "abcdefghijklmnopqrstuvwxyzäöñüà";
  const SmsCost c = CountSmsSegments(all_basic);
  EXPECT_EQ(c.encoding, SmsEncoding::kGsm7);
  EXPECT_EQ(c.units, 127);  // the 128 codes minus ESC
  EXPECT_EQ(c.segments, 1);
}

TEST(CountSmsSegments, ExtensionCharactersCountTwo) {
  for (const std::string ext : {"€", "{", "}", "[", "]", "~", "^", "\\", "|", "\f"}) {
    const SmsCost c = CountSmsSegments(ext);
    EXPECT_EQ(c.encoding, SmsEncoding::kGsm7) << ext;
    EXPECT_EQ(c.units, 2) << ext;
  }
  EXPECT_EQ(CountSmsSegments("Price: 5€ {net}").units, 12 + 3 * 2);  // 15 characters, 3 of them extended
  // 80 '€' are exactly 160 septets; one more 'a' makes it concatenated.
  EXPECT_EQ(CountSmsSegments(Repeat("€", 80)).segments, 1);
  EXPECT_EQ(CountSmsSegments(Repeat("€", 80) + "a").segments, 2);
  EXPECT_EQ(CountSmsSegments(std::string(159, 'a') + "€").segments, 2);
}

TEST(CountSmsSegments, AnEscapePairIsNeverSplitAcrossParts) {
  // 152 + 2 + 151 = 305 septets: part 1 has 152 (the '€' does not fit), part 2
  // holds '€' + 151 = 153.
  EXPECT_EQ(CountSmsSegments(std::string(152, 'a') + "€" + std::string(151, 'a')).segments, 2);
  // 306 septets would be 2 x 153 by division, but the pair moves to part 2,
  // which then overflows by one: 3 parts.
  const SmsCost c = CountSmsSegments(std::string(152, 'a') + "€" + std::string(152, 'a'));
  EXPECT_EQ(c.units, 306);
  EXPECT_EQ(c.segments, 3);
  // The pair exactly at the end of part 1 (151 + 2 = 153) fits.
  EXPECT_EQ(CountSmsSegments(std::string(151, 'a') + "€" + std::string(153, 'a')).segments, 2);
}

TEST(CountSmsSegments, ArabicIsUcs2At70And67) {
  struct Case {
    int chars;
    int segments;
  };
  for (const Case& c : {Case{1, 1}, Case{70, 1}, Case{71, 2}, Case{134, 2}, Case{135, 3}, Case{201, 3}, Case{202, 4}}) {
    const SmsCost cost = CountSmsSegments(Repeat(kAlef, c.chars));
    EXPECT_EQ(cost.encoding, SmsEncoding::kUcs2) << c.chars;
    EXPECT_EQ(cost.units, c.chars);
    EXPECT_EQ(cost.segments, c.segments) << c.chars;
  }
  // Arabic with Latin digits and punctuation: still UCS-2, every char one unit.
  const SmsCost mixed = CountSmsSegments("انقطاع الكهرباء. العودة 18:30");
  EXPECT_EQ(mixed.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(mixed.units, 29);
}

TEST(CountSmsSegments, CharactersOutsideTheBmpCountTwoUnitsAndStayWhole) {
  const SmsCost one = CountSmsSegments(kEmoji);
  EXPECT_EQ(one.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(one.units, 2);
  EXPECT_EQ(one.segments, 1);
  EXPECT_EQ(CountSmsSegments(std::string(68, 'a') + kEmoji).segments, 1);  // 70 units
  EXPECT_EQ(CountSmsSegments(std::string(69, 'a') + kEmoji).segments, 2);  // 71 units
  // 66 + 2 + 66 = 134 units = 2 x 67 by division, but the pair does not fit
  // the 1 unit left in part 1: 3 parts.
  const SmsCost straddle = CountSmsSegments(Repeat(kAlef, 66) + kEmoji + Repeat(kAlef, 66));
  EXPECT_EQ(straddle.units, 134);
  EXPECT_EQ(straddle.segments, 3);
}

TEST(CountSmsSegments, OneNonGsmCharacterSwitchesTheWholeTextToUcs2) {
  EXPECT_EQ(CountSmsSegments("Ça va, garçon?").encoding, SmsEncoding::kGsm7);  // 'ç' / 'Ç' are GSM
  const SmsCost c = CountSmsSegments("Ćevapi");                                // 'Ć' is not
  EXPECT_EQ(c.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(c.units, 6);
  const SmsCost small = CountSmsSegments("ćevapi");
  EXPECT_EQ(small.encoding, SmsEncoding::kUcs2);
  // 159 GSM chars + 'ć': 160 UCS-2 units, 3 parts of 67.
  const SmsCost long_text = CountSmsSegments(std::string(159, 'a') + "ć");
  EXPECT_EQ(long_text.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(long_text.units, 160);
  EXPECT_EQ(long_text.segments, 3);
  // Extension characters count one UCS-2 unit once the text is UCS-2.
  EXPECT_EQ(CountSmsSegments("€ ب").units, 3);
  // Common look-alikes that are not GSM: curly quotes, en dash.
  EXPECT_EQ(CountSmsSegments("it’s").encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(CountSmsSegments("a – b").encoding, SmsEncoding::kUcs2);
}

TEST(CountSmsSegments, InvalidUtf8CountsAsReplacementCharacters) {
  const SmsCost c = CountSmsSegments(std::string("ab\xff\xc3", 4));
  EXPECT_EQ(c.encoding, SmsEncoding::kUcs2);
  EXPECT_EQ(c.units, 4);
}

TEST(SmsEncoding, HasNames) {
  EXPECT_STREQ(ToString(SmsEncoding::kGsm7), "gsm7");
  EXPECT_STREQ(ToString(SmsEncoding::kUcs2), "ucs2");
}

}  // namespace
}  // namespace forewarn
