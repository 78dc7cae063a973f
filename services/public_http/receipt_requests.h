#pragma once

// What the receipt callbacks carry, parsed (pure functions, no I/O):
//
//   GET  /receipts/kannel?ref=MESSAGE_ID&sig=SIGNATURE&type=%d&at=%T&reply=%A
//        Kannel's dlr-url, as KannelSmsChannel writes it for each message:
//        `ref` is the notice's message id and `sig` its ReceiptSigner
//        signature; Kannel fills in the report type (%d: 1 delivered,
//        2 failed, 4 buffered, 8 accepted by the SMSC, 16 rejected by the
//        SMSC), the time (%T, Unix seconds) and the SMSC's receipt text (%A,
//        "id:... stat:EXPIRED ...": tells an expired message from another
//        failure).
//   POST /receipts   the generic form, for other gateways and email
//        providers' bounce webhooks; the header X-Forewarn-Signature holds
//        ReceiptSigner::Sign(body):
//          {"receipts": [{"message_id": "<...@forewarn>",   (or "provider_id")
//                         "status": "delivered" | "undelivered" | "expired",
//                         "at": "2026-12-06T09:30:00Z",       (optional)
//                         "detail": "550 mailbox full"}]}     (optional)
//        (or one receipt object alone), at most 1000 receipts.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/core/receipts.h"

namespace forewarn {

constexpr size_t kMaxReceiptsPerRequest = 1000;

// The receipt of a Kannel callback's query parameters (ref already
// verified); nullopt for a report that settles nothing (buffered, accepted
// by the SMSC). INVALID_ARGUMENT naming the parameter.
absl::StatusOr<std::optional<Receipt>> KannelReceipt(const std::map<std::string, std::string>& params);

// The receipts of a generic JSON body. INVALID_ARGUMENT naming the field
// ("receipts[2].status: ...").
absl::StatusOr<std::vector<Receipt>> JsonReceipts(std::string_view body);

}  // namespace forewarn
