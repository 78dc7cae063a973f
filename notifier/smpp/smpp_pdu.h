#pragma once

// SMPP 3.4 PDUs as the SMPP channel uses them. Bodies are packed and
// unpacked by Debian's libsmpp34 (included by smpp_pdu.cc only: its headers
// define macros such as U32 and TLV); framing, header-only PDUs and the
// error responses that carry no body are this file's own. libsmpp34 writes
// a global buffer (smpp34_strerror) on every call, so every call into it
// goes through one process-wide mutex.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace forewarn::smpp {

// command_id values (SMPP 3.4 §5.1.2.1).
inline constexpr uint32_t kGenericNack = 0x80000000;
inline constexpr uint32_t kSubmitSm = 0x00000004;
inline constexpr uint32_t kSubmitSmResp = 0x80000004;
inline constexpr uint32_t kDeliverSm = 0x00000005;
inline constexpr uint32_t kDeliverSmResp = 0x80000005;
inline constexpr uint32_t kUnbind = 0x00000006;
inline constexpr uint32_t kUnbindResp = 0x80000006;
inline constexpr uint32_t kBindTransceiver = 0x00000009;
inline constexpr uint32_t kBindTransceiverResp = 0x80000009;
inline constexpr uint32_t kEnquireLink = 0x00000015;
inline constexpr uint32_t kEnquireLinkResp = 0x80000015;

// command_status values the channel tells apart (§5.1.3).
inline constexpr uint32_t kOk = 0x00;
inline constexpr uint32_t kInvalidCommandId = 0x03;
inline constexpr uint32_t kSystemError = 0x08;
inline constexpr uint32_t kInvalidSourceAddr = 0x0A;
inline constexpr uint32_t kInvalidDestAddr = 0x0B;
inline constexpr uint32_t kBindFailed = 0x0D;
inline constexpr uint32_t kInvalidPassword = 0x0E;
inline constexpr uint32_t kInvalidSystemId = 0x0F;
inline constexpr uint32_t kMessageQueueFull = 0x14;
inline constexpr uint32_t kThrottled = 0x58;

// esm_class bits (§5.2.12).
inline constexpr uint8_t kEsmUdhi = 0x40;
inline constexpr uint8_t kEsmTypeMask = 0x3C;
inline constexpr uint8_t kEsmDeliveryReceipt = 0x04;

// data_coding (§5.2.19).
inline constexpr uint8_t kCodingDefault = 0x00;  // SMSC default alphabet (GSM 03.38 here)
inline constexpr uint8_t kCodingUcs2 = 0x08;

inline constexpr size_t kHeaderSize = 16;
// A PDU longer than this is refused as garbage (the longest legal one, a
// submit_sm with a 64 KB message_payload, stays well below).
inline constexpr uint32_t kMaxPduSize = 70000;

struct Header {
  uint32_t length = 0;
  uint32_t command_id = 0;
  uint32_t status = 0;
  uint32_t sequence = 0;
};
// The header at the start of `bytes` (at least 16 bytes); nullopt when the
// length is below 16 or above kMaxPduSize.
std::optional<Header> ParseHeader(std::string_view bytes);

// A PDU with no body: enquire_link(_resp), unbind(_resp), generic_nack.
std::string EncodeHeaderOnly(uint32_t command_id, uint32_t status, uint32_t sequence);

struct BindRequest {
  std::string system_id;    // at most 15 characters
  std::string password;     // at most 8
  std::string system_type;  // at most 12
};
// INVALID_ARGUMENT naming the field when one is too long for SMPP.
absl::StatusOr<std::string> EncodeBindTransceiver(uint32_t sequence, const BindRequest& bind);

struct SubmitSm {
  std::string source_addr;  // empty: the SMSC's default
  // Alphanumeric sender (TON 5) when source_addr has a non-digit, else
  // international (TON 1, NPI 1).
  std::string destination;  // international number without '+', at most 20 digits
  uint8_t esm_class = 0;
  uint8_t data_coding = kCodingDefault;
  uint8_t registered_delivery = 1;
  std::string short_message;  // at most 254 bytes (UDH included)
};
absl::StatusOr<std::string> EncodeSubmitSm(uint32_t sequence, const SubmitSm& submit);

// submit_sm_resp's message_id (empty when the status is an error and the
// SMSC sent no body). INVALID_ARGUMENT for a malformed PDU.
absl::StatusOr<std::string> DecodeSubmitSmResp(std::string_view pdu);

struct DeliverSm {
  std::string source_addr;
  uint8_t esm_class = 0;
  uint8_t data_coding = 0;
  std::string short_message;
  std::string message_payload;                 // TLV 0x0424, when present
  std::optional<std::string> receipted_message_id;  // TLV 0x001E
  std::optional<uint8_t> message_state;        // TLV 0x0427
  bool is_receipt() const { return (esm_class & kEsmTypeMask) == kEsmDeliveryReceipt; }
};
absl::StatusOr<DeliverSm> DecodeDeliverSm(std::string_view pdu);
std::string EncodeDeliverSmResp(uint32_t sequence);

// The text of a command_status for messages: "ESME_RTHROTTLED (0x58)".
std::string StatusName(uint32_t status);

}  // namespace forewarn::smpp
