// PDUs (libsmpp34 bodies, own framing), the split into concatenated parts
// and the per-notice combination of part receipts.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "notifier/sms/sms_segments.h"
#include "notifier/smpp/receipt_combiner.h"
#include "notifier/smpp/smpp_parts.h"
#include "notifier/smpp/smpp_pdu.h"

namespace forewarn::smpp {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// The text of a part after its UDH, as UTF-16 code units (UCS-2 parts).
std::vector<uint16_t> Units(const SubmitSm& s) {
  const size_t skip = (s.esm_class & kEsmUdhi) ? 1 + static_cast<uint8_t>(s.short_message[0]) : 0;
  std::vector<uint16_t> out;
  for (size_t i = skip; i + 1 < s.short_message.size(); i += 2) {
    out.push_back(static_cast<uint16_t>((static_cast<uint8_t>(s.short_message[i]) << 8) |
                                        static_cast<uint8_t>(s.short_message[i + 1])));
  }
  return out;
}

TEST(SmppPdu, HeaderOnlyRoundTrip) {
  const std::string pdu = EncodeHeaderOnly(kEnquireLink, kOk, 77);
  ASSERT_EQ(pdu.size(), kHeaderSize);
  const auto h = ParseHeader(pdu);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->length, 16u);
  EXPECT_EQ(h->command_id, kEnquireLink);
  EXPECT_EQ(h->sequence, 77u);
  EXPECT_FALSE(ParseHeader(std::string("\0\0\0\x05", 4) + std::string(12, '\0')).has_value());
}

TEST(SmppPdu, BindTransceiverFieldsAndLimits) {
  auto pdu = EncodeBindTransceiver(1, {"forewarn", "secret", "notify"});
  ASSERT_TRUE(pdu.ok()) << pdu.status();
  const auto h = ParseHeader(*pdu);
  EXPECT_EQ(h->command_id, kBindTransceiver);
  EXPECT_EQ(h->length, pdu->size());
  // system_id, password, system_type, interface_version 0x34, ton, npi, range
  EXPECT_EQ(pdu->substr(16), std::string("forewarn\0secret\0notify\0\x34\0\0\0", 27));
  auto too_long = EncodeBindTransceiver(1, {"forewarn", "123456789", ""});
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_long.status().message().find("password"), std::string::npos);
}

TEST(SmppPdu, SubmitSmCarriesUdhAndCoding) {
  SubmitSm s;
  s.destination = "966500000001";
  s.source_addr = "Forewarn";
  s.esm_class = kEsmUdhi;
  s.data_coding = kCodingUcs2;
  s.short_message = std::string("\x05\x00\x03\x07\x02\x01", 6) + std::string("\x06\x27", 2);
  auto pdu = EncodeSubmitSm(9, s);
  ASSERT_TRUE(pdu.ok()) << pdu.status();
  // service_type "", source TON 5 (alphanumeric) NPI 0, source, dest TON 1 NPI 1, dest, then
  // esm_class, protocol_id, priority, schedule "", validity "", registered_delivery, replace,
  // data_coding, sm_default_msg_id, sm_length.
  const std::string expected_body = std::string("\0\x05\x00", 3) + "Forewarn" + std::string("\0\x01\x01", 3) +
                                    std::string("966500000001\0", 13) +
                                    std::string("\x40\0\0\0\0\x01\0\x08\0\x08", 10) + s.short_message;
  EXPECT_EQ(pdu->substr(16), expected_body);
  s.destination = "+966500000001";
  EXPECT_EQ(EncodeSubmitSm(9, s).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SmppPdu, SubmitSmRespWithAndWithoutBody) {
  std::string ok = EncodeHeaderOnly(kSubmitSmResp, kOk, 3) + std::string("1a2b\0", 5);
  ok[3] = static_cast<char>(ok.size());
  auto id = DecodeSubmitSmResp(ok);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "1a2b");
  // SMSCs answer errors with a bare header (SMPP 3.4 §4.4.2): libsmpp34 alone refuses those.
  auto bare = DecodeSubmitSmResp(EncodeHeaderOnly(kSubmitSmResp, kThrottled, 4));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, "");
  EXPECT_EQ(StatusName(kThrottled), "ESME_RTHROTTLED (0x58)");
}

