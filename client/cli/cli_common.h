// -----------------------------------------------------------------------------
// File: cli_common.h
// -----------------------------------------------------------------------------
// What the `hookstream` subcommands share: exit codes, the gRPC connection
// (--target, --tls, --cacert, --cert, --key, --token, each also from its
// HOOKSTREAM_* variable), the filter flags (--types, --accounts) with their
// checks, and error reporting on stderr.
//
// Thread-safety: called from the CLI's main thread, except Notice(), which
// may be called from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/command_line.h"
#include "client/connection.h"
#include "client/grpc_status.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream::cli {

// Exit codes, also documented in docs/client.md.
inline constexpr int kExitOk = 0;
// The server answered with an error, or could not be reached.
inline constexpr int kExitFailure = 1;
// Bad command line.
inline constexpr int kExitUsage = 2;
// `tail` ended because events were missed (a gap under --gap_policy=fail).
inline constexpr int kExitGap = 3;

// The flags every gRPC command takes (for Command::flags).
std::vector<std::string> ConnectionFlags();

// The connection the flags and environment ask for (flags win); a usage
// error (INVALID_ARGUMENT) names what is wrong.
absl::StatusOr<ConnectionOptions> ConnectionFromFlags(
    const ParsedCommandLine& command_line);

// The server the connection flags name, for unary calls.
struct ServerStub {
  ConnectionOptions connection;
  std::unique_ptr<v1::EventStream::Stub> stub;
};

// A stub for the connection the flags and environment ask for. On failure
// it prints why and sets `exit_code`: kExitUsage for a bad flag or
// variable, kExitFailure for an unreadable certificate.
std::optional<ServerStub> ConnectFromFlags(
    absl::string_view command, const ParsedCommandLine& command_line,
    int& exit_code);

// A context with the deadline of --timeout and the bearer token.
std::unique_ptr<grpc::ClientContext> MakeContext(
    const ConnectionOptions& connection);

// The filter of --types and --accounts. A pattern the server would refuse
// is a usage error; a type pattern that matches no documented GETTRX type,
// or an account that is not an `acm_…` id, prints a warning on stderr
// (events of undocumented types still flow, so it is not an error).
absl::StatusOr<v1::EventFilter> FilterFromFlags(absl::string_view command);

// Prints `hookstream <command>: <CODE>: <message>` on stderr.
void PrintError(absl::string_view command, const absl::Status& status);

// One unary call of `method` on `server` with a fresh MakeContext. On an
// error prints it (PrintError) and returns nullopt: the command exits with
// kExitFailure.
//   std::optional<v1::GetStreamInfoResponse> info = CallOnce(
//       "info", *server, &v1::EventStream::Stub::GetStreamInfo, request);
template <typename Request, typename Response>
std::optional<Response> CallOnce(
    absl::string_view command, const ServerStub& server,
    grpc::Status (v1::EventStream::Stub::*method)(grpc::ClientContext*,
                                                  const Request&, Response*),
    const Request& request) {
  const std::unique_ptr<grpc::ClientContext> context =
      MakeContext(server.connection);
  Response response;
  const absl::Status status = FromGrpcStatus(
      ((*server.stub).*method)(context.get(), request, &response));
  if (!status.ok()) {
    PrintError(command, status);
    return std::nullopt;
  }
  return response;
}

// For commands that take no positional argument: false (after a notice on
// stderr; exit with kExitUsage) if there is one.
bool NoArguments(absl::string_view command,
                 const ParsedCommandLine& command_line);

// Prints `hookstream <command>: <message>` on stderr, whole lines only, from
// any thread.
void Notice(absl::string_view command, absl::string_view message);

// Splits a comma-separated flag value, dropping empty parts.
std::vector<std::string> SplitList(absl::string_view value);

// A gRPC status code name, e.g. "NOT_FOUND".
std::string StatusCodeName(const absl::Status& status);

}  // namespace hookstream::cli
