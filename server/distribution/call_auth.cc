#include "server/distribution/call_auth.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "server/auth/authorization.h"

namespace hookstream::distribution {
namespace {

constexpr char kEventStreamPrefix[] = "/hookstream.v1.EventStream/";

std::string PeerSubject(const grpc::AuthContext* context) {
  if (context == nullptr) return "";
  const std::vector<grpc::string_ref> subjects =
      context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subjects.empty()) return "";
  return std::string(subjects.front().data(), subjects.front().size());
}

}  // namespace

grpc::Status AuthProcessor::Process(const InputMetadata& auth_metadata,
                                    grpc::AuthContext* context,
                                    OutputMetadata* /*consumed_auth_metadata*/,
                                    OutputMetadata* /*response_metadata*/) {
  auth::CallCredentials credentials;
  std::string authorization;
  if (const auto it = auth_metadata.find("authorization");
      it != auth_metadata.end()) {
    authorization.assign(it->second.data(), it->second.size());
    credentials.authorization = authorization;
  }
  const std::string subject = PeerSubject(context);
  credentials.cert_subject = subject;
  std::string method = "-";
  if (const auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    method.assign(it->second.data(), it->second.size());
  }
  absl::StatusOr<std::shared_ptr<const auth::Identity>> identity =
      access_.Authenticate(credentials);
  if (!identity.ok()) {
    access_.Record(auth::Decision::kUnauthenticated, method, "",
                   identity.status().message());
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        std::string(identity.status().message()));
  }
  // EventStream handlers record their own decision (they know the grant's
  // effect); health and reflection need only the identity, recorded here.
  if (!absl::StartsWith(method, kEventStreamPrefix)) {
    access_.Record(auth::Decision::kAllowed, method, (*identity)->name, "");
  }
  return grpc::Status::OK;
}

CallAuthorizer::CallAuthorizer(const grpc::ServerContextBase& context,
                               const auth::AccessControl* access,
                               absl::string_view method)
    : access_(access), method_(method), identity_(auth::AnonymousIdentity()) {
  if (access_ == nullptr) return;
  auth::CallCredentials credentials;
  const auto& metadata = context.client_metadata();
  std::string authorization;
  if (const auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization.assign(it->second.data(), it->second.size());
    credentials.authorization = authorization;
  }
  const std::shared_ptr<const grpc::AuthContext> auth_context =
      context.auth_context();
  const std::string subject = PeerSubject(auth_context.get());
  credentials.cert_subject = subject;
  identity_ = access_->Authenticate(credentials);
}

absl::Status CallAuthorizer::Recorded(absl::Status status) const {
  if (access_ == nullptr) return status;
  const std::string name = identity_.ok() ? (*identity_)->name : "";
  const auth::Decision decision = status.ok() ? auth::Decision::kAllowed
                                  : absl::IsUnauthenticated(status)
                                      ? auth::Decision::kUnauthenticated
                                      : auth::Decision::kPermissionDenied;
  access_->Record(decision, method_, name, status.message());
  return status;
}

absl::StatusOr<v1::EventFilter> CallAuthorizer::AuthorizeFilter(
    const v1::EventFilter& requested) const {
  if (!identity_.ok()) return Recorded(identity_.status());
  if (access_ == nullptr) return requested;
  absl::StatusOr<v1::EventFilter> effective =
      auth::RestrictFilter(**identity_, requested);
  if (!effective.ok()) return Recorded(effective.status());
  Recorded(absl::OkStatus()).IgnoreError();
  return effective;
}

absl::Status CallAuthorizer::AuthorizeEvent(absl::string_view type,
                                            absl::string_view account) const {
  if (!identity_.ok()) return Recorded(identity_.status());
  if (access_ == nullptr) return absl::OkStatus();
  if (!auth::MayRead(**identity_, type, account)) {
    return Recorded(absl::PermissionDeniedError(
        absl::StrCat("identity '", (*identity_)->name,
                     "' may not read this event (its type or account is "
                     "outside the grant)")));
  }
  return Recorded(absl::OkStatus());
}

absl::Status CallAuthorizer::AuthorizeIdentity() const {
  if (!identity_.ok()) return Recorded(identity_.status());
  return Recorded(absl::OkStatus());
}

absl::Status CallAuthorizer::AuthorizeEverything() const {
  if (!identity_.ok()) return Recorded(identity_.status());
  if (access_ == nullptr) return absl::OkStatus();
  const auth::Identity& identity = **identity_;
  if (!absl::c_linear_search(identity.types, "*") ||
      !identity.accounts.empty()) {
    return Recorded(absl::PermissionDeniedError(absl::StrCat(
        "identity '", identity.name, "' may not call ", method_,
        ": it needs a grant of every type (\"*\") and every account")));
  }
  return Recorded(absl::OkStatus());
}

std::string CallAuthorizer::identity_name() const {
  if (access_ == nullptr || !identity_.ok()) return "";
  return (*identity_)->name;
}

}  // namespace hookstream::distribution