// A deliver_sm as an SMSC sends a receipt: the text and both TLVs.
std::string ReceiptPdu(const std::string& id, uint8_t state, const std::string& text) {
  std::string body = std::string("\0\x01\x01", 3) + std::string("966500000001\0", 13) + std::string("\x05\x00", 2) +
                     std::string("Forewarn\0", 9);
  body += std::string("\x04\0\0\0\0\0\0\0\0", 9);
  body += static_cast<char>(text.size());
  body += text;
  body += std::string("\x00\x1e\x00", 3) + static_cast<char>(id.size() + 1) + id + std::string(1, '\0');
  body += std::string("\x04\x27\x00\x01", 4) + static_cast<char>(state);
  std::string pdu = EncodeHeaderOnly(kDeliverSm, kOk, 12) + body;
  pdu[2] = static_cast<char>(pdu.size() >> 8);
  pdu[3] = static_cast<char>(pdu.size() & 0xFF);
  return pdu;
}

TEST(SmppPdu, DeliverSmReceipt) {
  const std::string text = "id:1000a sub:001 dlvrd:001 submit date:2612060910 done date:2612060911 stat:DELIVRD err:000 text:Power";
  auto d = DecodeDeliverSm(ReceiptPdu("1000a", 2, text));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->is_receipt());
  EXPECT_EQ(d->short_message, text);
  EXPECT_EQ(d->receipted_message_id, "1000a");
  EXPECT_EQ(d->message_state, 2);
  EXPECT_EQ(d->source_addr, "966500000001");
  const std::string resp = EncodeDeliverSmResp(12);
  EXPECT_EQ(ParseHeader(resp)->length, 17u);
  EXPECT_EQ(ParseHeader(resp)->command_id, kDeliverSmResp);
  EXPECT_FALSE(DecodeDeliverSm(EncodeHeaderOnly(kDeliverSm, 0, 1) + "x").ok());
}

TEST(SmppParts, ShortGsmTextIsOnePlainSubmit) {
  const auto parts = BuildSubmits("Power is back in Olaya {ref}", "966500000001", "Forewarn", 5);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].esm_class, 0);
  EXPECT_EQ(parts[0].data_coding, kCodingDefault);
  EXPECT_EQ(parts[0].registered_delivery, 1);
  // '{' and '}' are GSM extension characters: ESC 0x28 and ESC 0x29.
  EXPECT_EQ(parts[0].short_message, std::string("Power is back in Olaya \x1b\x28ref\x1b\x29"));
}

TEST(SmppParts, GsmSplitsAt153SeptetsWithUdh) {
  const std::string text = Repeat("a", 160);
  EXPECT_EQ(BuildSubmits(text, "1", "", 1).size(), 1u);  // exactly one SMS
  const auto parts = BuildSubmits(text + "b", "966500000001", "", 42);
  ASSERT_EQ(parts.size(), 2u);
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].esm_class, kEsmUdhi);
    EXPECT_EQ(parts[i].short_message.substr(0, 6), std::string("\x05\x00\x03\x2a\x02", 5) + static_cast<char>(i + 1));
  }
  EXPECT_EQ(parts[0].short_message.size(), 6u + 153u);
  EXPECT_EQ(parts[1].short_message.substr(6), Repeat("a", 7) + "b");
}

TEST(SmppParts, EscapePairNeverSplit) {
  // 152 septets, then '€' (ESC + 0x65): it moves whole to the second part.
  const auto parts = BuildSubmits(Repeat("a", 152) + "€" + Repeat("a", 10), "1", "", 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].short_message.size(), 6u + 152u);
  EXPECT_EQ(parts[1].short_message.substr(6, 2), "\x1b\x65");
}

TEST(SmppParts, ArabicIsUcs2In67UnitParts) {
  const std::string arabic = "انقطاع الكهرباء في حي العليا، نعمل على إعادتها. ";  // 48 characters
  const std::string text = Repeat(arabic, 4);                                       // 192 units: 3 parts
  const auto parts = BuildSubmits(text, "966500000001", "Forewarn", 200);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(static_cast<int>(parts.size()), CountSmsSegments(text).segments);
  size_t units = 0;
  for (const auto& p : parts) {
    EXPECT_EQ(p.data_coding, kCodingUcs2);
    EXPECT_EQ(p.esm_class, kEsmUdhi);
    EXPECT_EQ(static_cast<uint8_t>(p.short_message[3]), 200);
    EXPECT_LE(Units(p).size(), 67u);
    units += Units(p).size();
  }
  EXPECT_EQ(units, 192u);
  EXPECT_EQ(Units(parts[0])[0], 0x0627);  // ا
  // Up to 70 units: one part without UDH.
  const auto single = BuildSubmits(arabic, "1", "", 1);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].esm_class, 0);
  EXPECT_EQ(Units(single[0]).size(), 48u);
}

