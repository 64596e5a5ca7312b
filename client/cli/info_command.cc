// `hookstream info`: prints GetStreamInfo as indented JSON (every field,
// zeros too).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/proto_json.h"
#include "client/grpc_status.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream::cli {
namespace {

constexpr char kName[] = "info";

int RunInfo(const ParsedCommandLine& command_line) {
  if (!command_line.args.empty()) {
    Notice(kName,
           absl::StrCat("unexpected argument '", command_line.args[0], "'"));
    return kExitUsage;
  }
  absl::StatusOr<ConnectionOptions> connection =
      ConnectionFromFlags(command_line);
  if (!connection.ok()) {
    Notice(kName, connection.status().message());
    return kExitUsage;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeChannel(*connection);
  if (!channel.ok()) {
    PrintError(kName, channel.status());
    return kExitFailure;
  }
  std::unique_ptr<grpc::ClientContext> context = MakeContext(*connection);
  v1::GetStreamInfoResponse response;
  const absl::Status status =
      FromGrpcStatus(v1::EventStream::NewStub(*channel)->GetStreamInfo(
          context.get(), v1::GetStreamInfoRequest(), &response));
  if (!status.ok()) {
    PrintError(kName, status);
    return kExitFailure;
  }
  std::cout << ToJson(response, {.indent = 2, .all_fields = true}) << std::endl;
  return kExitOk;
}

}  // namespace

Command InfoCommand() {
  Command c;
  c.name = "info";
  c.summary = "print the stream's state (epoch, bounds, sizes, subscribers)";
  c.usage = "[flags]";
  c.description = "Prints GetStreamInfo as indented JSON, every field.";
  c.flags = {"timeout"};
  for (const std::string& f : ConnectionFlags()) c.flags.push_back(f);
  c.run = RunInfo;
  return c;
}

}  // namespace hookstream::cli
