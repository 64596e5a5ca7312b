// -----------------------------------------------------------------------------
// File: cli_common.h
// -----------------------------------------------------------------------------
// What the `hookstream` subcommands share: exit codes, the gRPC channel to
// --target, JSON printing, and error reporting on stderr.
//
// Thread-safety: called from the CLI's main thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"

namespace hookstream::cli {

// Exit codes, also documented in docs/client.md.
inline constexpr int kExitOk = 0;
// The server answered with an error, or could not be reached.
inline constexpr int kExitFailure = 1;
// Bad command line.
inline constexpr int kExitUsage = 2;
// `tail` ended because events were missed (a gap under --gap_policy=fail).
inline constexpr int kExitGap = 3;

// A channel to the --target flag's address (plaintext: the development
// server serves gRPC in plaintext on loopback).
std::shared_ptr<grpc::Channel> MakeChannel();

// One-line JSON with the proto field names (`stream_epoch`, not
// `streamEpoch`). `all_fields`: also print fields at their default value.
std::string ToJson(const google::protobuf::Message& message,
                   bool all_fields = false);

// Prints `hookstream <command>: <status>` on stderr.
void PrintError(absl::string_view command, const absl::Status& status);

// Splits a comma-separated flag value, dropping empty parts.
std::vector<std::string> SplitList(absl::string_view value);

// A gRPC status code name, e.g. "NOT_FOUND".
std::string StatusCodeName(const absl::Status& status);

}  // namespace hookstream::cli
