// `hookstream`: the command-line client of hookstream-server.
//   hookstream tail [--from oldest|latest|seq:N|id:evt_…|time:RFC3339] …
//   hookstream send FILE…
//   hookstream get --seq N | --id evt_…
//   hookstream info
// See docs/client.md for every flag and the exit codes.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"

namespace {

constexpr char kUsage[] =
    "the hookstream command-line client.\n"
    "\n"
    "  hookstream tail [--from oldest|latest|seq:N|id:evt_…|time:RFC3339]\n"
    "                  [--types t1,t2] [--accounts a1,a2] [--raw]\n"
    "                  [--max_events N] [--gap_policy fail|resume]\n"
    "      print events as JSON lines as they arrive (resumes across\n"
    "      reconnects; exit 3 when events were missed)\n"
    "  hookstream send FILE…   sign each file with the signing secret and\n"
    "      POST it to the ingress; print the HTTP status and answer\n"
    "  hookstream get --seq N | --id evt_…   print one event\n"
    "  hookstream info         print the stream's state\n"
    "\n"
    "Common flag: --target host:port (gRPC, default 127.0.0.1:50051).\n"
    "Exit codes: 0 ok, 1 server error or unreachable, 2 usage, 3 gap.";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    std::cerr << "hookstream: " << kUsage << "\n";
    return hookstream::cli::kExitUsage;
  }
  const std::string command = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  if (command == "tail") return hookstream::cli::RunTail(args);
  if (command == "send") return hookstream::cli::RunSend(args);
  if (command == "get") return hookstream::cli::RunGet(args);
  if (command == "info") return hookstream::cli::RunInfo(args);
  std::cerr << "hookstream: unknown command '" << command
            << "' (tail, send, get, info; --help for more)\n";
  return hookstream::cli::kExitUsage;
}
