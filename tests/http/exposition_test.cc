// /metrics read by an independent parser: prometheus_client (the Prometheus
// project's Python client) scrapes the real server and must read back every
// family, label and value registered here (tests/http/parse_exposition.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/http/metrics.h"
#include "services/http/server.h"

namespace forewarn {
namespace {

// Runs `cmd`, returns its stdout; `status` gets the exit code (-1 if it did not exit).
std::string Run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  const int raw = ::pclose(p);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

std::string Parsed(MetricsRegistry& reg, int* status) {
  auto server = ObservabilityServer::Start("127.0.0.1:0", reg, nullptr);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "";
  return Run(absl::StrCat(FOREWARN_PYTHON, " ", FOREWARN_HTTP_TESTS_DIR, "/parse_exposition.py http://127.0.0.1:",
                          (*server)->port(), "/metrics"),
             status);
}

std::string SortedLines(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return absl::StrJoin(lines, "\n") + "\n";
}

TEST(MetricsExposition, PrometheusClientParserReadsBackEveryFamilyLabelAndValue) {
  MetricsRegistry reg;
  const MetricLabels sent = {{"kind", "outage_started"}, {"channel", "sms"}, {"state", "sent"}};
  reg.counter("forewarn_notices_total", "Notices by kind, channel and final state", sent).Increment(3);
  reg.counter("forewarn_notices_total", "", {{"kind", "outage_started"}, {"channel", "email"}, {"state", "dead"}})
      .Increment();
  reg.gauge("forewarn_outbox_backlog", "Outbox events not yet published to Kafka").Set(7);
  reg.gauge("odd", "back\\slash\nsecond \"line\"", {{"v", "a\\b\"c\nd العربية"}})
      .Set(std::numeric_limits<double>::infinity());
  Histogram& latency = reg.histogram("forewarn_provider_latency_seconds", "Delivery provider call latency",
                                     {{"channel", "sms"}}, DefaultLatencyBuckets());
  for (double v : {0.00390625, 0.25, 20.0}) latency.Observe(v);

  int status = 0;
  const std::string parsed = Parsed(reg, &status);
  ASSERT_EQ(status, 0) << parsed;

  std::vector<std::string> want = {
      R"(help forewarn_notices "Notices by kind, channel and final state")",
      R"(counter forewarn_notices_total {"channel": "email", "kind": "outage_started", "state": "dead"} 1.0)",
      R"(counter forewarn_notices_total {"channel": "sms", "kind": "outage_started", "state": "sent"} 3.0)",
      R"(help forewarn_outbox_backlog "Outbox events not yet published to Kafka")",
      R"(gauge forewarn_outbox_backlog {} 7.0)",
      R"(help odd "back\\slash\nsecond \"line\"")",
      R"(gauge odd {"v": "a\\b\"c\nd العربية"} inf)",
      R"(help forewarn_provider_latency_seconds "Delivery provider call latency")",
      R"(histogram forewarn_provider_latency_seconds_count {"channel": "sms"} 3.0)",
      R"(histogram forewarn_provider_latency_seconds_sum {"channel": "sms"} 20.25390625)",
  };
  // Cumulative: 0.0039 falls in every bucket, 0.25 from le=0.25 on, 20 only in +Inf.
  const std::vector<std::pair<std::string, int>> buckets = {
      {"0.005", 1}, {"0.01", 1}, {"0.025", 1}, {"0.05", 1}, {"0.1", 1}, {"0.25", 2},
      {"0.5", 2},   {"1", 2},    {"2.5", 2},   {"5", 2},    {"10", 2},  {"+Inf", 3}};
  for (const auto& [le, n] : buckets) {
    want.push_back(absl::StrCat(R"(histogram forewarn_provider_latency_seconds_bucket {"channel": "sms", "le": ")", le,
                                R"("} )", n, ".0"));
  }
  EXPECT_EQ(parsed, SortedLines(want));
}

TEST(MetricsExposition, EmptyRegistryIsValidExposition) {
  MetricsRegistry reg;
  int status = 0;
  EXPECT_EQ(Parsed(reg, &status), "\n");
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace forewarn
