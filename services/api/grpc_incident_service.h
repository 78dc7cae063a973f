#pragma once

#include <grpcpp/grpcpp.h>

#include "forewarn/v1/incident.grpc.pb.h"
#include "services/api/notice_preview.h"
#include "services/core/incident_service.h"

namespace forewarn {

// The gRPC edge: converts protos to domain requests and absl::Status to
// grpc::Status. No business rules live here.
class GrpcIncidentService final : public v1::IncidentService::Service {
 public:
  GrpcIncidentService(IncidentService& service, NoticePreviewer& previewer)
      : service_(service), previewer_(previewer) {}

  grpc::Status CreateIncident(grpc::ServerContext*, const v1::CreateIncidentRequest*, v1::Incident*) override;
  grpc::Status UpdateIncident(grpc::ServerContext*, const v1::UpdateIncidentRequest*, v1::Incident*) override;
  grpc::Status ResolveIncident(grpc::ServerContext*, const v1::ResolveIncidentRequest*, v1::Incident*) override;
  grpc::Status ScheduleMaintenance(grpc::ServerContext*, const v1::ScheduleMaintenanceRequest*,
                                   v1::Incident*) override;
  grpc::Status AnnounceIbanChange(grpc::ServerContext*, const v1::AnnounceIbanChangeRequest*, v1::Incident*) override;
  grpc::Status CancelIncident(grpc::ServerContext*, const v1::CancelIncidentRequest*, v1::Incident*) override;
  grpc::Status GetIncident(grpc::ServerContext*, const v1::GetIncidentRequest*, v1::Incident*) override;
  grpc::Status ListIncidents(grpc::ServerContext*, const v1::ListIncidentsRequest*,
                             v1::ListIncidentsResponse*) override;
  grpc::Status GetDeliveryReport(grpc::ServerContext*, const v1::GetDeliveryReportRequest*,
                                 v1::DeliveryReport*) override;
  grpc::Status PreviewNotices(grpc::ServerContext*, const v1::PreviewNoticesRequest*,
                              v1::PreviewNoticesResponse*) override;

 private:
  IncidentService& service_;
  NoticePreviewer& previewer_;
};

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// Conversions shared with the CLI.
void ToProto(const Incident& in, v1::Incident* out);
v1::Channel ToProto(Channel c);
v1::NoticeState ToProto(NoticeState s);
v1::IncidentKind ToProto(IncidentKind k);
v1::IncidentState ToProto(IncidentState s);
absl::Time FromProto(const google::protobuf::Timestamp& ts);
void ToProto(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace forewarn
