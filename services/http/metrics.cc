#include "services/http/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace forewarn {

namespace {

enum Kind : int { kCounter, kGauge, kHistogram };

// prometheus-cpp keys a series by a std::map, which would silently merge a
// repeated label name: refuse it instead. `histogram`: "le" is reserved.
prometheus::Labels ToLabels(const std::string& family, const MetricLabels& labels, bool histogram) {
  prometheus::Labels out(labels.begin(), labels.end());
  if (out.size() != labels.size()) {
    throw std::invalid_argument("metric " + family + ": duplicate label name");
  }
  if (histogram && out.count("le") != 0) {
    throw std::invalid_argument("metric " + family + ": histogram label 'le' is reserved");
  }
  return out;
}

// HELP text escaping of the text format (backslash and line feed), which
// prometheus-cpp 1.0 leaves to the caller.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

void Counter::Increment(double delta) {
  if (delta > 0) impl_.Increment(delta);  // negative, zero or NaN: ignored
}

double Counter::value() const { return impl_.Value(); }

void Gauge::Set(double v) { impl_.Set(v + 0.0); }  // -0 becomes 0: rendered "0", not "-0"

void Gauge::Add(double delta) { impl_.Increment(delta); }

double Gauge::value() const { return impl_.Value(); }

void Histogram::Observe(double v) {
  if (!std::isnan(v)) impl_.Observe(v);
}

std::vector<std::uint64_t> Histogram::BucketCounts() const {
  const auto buckets = impl_.Collect().histogram.bucket;
  std::vector<std::uint64_t> out(buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    out[i] = buckets[i].cumulative_count - (i == 0 ? 0 : buckets[i - 1].cumulative_count);
  }
  return out;
}

std::uint64_t Histogram::count() const { return impl_.Collect().histogram.sample_count; }

double Histogram::sum() const { return impl_.Collect().histogram.sample_sum; }

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::MetricsRegistry() : registry_(std::make_unique<prometheus::Registry>()) {}
MetricsRegistry::~MetricsRegistry() = default;

template <typename Facade, typename Make>
Facade& MetricsRegistry::Series(int kind, const std::string& name, const MetricLabels& labels, Make make) {
  SeriesKey key{kind, name, labels};
  std::sort(std::get<2>(key).begin(), std::get<2>(key).end());
  auto it = series_.find(key);
  if (it == series_.end()) it = series_.emplace(std::move(key), std::make_shared<Facade>(make())).first;
  return *static_cast<Facade*>(it->second.get());
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return Series<Counter>(kCounter, name, labels, [&]() -> prometheus::Counter& {
    auto& family = prometheus::BuildCounter().Name(name).Help(EscapeHelp(help)).Register(*registry_);
    return family.Add(ToLabels(name, labels, false));
  });
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return Series<Gauge>(kGauge, name, labels, [&]() -> prometheus::Gauge& {
    auto& family = prometheus::BuildGauge().Name(name).Help(EscapeHelp(help)).Register(*registry_);
    return family.Add(ToLabels(name, labels, false));
  });
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                                      const std::vector<double>& buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  auto known = buckets_.find(name);
  if (known != buckets_.end() && known->second != buckets) {
    throw std::invalid_argument("histogram " + name + " requested with different buckets");
  }
  return Series<Histogram>(kHistogram, name, labels, [&]() -> prometheus::Histogram& {
    if (!std::all_of(buckets.begin(), buckets.end(), [](double b) { return std::isfinite(b); })) {
      throw std::invalid_argument("histogram " + name + ": bucket bounds must be finite");
    }
    auto& family = prometheus::BuildHistogram().Name(name).Help(EscapeHelp(help)).Register(*registry_);
    prometheus::Histogram& series = family.Add(ToLabels(name, labels, true), buckets);  // bounds strictly increasing
    buckets_.emplace(name, buckets);
    return series;
  });
}

std::string MetricsRegistry::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  // prometheus-cpp collects by type and keeps series in a hash map; sort both
  // so that a scrape (and a diff of two) reads the same every time.
  std::sort(families.begin(), families.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& family : families) {
    std::sort(family.metric.begin(), family.metric.end(),
              [](const prometheus::ClientMetric& a, const prometheus::ClientMetric& b) { return a.label < b.label; });
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace forewarn
