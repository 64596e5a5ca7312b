#include "common/metrics/exposition.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hookstream::metrics {
namespace {

using ::testing::HasSubstr;

// Verifies the HELP/TYPE header and a labelled and an unlabelled sample.
TEST(ExpositionTest, FamilyAndSamples) {
  Exposition out;
  out.Family("hookstream_webhooks_total", MetricType::kCounter,
             "Webhook requests.");
  out.Sample("hookstream_webhooks_total",
             {{"source", "gettrx"}, {"reason", "accepted"}}, 3);
  out.Gauge("hookstream_ring_events", "Events held.", 7);
  EXPECT_EQ(out.Text(),
            "# HELP hookstream_webhooks_total Webhook requests.\n"
            "# TYPE hookstream_webhooks_total counter\n"
            "hookstream_webhooks_total{source=\"gettrx\",reason=\"accepted\"} "
            "3\n"
            "# HELP hookstream_ring_events Events held.\n"
            "# TYPE hookstream_ring_events gauge\n"
            "hookstream_ring_events 7\n");
}

// Verifies that label values cannot break the line format.
TEST(ExpositionTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Exposition out;
  out.Family("x", MetricType::kGauge, "two\nlines \\ here");
  EXPECT_THAT(out.Text(), HasSubstr("# HELP x two\\nlines \\\\ here\n"));
}

// Verifies that fractions keep their digits and integers print without an
// exponent or a decimal point.
TEST(ExpositionTest, FormatsValues) {
  Exposition out;
  out.Sample("a", {}, 0.25);
  out.Sample("b", {}, 123456789012);
  out.Sample("c", {}, -2);
  EXPECT_EQ(out.Text(), "a 0.25\nb 123456789012\nc -2\n");
}

// Verifies cumulative buckets, +Inf, _sum and _count.
TEST(HistogramTest, WritesCumulativeBuckets) {
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // on a bound: counted in that bucket (le = <=)
  h.Observe(0.5);
  h.Observe(7);
  Exposition out;
  const Label labels[] = {{"method", "Subscribe"}};
  h.Write(out, "d_seconds", labels);
  EXPECT_EQ(out.Text(),
            "d_seconds_bucket{method=\"Subscribe\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{method=\"Subscribe\",le=\"1\"} 3\n"
            "d_seconds_bucket{method=\"Subscribe\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{method=\"Subscribe\"} 7.65\n"
            "d_seconds_count{method=\"Subscribe\"} 4\n");
}

// Verifies that concurrent observations are all counted.
TEST(HistogramTest, ConcurrentObserve) {
  Histogram h(Histogram::LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe(0.001 * (i % 100));
    });
  }
  for (std::thread& t : threads) t.join();
  const Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative.back(), 40000u);
  for (size_t i = 1; i < s.cumulative.size(); ++i) {
    EXPECT_LE(s.cumulative[i - 1], s.cumulative[i]);
  }
}

}  // namespace
}  // namespace hookstream::metrics
