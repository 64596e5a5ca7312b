// -----------------------------------------------------------------------------
// File: connection_table.h
// -----------------------------------------------------------------------------
// The gRPC connections open now, per peer and in total, for the caps that
// Debian's gRPC 1.51 does not have (grpc.max_allowed_incoming_connections
// came later): accept_guard.cc asks Admit() for every connection accept4
// returns and resets the ones refused.
//
// Why no close() hook: gRPC closes its sockets in many places. Instead each
// entry remembers the socket's inode beside its descriptor; an entry whose
// descriptor no longer names that socket (closed, or reused for another
// file) is gone. Entries are checked only when a cap is reached: a peer's
// own entries when that peer is at its cap, all entries when the total is,
// at most once per `prune_interval` (a flood at the cap costs one scan per
// interval, not one per connection). A stale entry can only make a cap
// bite early, until the next scan; it never lets a connection past a cap.
//
// Example:
//   ConnectionTable table({.max_total = 4096, .max_per_peer = 256});
//   if (table.Admit(fd, inode, "127.0.0.1", absl::Now()) != kAdmitted) ...
//
// Thread-safety: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace hookstream {

class ConnectionTable {
 public:
  struct Limits {
    size_t max_total = 0;     // 0 = no total cap
    size_t max_per_peer = 0;  // 0 = no per-peer cap
    absl::Duration prune_interval = absl::Milliseconds(100);
  };
  enum class Verdict { kAdmitted, kOverTotal, kOverPeer };
  // Whether descriptor `fd` still names the socket with inode `inode`.
  using StillOpen = std::function<bool(int fd, uint64_t inode)>;

  explicit ConnectionTable(Limits limits, StillOpen still_open = FdNamesInode);

  // Records `fd` (just accepted, socket inode `inode`, from `peer`, an
  // address without port) unless that would exceed a cap.
  Verdict Admit(int fd, uint64_t inode, const std::string& peer, absl::Time now)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Entries held (some may be stale until the next scan).
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // fstat: `fd` is open and its inode is `inode`.
  static bool FdNamesInode(int fd, uint64_t inode);

 private:
  struct Entry {
    uint64_t inode;
    std::string peer;
  };
  void Forget(int fd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PrunePeer(const std::string& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PruneAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Limits limits_;
  const StillOpen still_open_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int, Entry> by_fd_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::flat_hash_set<int>> by_peer_
      ABSL_GUARDED_BY(mu_);
  absl::Time last_full_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace hookstream
