#include "services/http/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace forewarn {
namespace {

TEST(MetricsRegistry, RendersFamiliesSortedWithHelpAndTypeOnce) {
  MetricsRegistry reg;
  reg.counter("forewarn_notices_total", "Notices by kind, channel and state.",
              {{"kind", "outage_started"}, {"channel", "sms"}, {"state", "sent"}})
      .Increment(3);
  reg.counter("forewarn_notices_total", "ignored: first help wins",
              {{"kind", "outage_started"}, {"channel", "email"}, {"state", "sent"}})
      .Increment();
  reg.gauge("forewarn_outbox_backlog", "Outbox rows not yet published.").Set(7);
  Histogram& h = reg.histogram("forewarn_provider_latency_seconds", "Provider call latency.", {{"channel", "sms"}},
                               {0.25, 0.5, 1});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.375);
  h.Observe(2);

  EXPECT_EQ(reg.Render(),
            "# HELP forewarn_notices_total Notices by kind, channel and state.\n"
            "# TYPE forewarn_notices_total counter\n"
            "forewarn_notices_total{channel=\"email\",kind=\"outage_started\",state=\"sent\"} 1\n"
            "forewarn_notices_total{channel=\"sms\",kind=\"outage_started\",state=\"sent\"} 3\n"
            "# HELP forewarn_outbox_backlog Outbox rows not yet published.\n"
            "# TYPE forewarn_outbox_backlog gauge\n"
            "forewarn_outbox_backlog 7\n"
            "# HELP forewarn_provider_latency_seconds Provider call latency.\n"
            "# TYPE forewarn_provider_latency_seconds histogram\n"
            "forewarn_provider_latency_seconds_count{channel=\"sms\"} 4\n"
            "forewarn_provider_latency_seconds_sum{channel=\"sms\"} 2.75\n"
            "forewarn_provider_latency_seconds_bucket{channel=\"sms\",le=\"0.25\"} 2\n"
            "forewarn_provider_latency_seconds_bucket{channel=\"sms\",le=\"0.5\"} 3\n"
            "forewarn_provider_latency_seconds_bucket{channel=\"sms\",le=\"1\"} 3\n"
            "forewarn_provider_latency_seconds_bucket{channel=\"sms\",le=\"+Inf\"} 4\n");
}

