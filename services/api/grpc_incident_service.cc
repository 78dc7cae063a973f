#include "services/api/grpc_incident_service.h"

#include "services/convert/proof_convert.h"
#include "services/core/mask.h"

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

// The selectors beside regions of a create or schedule request.
template <typename Request>
void ReadSelectors(const Request& req, NewIncident& n) {
  n.regions.assign(req.regions().begin(), req.regions().end());
  n.asset_codes.assign(req.asset_codes().begin(), req.asset_codes().end());
  n.audience_id = req.audience_id();
  if (req.has_area()) n.area = FromProto(req.area());
}

grpc::Status Finish(const absl::StatusOr<Incident>& result, v1::Incident* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, out);
  return grpc::Status::OK;
}

AudienceChunk FromProto(const v1::AudienceChunk& c) {
  return AudienceChunk{c.label(), {c.customer_ids().begin(), c.customer_ids().end()},
                       {c.external_ids().begin(), c.external_ids().end()}, {c.ibans().begin(), c.ibans().end()}};
}

// Whether the caller cancelled a stream whose Read() just failed (the
// caller's close and its cancellation look the same to Read(), and the
// cancellation can be marked on the call a moment later: waited for up to
// 100 ms before a list is committed).
bool StreamCancelled(grpc::ServerContext* ctx) {
  for (int i = 0; i < 10; ++i) {
    if (ctx->IsCancelled()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ctx->IsCancelled();
}

}  // namespace

grpc::Status GrpcIncidentService::DoCreateIncident(const Caller& caller, const v1::CreateIncidentRequest* req,
                                                 v1::Incident* out) {
  NewIncident n;
  switch (req->kind()) {
    case v1::UNPLANNED_OUTAGE: n.kind = IncidentKind::kUnplannedOutage; break;
    case v1::INCIDENT_KIND_UNSPECIFIED:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kind: is required");
    case v1::PLANNED_MAINTENANCE:
    case v1::IBAN_CHANGE:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "kind: use ScheduleMaintenance or AnnounceIbanChange for planned changes");
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("kind: unknown value ", static_cast<int>(req->kind())));
  }
  n.idempotency_key = req->idempotency_key();
  n.services.assign(req->services().begin(), req->services().end());
  ReadSelectors(*req, n);
  n.reason = FromProto(req->reason());
  if (req->has_starts_at()) {
    auto t = CheckedTime("starts_at", req->starts_at());
    if (!t.ok()) return ToGrpcStatus(t.status());
    n.starts_at = *t;
  }
  // A missing time stays unset: the domain's validation names it with any
  // other field at fault.
  if (req->has_expected_restoration_at()) {
    auto restore = CheckedTime("expected_restoration_at", req->expected_restoration_at());
    if (!restore.ok()) return ToGrpcStatus(restore.status());
    n.expected_restoration_at = *restore;
  }
  return Finish(service_.Create(n, caller.name), out);
}

grpc::Status GrpcIncidentService::DoUpdateIncident(const Caller& caller, const v1::UpdateIncidentRequest* req,
                                                 v1::Incident* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  IncidentUpdate u;
  u.id = *std::move(id);
  u.expected_version = req->expected_version();
  if (req->has_reason()) u.reason = FromProto(req->reason());
  if (req->has_starts_at()) {
    auto t = CheckedTime("starts_at", req->starts_at());
    if (!t.ok()) return ToGrpcStatus(t.status());
    u.starts_at = *t;
  }
  if (req->has_expected_restoration_at()) {
    auto t = CheckedTime("expected_restoration_at", req->expected_restoration_at());
    if (!t.ok()) return ToGrpcStatus(t.status());
    u.expected_restoration_at = *t;
  }
  if (req->has_targets()) u.targets = FromProto(req->targets());
  return Finish(service_.Update(u, caller.name), out);
}

grpc::Status GrpcIncidentService::DoResolveIncident(const Caller& caller, const v1::ResolveIncidentRequest* req,
                                                  v1::Incident* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return Finish(service_.Resolve(*id, req->expected_version(), caller.name), out);
}

