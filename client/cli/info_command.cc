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
  int exit_code = kExitOk;
  std::optional<ServerStub> server =
      ConnectFromFlags(kName, command_line, exit_code);
  if (!server.has_value()) return exit_code;
  std::unique_ptr<grpc::ClientContext> context =
      MakeContext(server->connection);
  v1::GetStreamInfoResponse response;
  const absl::Status status = FromGrpcStatus(server->stub->GetStreamInfo(
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
