// -----------------------------------------------------------------------------
// File: connection.h
// -----------------------------------------------------------------------------
// How a client reaches hookstream-server's gRPC port: the target, TLS (server
// CA, optional client certificate for mTLS) and a bearer token, settable in
// code, from flags, and from the environment. One place parses targets,
// including failover lists.
//
// Example:
//   absl::StatusOr<ConnectionOptions> conn =
//       ConnectionOptionsFromEnvironment();  // HOOKSTREAM_TARGET, …
//   absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
//       CreateChannel(*conn);
//   grpc::ClientContext context;
//   AddCallCredentials(*conn, context);  // authorization: Bearer <token>
//
// Environment variables (ConnectionOptionsFromEnvironment; unset or empty =
// keep the value):
//   HOOKSTREAM_TARGET   host:port
//   HOOKSTREAM_TLS      1/true/yes or 0/false/no
//   HOOKSTREAM_CACERT   PEM file of the CA(s) the server must chain to
//   HOOKSTREAM_CERT     PEM client certificate (mTLS), with HOOKSTREAM_KEY
//   HOOKSTREAM_KEY      PEM private key of HOOKSTREAM_CERT
//   HOOKSTREAM_TOKEN    bearer token
//
// Targets: one, or a comma-separated failover list of replicas
// (SplitTargets); the Subscriber moves to the next one on each reconnect.
//
// Rules (Validate): a CA file or a client certificate implies TLS; a
// certificate needs its key and the other way round; a bearer token travels
// only over TLS or to a loopback address (anything else would put it on the
// network in clear text).
//
// Thread-safety: a plain value; the functions are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/channel_arguments.h"

namespace hookstream {

// The largest message a channel made here accepts by default: gRPC's own
// default, 4 MiB. The server keeps every message under it with its default
// limits: an event's stored encoding is at most --max_event_bytes
// (4 MiB - 64 KiB, refused with 413 at the ingress otherwise), a Subscribe
// batch or a ListEvents page holds more than one event only while it stays
// within 1 MiB / 3 MiB. A server run with a larger --max_event_bytes needs
// clients with a larger `max_receive_message_bytes` (docs/clients.md,
// "Message size").
inline constexpr int kMaxReceiveMessageBytes = 4 << 20;

struct ConnectionOptions {
  // host:port, [ipv6]:port, or a gRPC URI (dns:///host:port).
  std::string target = "127.0.0.1:50051";
  // Speak TLS. Also implied by ca_file and cert_file.
  bool tls = false;
  // PEM CA certificates the server's certificate must chain to; empty: the
  // system's trust store.
  std::string ca_file = {};
  // PEM client certificate chain and its private key (mutual TLS).
  std::string cert_file = {};
  std::string key_file = {};
  // Sent as `authorization: Bearer <token>` with every call; empty: none.
  std::string token = {};
  // The name the server's certificate must carry, when it differs from the
  // target's host (e.g. connecting by IP to a certificate for a DNS name).
  std::string tls_server_name = {};
  // The largest message accepted (RESOURCE_EXHAUSTED above it).
  int max_receive_message_bytes = kMaxReceiveMessageBytes;

  // TLS in effect (tls, or implied by a CA file or a client certificate).
  bool UsesTls() const { return tls || !ca_file.empty() || !cert_file.empty(); }
};

// `defaults` with the HOOKSTREAM_* variables above applied over it.
// INVALID_ARGUMENT for an unreadable HOOKSTREAM_TLS value.
absl::StatusOr<ConnectionOptions> ConnectionOptionsFromEnvironment(
    ConnectionOptions defaults = {});

// The targets of a failover list: "10.0.0.1:50051,10.0.0.2:50051" is two
// (replicas of one stream). A gRPC URI (dns:///…, ipv4:a,b, ipv6:…) is one
// target, handed to gRPC as it is. Empty parts are kept (Validate refuses
// them).
std::vector<std::string> SplitTargets(absl::string_view target);

// The host part of a target ("127.0.0.1" for "127.0.0.1:50051", "::1" for
// "[::1]:50051", "example.com" for "dns:///example.com:443").
std::string TargetHost(absl::string_view target);

// Whether `target` names a loopback address by IP literal (127.0.0.0/8,
// ::1); a host name, even "localhost", does not count.
bool IsLoopbackTarget(absl::string_view target);

// INVALID_ARGUMENT naming the first rule above that `options` breaks.
absl::Status Validate(const ConnectionOptions& options);

// A channel with `options`' credentials (certificate files are read here:
// NOT_FOUND names an unreadable one), accepting messages up to
// `options.max_receive_message_bytes`. `args` are passed on. A failover
// list (SplitTargets) is INVALID_ARGUMENT here: see CreateChannels.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ConnectionOptions& options,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

// One channel per target of `options.target` (a failover list or one
// target), in order, each checking its own target's certificate name.
absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> CreateChannels(
    const ConnectionOptions& options,
    const grpc::ChannelArguments& args = grpc::ChannelArguments());

// Adds the bearer token (if any) to a call's metadata.
void AddCallCredentials(const ConnectionOptions& options,
                        grpc::ClientContext& context);

// "127.0.0.1:50051 (TLS, client certificate, token)": for messages.
std::string Describe(const ConnectionOptions& options);

}  // namespace hookstream
