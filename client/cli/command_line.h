// -----------------------------------------------------------------------------
// File: command_line.h
// -----------------------------------------------------------------------------
// The `hookstream` command line: subcommands, each with its own flags, its
// own `--help`, and usage errors that exit 2. Flags are Abseil flags (typed
// values, defaults, help text in one place), but the parsing is ours:
// Abseil's ParseCommandLine exits 1 on a bad flag and its --help lists
// nothing for this binary, and it cannot tell which flags belong to which
// subcommand.
//
// Accepted forms: --name=value, --name value, -name…; booleans --name,
// --name=true|false, --noname; `--` ends the flags. Flags may come before
// or after the subcommand.
//
// Example:
//   absl::StatusOr<ParsedCommandLine> cl = ParseCommandLine(argc, argv,
//                                                           Commands());
//   if (!cl.ok()) { std::cerr << cl.status().message(); return kExitUsage; }
//
// Thread-safety: single-threaded, before the command runs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookstream::cli {

struct ParsedCommandLine;

struct Command {
  std::string name;
  // One line for the overview.
  std::string summary;
  // After "Usage: hookstream NAME", e.g. "[flags] FILE…".
  std::string usage;
  // Paragraphs for `hookstream help NAME`.
  std::string description;
  // The flags this command takes, in help order.
  std::vector<std::string> flags;
  // Runs with the parsed command line (its `args` are the positional
  // arguments after the name); returns the exit code.
  std::function<int(const ParsedCommandLine&)> run;
};

struct ParsedCommandLine {
  // Null: no command given (or `hookstream --help`).
  const Command* command = nullptr;
  std::vector<std::string> args;
  bool help = false;
  // Names of the flags given on the command line.
  std::vector<std::string> given;
};

// Parses and sets the flags. INVALID_ARGUMENT (a usage error) for an
// unknown command or flag, a flag the command does not take, a missing or
// bad value.
absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::Span<const Command> commands);

// Whether --name was given on the command line that was parsed.
bool FlagGiven(const ParsedCommandLine& parsed, absl::string_view name);

// The overview (`hookstream --help`) and one command's help.
std::string OverviewHelp(absl::Span<const Command> commands);
std::string CommandHelp(const Command& command);

}  // namespace hookstream::cli
