// -----------------------------------------------------------------------------
// File: server_metrics.h
// -----------------------------------------------------------------------------
// What GET /metrics answers: every part's counters, read at scrape time and
// written in the Prometheus text format (common/metrics). The names follow
// Prometheus conventions (one `hookstream_` prefix, base units, `_total`
// only on counters) plus the de-facto grpc_server_* families; the list and
// what each means is in docs/operations.md. promtool checks the output in
// tests/e2e/ops_e2e_test.cc.
//
// Per-subscriber series are bounded: subscribers are grouped by the name they
// give (x-subscriber-name; "unnamed" without one), the first
// kMaxSubscriberSeries names get their own series, the rest share "other".
//
// Thread-safety: RenderMetrics reads thread-safe counters; call it from any
// thread while the parts are alive.
#pragma once

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "common/jetstream/jetstream_backend.h"
#include "common/journal/journal.h"
#include "common/store/event_reader.h"
#include "server/distribution/distribution_server.h"
#include "server/ingress/ingress_metrics.h"
#include "server/reload.h"

namespace hookstream {

inline constexpr size_t kMaxSubscriberSeries = 20;

struct MetricsSources {
  const ingress::IngressMetrics& ingress;
  const EventReader& reader;
  const distribution::DistributionServer& distribution;
  // Null unless --backend=journal.
  const journal::Journal* journal = nullptr;
  // Null unless --backend=jetstream.
  const jetstream::JetStreamBackend* jetstream = nullptr;
  const ReloadRegistry* reload = nullptr;
  bool ready = false;
  absl::Time start_time;
  absl::Time now;
};

std::string RenderMetrics(const MetricsSources& sources);

}  // namespace hookstream
