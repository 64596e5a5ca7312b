// -----------------------------------------------------------------------------
// File: jetstream_options.h
// -----------------------------------------------------------------------------
// What the JetStream backend is told (server/storage.cc maps the --nats_*
// flags onto it). Defaults are for development (one node, R1); production
// runs R3 (docs/scale-out.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/ring/event_ring.h"

namespace hookstream::jetstream {

struct JetStreamOptions {
  // nats://HOST:PORT, one per cluster node (any one is enough to connect).
  std::vector<std::string> urls;
  // A NATS credentials file (user JWT + NKey seed), when the cluster wants one.
  std::string creds_file;
  // A CA bundle: connect with TLS and verify the servers against it.
  std::string tls_ca_file;
  // How long the start waits for the first connection.
  absl::Duration connect_timeout = absl::Seconds(5);
  // How long the start retries the stream's and the consumer's requests
  // while JetStream does not answer them (a cluster electing its leaders,
  // a node just lost).
  absl::Duration start_timeout = absl::Seconds(30);

  // The stream: created when missing, checked when present.
  std::string stream = "HOOKSTREAM";
  int replicas = 1;
  // JetStream's duplicate window (Nats-Msg-Id): a retry within it is a
  // duplicate. At least as long as the stream keeps messages for, see
  // docs/scale-out.md.
  absl::Duration duplicate_window = absl::Hours(72);
  // 0: as long as the duplicate window (never shorter).
  absl::Duration max_age = absl::ZeroDuration();
  // 0: unlimited (JetStream's -1).
  int64_t max_msgs = 0;
  int64_t max_bytes = 0;

  // How long an append keeps retrying (same message id) while JetStream has
  // no leader or does not answer, before it answers UNAVAILABLE (503).
  absl::Duration publish_timeout = absl::Seconds(10);
  // One attempt's wait for its PubAck, and the pause before the next one.
  absl::Duration attempt_timeout = absl::Seconds(2);
  absl::Duration retry_pause = absl::Milliseconds(250);

  // How often the stream's info (sequences, messages, bytes, the oldest
  // message) is read for /metrics, off every request path.
  absl::Duration stream_info_interval = absl::Seconds(10);

  // The largest event the ingress lets through (--max_event_bytes): the
  // servers' max_payload must hold it and its headers, or the start stops.
  size_t max_event_bytes = 0;

  // The replica's ring.
  EventRing::Options ring = {};
};

// The subjects hookstream publishes on: `hookstream.events.<source>.<type>`
// (the type keeps its dots, so `hookstream.events.gettrx.customer.>` works).
inline constexpr char kSubjectPrefix[] = "hookstream.events.";
inline constexpr char kStreamSubjects[] = "hookstream.events.>";
// Room for a message's headers (Nats-Msg-Id with an event id of up to
// --max_event_id_bytes, Nats-Expected-Stream) beside its payload.
inline constexpr size_t kHeaderAllowance = 4096;

}  // namespace hookstream::jetstream
