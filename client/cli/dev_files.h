// -----------------------------------------------------------------------------
// File: dev_files.h
// -----------------------------------------------------------------------------
// Where the development server's files live, found from any directory:
// `make run` (scripts/run-dev.sh) writes its self-signed certificate
// (tls.crt) and signing secret (signing-secret) into
//   $HOOKSTREAM_DEV_DIR, else $XDG_CONFIG_HOME/hookstream/dev,
//   else $HOME/.config/hookstream/dev
// and `hookstream send`/`trigger` default to them.
//
// Thread-safety: reads the environment; call from the main thread.
#pragma once

#include <string>

namespace hookstream::cli {

// The directory above (not necessarily existing); empty when neither
// HOOKSTREAM_DEV_DIR, XDG_CONFIG_HOME nor HOME is set.
std::string DevDir();

// DevDir() + "/" + name if that file exists, else "".
std::string DevFile(const std::string& name);

}  // namespace hookstream::cli
