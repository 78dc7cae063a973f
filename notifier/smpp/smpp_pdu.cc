#include "notifier/smpp/smpp_pdu.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

extern "C" {
#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
}

namespace forewarn::smpp {
namespace {

// libsmpp34 keeps its last error (and a dump of every PDU it packs or
// unpacks) in globals: one call at a time.
std::mutex& LibraryMutex() {
  static std::mutex mu;
  return mu;
}

uint32_t Get32(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(b[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 8) | static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3]));
}

void Put32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// Copies a C-octet string field, refusing one longer than `max` characters
// (the field's size in libsmpp34's struct is max + 1).
absl::Status CopyField(uint8_t* dest, size_t max, const std::string& value, std::string_view name) {
  if (value.size() > max || value.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("smpp: ", std::string(name), " must be at most ", max,
                                                   " characters without NUL"));
  }
  std::memcpy(dest, value.data(), value.size());
  dest[value.size()] = 0;
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::string> Pack(uint32_t type, T& pdu) {
  uint8_t buf[2048];
  int len = 0;
  std::lock_guard lock(LibraryMutex());
  if (smpp34_pack(type, buf, sizeof buf, &len, &pdu) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("smpp: cannot pack PDU 0x", absl::Hex(type), ": ", std::string(smpp34_strerror).substr(0, 200)));
  }
  return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(len));
}

bool IsInternationalNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string CString(const uint8_t* s, size_t max) {
  return std::string(reinterpret_cast<const char*>(s), strnlen(reinterpret_cast<const char*>(s), max));
}

}  // namespace

std::optional<Header> ParseHeader(std::string_view bytes) {
  if (bytes.size() < kHeaderSize) return std::nullopt;
  Header h{Get32(bytes, 0), Get32(bytes, 4), Get32(bytes, 8), Get32(bytes, 12)};
  if (h.length < kHeaderSize || h.length > kMaxPduSize) return std::nullopt;
  return h;
}

std::string EncodeHeaderOnly(uint32_t command_id, uint32_t status, uint32_t sequence) {
  std::string out;
  Put32(out, static_cast<uint32_t>(kHeaderSize));
  Put32(out, command_id);
  Put32(out, status);
  Put32(out, sequence);
  return out;
}

absl::StatusOr<std::string> EncodeBindTransceiver(uint32_t sequence, const BindRequest& bind) {
  bind_transceiver_t pdu;
  std::memset(&pdu, 0, sizeof pdu);
  pdu.command_id = BIND_TRANSCEIVER;
  pdu.sequence_number = sequence;
  pdu.interface_version = SMPP_VERSION;
  if (auto s = CopyField(pdu.system_id, 15, bind.system_id, "system_id"); !s.ok()) return s;
  if (auto s = CopyField(pdu.password, 8, bind.password, "password"); !s.ok()) return s;
  if (auto s = CopyField(pdu.system_type, 12, bind.system_type, "system_type"); !s.ok()) return s;
  return Pack(BIND_TRANSCEIVER, pdu);
}

absl::StatusOr<std::string> EncodeSubmitSm(uint32_t sequence, const SubmitSm& submit) {
  submit_sm_t pdu;
  std::memset(&pdu, 0, sizeof pdu);
  pdu.command_id = SUBMIT_SM;
  pdu.sequence_number = sequence;
  if (!submit.source_addr.empty()) {
    const bool numeric = IsInternationalNumber(submit.source_addr);
    pdu.source_addr_ton = numeric ? TON_International : TON_Alphanumeric;
    pdu.source_addr_npi = numeric ? NPI_ISDN_E163_E164 : NPI_Unknown;
  }
  if (auto s = CopyField(pdu.source_addr, 20, submit.source_addr, "source_addr"); !s.ok()) return s;
  if (!IsInternationalNumber(submit.destination)) {
    return absl::InvalidArgumentError("smpp: destination_addr must be digits (an E.164 number without '+')");
  }
  pdu.dest_addr_ton = TON_International;
  pdu.dest_addr_npi = NPI_ISDN_E163_E164;
  if (auto s = CopyField(pdu.destination_addr, 20, submit.destination, "destination_addr"); !s.ok()) return s;
  pdu.esm_class = submit.esm_class;
  pdu.registered_delivery = submit.registered_delivery;
  pdu.data_coding = submit.data_coding;
  if (submit.short_message.size() > 254) {
    return absl::InvalidArgumentError("smpp: short_message longer than 254 bytes");
  }
  pdu.sm_length = static_cast<uint8_t>(submit.short_message.size());
  std::memcpy(pdu.short_message, submit.short_message.data(), submit.short_message.size());
  return Pack(SUBMIT_SM, pdu);
}