grpc::Status GrpcIncidentService::DoScheduleMaintenance(const Caller& caller,
                                                      const v1::ScheduleMaintenanceRequest* req, v1::Incident* out) {
  NewIncident n;
  n.kind = IncidentKind::kPlannedMaintenance;
  n.idempotency_key = req->idempotency_key();
  n.services.assign(req->services().begin(), req->services().end());
  ReadSelectors(*req, n);
  n.reason = FromProto(req->reason());
  if (req->has_starts_at()) {
    auto start = CheckedTime("starts_at", req->starts_at());
    if (!start.ok()) return ToGrpcStatus(start.status());
    n.starts_at = *start;
  }
  if (req->has_ends_at()) {
    auto end = CheckedTime("ends_at", req->ends_at());
    if (!end.ok()) return ToGrpcStatus(end.status());
    n.expected_restoration_at = *end;
  }
  return Finish(service_.Create(n, caller.name), out);
}

grpc::Status GrpcIncidentService::DoAnnounceIbanChange(const Caller& caller, const v1::AnnounceIbanChangeRequest* req,
                                                     v1::Incident* out) {
  NewIncident n;
  n.kind = IncidentKind::kIbanChange;
  n.idempotency_key = req->idempotency_key();
  n.old_iban = req->old_iban();
  n.new_iban = req->new_iban();
  n.reason = FromProto(req->reason());
  if (req->has_effective_at()) {
    auto t = CheckedTime("effective_at", req->effective_at());
    if (!t.ok()) return ToGrpcStatus(t.status());
    n.starts_at = *t;
  }
  return Finish(service_.Create(n, caller.name), out);
}

grpc::Status GrpcIncidentService::DoCancelIncident(const Caller& caller, const v1::CancelIncidentRequest* req,
                                                 v1::Incident* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return Finish(service_.Cancel(*id, req->expected_version(), caller.name), out);
}

grpc::Status GrpcIncidentService::DoGetIncident(const Caller&, const v1::GetIncidentRequest* req,
                                              v1::Incident* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  return Finish(service_.Get(*id), out);
}

