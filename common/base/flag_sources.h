// -----------------------------------------------------------------------------
// File: flag_sources.h
// -----------------------------------------------------------------------------
// Every setting of a binary from three places, with one precedence:
//   command-line flag > environment HOOKSTREAM_<FLAG> > --config file > default
// The config file is Abseil's flagfile format: one `--name=value` per line
// (`--name` / `--noname` for booleans), blank lines and `#` comments
// ignored. The environment variable of flag `ring_max_events` is
// HOOKSTREAM_RING_MAX_EVENTS; variables that name no flag are ignored (the
// prefix is shared with other settings, e.g. HOOKSTREAM_SIGNING_SECRETS).
//
// Unlike absl::ParseCommandLine, a bad setting is one line naming it and
// where it came from, for the caller to print before exiting 2:
//   --ring_max_events (from HOOKSTREAM_RING_MAX_EVENTS): illegal value "x"
//
// Example:
//   absl::Status s = ApplyFlagSources(argc, argv, environ,
//                                     FlagsDefinedIn("server/main.cc"));
//   if (!s.ok()) { std::cerr << "hookstream-server: " << s.message(); return 2;
//   }
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

// Applies, in precedence order, the --config file named on the command line
// (or by HOOKSTREAM_CONFIG), the environment, and the command line to
// `flags` (only those may be set; `config` is the only other flag
// understood). INVALID_ARGUMENT naming the setting and its source on an
// unknown flag, a bad value, a positional argument or an unreadable file.
absl::Status ApplyFlagSources(
    int argc, char** argv, char** envp,
    absl::Span<const absl::CommandLineFlag* const> flags);

}  // namespace hookstream
