#include "services/http/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

namespace forewarn {

namespace {

enum Type : int { kCounter = 0, kGauge = 1, kHistogram = 2 };

const char* TypeName(int type) {
  switch (type) {
    case kCounter:
      return "counter";
    case kGauge:
      return "gauge";
    default:
      return "histogram";
  }
}

bool IsNameStart(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
}

bool IsNameChar(char c, bool allow_colon) { return IsNameStart(c, allow_colon) || (c >= '0' && c <= '9'); }

bool ValidName(const std::string& name, bool allow_colon) {
  if (name.empty() || !IsNameStart(name[0], allow_colon)) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) { return IsNameChar(c, allow_colon); });
}

// Validates and sorts labels by name; the sorted form is the series identity.
MetricLabels Canonical(const std::string& family, const MetricLabels& labels, bool histogram) {
  MetricLabels out = labels;
  std::sort(out.begin(), out.end());
  for (size_t i = 0; i < out.size(); ++i) {
    const std::string& key = out[i].first;
    if (!ValidName(key, /*allow_colon=*/false) || key.rfind("__", 0) == 0) {
      throw std::invalid_argument("metric " + family + ": invalid label name '" + key + "'");
    }
    if (histogram && key == "le") {
      throw std::invalid_argument("metric " + family + ": histogram label 'le' is reserved");
    }
    if (i > 0 && out[i - 1].first == key) {
      throw std::invalid_argument("metric " + family + ": duplicate label '" + key + "'");
    }
  }
  return out;
}

// HELP text escaping: backslash and line feed only (quotes stay).
std::string EscapeHelp(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
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

// {a="1",b="2"} plus an optional trailing le label; empty when no labels.
std::string LabelText(const MetricLabels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += EscapeLabelValue(v);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // also -0
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

void Counter::Increment(double delta) {
  if (!(delta > 0)) return;  // negative, zero or NaN
  value_.fetch_add(delta, std::memory_order_relaxed);
}

void Gauge::Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && !(bounds_[i - 1] < bounds_[i]))) {
      throw std::invalid_argument("histogram buckets must be finite and strictly increasing");
    }
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  // First bucket whose upper bound is >= v ("le" is inclusive).
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::BucketCounts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) n += buckets_[i].load(std::memory_order_relaxed);
  return n;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Family {
  std::string help;
  int type = kCounter;
  std::vector<double> buckets;  // histograms only
  std::map<MetricLabels, std::unique_ptr<Counter>> counters;
  std::map<MetricLabels, std::unique_ptr<Gauge>> gauges;
  std::map<MetricLabels, std::unique_ptr<Histogram>> histograms;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::FamilyFor(const std::string& name, const std::string& help, int type,
                                                    const std::vector<double>* buckets) {
  // Caller holds mu_.
  auto it = families_.find(name);
  if (it == families_.end()) {
    if (!ValidName(name, /*allow_colon=*/true)) {
      throw std::invalid_argument("invalid metric name '" + name + "'");
    }
    auto family = std::make_unique<Family>();
    family->help = help;
    family->type = type;
    if (buckets != nullptr) {
      Histogram probe(*buckets);  // validates the bounds
      family->buckets = *buckets;
    }
    it = families_.emplace(name, std::move(family)).first;
    return *it->second;
  }
  Family& family = *it->second;
  if (family.type != type) {
    throw std::invalid_argument("metric " + name + " is a " + TypeName(family.type) + ", not a " + TypeName(type));
  }
  if (buckets != nullptr && family.buckets != *buckets) {
    throw std::invalid_argument("histogram " + name + " requested with different buckets");
  }
  return family;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const MetricLabels& labels) {
  MetricLabels key = Canonical(name, labels, false);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyFor(name, help, kCounter, nullptr).counters[key];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  MetricLabels key = Canonical(name, labels, false);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = FamilyFor(name, help, kGauge, nullptr).gauges[key];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help, const MetricLabels& labels,
                                      const std::vector<double>& buckets) {
  MetricLabels key = Canonical(name, labels, true);
  std::lock_guard<std::mutex> lock(mu_);
  Family& family = FamilyFor(name, help, kHistogram, &buckets);
  auto& slot = family.histograms[key];
  if (!slot) slot = std::make_unique<Histogram>(family.buckets);
  return *slot;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(family->help) + "\n";
    out += "# TYPE " + name + " " + TypeName(family->type) + "\n";
    for (const auto& [labels, c] : family->counters) {
      out += name + LabelText(labels) + " " + FormatMetricValue(c->value()) + "\n";
    }
    for (const auto& [labels, g] : family->gauges) {
      out += name + LabelText(labels) + " " + FormatMetricValue(g->value()) + "\n";
    }
    for (const auto& [labels, h] : family->histograms) {
      std::vector<std::uint64_t> counts = h->BucketCounts();
      std::uint64_t cumulative = 0;
      for (size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        std::string le = i < h->bounds().size() ? FormatMetricValue(h->bounds()[i]) : "+Inf";
        out += name + "_bucket" + LabelText(labels, &le) + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + LabelText(labels) + " " + FormatMetricValue(h->sum()) + "\n";
      out += name + "_count" + LabelText(labels) + " " + std::to_string(cumulative) + "\n";
    }
  }
  return out;
}

}  // namespace forewarn