absl::StatusOr<std::string> DecodeSubmitSmResp(std::string_view pdu) {
  const auto header = ParseHeader(pdu);
  if (!header || header->command_id != kSubmitSmResp || pdu.size() != header->length) {
    return absl::InvalidArgumentError("smpp: malformed submit_sm_resp");
  }
  if (header->length == kHeaderSize) return std::string();  // an error answer without a body
  submit_sm_resp_t resp;
  std::memset(&resp, 0, sizeof resp);
  std::lock_guard lock(LibraryMutex());
  if (smpp34_unpack(SUBMIT_SM_RESP, &resp, reinterpret_cast<const uint8_t*>(pdu.data()), static_cast<int>(pdu.size())) !=
      0) {
    return absl::InvalidArgumentError("smpp: malformed submit_sm_resp body");
  }
  return CString(resp.message_id, sizeof resp.message_id);
}

absl::StatusOr<DeliverSm> DecodeDeliverSm(std::string_view pdu) {
  const auto header = ParseHeader(pdu);
  if (!header || header->command_id != kDeliverSm || pdu.size() != header->length) {
    return absl::InvalidArgumentError("smpp: malformed deliver_sm");
  }
  deliver_sm_t d;
  std::memset(&d, 0, sizeof d);
  std::lock_guard lock(LibraryMutex());
  const int rc =
      smpp34_unpack(DELIVER_SM, &d, reinterpret_cast<const uint8_t*>(pdu.data()), static_cast<int>(pdu.size()));
  // The TLVs are a list libsmpp34 allocated (also on failure, up to the bad one).
  std::unique_ptr<tlv_t, void (*)(tlv_t*)> tlvs(d.tlv, [](tlv_t* t) { destroy_tlv(t); });
  if (rc != 0) return absl::InvalidArgumentError("smpp: malformed deliver_sm body");
  DeliverSm out;
  out.source_addr = CString(d.source_addr, sizeof d.source_addr);
  out.esm_class = d.esm_class;
  out.data_coding = d.data_coding;
  out.short_message.assign(reinterpret_cast<const char*>(d.short_message), d.sm_length);
  for (tlv_t* t = d.tlv; t != nullptr; t = t->next) {
    const auto* octets = reinterpret_cast<const char*>(t->value.octet);
    const size_t len = std::min<size_t>(t->length, sizeof t->value.octet);
    if (t->tag == TLVID_receipted_message_id) {
      out.receipted_message_id = std::string(octets, strnlen(octets, len));
    } else if (t->tag == TLVID_message_state) {
      out.message_state = t->value.val08;
    } else if (t->tag == TLVID_message_payload) {
      out.message_payload.assign(octets, len);
    }
  }
  return out;
}

std::string EncodeDeliverSmResp(uint32_t sequence) {
  std::string out;
  Put32(out, static_cast<uint32_t>(kHeaderSize + 1));
  Put32(out, kDeliverSmResp);
  Put32(out, kOk);
  Put32(out, sequence);
  out.push_back('\0');  // message_id: unused, NULL
  return out;
}

std::string StatusName(uint32_t status) {
  const char* name = "";
  switch (status) {
    case kOk: name = "ESME_ROK"; break;
    case kInvalidCommandId: name = "ESME_RINVCMDID"; break;
    case kSystemError: name = "ESME_RSYSERR"; break;
    case kInvalidSourceAddr: name = "ESME_RINVSRCADR"; break;
    case kInvalidDestAddr: name = "ESME_RINVDSTADR"; break;
    case kBindFailed: name = "ESME_RBINDFAIL"; break;
    case kInvalidPassword: name = "ESME_RINVPASWD"; break;
    case kInvalidSystemId: name = "ESME_RINVSYSID"; break;
    case kMessageQueueFull: name = "ESME_RMSGQFUL"; break;
    case kThrottled: name = "ESME_RTHROTTLED"; break;
    default: name = "command_status"; break;
  }
  return absl::StrFormat("%s (0x%02X)", name, status);
}

}  // namespace forewarn::smpp
