// `hookstream get --seq N | --id evt_… | N | evt_…`: prints one event as
// indented JSON, its raw webhook body (raw_json) as JSON too.
#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/proto_json.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_FLAG(uint64_t, seq, 0, "the event's sequence");
ABSL_FLAG(std::string, id, "", "the event's provider id (evt_…)");

namespace hookstream::cli {
namespace {

constexpr char kName[] = "get";

int RunGet(const ParsedCommandLine& command_line) {
  uint64_t seq = absl::GetFlag(FLAGS_seq);
  std::string id = absl::GetFlag(FLAGS_id);
  for (const std::string& arg : command_line.args) {
    uint64_t n = 0;
    if (absl::StartsWith(arg, "evt_") && id.empty()) {
      id = arg;
    } else if (absl::SimpleAtoi(arg, &n) && n > 0 && seq == 0) {
      seq = n;
    } else {
      Notice(kName, absl::StrCat("unexpected argument '", arg,
                                 "' (a sequence or an evt_… id)"));
      return kExitUsage;
    }
  }
  if ((seq == 0) == id.empty()) {
    Notice(kName, "give exactly one of --seq N or --id evt_…");
    return kExitUsage;
  }
  int exit_code = kExitOk;
  std::optional<ServerStub> server =
      ConnectFromFlags(kName, command_line, exit_code);
  if (!server.has_value()) return exit_code;
  v1::GetEventRequest request;
  if (seq != 0) {
    request.set_sequence(seq);
  } else {
    request.set_event_id(id);
  }
  const std::optional<v1::GetEventResponse> response =
      CallOnce(kName, *server, &v1::EventStream::Stub::GetEvent, request);
  if (!response.has_value()) return kExitFailure;
  std::cout << ToJson(response->event(), {.indent = 2}) << std::endl;
  return kExitOk;
}

}  // namespace

Command GetCommand() {
  Command c;
  c.name = "get";
  c.summary = "print one event, with its raw webhook body";
  c.usage = "[flags] (--seq N | --id evt_… | N | evt_…)";
  c.description =
      "Prints one held event as indented JSON: the typed fields, and the\n"
      "webhook body exactly as received (raw_json) as JSON. 64-bit numbers\n"
      "are JSON numbers.";
  c.flags = {"seq", "id", "timeout"};
  for (const std::string& f : ConnectionFlags()) c.flags.push_back(f);
  c.run = RunGet;
  return c;
}

}  // namespace hookstream::cli
