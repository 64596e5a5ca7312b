// -----------------------------------------------------------------------------
// File: nats_support.h
// -----------------------------------------------------------------------------
// What the JetStream bench tools (bench_jetstream, bench_jetstream_publish)
// share: a connection with its JetStream context in the owning handles of
// common/jetstream/nats_handles.h, adding a stream, and one NATS_CHECK that
// reports a failed nats.c call and ends the tool.
//
// Example:
//   absl::StatusOr<NatsClient> client = ConnectJetStream(url, jo);
//   if (!client.ok()) return Fail(client.status());
//   NATS_CHECK(js_PublishAsync(client->js.get(), subject, data, n, nullptr));
//
// Thread-safety: functions, no state; a NatsClient follows nats.c's rules.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/jetstream/nats_handles.h"
#include "nats/nats.h"

namespace hookstream::bench {

// A connection and its JetStream context. Destroyed context first, then
// connection (nats.c's order): the members are declared the other way.
struct NatsClient {
  jetstream::ConnectionPtr nc;
  jetstream::JsPtr js;

  // Ends both now, in nats.c's order.
  void Reset() {
    js.reset();
    nc.reset();
  }
};

// Prints "<tool>: <status>" to stderr; returns 1, the tools' exit status.
int Fail(const absl::Status& status);

// Fail() for nats.c's status `s` of `what`, with its last error text.
int NatsFailure(absl::string_view what, natsStatus s);

// Returns NatsFailure(...) from the enclosing int function when `expr` (a
// nats.c call) is not NATS_OK.
#define NATS_CHECK(expr)                                                 \
  do {                                                                   \
    const natsStatus nats_check_status = (expr);                         \
    if (nats_check_status != NATS_OK) {                                  \
      return ::hookstream::bench::NatsFailure(#expr, nats_check_status); \
    }                                                                    \
  } while (0)

// Connects to `url` and makes its JetStream context with `options`.
// `pooled`: the connection's subscriptions are delivered by libnats' shared
// pool of threads rather than one thread each (thousands of consumers).
absl::StatusOr<NatsClient> ConnectJetStream(const std::string& url,
                                            jsOptions options,
                                            bool pooled = false);

// Adds the stream `config` describes (an existing one with the same config
// is fine).
absl::Status AddStream(jsCtx* js, const jsStreamConfig& config);

}  // namespace hookstream::bench
