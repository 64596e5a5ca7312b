// -----------------------------------------------------------------------------
// File: exposition.h
// -----------------------------------------------------------------------------
// The Prometheus text exposition format (version 0.0.4), written by hand:
// prometheus-cpp would bring a second HTTP server, and hookstream's metrics
// are a few dozen families read from counters the parts already keep. A
// scrape builds one Exposition, adds each family with its samples, and
// serves Text().
//
// Rules it enforces so the output always parses (promtool check metrics):
// - each family is declared once, with HELP and TYPE, before its samples;
// - label values are escaped (backslash, double quote, newline);
// - histograms are written with cumulative `_bucket{le=…}` lines ending in
//   `+Inf`, then `_sum` and `_count`.
// Naming (one `hookstream_` prefix, base units, `_total` only on counters)
// is the caller's; metric_names_test and promtool check it.
//
// Example:
//   Exposition out;
//   out.Family("hookstream_webhooks_total", MetricType::kCounter,
//              "Webhook requests by outcome.");
//   out.Sample("hookstream_webhooks_total", {{"reason", "accepted"}}, 12);
//   Histogram latency(Histogram::LatencyBuckets());
//   latency.Observe(0.004);
//   out.Family("hookstream_ingress_request_duration_seconds",
//              MetricType::kHistogram, "Time from request to answer.");
//   latency.Write(out, "hookstream_ingress_request_duration_seconds", {});
//   std::string text = out.Text();
//
// Thread-safety: Exposition is not (one per scrape); Histogram is (Observe
// from any thread, lock-free; `_count` is always the `+Inf` bucket).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookstream::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

using Label = std::pair<absl::string_view, absl::string_view>;

class Exposition {
 public:
  // HELP and TYPE lines. `help` is one line of text.
  void Family(absl::string_view name, MetricType type, absl::string_view help);

  // One sample line: `name{labels} value`. `name` is the family's name, or
  // for a histogram the family's name plus `_bucket`, `_sum` or `_count`.
  void Sample(absl::string_view name, absl::Span<const Label> labels,
              double value);
  void Sample(absl::string_view name, std::initializer_list<Label> labels,
              double value) {
    Sample(name, absl::MakeConstSpan(labels.begin(), labels.size()), value);
  }

  // Family + one unlabelled sample.
  void Counter(absl::string_view name, absl::string_view help, double value);
  void Gauge(absl::string_view name, absl::string_view help, double value);

  const std::string& Text() const { return text_; }

 private:
  std::string text_;
};

// A label value with `\`, `"` and newlines escaped as the format wants.
std::string EscapeLabelValue(absl::string_view value);

// A histogram with fixed upper bounds (seconds, bytes, …), observed from any
// thread without a lock.
class Histogram {
 public:
  // `bounds` ascending, finite; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // 100 us .. 10 s, roughly ×2.5 apart: request and delivery latencies.
  static std::vector<double> LatencyBuckets();

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;

  // The `_bucket`, `_sum` and `_count` lines (the Family is the caller's).
  void Write(Exposition& out, absl::string_view name,
             absl::Span<const Label> labels) const;

 private:
  const std::vector<double> bounds_;
  // One per bound plus +Inf (not cumulative; Read sums them).
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  // The sum in nanounits, so it can be an integer atomic.
  std::atomic<uint64_t> sum_nanos_{0};
};

}  // namespace hookstream::metrics
