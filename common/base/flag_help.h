// -----------------------------------------------------------------------------
// File: flag_help.h
// -----------------------------------------------------------------------------
// `--help` for our binaries. Abseil's own `--help` lists only flags defined
// in a file named after the binary (ours live in main.cc or in one file per
// subcommand, so it prints "No flags matched") and exits 1; a help request
// should list the flags with their defaults and exit 0.
//
// Example:
//   if (AsksForHelp(argc, argv)) {
//     std::cout << kUsage << "\n\nFlags:\n"
//               << FormatFlags(FlagsDefinedIn("server/main.cc"));
//     return 0;
//   }
//
// Thread-safety: call before starting threads (it reads the flag registry).
#pragma once

#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookstream {

// Whether argv (after argv[0], up to a "--") holds -h, --help, -help,
// --helpfull, --helpshort or --help=….
bool AsksForHelp(int argc, char** argv);

// The flags defined in source files whose path ends with `file_suffix`
// (e.g. "server/main.cc"), sorted by name.
std::vector<const absl::CommandLineFlag*> FlagsDefinedIn(
    absl::string_view file_suffix);

// One entry per flag, in the given order:
//   --name (default "value")
//       help text, wrapped at 80 columns
std::string FormatFlags(absl::Span<const absl::CommandLineFlag* const> flags);

}  // namespace hookstream
