// -----------------------------------------------------------------------------
// File: call_auth.h
// -----------------------------------------------------------------------------
// The gRPC side of server/auth: reading a call's credentials (the
// `authorization` metadata and the TLS-verified peer certificate subject)
// and applying the identity's grant to what the call asks for.
//
//   AuthProcessor  an AuthMetadataProcessor on the server credentials: every
//                  call on every service (EventStream, health, reflection)
//                  without a valid identity ends UNAUTHENTICATED before any
//                  handler runs.
//   CallAuthorizer what an EventStream handler asks: the filter to apply
//                  (Subscribe, ListEvents), whether one event may be read
//                  (GetEvent), or just a valid identity (GetStreamInfo).
//                  Each answer is recorded once per call (one log line with
//                  the identity's name, a counter).
//
// Without AccessControl (loopback plaintext development) every call is the
// anonymous identity with every type and account, and nothing is logged.
//
// Example:
//   CallAuthorizer authorizer(*context, access, "ListEvents");
//   ASSIGN_OR_RETURN(v1::EventFilter filter,
//                    authorizer.AuthorizeFilter(request->filter()));
//
// Thread-safety: AuthProcessor is thread-safe; a CallAuthorizer belongs to
// one call. `access` must outlive both.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/server_context.h"
#include "hookstream/v1/event_stream.pb.h"
#include "server/auth/access_control.h"

namespace hookstream::distribution {

class AuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit AuthProcessor(const auth::AccessControl& access) : access_(access) {}

  // Runs inline on gRPC's thread: a hash and a lookup never block.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  const auth::AccessControl& access_;
};

class CallAuthorizer {
 public:
  // `access` null: anonymous (no authentication configured).
  CallAuthorizer(const grpc::ServerContextBase& context,
                 const auth::AccessControl* access, absl::string_view method);

  // The filter to apply instead of `requested`; UNAUTHENTICATED or
  // PERMISSION_DENIED otherwise. Recorded.
  absl::StatusOr<v1::EventFilter> AuthorizeFilter(
      const v1::EventFilter& requested) const;
  // OK when the identity may read an event of this type and account, else
  // PERMISSION_DENIED. Recorded.
  absl::Status AuthorizeEvent(absl::string_view type,
                              absl::string_view account) const;
  // OK for any valid identity. Recorded.
  absl::Status AuthorizeIdentity() const;
  // OK for an identity granted every type and every account (or anonymous
  // without AccessControl), else PERMISSION_DENIED: for calls that show
  // other subscribers' filters (ListSubscribers). Recorded.
  absl::Status AuthorizeEverything() const;

  // The authenticated identity's name; empty without AccessControl or
  // without a valid identity.
  std::string identity_name() const;

 private:
  absl::Status Recorded(absl::Status status) const;

  const auth::AccessControl* access_;
  std::string method_;
  absl::StatusOr<std::shared_ptr<const auth::Identity>> identity_;
};

}  // namespace hookstream::distribution
