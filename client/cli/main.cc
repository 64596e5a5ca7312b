// `hookstream`: the command-line client of hookstream-server.
//   hookstream tail [--from oldest|latest|seq:N|id:evt_…|time:RFC3339] …
//   hookstream list | get | info | subscribers
//   hookstream send FILE… | trigger TYPE…
//   hookstream help [COMMAND]
// See docs/client.md for every flag and the exit codes.
#include <csignal>
#include <iostream>
#include <vector>

#include "client/cli/cli_common.h"
#include "client/cli/command_line.h"
#include "client/cli/commands.h"
#include "curl/curl.h"
#include "grpc/grpc.h"

int main(int argc, char** argv) {
  using namespace hookstream::cli;  // NOLINT: one function
  // A reader that goes away (`hookstream tail | head`) ends us quietly.
  std::signal(SIGPIPE, SIG_DFL);
  const std::vector<Command> commands = {
      TailCommand(),        ListCommand(),    GetCommand(),  InfoCommand(),
      SubscribersCommand(), TriggerCommand(), SendCommand(),
  };
  absl::StatusOr<ParsedCommandLine> parsed =
      ParseCommandLine(argc, argv, commands);
  if (!parsed.ok()) {
    std::cerr << "hookstream: " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed->help) {
    std::cout << (parsed->command == nullptr ? OverviewHelp(commands)
                                             : CommandHelp(*parsed->command));
    return kExitOk;
  }
  if (parsed->command == nullptr) {
    std::cerr << OverviewHelp(commands);
    return kExitUsage;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  // gRPC's last shutdown otherwise finishes on a detached thread, racing the
  // exit: a connection attempt still in flight (a failover replica that
  // never answered) is then never freed. Holding a reference for the
  // command and releasing it blocking waits for that teardown.
  grpc_init();
  const int code = parsed->command->run(*parsed);
  grpc_shutdown_blocking();
  curl_global_cleanup();
  return code;
}
