// -----------------------------------------------------------------------------
// File: commands.h
// -----------------------------------------------------------------------------
// The `hookstream` subcommands, one per file (tail_command.cc, …). Each takes
// the positional arguments after its name (flags are already parsed) and
// returns the process exit code (cli_common.h).
#pragma once

#include <string>
#include <vector>

namespace hookstream::cli {

int RunTail(const std::vector<std::string>& args);
int RunSend(const std::vector<std::string>& args);
int RunGet(const std::vector<std::string>& args);
int RunInfo(const std::vector<std::string>& args);

}  // namespace hookstream::cli
