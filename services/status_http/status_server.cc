#include "services/status_http/status_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/public_http/http_listen.h"
#include "spdlog/spdlog.h"

namespace forewarn {
namespace {

using Handler = std::function<SiteResponse(const httplib::Request&, const SiteRequest&)>;

constexpr char kSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

}  // namespace

struct StatusHttpServer::Impl {
  Impl(const StatusHttpOptions& o, StatusSite& s, MetricsRegistry& m) : options(o), site(s), metrics(m) {}

  void Routes();
  void Serve(const char* route, const httplib::Request& req, httplib::Response& res, const Handler& handler);
  SiteRequest ToSiteRequest(const httplib::Request& req) const;
  std::string ClientOf(const httplib::Request& req) const;

  const StatusHttpOptions options;
  StatusSite& site;
  MetricsRegistry& metrics;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::atomic<bool> listen_returned{false};
  std::once_flag stopped;
};

std::string StatusHttpServer::Impl::ClientOf(const httplib::Request& req) const {
  if (options.client_ip_header.empty()) return req.remote_addr;
  const std::string header = req.get_header_value(options.client_ip_header.c_str());
  const std::vector<std::string> hops = absl::StrSplit(header, ',', absl::SkipWhitespace());
  return hops.empty() ? req.remote_addr : std::string(absl::StripAsciiWhitespace(hops.back()));
}

SiteRequest StatusHttpServer::Impl::ToSiteRequest(const httplib::Request& req) const {
  SiteRequest out;
  out.client = ClientOf(req);
  out.lang = req.get_param_value("lang");
  out.tz = req.get_param_value("tz");
  out.accept_language = req.get_header_value("Accept-Language");
  out.base_url = options.base_url.empty() ? absl::StrCat("http://", req.get_header_value("Host")) : options.base_url;
  return out;
}

void StatusHttpServer::Impl::Serve(const char* route, const httplib::Request& req, httplib::Response& res,
                                   const Handler& handler) {
  const auto started = std::chrono::steady_clock::now();
  SiteResponse out = handler(req, ToSiteRequest(req));
  res.status = out.status;
  res.set_content(std::move(out.body), out.content_type);
  if (out.retry_after_seconds > 0) res.set_header("Retry-After", std::to_string(out.retry_after_seconds));
  metrics
      .counter("forewarn_status_requests_total", "Status page requests by route and HTTP status",
               {{"route", route}, {"code", std::to_string(out.status)}})
      .Increment();
  metrics
      .histogram("forewarn_status_request_seconds", "Time to answer a status page request", {{"route", route}},
                 {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1})
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

void StatusHttpServer::Impl::Routes() {
  auto get = [this](const char* pattern, const char* route, Handler handler) {
    server.Get(pattern, [this, route, handler](const httplib::Request& req, httplib::Response& res) {
      Serve(route, req, res, handler);
    });
  };
  get("/", "overview", [this](auto&, const SiteRequest& r) { return site.Overview(r); });
  get(R"(/i/([^/]{1,40}))", "incident", [this](auto& req, const SiteRequest& r) { return site.Incident(r, req.matches[1].str()); });
  get(R"(/n/([^/]{1,40}))", "link", [this](auto& req, const SiteRequest& r) { return site.Link(r, req.matches[1].str()); });
  get("/check", "check", [this](auto&, const SiteRequest& r) { return site.CheckForm(r); });
  get("/version", "version", [this](auto& req, const SiteRequest& r) { return site.Version(r, req.get_param_value("ref")); });
  get("/feed.atom", "atom", [this](auto&, const SiteRequest& r) { return site.Atom(r); });
  get("/status.json", "json", [this](auto&, const SiteRequest& r) { return site.Json(r); });
  server.Post("/check", [this](const httplib::Request& req, httplib::Response& res) {
    Serve("check", req, res, [this](auto& q, const SiteRequest& r) {
      return site.Check(r, q.get_param_value("ref"), q.get_param_value("code"));
    });
  });
  server.Get("/refresh.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "public, max-age=300");
    res.set_content(std::string(RefreshScript()), "text/javascript; charset=utf-8");
  });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.status != 404) return;
    Serve("other", req, res, [this](auto&, const SiteRequest& r) { return site.NotFound(r); });
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    spdlog::error("event=status_http_exception");
    res.status = 500;
    res.set_content("internal error\n", "text/plain; charset=utf-8");
  });
}

StatusHttpServer::StatusHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StatusHttpServer::~StatusHttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<StatusHttpServer>> StatusHttpServer::Start(const StatusHttpOptions& options,
                                                                          StatusSite& site, MetricsRegistry& metrics) {
  auto impl = std::make_unique<Impl>(options, site, metrics);
  httplib::Server& server = impl->server;
  ConfigurePublicServer(server,
                        {.threads = options.threads, .max_body_bytes = 16 * 1024,
                         .read_timeout = options.read_timeout, .write_timeout = options.write_timeout},
                        kSecurityPolicy);
  impl->Routes();
  absl::StatusOr<int> port = BindAndServe(server, options.listen, "--listen", impl->thread, impl->listen_returned);
  if (!port.ok()) return port.status();
  impl->port = *port;
  spdlog::info("event=status_http_listening port={} threads={}", impl->port, std::max(1, options.threads));
  return std::unique_ptr<StatusHttpServer>(new StatusHttpServer(std::move(impl)));
}

int StatusHttpServer::port() const { return impl_->port; }

void StatusHttpServer::Stop() { StopServing(impl_->server, impl_->thread, impl_->stopped); }

}  // namespace forewarn
