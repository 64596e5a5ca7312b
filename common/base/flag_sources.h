// -----------------------------------------------------------------------------
// File: flag_sources.h
// -----------------------------------------------------------------------------
// Every setting of a binary from three places, with one precedence:
//   command-line flag > environment HOOKSTREAM_<FLAG> > --config file > default
// The flags stay Abseil flags, and the command line stays Abseil's
// (absl::ParseCommandLine runs after this, so `--name value`, --flagfile
// and --fromenv work as Abseil documents). What this adds, through Abseil's
// flag reflection (absl::FindCommandLineFlag, CommandLineFlag::ParseFrom):
//   - the --config file, Abseil's flagfile format: one `--name=value` per
//     line (`--name` / `--noname` for booleans), blank lines and `#`
//     comments ignored; named by --config=FILE or $HOOKSTREAM_CONFIG;
//   - the environment: flag `ring_max_events` is HOOKSTREAM_RING_MAX_EVENTS;
//     variables that name no flag are ignored (the prefix is shared with
//     other settings, e.g. HOOKSTREAM_SIGNING_SECRETS);
//   - a check of the command line before Abseil parses it, because
//     ParseCommandLine exits 1 on a bad value or an unknown flag while a
//     usage error exits 2 with one line naming the setting and its source:
//       --ring_max_events (from HOOKSTREAM_RING_MAX_EVENTS): illegal value "x"
//
// Example:
//   absl::Status s = ApplyFlagSources(argc, argv, environ,
//                                     FlagsDefinedIn("server/main.cc"));
//   if (!s.ok()) { std::cerr << "hookstream-server: " << s.message(); return 2;
//   }
//   absl::ParseCommandLine(argc, argv);
//
// Thread-safety: call once, before starting threads (it sets flags).
#pragma once

#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hookstream {

// The environment variable that sets `flag_name`.
std::string EnvNameOf(absl::string_view flag_name);

// Applies the --config file named on the command line (or by
// HOOKSTREAM_CONFIG), then the environment, to `flags` (only those may be
// set from the file and the environment), and checks the command line (its
// values are set too; absl::ParseCommandLine sets them again). INVALID_ARGUMENT
// naming the setting and its source on an unknown flag, a bad or missing
// value, a positional argument or an unreadable file.
absl::Status ApplyFlagSources(
    int argc, char** argv, char** envp,
    absl::Span<const absl::CommandLineFlag* const> flags);

}  // namespace hookstream
