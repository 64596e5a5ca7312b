#include "server/server_metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/build_info.h"
#include "common/metrics/exposition.h"
#include "server/accept_guard.h"
#include "server/distribution/event_stream_service.h"
#include "server/distribution/grpc_codes.h"
#include "server/ingress/outcomes.h"

namespace hookstream {
namespace {

using metrics::Exposition;
using metrics::MetricType;

double D(uint64_t v) { return static_cast<double>(v); }

double Seconds(absl::Time t) {
  return t == absl::InfinitePast()
             ? 0
             : absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

void WriteProcess(Exposition& out, const MetricsSources& s) {
  out.Family("hookstream_build_info", MetricType::kGauge,
             "Always 1; the labels say which build is running.");
  out.Sample(
      "hookstream_build_info",
      {{"version", kVersion}, {"commit", kCommit}, {"build_type", kBuildType}},
      1);
  out.Gauge("hookstream_start_time_seconds",
            "When this process started serving (Unix time).",
            Seconds(s.start_time));
  out.Family("hookstream_accept_shed_total", MetricType::kCounter,
             "Connections accepted and reset at once, by listener and reason: "
             "no_descriptor (the process had no free file descriptor, "
             "EMFILE/ENFILE), connection_cap (--grpc_max_connections), "
             "peer_cap (--grpc_max_connections_per_peer).");
  const AcceptShedCounts shed = AcceptShed();
  out.Sample("hookstream_accept_shed_total",
             {{"listener", "grpc"}, {"reason", "no_descriptor"}},
             D(shed.no_descriptor));
  out.Sample("hookstream_accept_shed_total",
             {{"listener", "grpc"}, {"reason", "connection_cap"}},
             D(shed.connection_cap));
  out.Sample("hookstream_accept_shed_total",
             {{"listener", "grpc"}, {"reason", "peer_cap"}}, D(shed.peer_cap));
  out.Gauge("hookstream_ready",
            "1 while /readyz answers 200 (listeners up, backend ready, not "
            "draining), else 0.",
            s.ready ? 1 : 0);
}

void WriteIngress(Exposition& out, const ingress::IngressMetrics& metrics) {
  const ingress::IngressMetrics::Snapshot snap = metrics.Read();
  out.Family("hookstream_webhooks_total", MetricType::kCounter,
             "Webhook requests answered, by source, HTTP status and reason "
             "(status 0: the client went away before the answer).");
  for (const auto& [key, n] : snap.by_source) {
    const ingress::OutcomeInfo& row = ingress::GetOutcomeInfo(key.second);
    const std::string status = absl::StrCat(row.http_status);
    out.Sample("hookstream_webhooks_total",
               {{"source", key.first.empty() ? "none" : key.first},
                {"status", status},
                {"reason", row.label}},
               D(n));
  }
  out.Family("hookstream_webhook_signature_matches_total", MetricType::kCounter,
             "Webhooks whose signature matched a secret, by source and secret "
             "label (an old label at 0 can be removed).");
  for (const auto& [key, n] : snap.by_secret) {
    const size_t slash = key.find('/');
    out.Sample(
        "hookstream_webhook_signature_matches_total",
        {{"source", key.substr(0, slash)},
         {"secret", slash == std::string::npos ? "" : key.substr(slash + 1)}},
        D(n));
  }
  out.Counter("hookstream_webhooks_unsigned_total",
              "Webhooks accepted without a signature "
              "(--insecure_accept_unsigned).",
              D(snap.unsigned_requests));
  out.Counter("hookstream_webhook_duplicates_total",
              "Webhooks whose event id was seen before (answered 200, nothing "
              "appended).",
              D(snap.count(ingress::Outcome::kDuplicate)));
  out.Counter("hookstream_events_appended_total",
              "Events appended to the stream (acknowledged 200 as new).",
              D(snap.count(ingress::Outcome::kAccepted)));
  out.Family("hookstream_ingress_connections_total", MetricType::kCounter,
             "Ingress TCP connections, by result (refused: over "
             "--max_connections).");
  out.Sample("hookstream_ingress_connections_total", {{"result", "accepted"}},
             D(snap.connections_accepted));
  out.Sample("hookstream_ingress_connections_total", {{"result", "refused"}},
             D(snap.connections_refused));
  out.Counter("hookstream_ingress_tls_handshake_failures_total",
              "Ingress TLS handshakes that failed.",
              D(snap.tls_handshake_failures));
  out.Counter("hookstream_ingress_write_timeouts_total",
              "Ingress connections closed because an answer was not written "
              "within --write_timeout (the client stopped reading).",
              D(snap.write_timeouts));
  out.Gauge("hookstream_ingress_open_connections",
            "Ingress connections open now.", D(snap.connections_active));
  out.Family("hookstream_ingress_request_duration_seconds",
             MetricType::kHistogram,
             "From a webhook request's first byte to its answer (after the "
             "backend made the event durable).");
  metrics.request_duration().Write(
      out, "hookstream_ingress_request_duration_seconds", {});
}

void WriteRing(Exposition& out, const EventReader::Info& info, absl::Time now) {
  out.Gauge("hookstream_ring_events", "Events held in the ring.",
            D(info.event_count));
  out.Gauge("hookstream_ring_bytes", "Serialized bytes held in the ring.",
            D(info.byte_count));
  out.Gauge("hookstream_ring_capacity_events",
            "Most events the ring holds (--ring_max_events).",
            D(info.event_capacity));
  out.Gauge("hookstream_ring_capacity_bytes",
            "Most bytes the ring holds (--ring_max_bytes).",
            D(info.byte_capacity));
  out.Gauge("hookstream_ring_head_sequence", "The newest sequence.",
            D(info.head_sequence));
  out.Gauge("hookstream_ring_oldest_sequence",
            "The oldest sequence held (head + 1 when empty).",
            D(info.oldest_sequence));
  out.Gauge(
      "hookstream_ring_oldest_event_age_seconds",
      "How long ago the oldest held event was received (0 when empty): "
      "how far back a subscriber can resume.",
      info.oldest_log_time == absl::InfinitePast()
          ? 0
          : std::max(0.0, absl::ToDoubleSeconds(now - info.oldest_log_time)));
  out.Counter("hookstream_ring_evictions_total",
              "Events evicted from the ring to make room (by this process).",
              D(info.evicted_count));
  out.Gauge("hookstream_dedup_ids", "Event ids the dedup index remembers.",
            D(info.dedup_count));
}

void WriteSubscribers(Exposition& out, const MetricsSources& s,
                      const EventReader::Info& info) {
  const distribution::SubscriberRegistry& registry =
      s.distribution.subscribers();
  const distribution::SubscriberStats& stats = registry.stats();
  // Grouped by name, bounded: the worst (largest) lag of each group.
  struct Group {
    uint64_t streams = 0;
    uint64_t lag_events = 0;
    double lag_seconds = 0;
  };
  std::map<std::string, Group> groups;
  std::vector<distribution::SubscriberSnapshot> list = registry.List();
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return a.connected_at < b.connected_at;  // the first names keep theirs
  });
  for (const distribution::SubscriberSnapshot& snap : list) {
    const v1::Subscriber sub = distribution::ToSubscriberProto(
        snap, s.reader, info.head_sequence, s.now);
    std::string name = snap.name.empty() ? "unnamed" : snap.name;
    if (!groups.contains(name) && groups.size() >= kMaxSubscriberSeries) {
      name = "other";
    }
    Group& g = groups[name];
    ++g.streams;
    g.lag_events = std::max<uint64_t>(g.lag_events, sub.lag_events());
    g.lag_seconds =
        std::max(g.lag_seconds, sub.lag().seconds() + sub.lag().nanos() / 1e9);
  }
  out.Gauge("hookstream_subscribers", "Live Subscribe streams.",
            D(list.size()));
  out.Family("hookstream_subscriber_streams", MetricType::kGauge,
             "Live Subscribe streams by subscriber name (x-subscriber-name; "
             "\"unnamed\", and \"other\" past the first 20 names).");
  for (const auto& [name, g] : groups) {
    out.Sample("hookstream_subscriber_streams", {{"subscriber", name}},
               D(g.streams));
  }
  out.Family("hookstream_subscriber_lag_events", MetricType::kGauge,
             "Sequences appended after a subscriber's position (the largest "
             "among its streams).");
  for (const auto& [name, g] : groups) {
    out.Sample("hookstream_subscriber_lag_events", {{"subscriber", name}},
               D(g.lag_events));
  }
  out.Family("hookstream_subscriber_lag_seconds", MetricType::kGauge,
             "Age of the oldest event a subscriber has not been sent yet (the "
             "largest among its streams; 0 when caught up).");
  for (const auto& [name, g] : groups) {
    out.Sample("hookstream_subscriber_lag_seconds", {{"subscriber", name}},
               g.lag_seconds);
  }
  out.Counter("hookstream_subscriber_streams_started_total",
              "Subscribe streams that started delivering.",
              D(stats.streams_started.load()));
  out.Counter("hookstream_subscriber_events_sent_total",
              "Events sent to subscribers (each copy counted).",
              D(stats.events_sent.load()));
  out.Family("hookstream_subscriber_gaps_total", MetricType::kCounter,
             "Gaps: a subscriber's next event was evicted or its epoch "
             "changed; resumed (Gap message, GAP_POLICY_RESUME_FROM_OLDEST) "
             "or ended (the stream failed, GAP_POLICY_FAIL).");
  out.Sample("hookstream_subscriber_gaps_total", {{"outcome", "resumed"}},
             D(stats.gaps_sent.load()));
  out.Sample("hookstream_subscriber_gaps_total", {{"outcome", "ended"}},
             D(stats.gaps_ended.load()));
  out.Family("hookstream_subscriber_stream_ends_total", MetricType::kCounter,
             "Subscribe streams ended, by gRPC status code.");
  for (size_t code = 0; code < stats.ended_by_code.size(); ++code) {
    const uint64_t n = stats.ended_by_code[code].load();
    if (n == 0) continue;
    out.Sample("hookstream_subscriber_stream_ends_total",
               {{"grpc_code", distribution::kGrpcCodeNames[code]}}, D(n));
  }
  out.Family("hookstream_subscriber_delivery_latency_seconds",
             MetricType::kHistogram,
             "From an event's receipt to the start of the write that sends it "
             "to a subscriber (each copy).");
  stats.delivery_latency.Write(
      out, "hookstream_subscriber_delivery_latency_seconds", {});
}

void WriteJournal(Exposition& out, const journal::Journal& journal) {
  const journal::JournalStats& j = journal.stats();
  out.Counter("hookstream_journal_records_total", "Records written.",
              D(j.records_written.load()));
  out.Counter("hookstream_journal_written_bytes_total", "Bytes written.",
              D(j.bytes_written.load()));
  out.Counter("hookstream_journal_batches_total",
              "Group-commit batches written.", D(j.batches.load()));
  out.Counter("hookstream_journal_fsyncs_total", "fdatasync calls.",
              D(j.fsyncs.load()));
  out.Counter("hookstream_journal_fsync_seconds_total",
              "Time spent in fdatasync (rate / rate of fsyncs = mean "
              "latency).",
              D(j.fsync_nanos_total.load()) / 1e9);
  out.Gauge("hookstream_journal_fsync_max_seconds",
            "The longest fdatasync so far.", D(j.fsync_nanos_max.load()) / 1e9);
  out.Counter("hookstream_journal_disk_full_failures_total",
              "Writes refused for lack of space (ENOSPC).",
              D(j.disk_full_failures.load()));
  out.Gauge("hookstream_journal_segments", "Segment files on disk.",
            D(j.segments.load()));
  out.Gauge("hookstream_journal_disk_bytes", "Bytes of segments on disk.",
            D(j.disk_bytes.load()));
}

// The replica against the stream: applied vs the stream's last sequence, the
// stream's state as the poller last read it (never read at scrape time: a
// scrape must not wait on NATS), and the publisher's results.
void WriteJetStream(Exposition& out, const jetstream::JetStreamBackend& js,
                    absl::Time now) {
  const uint64_t applied = js.applied_sequence();
  out.Gauge("hookstream_jetstream_applied_sequence",
            "The newest stream sequence this replica applied to its ring.",
            D(applied));
  out.Gauge("hookstream_jetstream_stream_last_sequence",
            "The stream's last sequence as this replica knows it (the "
            "newest of the last stream-info read, the follower's last "
            "delivery and this replica's own acks).",
            D(std::max(applied, js.known_stream_last_sequence())));
  const jetstream::StreamMonitor& monitor = js.monitor();
  const jetstream::StreamSnapshot s = monitor.Latest();
  out.Gauge("hookstream_jetstream_stream_first_sequence",
            "The stream's first stored sequence (last stream-info read).",
            D(s.first_sequence));
  out.Gauge("hookstream_jetstream_stream_messages",
            "Messages the stream stores (last stream-info read).",
            D(s.messages));
  out.Gauge("hookstream_jetstream_stream_bytes",
            "Bytes the stream stores (last stream-info read).", D(s.bytes));
  out.Gauge("hookstream_jetstream_stream_oldest_message_age_seconds",
            "Age of the oldest message the stream stores (0 when empty).",
            s.first_time == absl::InfinitePast()
                ? 0
                : std::max(0.0, absl::ToDoubleSeconds(now - s.first_time)));
  out.Gauge("hookstream_jetstream_dedup_window_seconds",
            "The stream's duplicate window (Nats-Msg-Id).",
            absl::ToDoubleSeconds(s.duplicate_window));
  out.Gauge("hookstream_jetstream_history_shorter_than_dedup_window",
            "1 when the stream dropped messages younger than its duplicate "
            "window: after a full cluster restart a late retry of one would "
            "be stored again.",
            jetstream::HistoryShorterThanDedupWindow(s, now) ? 1 : 0);
  out.Gauge("hookstream_jetstream_identity_differs",
            "1 when the stream's Description holds another epoch than this "
            "replica serves: restart the replicas.",
            s.identity_differs ? 1 : 0);
  out.Gauge(
      "hookstream_jetstream_stream_info_age_seconds",
      "Time since the last successful stream-info read (since the "
      "start when none succeeded yet).",
      std::max(0.0, absl::ToDoubleSeconds(
                        now - (s.valid ? s.read_at : monitor.started_at()))));
  out.Counter("hookstream_jetstream_stream_info_failures_total",
              "Stream-info reads that failed (no leader, no answer).",
              D(monitor.read_failures()));
  const jetstream::PublisherStats& p = js.publisher_stats();
  out.Family("hookstream_jetstream_publishes_total", MetricType::kCounter,
             "Events published, by JetStream's answer (failed: no ack by "
             "--nats_publish_timeout or refused; answered 503).");
  out.Sample("hookstream_jetstream_publishes_total", {{"result", "acked"}},
             D(p.published.load()));
  out.Sample("hookstream_jetstream_publishes_total", {{"result", "duplicate"}},
             D(p.duplicates.load()));
  out.Sample("hookstream_jetstream_publishes_total", {{"result", "failed"}},
             D(p.unavailable.load()));
  out.Counter("hookstream_jetstream_publish_retries_total",
              "Publishes sent again with the same Nats-Msg-Id (no ack in "
              "time, no leader, no connection).",
              D(p.retries.load()));
  out.Counter("hookstream_jetstream_acks_not_applied_total",
              "Acked publishes this replica had not applied by the "
              "request's deadline (answered 503; the retry is a duplicate).",
              D(p.unapplied.load()));
  const jetstream::FollowerStats& f = js.follower_stats();
  out.Counter("hookstream_jetstream_follower_applied_total",
              "Stream messages this replica's follower applied.",
              D(f.applied.load()));
  out.Counter("hookstream_jetstream_follower_skipped_total",
              "Stream messages skipped as not hookstream events.",
              D(f.skipped.load()));
}

void WriteReload(Exposition& out, const ReloadRegistry& reload) {
  out.Family("hookstream_config_reloads_total", MetricType::kCounter,
             "SIGHUP reloads, by result (a failed one keeps the previous "
             "configuration).");
  out.Sample("hookstream_config_reloads_total", {{"result", "success"}},
             D(reload.successes()));
  out.Sample("hookstream_config_reloads_total", {{"result", "failure"}},
             D(reload.failures()));
  out.Gauge("hookstream_config_last_reload_success_timestamp_seconds",
            "When the last successful reload finished (0: none yet).",
            Seconds(reload.last_success()));
}

}  // namespace

std::string RenderMetrics(const MetricsSources& s) {
  Exposition out;
  const EventReader::Info info = s.reader.GetInfo();
  WriteProcess(out, s);
  WriteIngress(out, s.ingress);
  WriteRing(out, info, s.now);
  WriteSubscribers(out, s, info);
  s.distribution.grpc_metrics().Write(out);
  if (s.journal != nullptr) WriteJournal(out, *s.journal);
  if (s.jetstream != nullptr) WriteJetStream(out, *s.jetstream, s.now);
  if (s.reload != nullptr) WriteReload(out, *s.reload);
  return out.Text();
}

}  // namespace hookstream
