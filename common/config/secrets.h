// -----------------------------------------------------------------------------
// File: secrets.h
// -----------------------------------------------------------------------------
// Loads webhook signing secrets from a file or an environment variable, never
// from a command-line argument (argv is visible to every user through `ps`).
// Several secrets may be active at once so that a secret can be rotated
// without downtime; each has a label that logs and metrics report when it
// matches, so one can tell when an old secret is no longer used.
//
// Entry syntax (the same in a file and in the variable):
//   <secret>            labelled by its position: "secret1", "secret2", ...
//   <label>:<secret>    label = [A-Za-z0-9_.-]{1,64}
// An entry containing a ':' is always read as `label:secret`, so a secret
// that itself contains ':' must be given a label. Hex, base64 and `whsec_`
// secrets never contain ':'. Surrounding whitespace is trimmed.
//
// File: one entry per line; blank lines and lines starting with '#' are
// ignored. A file readable or writable by group or others is refused (chmod
// 600 it), unless `allow_shared_mode` (development only: then a warning).
// Environment variable: comma-separated entries; the variable is removed
// from the environment once read, so child processes and /proc/PID/environ
// of later threads do not carry it.
//
// A secret shorter than kMinSecretBytes is refused: HMAC with a guessable
// key authenticates nothing.
//
// Example:
//   // /etc/hookstream/gettrx.secrets
//   //   # rotated 2026-11-28; drop "old" once its counter stays at 0
//   //   new:8a0f...c3
//   //   old:5b1e...77
//   ASSIGN_OR_RETURN(std::vector<Secret> secrets,
//                    LoadSecretsFromFile("/etc/hookstream/gettrx.secrets"));
//
// Errors are one line and never contain secret text, nor a label (a secret
// written as `<secret>:` would be read as a label): NOT_FOUND (file or
// variable missing), INVALID_ARGUMENT (no secret, bad label, duplicate label,
// empty or short secret), FAILED_PRECONDITION (unreadable, too large, or
// group/world-accessible file).
//
// Thread-safety: the functions are thread-safe except that LoadSecretsFromEnv
// reads the environment (do not call setenv concurrently).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream {

inline constexpr size_t kMinSecretBytes = 16;

struct Secret {
  std::string label;
  std::string value;

  friend bool operator==(const Secret&, const Secret&) = default;
};

// Parses entries separated by `separator` ('\n' for files, ',' for the
// environment). `origin` names where the text came from, for error messages.
absl::StatusOr<std::vector<Secret>> ParseSecrets(absl::string_view text,
                                                 char separator,
                                                 absl::string_view origin);

struct SecretFileOptions {
  // Accept a file group or others may access (with a warning).
  bool allow_shared_mode = false;
};

// Reads and parses a secrets file (at most 1 MiB).
absl::StatusOr<std::vector<Secret>> LoadSecretsFromFile(
    const std::string& path, SecretFileOptions options = {});

// Parses the comma-separated entries of environment variable `name`, then
// removes the variable from the environment (also when they do not parse).
absl::StatusOr<std::vector<Secret>> LoadSecretsFromEnv(const std::string& name);

// True when the file's mode grants any permission to group or others.
absl::StatusOr<bool> IsAccessibleByOthers(const std::string& path);

}  // namespace hookstream