TEST(MetricsRegistry, EmptyRegistryRendersNothing) {
  MetricsRegistry reg;
  EXPECT_EQ(reg.Render(), "");
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry reg;
  reg.gauge("g", "line one\nback\\slash \"quoted\"", {{"v", "a\\b\"c\nd"}}).Set(1);
  EXPECT_EQ(reg.Render(),
            "# HELP g line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsRegistry, KeepsUtf8LabelValuesAsTheyAre) {
  MetricsRegistry reg;
  reg.gauge("g", "h", {{"v", "plain العربية"}}).Set(1);
  EXPECT_EQ(reg.Render(), "# HELP g h\n# TYPE g gauge\ng{v=\"plain العربية\"} 1\n");
}

TEST(MetricsRegistry, SameNameAndLabelsReturnSameObject) {
  MetricsRegistry reg;
  Counter& a = reg.counter("c_total", "h", {{"x", "1"}, {"y", "2"}});
  Counter& b = reg.counter("c_total", "h", {{"y", "2"}, {"x", "1"}});
  Counter& other = reg.counter("c_total", "h", {{"x", "1"}, {"y", "3"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  EXPECT_EQ(&reg.gauge("g", "h"), &reg.gauge("g", "h"));
  EXPECT_EQ(&reg.histogram("h_seconds", "h", {}, {1, 2}), &reg.histogram("h_seconds", "h", {}, {1, 2}));
}

TEST(MetricsRegistry, RejectsProgrammingErrors) {
  MetricsRegistry reg;
  reg.counter("c_total", "h");
  EXPECT_THROW(reg.gauge("c_total", "h"), std::invalid_argument);
  EXPECT_THROW(reg.counter("1bad", "h"), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok_total", "h", {{"bad-name", "v"}}), std::invalid_argument);
  EXPECT_THROW(reg.counter("ok_total", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h_seconds", "h", {{"le", "1"}}, {1}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h2_seconds", "h", {}, {2, 1}), std::invalid_argument);
  reg.histogram("h3_seconds", "h", {}, {1, 2});
  EXPECT_THROW(reg.histogram("h3_seconds", "h", {}, {1, 3}), std::invalid_argument);
}

TEST(MetricsRegistry, CounterIgnoresNegativeDeltasGaugeDoesNot) {
  MetricsRegistry reg;
  Counter& c = reg.counter("c_total", "h");
  c.Increment(2.5);
  c.Increment(-1);
  EXPECT_DOUBLE_EQ(c.value(), 2.5);
  Gauge& g = reg.gauge("g", "h");
  g.Increment();
  g.Add(-3);
  EXPECT_DOUBLE_EQ(g.value(), -2);
}

TEST(MetricsRegistry, ConcurrentIncrementsFromThreadsAreAllCounted) {
  MetricsRegistry reg;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&reg, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Look up each time too: registration and updates race with each other and Render().
        reg.counter("hits_total", "h", {{"shared", "yes"}}).Increment();
        reg.gauge("level", "h").Increment();
        reg.histogram("lat_seconds", "h", {}, {0.5}).Observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 5000 == 0) {
          reg.counter("per_thread_total", "h", {{"t", std::to_string(t)}}).Increment();
          (void)reg.Render();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_DOUBLE_EQ(reg.counter("hits_total", "h", {{"shared", "yes"}}).value(), kThreads * kPerThread);
  EXPECT_DOUBLE_EQ(reg.gauge("level", "h").value(), kThreads * kPerThread);
  Histogram& h = reg.histogram("lat_seconds", "h", {}, {0.5});
  EXPECT_EQ(h.count(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(h.BucketCounts(), (std::vector<uint64_t>{kThreads * kPerThread / 2, kThreads * kPerThread / 2}));
  EXPECT_DOUBLE_EQ(h.sum(), kThreads * kPerThread / 2 * 1.25);
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndCountEqualsInf) {
  MetricsRegistry reg;
  Histogram& h = reg.histogram("size_bytes", "h", {}, {10, 100, 1000});
  for (double v : {1.0, 10.0, 11.0, 500.0, 5000.0, 5000.0}) h.Observe(v);
  EXPECT_EQ(h.BucketCounts(), (std::vector<uint64_t>{2, 1, 1, 2}));
  EXPECT_EQ(reg.Render(),
            "# HELP size_bytes h\n"
            "# TYPE size_bytes histogram\n"
            "size_bytes_count 6\n"
            "size_bytes_sum 10522\n"
            "size_bytes_bucket{le=\"10\"} 2\n"
            "size_bytes_bucket{le=\"100\"} 3\n"
            "size_bytes_bucket{le=\"1000\"} 4\n"
            "size_bytes_bucket{le=\"+Inf\"} 6\n");
}

// Sample values as prometheus-cpp's TextSerializer writes them: 16 significant
// digits, "+Inf", "-Inf" and "Nan" (every Prometheus parser reads NaN in any case).
TEST(MetricsRegistry, FormatsSpecialValues) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {-0.0, "0"},
      {0.005, "0.005"},
      {1e21, "1e+21"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "Nan"},
  };
  for (const auto& [value, text] : cases) {
    MetricsRegistry reg;
    reg.gauge("g", "h").Set(value);
    EXPECT_EQ(reg.Render(), "# HELP g h\n# TYPE g gauge\ng " + text + "\n") << text;
  }
  EXPECT_EQ(DefaultLatencyBuckets().front(), 0.005);
}

TEST(MetricsRegistry, IgnoresNanObservationsAndRejectsInfiniteBounds) {
  MetricsRegistry reg;
  Histogram& h = reg.histogram("h_seconds", "h", {}, {1});
  h.Observe(std::numeric_limits<double>::quiet_NaN());
  h.Observe(0.5);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_DOUBLE_EQ(h.sum(), 0.5);
  reg.counter("c_total", "h").Increment(std::numeric_limits<double>::quiet_NaN());
  EXPECT_DOUBLE_EQ(reg.counter("c_total", "h").value(), 0);
  EXPECT_THROW(reg.histogram("inf_seconds", "h", {}, {1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
}

}  // namespace
}  // namespace forewarn
