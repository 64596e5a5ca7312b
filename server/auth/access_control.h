// -----------------------------------------------------------------------------
// File: access_control.h
// -----------------------------------------------------------------------------
// AccessControl answers "who is this caller?" for the gRPC port, from its
// bearer token or its (TLS-verified) client certificate subject, against the
// current AccessPolicy; it also records every access decision (one log line
// with the identity's name, never a token, and a counter).
//
// Sources of identities:
//   - `access_file`: the JSON of access_policy.h; Reload() reads it again
//     (an ops SIGHUP calls it). A file that fails to load leaves the policy in
//     force unchanged and returns why.
//   - `any_client_cert`: without an access file, with mutual TLS: every peer
//     whose certificate the client CA signed is an identity named by its
//     subject, allowed every type and account.
//
// Rules (Authenticate):
//   - `authorization` metadata present: it must be `Bearer <token>` naming a
//     known token, else UNAUTHENTICATED (a wrong token is never "anonymous").
//   - else a client certificate subject: the access file's identity with that
//     `client_cert_subject` (or, with any_client_cert, the subject itself).
//   - else UNAUTHENTICATED.
//
// Example:
//   ASSIGN_OR_RETURN(auto access, AccessControl::Create(
//       {.access_file = "/etc/hookstream/access.json"}));
//   ASSIGN_OR_RETURN(std::shared_ptr<const Identity> who,
//                    access->Authenticate({.authorization = header}));
//   ...
//   if (absl::Status s = access->Reload(); !s.ok()) { /* old policy stays */ }
//
// Thread-safety: every method is thread-safe. An identity handed out stays
// valid (and unchanged) after a Reload; the next call sees the new policy.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/access_policy.h"

namespace hookstream::auth {

struct AccessControlOptions {
  // The JSON access file; empty: none (then any_client_cert must be set).
  std::string access_file = {};
  // Every verified client certificate is an identity (mTLS without a file).
  bool any_client_cert = false;
};

// What a call presented.
struct CallCredentials {
  // The value of the `authorization` metadata, if sent.
  std::optional<absl::string_view> authorization = std::nullopt;
  // The subject of the peer's verified certificate ("CN=analytics"); empty
  // without one.
  absl::string_view cert_subject = {};
};

enum class Decision { kAllowed, kUnauthenticated, kPermissionDenied };

class AccessControl {
 public:
  // Loads the access file. INVALID_ARGUMENT (bad content) or NOT_FOUND
  // (unreadable), naming the file.
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(
      AccessControlOptions options);

  // Reads the access file again; on any error the current policy stays.
  // OK (and nothing to do) without an access file.
  absl::Status Reload();

  // The caller's identity, or UNAUTHENTICATED with the reason (see Rules).
  absl::StatusOr<std::shared_ptr<const Identity>> Authenticate(
      const CallCredentials& credentials) const;

  // Logs one line (`grpc access`, method, identity, decision, reason) and
  // counts it. `identity` may be empty (not authenticated).
  void Record(Decision decision, absl::string_view method,
              absl::string_view identity, absl::string_view reason) const;

  struct Counts {
    uint64_t allowed = 0;
    uint64_t unauthenticated = 0;
    uint64_t permission_denied = 0;
  };
  Counts counts() const;

  // Identities in the policy in force (for the start log line).
  size_t identity_count() const;

 private:
  explicit AccessControl(AccessControlOptions options)
      : options_(std::move(options)) {}

  const AccessControlOptions options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AccessPolicy> policy_ ABSL_GUARDED_BY(mu_);
  mutable std::atomic<uint64_t> allowed_{0};
  mutable std::atomic<uint64_t> unauthenticated_{0};
  mutable std::atomic<uint64_t> permission_denied_{0};
};

// The identity every call has when gRPC serves without authentication
// (loopback development): named "anonymous", every type and account.
std::shared_ptr<const Identity> AnonymousIdentity();

}  // namespace hookstream::auth
