#include "server/auth/access_control.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/log.h"

namespace hookstream::auth {
namespace {

// An access file is a list of identities, not a data set.
constexpr size_t kMaxAccessFileBytes = size_t{1} << 20;

absl::StatusOr<std::shared_ptr<const AccessPolicy>> LoadPolicy(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("access file ", path, ": ", std::strerror(errno)));
  }
  std::string text(kMaxAccessFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxAccessFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("access file ", path, " is larger than ",
                     kMaxAccessFileBytes, " bytes"));
  }
  absl::StatusOr<AccessPolicy> policy = AccessPolicy::Parse(text);
  if (!policy.ok()) {
    return absl::Status(policy.status().code(),
                        absl::StrCat(path, ": ", policy.status().message()));
  }
  return std::make_shared<const AccessPolicy>(*std::move(policy));
}

}  // namespace

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(
    AccessControlOptions options) {
  if (options.access_file.empty() && !options.any_client_cert) {
    return absl::InvalidArgumentError(
        "access control needs an access file or a client CA");
  }
  std::unique_ptr<AccessControl> control(new AccessControl(std::move(options)));
  if (!control->options_.access_file.empty()) {
    absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
        LoadPolicy(control->options_.access_file);
    if (!policy.ok()) return policy.status();
    absl::MutexLock lock(&control->mu_);
    control->policy_ = *std::move(policy);
  }
  return control;
}

absl::Status AccessControl::Reload() {
  if (options_.access_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
      LoadPolicy(options_.access_file);
  if (!policy.ok()) {
    LogRecord(LogLevel::kError, "access file reload failed; policy unchanged")
        .Add("error", policy.status().message());
    return policy.status();
  }
  const size_t identities = (*policy)->size();
  {
    absl::MutexLock lock(&mu_);
    policy_ = *std::move(policy);
  }
  LogRecord(LogLevel::kInfo, "access file reloaded")
      .Add("path", options_.access_file)
      .Add("identities", identities);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Identity>> AccessControl::Authenticate(
    const CallCredentials& credentials) const {
  std::shared_ptr<const AccessPolicy> policy;
  {
    absl::MutexLock lock(&mu_);
    policy = policy_;
  }
  if (credentials.authorization.has_value()) {
    absl::string_view token = *credentials.authorization;
    if (!absl::ConsumePrefix(&token, "Bearer ") || token.empty()) {
      return absl::UnauthenticatedError(
          "the authorization metadata must be 'Bearer <token>'");
    }
    const Identity* identity =
        policy != nullptr ? policy->FindByToken(token) : nullptr;
    if (identity == nullptr) {
      return absl::UnauthenticatedError("unknown bearer token");
    }
    // Shares ownership of the policy snapshot the identity lives in.
    return std::shared_ptr<const Identity>(policy, identity);
  }
  if (!credentials.cert_subject.empty()) {
    if (policy != nullptr) {
      if (const Identity* identity =
              policy->FindByCertSubject(credentials.cert_subject)) {
        return std::shared_ptr<const Identity>(policy, identity);
      }
    }
    if (options_.any_client_cert && options_.access_file.empty()) {
      return std::make_shared<const Identity>(Identity{
          .name = std::string(credentials.cert_subject), .types = {"*"}});
    }
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate subject '", credentials.cert_subject,
                     "' is not in the access file"));
  }
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer <token>' or a client "
      "certificate");
}

void AccessControl::Record(Decision decision, absl::string_view method,
                           absl::string_view identity,
                           absl::string_view reason) const {
  const char* name = "allowed";
  switch (decision) {
    case Decision::kAllowed:
      allowed_.fetch_add(1, std::memory_order_relaxed);
      break;
    case Decision::kUnauthenticated:
      unauthenticated_.fetch_add(1, std::memory_order_relaxed);
      name = "unauthenticated";
      break;
    case Decision::kPermissionDenied:
      permission_denied_.fetch_add(1, std::memory_order_relaxed);
      name = "permission_denied";
      break;
  }
  LogRecord record(
      decision == Decision::kAllowed ? LogLevel::kInfo : LogLevel::kWarning,
      "grpc access");
  record.Add("method", method)
      .Add("identity", identity.empty() ? "-" : identity)
      .Add("decision", name);
  if (!reason.empty()) record.Add("reason", reason);
}

AccessControl::Counts AccessControl::counts() const {
  return {
      .allowed = allowed_.load(std::memory_order_relaxed),
      .unauthenticated = unauthenticated_.load(std::memory_order_relaxed),
      .permission_denied = permission_denied_.load(std::memory_order_relaxed)};
}

size_t AccessControl::identity_count() const {
  absl::MutexLock lock(&mu_);
  return policy_ != nullptr ? policy_->size() : 0;
}

std::shared_ptr<const Identity> AnonymousIdentity() {
  static const std::shared_ptr<const Identity> anonymous =
      std::make_shared<const Identity>(
          Identity{.name = "anonymous", .types = {"*"}});
  return anonymous;
}

}  // namespace hookstream::auth
