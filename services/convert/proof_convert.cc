#include "services/convert/proof_convert.h"

#include <string>

#include "services/convert/proto_convert.h"

namespace forewarn {

void ToProto(const NoticeProof& in, v1::NoticeProof* out) {
  out->set_customer_id(in.customer_id);
  out->set_notice_kind(std::string(ToString(in.kind)));
  out->set_occasion(in.occasion);
  out->set_incident_version(in.version);
  ToProto(in.deadline, out->mutable_deadline());
  for (const ChannelProof& c : in.channels) {
    v1::ChannelProof* pc = out->add_channels();
    pc->set_channel(ToProto(c.channel));
    pc->set_state(ToProto(c.state));
    if (c.sent_at) ToProto(*c.sent_at, pc->mutable_sent_at());
    if (c.delivered_at) ToProto(*c.delivered_at, pc->mutable_delivered_at());
    pc->set_met(c.met);
    pc->set_escalation(c.escalation);
  }
  out->set_met(in.met);
}

void ToProto(const ProofSummary& in, v1::ProofSummary* out) {
  out->set_customers(in.customers);
  out->set_met(in.met);
  out->set_missed(in.missed);
  out->set_pending(in.pending);
}

}  // namespace forewarn
