#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace forewarn {

// Prometheus metrics kept in process: a thin facade over prometheus-cpp core
// (its registry, counters, gauges, histograms and TextSerializer), so that
// call sites stay independent of the library's builder API.
//
// Contract:
// - MetricsRegistry hands out Counter/Gauge/Histogram objects by reference.
//   The same family name and label set always returns the same object, which
//   lives as long as the registry; keep the reference and update it from any
//   thread without further locking.
// - Label order does not matter for identity: {a=1,b=2} and {b=2,a=1} are the
//   same series.
// - Programming errors throw std::invalid_argument: an invalid metric or
//   label name, a duplicate label name, a family name reused with another
//   type, a histogram family re-requested with other buckets, a histogram
//   label named "le". The first help text given for a family wins.

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing value (total count of things).
class Counter {
 public:
  explicit Counter(prometheus::Counter& impl) : impl_(impl) {}
  // Adds `delta`; negative or NaN deltas are ignored (counters only go up).
  void Increment(double delta = 1.0);
  double value() const;

 private:
  prometheus::Counter& impl_;
};

// A value that goes up and down (queue size, backlog, in-flight requests).
class Gauge {
 public:
  explicit Gauge(prometheus::Gauge& impl) : impl_(impl) {}
  void Set(double v);
  void Add(double delta);
  void Increment() { Add(1.0); }
  void Decrement() { Add(-1.0); }
  double value() const;

 private:
  prometheus::Gauge& impl_;
};

// Observations counted in buckets by upper bound (latencies, sizes); "le" is
// inclusive. Exposed as NAME_count, NAME_sum and cumulative
// NAME_bucket{le="..."} series; the le="+Inf" bucket always equals NAME_count.
class Histogram {
 public:
  explicit Histogram(prometheus::Histogram& impl) : impl_(impl) {}
  // NaN observations are ignored.
  void Observe(double v);

  // Per-bucket (non-cumulative) counts; the last element is the +Inf bucket.
  std::vector<std::uint64_t> BucketCounts() const;
  std::uint64_t count() const;
  double sum() const;

 private:
  prometheus::Histogram& impl_;
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
  // `buckets`: strictly increasing finite upper bounds (may be empty).
  Histogram& histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                       const std::vector<double>& buckets);

  // The text exposition format 0.0.4 (prometheus-cpp's TextSerializer):
  // every family sorted by name with its HELP and TYPE lines, then its
  // series sorted by labels. Safe to call while other threads update.
  std::string Render() const;

 private:
  // A series by metric kind, family name and labels sorted by name.
  using SeriesKey = std::tuple<int, std::string, MetricLabels>;

  // The facade of a series: found in series_ (a lookup per notice or RPC is
  // a hot path), else `make()` registers it with prometheus-cpp, which
  // validates names and types. Caller holds mu_.
  template <typename Facade, typename Make>
  Facade& Series(int kind, const std::string& name, const MetricLabels& labels, Make make);

  std::unique_ptr<prometheus::Registry> registry_;
  std::mutex mu_;  // held for every lookup; guards series_ and buckets_
  std::map<SeriesKey, std::shared_ptr<void>> series_;
  std::unordered_map<std::string, std::vector<double>> buckets_;  // by histogram family
};

}  // namespace forewarn
