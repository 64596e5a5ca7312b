#include "server/ingress/source_registry.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/base/log.h"
#include "common/conversion/gettrx_converter.h"
#include "common/signature/hmac_body_verifier.h"
#include "common/signature/standard_webhooks_verifier.h"

namespace hookstream::ingress {
namespace {

bool IsValidName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
           c == '-';
  });
}

}  // namespace

absl::Status SourceRegistry::Add(WebhookSource source) {
  if (!IsValidName(source.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook source name '", source.name, "' must be 1-64 of [a-z0-9_-]"));
  }
  if (!source.convert) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook source '", source.name, "' has no converter"));
  }
  if (source.verifier == nullptr && !source.allow_unsigned) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhook source '", source.name,
        "' has no signing secret; refusing to accept unsigned webhooks "
        "unless explicitly allowed"));
  }
  const std::string name = source.name;
  if (!sources_
           .emplace(name,
                    std::make_shared<const WebhookSource>(std::move(source)))
           .second) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook source '", name, "' is registered twice"));
  }
  return absl::OkStatus();
}

const WebhookSource* SourceRegistry::Find(absl::string_view name) const {
  auto it = sources_.find(name);
  return it == sources_.end() ? nullptr : it->second.get();
}

const WebhookSource* SourceRegistry::FindByTarget(
    absl::string_view target) const {
  target = target.substr(0, target.find('?'));
  if (!absl::ConsumePrefix(&target, kPathPrefix)) return nullptr;
  if (!IsValidName(target)) return nullptr;
  return Find(target);
}

std::vector<std::string> SourceRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, source] : sources_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::shared_ptr<const Verifier>> MakeVerifier(
    absl::string_view scheme, const std::vector<Secret>& secrets) {
  std::vector<SigningSecret> signing;
  signing.reserve(secrets.size());
  for (const Secret& secret : secrets) {
    signing.push_back({secret.label, secret.value});
  }
  if (scheme == "hmac-sha256") {
    absl::StatusOr<std::unique_ptr<HmacBodyVerifier>> v =
        HmacBodyVerifier::Create(std::move(signing));
    if (!v.ok()) return v.status();
    return std::shared_ptr<const Verifier>(*std::move(v));
  }
  if (scheme == "standard-webhooks") {
    absl::StatusOr<std::unique_ptr<StandardWebhooksVerifier>> v =
        StandardWebhooksVerifier::Create(std::move(signing));
    if (!v.ok()) return v.status();
    return std::shared_ptr<const Verifier>(*std::move(v));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown signature scheme '", scheme,
                   "' (expected hmac-sha256 or standard-webhooks)"));
}

absl::StatusOr<WebhookSource> MakeGettrxSource(GettrxSourceOptions options) {
  WebhookSource source;
  source.name = std::string(kGettrxSource);
  source.convert = &ConvertGettrxEvent;
  if (options.secrets.empty()) {
    if (!options.allow_unsigned) {
      return absl::FailedPreconditionError(
          "no GETTRX signing secret configured (give a secrets file or "
          "environment variable, or --insecure-accept-unsigned for "
          "development)");
    }
    // Still reject a typo in the scheme: it would fail once secrets exist.
    if (options.scheme != "hmac-sha256" &&
        options.scheme != "standard-webhooks") {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown signature scheme '", options.scheme,
                       "' (expected hmac-sha256 or standard-webhooks)"));
    }
    source.allow_unsigned = true;
    LogRecord(LogLevel::kWarning,
              "accepting UNSIGNED webhooks: anyone who can reach the port can "
              "inject events; never use this in production")
        .Add("source", source.name);
    return source;
  }
  absl::StatusOr<std::shared_ptr<const Verifier>> verifier =
      MakeVerifier(options.scheme, options.secrets);
  if (!verifier.ok()) {
    return absl::Status(
        verifier.status().code(),
        absl::StrCat("GETTRX source: ", verifier.status().message()));
  }
  source.verifier = *std::move(verifier);
  LogRecord(LogLevel::kInfo, "webhook source ready")
      .Add("source", source.name)
      .Add("scheme", source.verifier->scheme())
      .Add("secrets", source.verifier->secret_count());
  return source;
}

}  // namespace hookstream::ingress
