#include "common/metrics/exposition.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hookstream::metrics {
namespace {

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Integers print as integers (no exponent), everything else with enough
// digits to read back; the format's own spellings for the non-finite.
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // %.15g: Unix times keep their sub-second digits (StrCat keeps 6).
  return absl::StrFormat("%.15g", value);
}

// HELP text escapes only backslash and newline.
std::string EscapeHelp(absl::string_view help) {
  std::string out;
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

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
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

void Exposition::Family(absl::string_view name, MetricType type,
                        absl::string_view help) {
  absl::StrAppend(&text_, "# HELP ", name, " ", EscapeHelp(help), "\n",
                  "# TYPE ", name, " ", TypeName(type), "\n");
}

void Exposition::Sample(absl::string_view name, absl::Span<const Label> labels,
                        double value) {
  absl::StrAppend(&text_, name);
  if (!labels.empty()) {
    text_ += '{';
    bool first = true;
    for (const Label& l : labels) {
      if (!first) text_ += ',';
      first = false;
      absl::StrAppend(&text_, l.first, "=\"", EscapeLabelValue(l.second), "\"");
    }
    text_ += '}';
  }
  absl::StrAppend(&text_, " ", FormatValue(value), "\n");
}

void Exposition::Counter(absl::string_view name, absl::string_view help,
                         double value) {
  Family(name, MetricType::kCounter, help);
  Sample(name, {}, value);
}

void Exposition::Gauge(absl::string_view name, absl::string_view help,
                       double value) {
  Family(name, MetricType::kGauge, help);
  Sample(name, {}, value);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

std::vector<double> Histogram::LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

void Histogram::Observe(double value) {
  const size_t i =
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  if (value > 0) {
    sum_nanos_.fetch_add(static_cast<uint64_t>(value * 1e9),
                         std::memory_order_relaxed);
  }
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  // `_count` is the buckets' sum, so it always equals the `+Inf` bucket, as
  // the format requires; `_sum` may lag an observation in flight.
  uint64_t running = 0;
  s.cumulative.reserve(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void Histogram::Write(Exposition& out, absl::string_view name,
                      absl::Span<const Label> labels) const {
  const Snapshot s = Read();
  const std::string bucket = absl::StrCat(name, "_bucket");
  std::vector<Label> with_le(labels.begin(), labels.end());
  with_le.emplace_back("le", "");
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    const std::string le =
        i < s.bounds.size() ? absl::StrCat(s.bounds[i]) : "+Inf";
    with_le.back().second = le;
    out.Sample(bucket, with_le, static_cast<double>(s.cumulative[i]));
  }
  out.Sample(absl::StrCat(name, "_sum"), labels, s.sum);
  out.Sample(absl::StrCat(name, "_count"), labels,
             static_cast<double>(s.count));
}

}  // namespace hookstream::metrics
