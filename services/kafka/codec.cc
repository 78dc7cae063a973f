#include "services/kafka/codec.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "forewarn/internal/v1/events.pb.h"

namespace forewarn {
namespace {

namespace pb = ::forewarn::internal::v1;

template <typename Message>
absl::Status ParseInto(std::string_view payload, Message& msg, std::string_view what) {
  if (payload.size() > static_cast<size_t>(INT32_MAX) ||
      !msg.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("malformed ", absl::string_view(what.data(), what.size()), " payload (",
                                                   payload.size(), " bytes)"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeEvent(const IncidentEvent& event) {
  pb::IncidentEvent msg;
  msg.set_incident_id(event.incident_id);
  msg.set_version(event.version);
  msg.set_notice_kind(std::string(ToString(event.notice_kind)));
  msg.set_outbox_id(event.outbox_id);
  msg.set_occasion(event.occasion);
  return msg.SerializeAsString();
}

absl::StatusOr<IncidentEvent> DecodeEvent(std::string_view payload) {
  pb::IncidentEvent msg;
  if (auto st = ParseInto(payload, msg, "IncidentEvent"); !st.ok()) return st;
  if (msg.incident_id().empty()) {
    return absl::InvalidArgumentError("IncidentEvent without incident_id");
  }
  auto kind = ParseNoticeKind(msg.notice_kind());
  if (!kind.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("IncidentEvent: ", kind.status().message()));
  }
  IncidentEvent event;
  event.incident_id = msg.incident_id();
  event.version = msg.version();
  event.notice_kind = *kind;
  event.outbox_id = msg.outbox_id();
  event.occasion = msg.occasion();
  return event;
}

void EncodeJobInto(const NoticeJob& job, std::string& out) {
  // One message per thread, cleared and refilled: its strings keep their
  // capacity, so a fan-out's million jobs allocate nothing here.
  thread_local pb::NoticeJob msg;
  msg.Clear();
  msg.set_incident_id(job.incident_id);
  msg.set_version(job.version);
  msg.set_notice_kind(ToString(job.kind));
  msg.set_customer_id(job.recipient.customer_id);
  msg.set_channel(ToString(job.recipient.channel));
  msg.set_address(job.recipient.address);
  msg.set_locale(job.recipient.locale);
  msg.set_time_zone(job.recipient.time_zone);
  msg.set_name(job.recipient.name);
  msg.set_occasion(job.occasion);
  msg.set_role(ToString(job.recipient.role));
  msg.set_fallback_email(job.recipient.fallback_email);
  msg.set_attempt(job.attempt);
  if (job.not_before != absl::InfinitePast()) msg.set_not_before_us(absl::ToUnixMicros(job.not_before));
  msg.set_revive(job.revive);
  msg.set_last_error(job.last_error);
  if (job.dead_at != absl::InfinitePast()) msg.set_dead_at_us(absl::ToUnixMicros(job.dead_at));
  out.clear();
  msg.AppendToString(&out);
}

std::string EncodeJob(const NoticeJob& job) {
  std::string out;
  EncodeJobInto(job, out);
  return out;
}

absl::StatusOr<NoticeJob> DecodeJob(std::string_view payload) {
  pb::NoticeJob msg;
  if (auto st = ParseInto(payload, msg, "NoticeJob"); !st.ok()) return st;
  if (msg.incident_id().empty()) {
    return absl::InvalidArgumentError("NoticeJob without incident_id");
  }
  auto kind = ParseNoticeKind(msg.notice_kind());
  if (!kind.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("NoticeJob: ", kind.status().message()));
  }
  auto channel = ParseChannel(msg.channel());
  if (!channel.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("NoticeJob: ", channel.status().message()));
  }
  // The strings are moved out of the parsed message, not copied: a fan-out
  // decodes a million of these.
  NoticeJob job;
  job.incident_id = std::move(*msg.mutable_incident_id());
  job.version = msg.version();
  job.kind = *kind;
  job.recipient.customer_id = msg.customer_id();
  job.recipient.channel = *channel;
  job.recipient.address = std::move(*msg.mutable_address());
  job.recipient.locale = std::move(*msg.mutable_locale());
  job.recipient.time_zone = std::move(*msg.mutable_time_zone());
  job.recipient.name = std::move(*msg.mutable_name());
  job.occasion = std::move(*msg.mutable_occasion());
  job.recipient.role = ParseAudienceRole(msg.role());
  job.recipient.fallback_email = std::move(*msg.mutable_fallback_email());
  job.attempt = std::max(0, msg.attempt());
  if (msg.not_before_us() != 0) job.not_before = absl::FromUnixMicros(msg.not_before_us());
  job.revive = msg.revive();
  job.last_error = std::move(*msg.mutable_last_error());
  if (msg.dead_at_us() != 0) job.dead_at = absl::FromUnixMicros(msg.dead_at_us());
  return job;
}

}  // namespace forewarn