TEST(SmppParts, SurrogatePairNeverSplit) {
  // 66 Arabic letters then an emoji (a surrogate pair) across the 67-unit boundary.
  const std::string text = Repeat("ب", 66) + "😀" + Repeat("ب", 10);
  const auto parts = BuildSubmits(text, "1", "", 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(Units(parts[0]).size(), 66u);
  const auto second = Units(parts[1]);
  ASSERT_GE(second.size(), 2u);
  EXPECT_EQ(second[0], 0xD83D);
  EXPECT_EQ(second[1], 0xDE00);
  EXPECT_EQ(static_cast<int>(parts.size()), CountSmsSegments(text).segments);
}

TEST(SmppParts, PartCountsMatchTheSegmentCount) {
  for (int n : {1, 70, 71, 134, 135, 160, 161, 306, 307, 1000}) {
    for (const std::string unit : {"a", "ع", "€"}) {
      const std::string text = Repeat(unit, n);
      EXPECT_EQ(static_cast<int>(EncodeSmsParts(text).parts.size()), CountSmsSegments(text).segments)
          << n << " x " << unit;
    }
  }
}

Receipt Part(ReceiptStatus status, const std::string& stat) {
  Receipt r;
  r.status = status;
  r.source = "smpp";
  r.detail = stat;
  return r;
}

TEST(ReceiptCombiner, DeliveredOnlyWhenEveryPartIs) {
  ReceiptCombiner c;
  const absl::Time now = absl::Now();
  auto n = c.Begin(3, now);
  EXPECT_FALSE(c.Attach(n, 0, "a1").has_value());
  EXPECT_FALSE(c.Attach(n, 1, "a2").has_value());
  EXPECT_FALSE(c.Attach(n, 2, "a3").has_value());
  EXPECT_FALSE(c.OnPart("a2", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());
  EXPECT_FALSE(c.OnPart("a2", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());  // duplicate
  EXPECT_FALSE(c.OnPart("a1", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());
  auto r = c.OnPart("a3", Part(ReceiptStatus::kDelivered, "DELIVRD"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->provider_id, "a1");
  EXPECT_EQ(r->status, ReceiptStatus::kDelivered);
  EXPECT_FALSE(c.OnPart("a3", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());  // once
}

TEST(ReceiptCombiner, FirstFailedPartSettlesOnce) {
  ReceiptCombiner c;
  auto n = c.Begin(2, absl::Now());
  c.Attach(n, 0, "b1");
  c.Attach(n, 1, "b2");
  auto r = c.OnPart("b2", Part(ReceiptStatus::kExpired, "EXPIRED"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->provider_id, "b1");
  EXPECT_EQ(r->status, ReceiptStatus::kExpired);
  EXPECT_EQ(r->detail, "EXPIRED");
  EXPECT_FALSE(c.OnPart("b1", Part(ReceiptStatus::kUndelivered, "UNDELIV")).has_value());
  EXPECT_FALSE(c.OnPart("b1", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());
}

TEST(ReceiptCombiner, FailureWaitsForTheFirstPartsId) {
  ReceiptCombiner c;
  auto n = c.Begin(2, absl::Now());
  c.Attach(n, 1, "c2");  // the first part was throttled and goes again
  EXPECT_FALSE(c.OnPart("c2", Part(ReceiptStatus::kUndelivered, "UNDELIV")).has_value());
  auto r = c.Attach(n, 0, "c9");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->provider_id, "c9");
  EXPECT_EQ(r->status, ReceiptStatus::kUndelivered);
}

TEST(ReceiptCombiner, UnknownIdsPassOnAbandonedOnesDoNot) {
  ReceiptCombiner c;
  auto r = c.OnPart("zz", Part(ReceiptStatus::kDelivered, "DELIVRD"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->provider_id, "zz");
  auto n = c.Begin(2, absl::Now());
  c.Attach(n, 0, "d1");
  c.Abandon(n);
  EXPECT_FALSE(c.OnPart("d1", Part(ReceiptStatus::kDelivered, "DELIVRD")).has_value());
}

TEST(ReceiptCombiner, ForgetsOldNotices) {
  ReceiptCombiner c(absl::Hours(1));
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  auto old = c.Begin(1, t0);
  c.Attach(old, 0, "e1");
  EXPECT_EQ(c.tracked_parts(), 1u);
  c.Begin(1, t0 + absl::Hours(2));
  EXPECT_EQ(c.tracked_parts(), 0u);
}

}  // namespace
}  // namespace forewarn::smpp
