#pragma once

#include <grpcpp/grpcpp.h>

#include "forewarn/v1/incident.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/auth/authorizer.h"
#include "services/convert/proto_convert.h"
#include "services/preview/notice_preview.h"
#include "services/core/audience_lists.h"
#include "services/core/dead_letters.h"
#include "services/core/incident_service.h"
#include "services/core/notice_proof.h"

namespace forewarn {

// The gRPC edge: converts protos to domain requests and absl::Status to
// grpc::Status. No business rules live here. Every field naming an incident
// takes its id or its reference (RIY-4K7Q): IncidentService::ResolveId turns
// what was typed into the id before anything else.
//
// Every RPC first authenticates the caller and checks its role (RpcGuard):
// viewer reads; submitter also creates, updates, schedules and announces;
// operator also resolves, cancels, reconciles and replays dead letters.
// The caller's name is the actor of the audit trail. Without an
// `authorizer` authentication is off (development): every caller is the
// operator "anonymous". The health and reflection services are separate and
// never authenticated.
//
// Each unary method is served "streamed" (ServeUnary), and ProveNotice
// "split-streamed" (the handler reads its one request, with the same
// INVALID_ARGUMENT for bytes that do not parse).
class GrpcIncidentService final : public v1::IncidentService::StreamedService {
 public:
  GrpcIncidentService(IncidentService& service, NoticePreviewer& previewer, const Authorizer* authorizer = nullptr,
                      RpcObserver* observer = nullptr)
      : service_(service), previewer_(previewer), guard_(authorizer, observer) {}

  grpc::Status StreamedCreateIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::CreateIncidentRequest, v1::Incident>*) override;
  grpc::Status StreamedUpdateIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::UpdateIncidentRequest, v1::Incident>*) override;
  grpc::Status StreamedResolveIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ResolveIncidentRequest, v1::Incident>*) override;
  grpc::Status StreamedScheduleMaintenance(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ScheduleMaintenanceRequest, v1::Incident>*) override;
  grpc::Status StreamedAnnounceIbanChange(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::AnnounceIbanChangeRequest, v1::Incident>*) override;
  grpc::Status StreamedCancelIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::CancelIncidentRequest, v1::Incident>*) override;
  grpc::Status StreamedGetIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::GetIncidentRequest, v1::Incident>*) override;
  grpc::Status StreamedListIncidents(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ListIncidentsRequest, v1::ListIncidentsResponse>*) override;
  grpc::Status StreamedGetDeliveryReport(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::GetDeliveryReportRequest, v1::DeliveryReport>*) override;
  grpc::Status StreamedPreviewNotices(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::PreviewNoticesRequest, v1::PreviewNoticesResponse>*) override;
  grpc::Status StreamedGetIncidentHistory(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::GetIncidentHistoryRequest, v1::IncidentHistory>*) override;
  grpc::Status StreamedPreviewAudience(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::PreviewAudienceRequest, v1::AudienceSize>*) override;
  grpc::Status StreamedReconcileIncident(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ReconcileIncidentRequest, v1::ReconcileIncidentResponse>*) override;
  grpc::Status StreamedListDeadLetters(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ListDeadLettersRequest, v1::ListDeadLettersResponse>*) override;
  grpc::Status StreamedReplayDeadLetters(grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ReplayDeadLettersRequest, v1::ReplayDeadLettersResponse>*) override;

  // The dead-letter queue RPCs answer UNAVAILABLE without one.
  void set_dead_letters(DeadLetterService* dead_letters) { dead_letters_ = dead_letters; }

  // Uploaded audience lists (client streaming; submitter or operator). A
  // chunk the list refuses is INVALID_ARGUMENT naming it ("chunks[3]
  // .customer_ids[5]: must be positive"); a cancelled stream stores nothing.
  // UNAVAILABLE without a list service.
  grpc::Status UploadAudience(grpc::ServerContext* ctx, grpc::ServerReader<v1::AudienceChunk>* reader,
                              v1::UploadedAudience* out) override;
  void set_audience_lists(AudienceListService* lists) { audience_lists_ = lists; }

  // Proof of notice (server streaming; viewer): chunks of up to
  // kProofsPerChunk proofs as the ledger streams them, the last chunk with
  // the summary and `last` set (a stream that ends without it failed, with
  // its status). UNAVAILABLE without a proof service.
  static constexpr int kProofsPerChunk = 1000;
  grpc::Status StreamedProveNotice(
      grpc::ServerContext* ctx, grpc::ServerSplitStreamer<v1::ProveNoticeRequest, v1::ProveNoticeChunk>* stream) override;
  void set_notice_proofs(NoticeProofService* proofs) { proofs_ = proofs; }

 private:
  grpc::Status DoCreateIncident(const Caller& caller, const v1::CreateIncidentRequest*, v1::Incident*);
  grpc::Status DoUpdateIncident(const Caller& caller, const v1::UpdateIncidentRequest*, v1::Incident*);
  grpc::Status DoResolveIncident(const Caller& caller, const v1::ResolveIncidentRequest*, v1::Incident*);
  grpc::Status DoScheduleMaintenance(const Caller& caller, const v1::ScheduleMaintenanceRequest*, v1::Incident*);
  grpc::Status DoAnnounceIbanChange(const Caller& caller, const v1::AnnounceIbanChangeRequest*, v1::Incident*);
  grpc::Status DoCancelIncident(const Caller& caller, const v1::CancelIncidentRequest*, v1::Incident*);
  grpc::Status DoGetIncident(const Caller& caller, const v1::GetIncidentRequest*, v1::Incident*);
  grpc::Status DoListIncidents(const Caller& caller, const v1::ListIncidentsRequest*, v1::ListIncidentsResponse*);
  grpc::Status DoGetDeliveryReport(const Caller& caller, const v1::GetDeliveryReportRequest*, v1::DeliveryReport*);
  grpc::Status DoPreviewNotices(const Caller& caller, const v1::PreviewNoticesRequest*, v1::PreviewNoticesResponse*);
  grpc::Status DoGetIncidentHistory(const Caller& caller, const v1::GetIncidentHistoryRequest*, v1::IncidentHistory*);
  grpc::Status DoPreviewAudience(const Caller& caller, const v1::PreviewAudienceRequest*, v1::AudienceSize*);
  grpc::Status DoReconcileIncident(const Caller& caller, const v1::ReconcileIncidentRequest*,
                                   v1::ReconcileIncidentResponse*);
  grpc::Status DoListDeadLetters(const Caller& caller, const v1::ListDeadLettersRequest*,
                                 v1::ListDeadLettersResponse*);
  grpc::Status DoReplayDeadLetters(const Caller& caller, const v1::ReplayDeadLettersRequest*,
                                   v1::ReplayDeadLettersResponse*);

  IncidentService& service_;
  NoticePreviewer& previewer_;
  RpcGuard guard_;
  grpc::Status DoUploadAudience(const Caller& caller, grpc::ServerContext* ctx,
                                grpc::ServerReader<v1::AudienceChunk>* reader, v1::UploadedAudience* out);

  grpc::Status DoProveNotice(grpc::ServerSplitStreamer<v1::ProveNoticeRequest, v1::ProveNoticeChunk>* stream);

  DeadLetterService* dead_letters_ = nullptr;
  AudienceListService* audience_lists_ = nullptr;
  NoticeProofService* proofs_ = nullptr;
};

}  // namespace forewarn
