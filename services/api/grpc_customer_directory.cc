#include "services/api/grpc_customer_directory.h"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/convert/customer_convert.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

grpc::Status InvalidArgument(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

grpc::Status RequireExternalId(const std::string& external_id) {
  if (external_id.empty()) return InvalidArgument("external_id: is required");
  return grpc::Status::OK;
}

// The shape of one request, before anything is validated or stored.
grpc::Status CheckBatchShape(int64_t batch, const v1::UpsertCustomersRequest& req) {
  if (static_cast<size_t>(req.customers_size()) > ImportSession::kMaxBatch) {
    return InvalidArgument(absl::StrCat("customers: batch ", batch, " has ", req.customers_size(),
                                        " customers (at most ", ImportSession::kMaxBatch, " per request)"));
  }
  if (req.refs_size() != 0 && req.refs_size() != req.customers_size()) {
    return InvalidArgument(absl::StrCat("refs: batch ", batch, " has ", req.refs_size(), " refs for ",
                                        req.customers_size(), " customers (one per customer, or none)"));
  }
  return grpc::Status::OK;
}

void ToProto(int64_t batch, const v1::UpsertCustomersRequest& req, const BatchOutcome& outcome,
             v1::BatchResult* out) {
  out->set_batch(batch);
  out->set_inserted(outcome.inserted);
  out->set_updated(outcome.updated);
  out->set_unchanged(outcome.unchanged);
  out->set_rejected(static_cast<int64_t>(outcome.rejected.size()));
  for (const RowRejection& r : outcome.rejected) {
    auto* e = out->add_errors();
    e->set_index(r.index);
    if (r.index >= 0 && r.index < req.refs_size()) e->set_ref(req.refs(static_cast<int>(r.index)));
    e->set_external_id(r.external_id);
    e->set_field(r.error.field);
    e->set_reason(r.error.reason);
  }
}

void ToProto(const ImportTotals& totals, v1::ImportSummary* out) {
  out->set_inserted(totals.inserted);
  out->set_updated(totals.updated);
  out->set_unchanged(totals.unchanged);
  out->set_rejected(totals.rejected);
  out->set_deleted(totals.deleted);
  out->set_dry_run(totals.dry_run);
}

// ListCustomers' page token: the last id of the page before, in decimal.
absl::StatusOr<int64_t> ParsePageToken(const std::string& token) {
  if (token.empty()) return 0;
  int64_t id = 0;
  if (!absl::SimpleAtoi(token, &id) || id <= 0) {
    return absl::InvalidArgumentError("page_token: not a token ListCustomers returned");
  }
  return id;
}

// Whether the caller cancelled the stream. Read() fails the same way when the
// caller closed its side and when it cancelled, and the cancellation can be
// marked on the call a moment after Read() returned: before a full sync
// erases anything, that moment is waited for (up to 100 ms).
bool CallerCancelled(grpc::ServerContext* ctx, bool about_to_erase) {
  if (ctx->IsCancelled()) return true;
  for (int i = 0; about_to_erase && i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (ctx->IsCancelled()) return true;
  }
  return false;
}

}  // namespace

grpc::Status GrpcCustomerDirectory::UpsertCustomers(grpc::ServerContext* ctx, UpsertStream* stream) {
  return guard_.Run("UpsertCustomers", ctx, Permission::kCustomerData,
                    [&](const Caller& caller) { return DoUpsert(caller, ctx, stream); });
}

