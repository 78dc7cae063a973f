#pragma once

// Delivery receipts: what a gateway reports after it accepted a notice.
// Accepted is not delivered (a phone off for days, a full mailbox): a receipt
// settles a SENT notice as DELIVERED, UNDELIVERED or EXPIRED. Receipts reach
// Forewarn from Kannel's dlr-url callbacks and the generic JSON form (the
// intake's public endpoint) and from an SMPP session's deliver_sm (the
// notifier); all of them go through one ReceiptStore.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/core/model.h"
#include "services/core/secret_file.h"

namespace forewarn {

enum class ReceiptStatus { kDelivered, kUndelivered, kExpired };
std::string_view ToString(ReceiptStatus s);  // "delivered", "undelivered", "expired"
absl::StatusOr<ReceiptStatus> ParseReceiptStatus(std::string_view s);
NoticeState StateOf(ReceiptStatus s);

struct Receipt {
  // Which notice: our message id (MessageIdFor: Kannel's dlr-url and the
  // generic form echo it), else the provider's own id for the message
  // (SMPP's message_id, an HTTP API's id), as the ledger stored it.
  std::string message_id;
  std::string provider_id;
  ReceiptStatus status = ReceiptStatus::kDelivered;
  // When the network says it happened; InfinitePast when it does not say
  // (then the time the receipt arrived counts).
  absl::Time reported_at = absl::InfinitePast();
  std::string source;  // "kannel", "smpp", "json"
  std::string detail;  // the provider's code or status word; no personal data
};

// The inverse of MessageIdFor. INVALID_ARGUMENT for anything else.
absl::StatusOr<NoticeKey> ParseMessageId(std::string_view id);

// An SMPP delivery receipt's text (SMPP 3.4, appendix B), as an SMSC puts it
// in deliver_sm and Kannel passes on as %A: "id:IIII sub:001 dlvrd:001
// submit date:2612060910 done date:2612060911 stat:DELIVRD err:000 text:...".
struct DlrText {
  std::string id;
  std::string stat;  // DELIVRD, UNDELIV, EXPIRED, ...
  std::string err;
  std::optional<absl::Time> done;  // "done date" (YYMMDDhhmm[ss], UTC)
};
std::optional<DlrText> ParseDlrText(std::string_view text);
// DELIVRD: delivered; UNDELIV, REJECTD, DELETED, UNKNOWN: undelivered;
// EXPIRED: expired; anything else (ACCEPTD, ENROUTE, ...): not final, nullopt.
std::optional<ReceiptStatus> StatusOfStat(std::string_view stat);

// What recording receipts did, per receipt.
struct ReceiptTally {
  int64_t applied = 0;      // a SENT notice became DELIVERED, UNDELIVERED or EXPIRED
  int64_t duplicate = 0;    // the same receipt again: nothing changed
  int64_t pending = 0;      // its notice is not settled yet (the receipt came first): applied later
  int64_t conflicting = 0;  // its notice was already settled by another receipt: the first one stands
  ReceiptTally& operator+=(const ReceiptTally& o);
};

class ReceiptStore {
 public:
  virtual ~ReceiptStore() = default;
  // Stores each receipt once (the same reference and status again is a
  // duplicate) and applies it: a SENT notice becomes the receipt's state,
  // delivered ones stop waiting for a receipt, undelivered and expired ones
  // become due for escalation. A notice not settled yet keeps the receipt
  // pending until ApplyPending. A receipt for a notice that was escalated
  // already (a late one) still settles it. In one transaction.
  virtual absl::StatusOr<ReceiptTally> Record(const std::vector<Receipt>& receipts, absl::Time now) = 0;
  // Applies pending receipts whose notices are settled now; receipts older
  // than `give_up_after` that still match no notice are dropped (counted as
  // pending no more). Returns what it did.
  virtual absl::StatusOr<ReceiptTally> ApplyPending(absl::Time now, absl::Duration give_up_after) = 0;
};

// Signs what a receipt callback carries (Kannel's dlr-url holds the message
// id and its signature), so a forged receipt for another notice is refused:
// HMAC-SHA256 under a secret only Forewarn holds, truncated to 128 bits,
// URL-safe base64 (22 characters).
class ReceiptSigner {
 public:
  // INVALID_ARGUMENT for a secret under kMinSecretBytes (secret_file.h).
  static absl::StatusOr<ReceiptSigner> FromSecret(std::string secret);
  // The secret is the file's one non-comment line (ReadSecretFile).
  static absl::StatusOr<ReceiptSigner> FromFile(const std::string& path);

  std::string Sign(std::string_view data) const;
  bool Verify(std::string_view data, std::string_view signature) const;  // constant time

 private:
  explicit ReceiptSigner(std::string secret) : secret_(std::move(secret)) {}
  std::string secret_;
};

}  // namespace forewarn
