#include "client/cli/cli_common.h"

#include <unistd.h>

#include <iostream>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/cli/samples.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "gRPC address of hookstream-server (host:port), or replicas of "
          "one stream, comma-separated (tail moves to the next on each "
          "reconnect; the other commands ask the first that connects); also "
          "$HOOKSTREAM_TARGET");
ABSL_FLAG(bool, tls, false,
          "speak TLS to the gRPC port (implied by --cacert, --cert); also "
          "$HOOKSTREAM_TLS=1");
ABSL_FLAG(std::string, cacert, "",
          "PEM CA certificate(s) the server's certificate must chain to "
          "(gRPC with TLS; for send/trigger the ingress); empty = the "
          "system's trust store; also $HOOKSTREAM_CACERT");
ABSL_FLAG(std::string, cert, "",
          "PEM client certificate for mutual TLS, with --key; also "
          "$HOOKSTREAM_CERT");
ABSL_FLAG(std::string, key, "",
          "PEM private key of --cert; also $HOOKSTREAM_KEY");
ABSL_FLAG(std::string, token, "",
          "bearer token sent as `authorization: Bearer …` (only over TLS or "
          "to loopback); better from $HOOKSTREAM_TOKEN, which `ps` does not "
          "show");
ABSL_FLAG(int, max_message_bytes, hookstream::kMaxReceiveMessageBytes,
          "largest gRPC message accepted (at least 1 MiB); the default "
          "(4 MiB) fits every event of a server with the default "
          "--max_event_bytes; raise it with the server's");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "how long to wait for an answer");
ABSL_FLAG(std::string, types, "",
          "comma-separated event types: exact (customer.created), prefix "
          "(customer.*) or *; empty = all");
ABSL_FLAG(std::string, accounts, "",
          "comma-separated merchant accounts (acm_…); empty = all");

namespace hookstream::cli {
namespace {

// A type pattern as the server accepts it: exact, `prefix.*`, or `*`.
bool ValidPattern(absl::string_view p) {
  if (p == "*") return true;
  absl::string_view stem = p;
  absl::ConsumeSuffix(&stem, ".*");
  return !stem.empty() && !absl::StrContains(stem, '*');
}

bool Matches(absl::string_view pattern, absl::string_view type) {
  if (pattern == "*") return true;
  if (absl::ConsumeSuffix(&pattern, "*")) {  // "customer." prefix
    return absl::StartsWith(type, pattern);
  }
  return pattern == type;
}

}  // namespace

std::vector<std::string> ConnectionFlags() {
  return {"target", "tls",   "cacert",           "cert",
          "key",    "token", "max_message_bytes"};
}

absl::StatusOr<ConnectionOptions> ConnectionFromFlags(
    const ParsedCommandLine& command_line) {
  absl::StatusOr<ConnectionOptions> c = ConnectionOptionsFromEnvironment();
  if (!c.ok()) return c.status();
  if (FlagGiven(command_line, "target"))
    c->target = absl::GetFlag(FLAGS_target);
  if (FlagGiven(command_line, "tls")) c->tls = absl::GetFlag(FLAGS_tls);
  if (FlagGiven(command_line, "cacert"))
    c->ca_file = absl::GetFlag(FLAGS_cacert);
  if (FlagGiven(command_line, "cert")) c->cert_file = absl::GetFlag(FLAGS_cert);
  if (FlagGiven(command_line, "key")) c->key_file = absl::GetFlag(FLAGS_key);
  if (FlagGiven(command_line, "token")) c->token = absl::GetFlag(FLAGS_token);
  if (FlagGiven(command_line, "max_message_bytes")) {
    c->max_receive_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  }
  if (absl::Status s = Validate(*c); !s.ok()) return s;
  return c;
}

std::optional<ServerStub> ConnectFromFlags(
    absl::string_view command, const ParsedCommandLine& command_line,
    int& exit_code) {
  absl::StatusOr<ConnectionOptions> connection =
      ConnectionFromFlags(command_line);
  if (!connection.ok()) {
    Notice(command, connection.status().message());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      CreateChannels(*connection);
  if (!channels.ok()) {
    PrintError(command, channels.status());
    exit_code = kExitFailure;
    return std::nullopt;
  }
  // A failover list: the first replica that connects within the timeout
  // answers (the first one, and its error, if none does).
  const std::vector<std::string> targets = SplitTargets(connection->target);
  size_t chosen = 0;
  if (channels->size() > 1) {
    const absl::Duration each =
        absl::GetFlag(FLAGS_timeout) / static_cast<int64_t>(channels->size());
    for (size_t i = 0; i < channels->size(); ++i) {
      if ((*channels)[i]->WaitForConnected(
              absl::ToChronoTime(absl::Now() + each))) {
        chosen = i;
        break;
      }
    }
    connection->target = targets[chosen];
  }
  return ServerStub{*std::move(connection),
                    v1::EventStream::NewStub((*channels)[chosen])};
}

std::unique_ptr<grpc::ClientContext> MakeContext(
    const ConnectionOptions& connection) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  AddCallCredentials(connection, *context);
  return context;
}

absl::StatusOr<v1::EventFilter> FilterFromFlags(absl::string_view command) {
  v1::EventFilter filter;
  const std::vector<std::string> known = KnownEventTypes();
  for (std::string& t : SplitList(absl::GetFlag(FLAGS_types))) {
    if (!ValidPattern(t)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--types: '", t,
          "' is not a type pattern (exact like customer.created, a prefix "
          "like customer.*, or *)"));
    }
    if (absl::c_none_of(known,
                        [&](const std::string& k) { return Matches(t, k); })) {
      Notice(command,
             absl::StrCat("warning: --types ", t,
                          " matches none of the documented GETTRX types (",
                          absl::StrJoin(known, ", "),
                          "); events of other types still arrive if the "
                          "server receives them"));
    }
    filter.add_types(std::move(t));
  }
  for (std::string& a : SplitList(absl::GetFlag(FLAGS_accounts))) {
    if (!absl::StartsWith(a, "acm_")) {
      Notice(command, absl::StrCat("warning: --accounts ", a,
                                   " is not a GETTRX account id (acm_…), so "
                                   "it will likely match nothing"));
    }
    filter.add_accounts(std::move(a));
  }
  return filter;
}

void PrintError(absl::string_view command, const absl::Status& status) {
  Notice(command, absl::StrCat(StatusCodeName(status), ": ", status.message()));
}

bool NoArguments(absl::string_view command,
                 const ParsedCommandLine& command_line) {
  if (command_line.args.empty()) return true;
  Notice(command,
         absl::StrCat("unexpected argument '", command_line.args[0], "'"));
  return false;
}

void Notice(absl::string_view command, absl::string_view message) {
  static absl::Mutex mu;
  const std::string line =
      absl::StrCat("hookstream ", command, ": ", message, "\n");
  absl::MutexLock lock(&mu);
  std::cerr << line << std::flush;
}

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, ',', absl::SkipWhitespace());
}

std::string StatusCodeName(const absl::Status& status) {
  // absl spells them "NOT_FOUND" too, which is also gRPC's spelling.
  return absl::StatusCodeToString(status.code());
}

}  // namespace hookstream::cli