grpc::Status GrpcCustomerDirectory::DoUpsert(const Caller& caller, grpc::ServerContext* ctx, UpsertStream* stream) {
  v1::UpsertCustomersRequest req;
  const bool any = stream->Read(&req);  // an empty stream is an import of nothing
  if (!any && ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "the caller cancelled the import");
  const ImportOptions options{req.dry_run(), req.delete_missing()};
  auto session = service_.StartImport(options);
  if (!session.ok()) return ToGrpcStatus(session.status());
  spdlog::info("event=customer_import_started actor={} dry_run={} delete_missing={}", caller.name, options.dry_run,
               options.delete_missing);
  int64_t batch = 0;
  bool ended = false;  // the request marked last was read
  for (bool more = any; more; more = stream->Read(&req), ++batch) {
    grpc::Status s = ended ? InvalidArgument(absl::StrCat("last: batch ", batch, " follows the request marked last"))
                           : DoBatch(**session, batch, req, stream);
    ended = req.last();
    if (!s.ok()) {
      spdlog::warn("event=customer_import_failed actor={} batch={} code={} reason=\"{}\"", caller.name, batch,
                   GrpcCodeName(s.error_code()), s.error_message());
      return s;  // the session is dropped unfinished: nothing erased
    }
  }
  // Only a stream the caller closed finishes (a full sync erases only then).
  if (CallerCancelled(ctx, options.delete_missing && !options.dry_run)) {
    spdlog::info("event=customer_import_cancelled actor={} batches={}", caller.name, batch);
    return grpc::Status(grpc::StatusCode::CANCELLED, "the caller cancelled the import");
  }
  if (options.delete_missing && !ended) {
    spdlog::warn("event=customer_sync_truncated actor={} batches={}", caller.name, batch);
    return InvalidArgument("last: the full sync ended without a request marked last (a truncated stream): "
                           "nothing erased");
  }
  auto totals = (*session)->Finish();
  if (!totals.ok()) return ToGrpcStatus(totals.status());
  spdlog::info("event=customer_import_finished actor={} batches={} inserted={} updated={} unchanged={} rejected={} "
               "deleted={} dry_run={}",
               caller.name, batch, totals->inserted, totals->updated, totals->unchanged, totals->rejected,
               totals->deleted, totals->dry_run);
  v1::UpsertCustomersResponse resp;
  ToProto(*totals, resp.mutable_summary());
  stream->Write(resp);  // false only when the caller is gone
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoBatch(ImportSession& session, int64_t batch,
                                            const v1::UpsertCustomersRequest& req, UpsertStream* stream) {
  if (grpc::Status s = CheckBatchShape(batch, req); !s.ok()) return s;
  std::vector<Customer> customers;
  customers.reserve(req.customers_size());
  for (const auto& c : req.customers()) customers.push_back(FromProto(c));
  auto outcome = session.Batch(std::move(customers));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  v1::UpsertCustomersResponse resp;
  ToProto(batch, req, *outcome, resp.mutable_batch());
  if (!stream->Write(resp)) return grpc::Status(grpc::StatusCode::CANCELLED, "the caller is gone");
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoGetCustomer(const Caller&, const v1::GetCustomerRequest* req,
                                                  v1::Customer* out) {
  if (grpc::Status s = RequireExternalId(req->external_id()); !s.ok()) return s;
  auto customer = service_.Get(req->external_id());
  if (!customer.ok()) return ToGrpcStatus(customer.status());
  ToProto(*customer, out);
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoDeleteCustomer(const Caller& caller, const v1::DeleteCustomerRequest* req,
                                                     v1::DeleteCustomerResponse* out) {
  if (grpc::Status s = RequireExternalId(req->external_id()); !s.ok()) return s;
  auto erased = service_.Erase(req->external_id());
  if (!erased.ok()) return ToGrpcStatus(erased.status());
  out->set_id(erased->id);
  out->set_held_notices_removed(erased->held_notices_removed);
  out->set_notices_closed(erased->notices_closed);
  spdlog::info("event=customer_erased customer={} actor={} held_notices_removed={} notices_closed={}", erased->id,
               caller.name, erased->held_notices_removed, erased->notices_closed);
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoListCustomers(const Caller&, const v1::ListCustomersRequest* req,
                                                    v1::ListCustomersResponse* out) {
  if (req->page_size() < 0 || req->page_size() > kMaxPageSize) {
    return InvalidArgument(absl::StrCat("page_size: ", req->page_size(), " is out of range (0-", kMaxPageSize, ")"));
  }
  auto after = ParsePageToken(req->page_token());
  if (!after.ok()) return ToGrpcStatus(after.status());
  CustomerFilter filter;
  filter.service = req->service();
  filter.region = req->region();
  filter.page_size = req->page_size() == 0 ? kDefaultPageSize : req->page_size();
  filter.after_id = *after;
  auto page = service_.List(filter);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const Customer& c : page->customers) ToProto(c, out->add_customers());
  if (page->last_id != 0) out->set_next_page_token(absl::StrCat(page->last_id));
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoSetPreferences(const Caller& caller, const v1::SetPreferencesRequest* req,
                                                     v1::Customer* out) {
  if (grpc::Status s = RequireExternalId(req->external_id()); !s.ok()) return s;
  auto customer = service_.SetPreferences(req->external_id(), FromProto(req->preferences()));
  if (!customer.ok()) return ToGrpcStatus(customer.status());
  spdlog::info("event=preferences_set customer={} actor={}", customer->id, caller.name);
  ToProto(*customer, out);
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoUpsertAssets(const Caller& caller, const v1::UpsertAssetsRequest* req,
                                                   v1::UpsertAssetsResponse* out) {
  std::vector<Asset> assets;
  assets.reserve(req->assets_size());
  for (const auto& a : req->assets()) assets.push_back(FromProto(a));
  auto counts = assets_.Upsert(assets);
  if (!counts.ok()) return ToGrpcStatus(counts.status());
  out->set_inserted(counts->inserted);
  out->set_updated(counts->updated);
  out->set_unchanged(counts->unchanged);
  spdlog::info("event=assets_upserted actor={} inserted={} updated={} unchanged={}", caller.name, counts->inserted,
               counts->updated, counts->unchanged);
  return grpc::Status::OK;
}

grpc::Status GrpcCustomerDirectory::DoListAssets(const Caller&, const v1::ListAssetsRequest* req,
                                                 v1::ListAssetsResponse* out) {
  auto page = assets_.List(AssetFilter{req->parent_code(), req->page_size(), req->page_token()});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const Asset& a : page->assets) ToProto(a, out->add_assets());
  for (int64_t n : page->customers) out->add_customers(n);
  out->set_next_page_token(page->last_code);
  return grpc::Status::OK;
}

// Streamed unary: authenticate, read the one request (INVALID_ARGUMENT when
// it does not parse), run Do<Method>, write its response.
#define FW_GUARDED(Method, Request, Response)                                                                     \
  grpc::Status GrpcCustomerDirectory::Streamed##Method(grpc::ServerContext* ctx,                                   \
                                                       grpc::ServerUnaryStreamer<Request, Response>* stream) {     \
    return guard_.Run(#Method, ctx, Permission::kCustomerData, [&](const Caller& caller) {                         \
      return ServeUnary(stream, [&](const Request* req, Response* out) { return Do##Method(caller, req, out); }); \
    });                                                                                                           \
  }

FW_GUARDED(GetCustomer, v1::GetCustomerRequest, v1::Customer)
FW_GUARDED(DeleteCustomer, v1::DeleteCustomerRequest, v1::DeleteCustomerResponse)
FW_GUARDED(ListCustomers, v1::ListCustomersRequest, v1::ListCustomersResponse)
FW_GUARDED(SetPreferences, v1::SetPreferencesRequest, v1::Customer)
FW_GUARDED(UpsertAssets, v1::UpsertAssetsRequest, v1::UpsertAssetsResponse)
FW_GUARDED(ListAssets, v1::ListAssetsRequest, v1::ListAssetsResponse)

#undef FW_GUARDED

}  // namespace forewarn
