// -----------------------------------------------------------------------------
// File: source_registry.h
// -----------------------------------------------------------------------------
// Webhook sources by path: `POST /v1/webhooks/<name>` is routed to the source
// named <name>, which brings its own signature verifier (with its secrets) and
// its own converter from body bytes to a v1::Event. Adding a provider is one
// more WebhookSource (a Make<Provider>Source factory next to
// MakeGettrxSource); nothing in the handler, session or server changes.
//
// Example:
//   SourceRegistry sources;
//   ASSIGN_OR_RETURN(WebhookSource gettrx,
//                    MakeGettrxSource({.scheme = "hmac-sha256",
//                                      .secrets = LoadSecretsFromFile(p)}));
//   RETURN_IF_ERROR(sources.Add(std::move(gettrx)));
//   const WebhookSource* s = sources.FindByTarget("/v1/webhooks/gettrx");
//
// Fail closed: a source without a verifier is only accepted when it says
// `allow_unsigned` explicitly.
//
// Thread-safety: build the registry on one thread, then share it read-only;
// Find* are const and thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/config/secrets.h"
#include "common/signature/verifier.h"
#include "hookstream/v1/event.pb.h"

namespace hookstream::ingress {

// Body bytes → Event. INVALID_ARGUMENT → 400, FAILED_PRECONDITION → 422,
// RESOURCE_EXHAUSTED → 503, anything else → 500.
using EventConverter = std::function<absl::StatusOr<v1::Event>(
    absl::string_view body, absl::Time received_at)>;

struct WebhookSource {
  // The path segment: 1-64 characters of [a-z0-9_-].
  std::string name;
  // Null only when `allow_unsigned` is set.
  std::shared_ptr<const Verifier> verifier;
  bool allow_unsigned = false;
  EventConverter convert;
};

class SourceRegistry {
 public:
  static constexpr absl::string_view kPathPrefix = "/v1/webhooks/";

  // INVALID_ARGUMENT for a bad or duplicate name, a missing converter, or a
  // missing verifier without allow_unsigned.
  absl::Status Add(WebhookSource source);

  // The source for a request target such as "/v1/webhooks/gettrx?x=1"
  // (the query is ignored), or nullptr.
  const WebhookSource* FindByTarget(absl::string_view target) const;
  const WebhookSource* Find(absl::string_view name) const;

  bool empty() const { return sources_.empty(); }
  size_t size() const { return sources_.size(); }
  // Source names, sorted (for the start-up log).
  std::vector<std::string> Names() const;

 private:
  absl::flat_hash_map<std::string, std::shared_ptr<const WebhookSource>>
      sources_;
};

// Builds a verifier by scheme name: "hmac-sha256" (HmacBodyVerifier, default
// header x-webhook-signature) or "standard-webhooks". Secrets are mapped
// label→label, value→key bytes as each strategy documents.
absl::StatusOr<std::shared_ptr<const Verifier>> MakeVerifier(
    absl::string_view scheme, const std::vector<Secret>& secrets);

struct GettrxSourceOptions {
  // "hmac-sha256" or "standard-webhooks".
  std::string scheme = "hmac-sha256";
  std::vector<Secret> secrets = {};
  // Accept requests without verifying them, only when no secret is given
  // (development only; a warning is logged at start and every unsigned
  // request is counted).
  bool allow_unsigned = false;
};

// The GETTRX One source at /v1/webhooks/gettrx. Fails with a one-line reason
// when there is no secret and allow_unsigned is not set, or the scheme is
// unknown.
absl::StatusOr<WebhookSource> MakeGettrxSource(GettrxSourceOptions options);

}  // namespace hookstream::ingress
