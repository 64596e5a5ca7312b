// `hookstream info`: prints GetStreamInfo as indented JSON (every field,
// zeros too).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/proto_json.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream::cli {
namespace {

constexpr char kName[] = "info";

int RunInfo(const ParsedCommandLine& command_line) {
  if (!NoArguments(kName, command_line)) return kExitUsage;
  int exit_code = kExitOk;
  std::optional<ServerStub> server =
      ConnectFromFlags(kName, command_line, exit_code);
  if (!server.has_value()) return exit_code;
  const std::optional<v1::GetStreamInfoResponse> response =
      CallOnce(kName, *server, &v1::EventStream::Stub::GetStreamInfo,
               v1::GetStreamInfoRequest());
  if (!response.has_value()) return kExitFailure;
  std::cout << ToJson(*response, {.indent = 2, .all_fields = true})
            << std::endl;
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
