#pragma once

#include <grpcpp/grpcpp.h>

#include "forewarn/v1/directory.grpc.pb.h"
#include "services/api/rpc_guard.h"
#include "services/directory/asset.h"
#include "services/directory/directory_service.h"

namespace forewarn {

// The gRPC edge of the customer directory (forewarn.v1.CustomerDirectory)
// over CustomerDirectoryService: protos to domain records and back, statuses
// to gRPC codes. No business rules live here.
//
// Every method needs a role that grants Permission::kCustomerData (directory
// or operator: customer records are personal data), checked by RpcGuard
// like the incident service's. Unary methods are served "streamed"
// (ServeUnary).
//
// UpsertCustomers: the first request's dry_run and delete_missing open an
// ImportSession; each request is one ImportSession::Batch, answered by one
// BatchResult once committed (rejected rows with their index, the caller's
// ref and the field at fault). When the client closes its side the session
// is finished (a full sync erases the missing) and an ImportSummary ends the
// stream. A client that cancels, or an error, ends the stream without
// Finish: every batch answered stays, nothing is erased. A batch over
// ImportSession::kMaxBatch or refs not one per customer is INVALID_ARGUMENT.
//
// UpsertAssets and ListAssets serve the network asset tree
// (AssetDirectoryService), with the same roles.
class GrpcCustomerDirectory final : public v1::CustomerDirectory::StreamedUnaryService {
 public:
  GrpcCustomerDirectory(CustomerDirectoryService& service, AssetDirectoryService& assets,
                        const Authorizer* authorizer = nullptr, RpcObserver* observer = nullptr)
      : service_(service), assets_(assets), guard_(authorizer, observer) {}

  grpc::Status UpsertCustomers(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::UpsertCustomersResponse, v1::UpsertCustomersRequest>* stream) override;
  grpc::Status StreamedGetCustomer(grpc::ServerContext*,
                                   grpc::ServerUnaryStreamer<v1::GetCustomerRequest, v1::Customer>*) override;
  grpc::Status StreamedDeleteCustomer(
      grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::DeleteCustomerRequest, v1::DeleteCustomerResponse>*) override;
  grpc::Status StreamedListCustomers(
      grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::ListCustomersRequest, v1::ListCustomersResponse>*) override;
  grpc::Status StreamedSetPreferences(grpc::ServerContext*,
                                      grpc::ServerUnaryStreamer<v1::SetPreferencesRequest, v1::Customer>*) override;
  grpc::Status StreamedUpsertAssets(
      grpc::ServerContext*, grpc::ServerUnaryStreamer<v1::UpsertAssetsRequest, v1::UpsertAssetsResponse>*) override;
  grpc::Status StreamedListAssets(grpc::ServerContext*,
                                  grpc::ServerUnaryStreamer<v1::ListAssetsRequest, v1::ListAssetsResponse>*) override;

  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 5000;

 private:
  using UpsertStream = grpc::ServerReaderWriter<v1::UpsertCustomersResponse, v1::UpsertCustomersRequest>;

  grpc::Status DoUpsert(const Caller& caller, grpc::ServerContext* ctx, UpsertStream* stream);
  // One request of the stream: validated, stored, answered.
  grpc::Status DoBatch(ImportSession& session, int64_t batch, const v1::UpsertCustomersRequest& req,
                       UpsertStream* stream);
  grpc::Status DoGetCustomer(const Caller& caller, const v1::GetCustomerRequest*, v1::Customer*);
  grpc::Status DoDeleteCustomer(const Caller& caller, const v1::DeleteCustomerRequest*, v1::DeleteCustomerResponse*);
  grpc::Status DoListCustomers(const Caller& caller, const v1::ListCustomersRequest*, v1::ListCustomersResponse*);
  grpc::Status DoSetPreferences(const Caller& caller, const v1::SetPreferencesRequest*, v1::Customer*);
  grpc::Status DoUpsertAssets(const Caller& caller, const v1::UpsertAssetsRequest*, v1::UpsertAssetsResponse*);
  grpc::Status DoListAssets(const Caller& caller, const v1::ListAssetsRequest*, v1::ListAssetsResponse*);

  CustomerDirectoryService& service_;
  AssetDirectoryService& assets_;
  RpcGuard guard_;
};

}  // namespace forewarn
