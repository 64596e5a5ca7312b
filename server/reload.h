// -----------------------------------------------------------------------------
// File: reload.h
// -----------------------------------------------------------------------------
// ReloadRegistry is what SIGHUP runs: the parts that can re-read their
// configuration without a restart, each registered by the composition root
// with a name and a function. Each function prepares the new configuration
// completely (reads and checks every file) and only then swaps it in, so a
// failing part keeps its old configuration whole; the others still reload.
// Connections and streams are never touched: new TLS handshakes and new
// requests use what was swapped in, existing ones go on as they are.
//
// Example:
//   ReloadRegistry reload;
//   reload.Add("ingress_tls", [&] { return tls.Reload(); });
//   reload.Add("grpc_access", [&] { return access.Reload(); });
//   absl::Status s = reload.ReloadAll();  // on SIGHUP
//
// Thread-safety: Add before serving, from the owner's thread; ReloadAll and
// the counters from any thread (ReloadAll runs one at a time).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hookstream {

class ReloadRegistry {
 public:
  using ReloadFn = absl::AnyInvocable<absl::Status()>;

  void Add(std::string name, ReloadFn reload);

  // Runs every part in the order added. Logs one line per part that failed
  // (naming it and why) and one summary line. OK when every part reloaded;
  // otherwise the failures, "name: reason; …". Counts the run as a success
  // or a failure.
  absl::Status ReloadAll();

  std::vector<std::string> names() const;
  uint64_t successes() const { return successes_.load(); }
  uint64_t failures() const { return failures_.load(); }
  // When the last fully successful reload finished (InfinitePast: never).
  absl::Time last_success() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, ReloadFn>> parts_ ABSL_GUARDED_BY(mu_);
  absl::Time last_success_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::atomic<uint64_t> successes_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace hookstream
