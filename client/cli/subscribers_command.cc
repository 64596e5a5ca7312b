// `hookstream subscribers`: the server's live subscriptions (ListSubscribers)
// as a table, one row each (name, peer, position, lag, events sent, filter,
// start), or as JSON with --format=json.
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/proto_json.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_DECLARE_FLAG(std::string, format);

namespace hookstream::cli {
namespace {

constexpr char kName[] = "subscribers";

std::string FilterText(const v1::EventFilter& filter) {
  if (filter.types().empty() && filter.accounts().empty()) return "all";
  std::string out;
  if (!filter.types().empty()) {
    absl::StrAppend(&out, "types=", absl::StrJoin(filter.types(), ","));
  }
  if (!filter.accounts().empty()) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    "accounts=", absl::StrJoin(filter.accounts(), ","));
  }
  return out;
}

void PrintTable(const v1::ListSubscribersResponse& response) {
  std::cout << absl::StrFormat("%-20s %-24s %10s %10s %9s %10s  %s\n", "NAME",
                               "PEER", "POSITION", "LAG", "LAG_AGE", "SENT",
                               "FILTER / START");
  for (const v1::Subscriber& s : response.subscribers()) {
    const double lag_s = s.lag().seconds() + s.lag().nanos() / 1e9;
    // A start waiting for the replica to catch up has no position yet.
    const std::string position =
        s.waiting() ? "waiting" : absl::StrCat(s.position());
    std::cout << absl::StrFormat(
        "%-20s %-24s %10s %10d %8.1fs %10d  %s / %s\n",
        s.name().empty() ? "-" : s.name(), s.peer(), position, s.lag_events(),
        lag_s, s.events_sent(), FilterText(s.filter()), s.start());
  }
  std::cout << response.subscribers_size() << " subscriber"
            << (response.subscribers_size() == 1 ? "" : "s") << ", head "
            << response.head_sequence() << ", epoch " << response.stream_epoch()
            << "\n";
}

int RunSubscribers(const ParsedCommandLine& command_line) {
  if (!NoArguments(kName, command_line)) return kExitUsage;
  const std::string format = absl::GetFlag(FLAGS_format);
  if (!format.empty() && format != "table" && format != "json") {
    Notice(kName, "--format: want table or json");
    return kExitUsage;
  }
  int exit_code = kExitOk;
  std::optional<ServerStub> server =
      ConnectFromFlags(kName, command_line, exit_code);
  if (!server.has_value()) return exit_code;
  const std::optional<v1::ListSubscribersResponse> response =
      CallOnce(kName, *server, &v1::EventStream::Stub::ListSubscribers,
               v1::ListSubscribersRequest());
  if (!response.has_value()) return kExitFailure;
  if (format == "json") {
    std::cout << ToJson(*response, {.indent = 2, .all_fields = true})
              << std::endl;
  } else {
    PrintTable(*response);
  }
  return kExitOk;
}

}  // namespace

Command SubscribersCommand() {
  Command c;
  c.name = kName;
  c.summary = "list the live subscriptions with their position and lag";
  c.usage = "[flags]";
  c.description =
      "Prints ListSubscribers: each live Subscribe stream's name (the "
      "x-subscriber-name header), peer, position, lag in events and in "
      "time, events sent, filter and start. --format=json prints the "
      "response as JSON.";
  c.flags = {"format", "timeout"};
  for (const std::string& f : ConnectionFlags()) c.flags.push_back(f);
  c.run = RunSubscribers;
  return c;
}

}  // namespace hookstream::cli
