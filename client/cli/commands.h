// -----------------------------------------------------------------------------
// File: commands.h
// -----------------------------------------------------------------------------
// The `hookstream` subcommands, one per file (tail_command.cc, …): each
// returns its Command (name, help, flags, and the function that runs it and
// returns the process exit code, cli_common.h).
#pragma once

#include "client/cli/command_line.h"

namespace hookstream::cli {

Command TailCommand();
Command ListCommand();
Command GetCommand();
Command InfoCommand();
Command SendCommand();
Command TriggerCommand();
Command SubscribersCommand();

}  // namespace hookstream::cli