grpc::Status GrpcIncidentService::DoListIncidents(const Caller&, const v1::ListIncidentsRequest* req,
                                                v1::ListIncidentsResponse* out) {
  ListFilter f;
  if (req->state() != v1::INCIDENT_STATE_UNSPECIFIED) {
    f.state = FromProto(req->state());
    if (!f.state) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("state: unknown value ", static_cast<int>(req->state())));
    }
  }
  f.page_size = req->page_size();
  f.page_token = req->page_token();
  auto page = service_.List(f);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const auto& i : page->incidents) ToProto(i, out->add_incidents());
  out->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoGetDeliveryReport(const Caller&, const v1::GetDeliveryReportRequest* req,
                                                    v1::DeliveryReport* out) {
  auto id = service_.ResolveId("incident_id", req->incident_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto report = service_.Report(*id, req->max_failures());
  if (!report.ok()) return ToGrpcStatus(report.status());
  out->set_incident_id(report->incident_id);
  out->set_incident_version(report->incident_version);
  for (const auto& c : report->counts) {
    auto* pc = out->add_counts();
    pc->set_channel(ToProto(c.channel));
    pc->set_state(ToProto(c.state));
    pc->set_count(c.count);
    pc->set_notice_kind(std::string(ToString(c.kind)));
    pc->set_incident_version(c.incident_version);
    pc->set_occasion(c.occasion);
  }
  for (const auto& f : report->failures) {
    auto* pf = out->add_failures();
    pf->set_customer_id(f.customer_id);
    pf->set_channel(ToProto(f.channel));
    pf->set_incident_version(f.incident_version);
    pf->set_notice_kind(std::string(ToString(f.kind)));
    pf->set_error(f.error);
  }
  auto completeness = service_.Reconcile(*id, /*redrive=*/false, /*max_listed=*/0);
  if (!completeness.ok()) return ToGrpcStatus(completeness.status());
  out->set_uninformed(completeness->uninformed);
  out->set_uninformed_customers(completeness->uninformed_customers);
  if (completeness->kind) out->set_uninformed_notice_kind(ToString(*completeness->kind));
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoPreviewNotices(const Caller&, const v1::PreviewNoticesRequest* req,
                                                 v1::PreviewNoticesResponse* out) {
  std::optional<NoticeKind> kind;
  if (!req->notice_kind().empty()) {
    auto k = ParseNoticeKind(req->notice_kind());
    if (!k.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("notice_kind: ", k.status().message()));
    kind = *k;
  }
  auto id = service_.ResolveId("incident_id", req->incident_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto preview = previewer_.Run(*id, req->customer_id(), kind);
  if (!preview.ok()) return ToGrpcStatus(preview.status());
  out->set_notice_kind(ToString(preview->kind));
  out->set_incident_version(preview->version);
  for (const auto& item : preview->items) {
    auto* p = out->add_previews();
    p->set_customer_id(item.recipient.customer_id);
    p->set_locale(item.recipient.locale);
    p->set_channel(ToProto(item.recipient.channel));
    p->set_subject(item.notice.subject);
    p->set_text(item.notice.text);
    p->set_sms_encoding(item.sms_encoding);
    p->set_sms_segments(item.sms_segments);
    p->set_sms_budget(item.sms_budget);
    p->set_over_budget(item.sms_segments > item.sms_budget);
  }
  out->set_sms_recipients(preview->sms_recipients);
  out->set_email_recipients(preview->email_recipients);
  if (preview->audience) ToProto(*preview->audience, out->mutable_audience());
  out->set_sms_rate(previewer_.rates().sms_per_second);
  out->set_email_rate(previewer_.rates().email_per_second);
  if (preview->estimated_completion) {
    const int64_t ms = absl::ToInt64Milliseconds(*preview->estimated_completion);
    out->mutable_estimated_completion()->set_seconds(ms / 1000);
    out->mutable_estimated_completion()->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
  }
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoPreviewAudience(const Caller&, const v1::PreviewAudienceRequest* req,
                                                     v1::AudienceSize* out) {
  const auto kind = FromProto(req->kind());
  if (!kind || *kind == IncidentKind::kIbanChange) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "kind: UNPLANNED_OUTAGE or PLANNED_MAINTENANCE");
  }
  auto size = previewer_.Audience(*kind, {req->services().begin(), req->services().end()},
                                       FromProto(req->targets()));
  if (!size.ok()) return ToGrpcStatus(size.status());
  ToProto(*size, out);
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoGetIncidentHistory(const Caller&, const v1::GetIncidentHistoryRequest* req,
                                                       v1::IncidentHistory* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto history = service_.History(*id);
  if (!history.ok()) return ToGrpcStatus(history.status());
  out->set_incident_id(*id);
  for (const auto& h : *history) {
    auto* c = out->add_changes();
    c->set_version(h.version);
    c->set_change(h.change);
    c->set_actor(h.actor);
    ToProto(h.changed_at, c->mutable_changed_at());
    c->set_summary(h.summary);
    ToProto(h.snapshot, c->mutable_snapshot());
  }
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoReconcileIncident(const Caller& caller, const v1::ReconcileIncidentRequest* req,
                                                      v1::ReconcileIncidentResponse* out) {
  auto id = service_.ResolveId("id", req->id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto result = service_.Reconcile(*id, !req->dry_run(), req->max_listed() == 0 ? 100 : req->max_listed());
  if (!result.ok()) return ToGrpcStatus(result.status());
  out->set_incident_id(result->incident_id);
  out->set_incident_version(result->version);
  if (result->kind) out->set_notice_kind(ToString(*result->kind));
  out->set_occasion(result->occasion);
  out->set_audience(result->audience);
  out->set_uninformed(result->uninformed);
  out->set_uninformed_customers(result->uninformed_customers);
  out->set_missing(result->missing);
  out->set_failed(result->failed);
  out->set_pending(result->pending);
  for (const auto& u : result->listed) {
    auto* r = out->add_recipients();
    r->set_customer_id(u.customer_id);
    r->set_channel(ToProto(u.channel));
    r->set_state(u.state ? ToProto(*u.state) : v1::NOTICE_STATE_UNSPECIFIED);
  }
  out->set_redriven(result->redriven);
  out->set_note(result->note);
  out->set_dead_lettered(result->dead);
  spdlog::info("event=reconcile incident={} version={} actor={} audience={} uninformed={} missing={} failed={} "
               "redriven={}",
               result->incident_id, result->version, caller.name, result->audience, result->uninformed,
               result->missing, result->failed, result->redriven);
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoListDeadLetters(const Caller&, const v1::ListDeadLettersRequest* req,
                                                    v1::ListDeadLettersResponse* out) {
  if (dead_letters_ == nullptr) return ToGrpcStatus(absl::UnavailableError("dead-letter queue not configured"));
  auto id = service_.ResolveId("incident_id", req->incident_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto listing = dead_letters_->List(*id, req->limit() == 0 ? 100 : req->limit());
  if (!listing.ok()) return ToGrpcStatus(listing.status());
  out->set_pending(listing->pending);
  for (const NoticeJob& job : listing->listed) {
    auto* d = out->add_dead_letters();
    d->set_incident_id(job.incident_id);
    d->set_incident_version(job.version);
    d->set_notice_kind(ToString(job.kind));
    d->set_occasion(job.occasion);
    d->set_customer_id(job.recipient.customer_id);
    d->set_channel(ToProto(job.recipient.channel));
    d->set_masked_address(MaskAddress(job.recipient.address));
    d->set_attempts(job.attempt);
    d->set_last_error(job.last_error);
    if (job.dead_at != absl::InfinitePast()) ToProto(job.dead_at, d->mutable_dead_at());
  }
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoReplayDeadLetters(const Caller& caller, const v1::ReplayDeadLettersRequest* req,
                                                      v1::ReplayDeadLettersResponse* out) {
  if (dead_letters_ == nullptr) return ToGrpcStatus(absl::UnavailableError("dead-letter queue not configured"));
  auto id = service_.ResolveId("incident_id", req->incident_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto replay = dead_letters_->ReplayAll(*id);
  if (!replay.ok()) return ToGrpcStatus(replay.status());
  out->set_replayed(replay->replayed);
  spdlog::info("event=dlq_replay incident={} actor={} replayed={}", id->empty() ? "*" : *id, caller.name,
               replay->replayed);
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::DoUploadAudience(const Caller& caller, grpc::ServerContext* ctx,
                                                   grpc::ServerReader<v1::AudienceChunk>* reader,
                                                   v1::UploadedAudience* out) {
  if (audience_lists_ == nullptr) return ToGrpcStatus(absl::UnavailableError("audience lists not configured"));
  v1::AudienceChunk chunk;
  int64_t index = 0;
  bool ended = false;  // the chunk marked last was read
  auto next = [&]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (reader->Read(&chunk)) {
      if (ended) {
        return absl::InvalidArgumentError(absl::StrCat("chunks[", index, "]: follows the chunk marked last"));
      }
      ended = chunk.last();
      ++index;
      return FromProto(chunk);
    }
    if (StreamCancelled(ctx)) return absl::CancelledError("the caller cancelled the upload: nothing stored");
    if (!ended) {
      return absl::InvalidArgumentError(
          "chunks: the stream ended without a chunk marked last (a truncated upload): nothing stored");
    }
    return std::nullopt;
  };
  auto uploaded = audience_lists_->Upload(caller.name, next);
  if (!uploaded.ok()) {
    spdlog::warn("event=audience_upload_failed actor={} code={} reason=\"{}\"", caller.name,
                 absl::StatusCodeToString(uploaded.status().code()), std::string(uploaded.status().message()));
    return ToGrpcStatus(uploaded.status());
  }
  out->set_audience_id(uploaded->id);
  out->set_entries(uploaded->entries);
  out->set_customers(uploaded->customers);
  out->set_unknown(uploaded->unknown);
  for (const auto& s : uploaded->unknown_sample) out->add_unknown_sample(s);
  spdlog::info("event=audience_uploaded audience={} actor={} entries={} customers={} unknown={}", uploaded->id,
               caller.name, uploaded->entries, uploaded->customers, uploaded->unknown);
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::UploadAudience(grpc::ServerContext* ctx,
                                                 grpc::ServerReader<v1::AudienceChunk>* reader,
                                                 v1::UploadedAudience* out) {
  return guard_.Run("UploadAudience", ctx, Permission::kWriteIncidents,
                    [&](const Caller& caller) { return DoUploadAudience(caller, ctx, reader, out); });
}

grpc::Status GrpcIncidentService::DoProveNotice(
    grpc::ServerSplitStreamer<v1::ProveNoticeRequest, v1::ProveNoticeChunk>* stream) {
  if (proofs_ == nullptr) return ToGrpcStatus(absl::UnavailableError("proof of notice not configured"));
  v1::ProveNoticeRequest req;
  if (!stream->Read(&req)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request: not a valid forewarn.v1.ProveNoticeRequest (the bytes do not parse as one)");
  }
  auto id = service_.ResolveId("incident_id", req.incident_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  v1::ProveNoticeChunk chunk;
  auto summary = proofs_->Prove(
      ProofRequest{*id, req.notice_kind(), req.occasion(), req.missed_only()},
      [&](const NoticeProof& proof) -> absl::Status {
        ToProto(proof, chunk.add_proofs());
        if (chunk.proofs_size() < kProofsPerChunk) return absl::OkStatus();
        if (!stream->Write(chunk)) return absl::CancelledError("the caller went away");
        chunk.Clear();
        return absl::OkStatus();
      });
  if (!summary.ok()) return ToGrpcStatus(summary.status());
  ToProto(*summary, chunk.mutable_summary());
  chunk.set_last(true);
  stream->Write(chunk);  // false only when the caller is gone
  return grpc::Status::OK;
}

grpc::Status GrpcIncidentService::StreamedProveNotice(
    grpc::ServerContext* ctx, grpc::ServerSplitStreamer<v1::ProveNoticeRequest, v1::ProveNoticeChunk>* stream) {
  return guard_.Run("ProveNotice", ctx, Permission::kReadIncidents,
                    [&](const Caller&) { return DoProveNotice(stream); });
}

// Streamed unary: authenticate, read the one request (INVALID_ARGUMENT when
// it does not parse), run Do<Method>, write its response.
#define FW_GUARDED(Method, Request, Response, required)                                                  \
  grpc::Status GrpcIncidentService::Streamed##Method(grpc::ServerContext* ctx,                             \
                                                     grpc::ServerUnaryStreamer<Request, Response>* stream) { \
    return guard_.Run(#Method, ctx, required, [&](const Caller& caller) {                                       \
      return ServeUnary(stream, [&](const Request* req, Response* out) { return Do##Method(caller, req, out); }); \
    });                                                                                                     \
  }

FW_GUARDED(CreateIncident, v1::CreateIncidentRequest, v1::Incident, Permission::kWriteIncidents)
FW_GUARDED(UpdateIncident, v1::UpdateIncidentRequest, v1::Incident, Permission::kWriteIncidents)
FW_GUARDED(ScheduleMaintenance, v1::ScheduleMaintenanceRequest, v1::Incident, Permission::kWriteIncidents)
FW_GUARDED(AnnounceIbanChange, v1::AnnounceIbanChangeRequest, v1::Incident, Permission::kWriteIncidents)
FW_GUARDED(ResolveIncident, v1::ResolveIncidentRequest, v1::Incident, Permission::kOperate)
FW_GUARDED(CancelIncident, v1::CancelIncidentRequest, v1::Incident, Permission::kOperate)
FW_GUARDED(ReconcileIncident, v1::ReconcileIncidentRequest, v1::ReconcileIncidentResponse, Permission::kOperate)
FW_GUARDED(ReplayDeadLetters, v1::ReplayDeadLettersRequest, v1::ReplayDeadLettersResponse, Permission::kOperate)
FW_GUARDED(ListDeadLetters, v1::ListDeadLettersRequest, v1::ListDeadLettersResponse, Permission::kReadIncidents)
FW_GUARDED(GetIncident, v1::GetIncidentRequest, v1::Incident, Permission::kReadIncidents)
FW_GUARDED(ListIncidents, v1::ListIncidentsRequest, v1::ListIncidentsResponse, Permission::kReadIncidents)
FW_GUARDED(GetDeliveryReport, v1::GetDeliveryReportRequest, v1::DeliveryReport, Permission::kReadIncidents)
FW_GUARDED(PreviewNotices, v1::PreviewNoticesRequest, v1::PreviewNoticesResponse, Permission::kReadIncidents)
FW_GUARDED(GetIncidentHistory, v1::GetIncidentHistoryRequest, v1::IncidentHistory, Permission::kReadIncidents)
FW_GUARDED(PreviewAudience, v1::PreviewAudienceRequest, v1::AudienceSize, Permission::kReadIncidents)

#undef FW_GUARDED

}  // namespace forewarn
