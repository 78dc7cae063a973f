#pragma once

// Proof of notice (services/core/notice_proof.h) as the public API's
// messages.

#include "forewarn/v1/incident.pb.h"
#include "services/core/notice_proof.h"

namespace forewarn {

void ToProto(const NoticeProof& in, v1::NoticeProof* out);
void ToProto(const ProofSummary& in, v1::ProofSummary* out);

}  // namespace forewarn
