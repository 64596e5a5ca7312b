// -----------------------------------------------------------------------------
// File: swappable_verifier.h
// -----------------------------------------------------------------------------
// SwappableVerifier is the signing-secret side of SIGHUP: the ingress holds
// it as its source's Verifier, and a reload swaps in a verifier built from
// the re-read secrets. A request in flight finishes with the verifier it
// started with (it holds a reference); the next one uses the new secrets.
//
// Example:
//   auto swappable = std::make_shared<SwappableVerifier>(initial);
//   source.verifier = swappable;
//   ...
//   swappable->Swap(*MakeVerifier(scheme, LoadSecrets()));  // on SIGHUP
//
// Thread-safety: Verify from any thread, concurrently with Swap.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "common/signature/verifier.h"

namespace hookstream {

class SwappableVerifier final : public Verifier {
 public:
  explicit SwappableVerifier(std::shared_ptr<const Verifier> initial)
      : current_(std::move(initial)) {}

  void Swap(std::shared_ptr<const Verifier> next) {
    absl::MutexLock lock(&mu_);
    current_ = std::move(next);
  }

  absl::StatusOr<std::string> Verify(const SignedRequest& request,
                                     absl::Time now) const override {
    return Current()->Verify(request, now);
  }
  absl::string_view scheme() const override { return Current()->scheme(); }
  size_t secret_count() const override { return Current()->secret_count(); }

 private:
  std::shared_ptr<const Verifier> Current() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }

  mutable absl::Mutex mu_;
  std::shared_ptr<const Verifier> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookstream
