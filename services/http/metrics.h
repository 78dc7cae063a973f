#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace forewarn {

// Prometheus metrics kept in process and rendered in the text exposition
// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Contract:
// - MetricsRegistry hands out Counter/Gauge/Histogram objects by reference.
//   The same family name and label set always returns the same object, which
//   lives as long as the registry; keep the reference and update it from any
//   thread without further locking (updates are lock-free atomics).
// - Label order does not matter for identity: {a=1,b=2} and {b=2,a=1} are the
//   same series (labels are kept and rendered sorted by name).
// - Programming errors throw std::invalid_argument: an invalid metric or
//   label name, a duplicate label name, a family name reused with another
//   type, a histogram family re-requested with other buckets, a histogram
//   label named "le". The first help text given for a family wins.

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value (total count of things).
class Counter {
 public:
  // Adds `delta`; negative or NaN deltas are ignored (counters only go up).
  void Increment(double delta = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down (queue size, backlog, in-flight requests).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double delta);
  void Increment() { Add(1.0); }
  void Decrement() { Add(-1.0); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted in buckets by upper bound (latencies, sizes).
// Rendered as cumulative NAME_bucket{le="..."} series plus NAME_sum and
// NAME_count; the implicit le="+Inf" bucket always equals NAME_count.
class Histogram {
 public:
  // `bounds`: strictly increasing finite upper bounds (may be empty).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts; the last element is the +Inf bucket.
  std::vector<std::uint64_t> BucketCounts() const;
  std::uint64_t count() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0.0};
};

// Default latency buckets in seconds (5 ms .. 10 s), as in the Prometheus
// client libraries.
std::vector<double> DefaultLatencyBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& counter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                       const std::vector<double>& buckets);

  // Every family (sorted by name) with one HELP and one TYPE line, then its
  // series sorted by labels. Safe to call while other threads update.
  std::string Render() const;

 private:
  struct Family;
  Family& FamilyFor(const std::string& name, const std::string& help, int type,
                    const std::vector<double>* buckets);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

// Label value escaping of the text format: backslash, double quote and line
// feed become \\, \" and \n. Exposed for tests.
std::string EscapeLabelValue(const std::string& v);

// Sample value formatting: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double v);

}  // namespace forewarn
