// -----------------------------------------------------------------------------
// File: peer_limits.h
// -----------------------------------------------------------------------------
// PeerLimits holds what the ingress limits per source address (the TCP
// peer's IP): an optional allowlist of CIDR ranges, a cap on concurrent
// connections per peer, and an optional request rate per peer (a token
// bucket: `rate_per_second` sustained, `burst` at once). One instance is
// shared by the listener (allowlist, connection cap) and every session
// (rate), so that one sender cannot take what the others need.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<Cidr> allow, ParseCidrList("10.0.0.0/8"));
//   auto limits = std::make_shared<PeerLimits>(
//       PeerLimits::Options{.allow = allow, .max_connections_per_peer = 64,
//                           .rate_per_second = 100, .burst = 200},
//       clock);
//   if (!limits->Allowed(ip)) Close();
//   if (!limits->TryOpenConnection(ip)) Close();  // ... CloseConnection(ip)
//   if (auto wait = limits->TakeRequestToken(ip)) Answer429(*wait);
//
// Memory: one entry per peer with an open connection or a bucket not yet
// full again; such entries are swept whenever the table has doubled since
// the last sweep, so it stays bounded by the open connections plus the
// peers seen within one refill (times two).
//
// Thread-safety: thread-safe (one mutex; each call is a map lookup).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "boost/asio/ip/address.hpp"
#include "common/base/clock.h"

namespace hookstream::ingress {

// An IPv4 or IPv6 range, e.g. 10.0.0.0/8, 2001:db8::/32, 127.0.0.1 (/32).
struct Cidr {
  std::array<uint8_t, 16> bytes{};
  bool v6 = false;
  int prefix_bits = 0;

  bool Contains(const boost::asio::ip::address& ip) const;
};

// Comma-separated CIDRs; empty → empty list. INVALID_ARGUMENT naming the
// first entry that is not one.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view list);

class PeerLimits {
 public:
  struct Options {
    // Empty: every peer may connect.
    std::vector<Cidr> allow = {};
    // 0: no per-peer cap (the listener's total cap still holds).
    size_t max_connections_per_peer = 0;
    // 0: no rate limit.
    double rate_per_second = 0;
    // Requests a peer may send at once; below 1 counts as 1.
    double burst = 0;
  };

  // `clock` (the buckets' time) must outlive this.
  PeerLimits(Options options, const Clock& clock);

  bool Allowed(const boost::asio::ip::address& ip) const;

  // Counts one more connection from `ip`, or false when it already has
  // max_connections_per_peer open. Each true is paired with one
  // CloseConnection.
  bool TryOpenConnection(const boost::asio::ip::address& ip);
  void CloseConnection(const boost::asio::ip::address& ip);

  // Takes one request token for `ip`: nullopt when allowed, else how long
  // until a token is there (for Retry-After).
  std::optional<absl::Duration> TakeRequestToken(
      const boost::asio::ip::address& ip);

  bool rate_limited() const { return options_.rate_per_second > 0; }
  const Options& options() const { return options_; }

  // Peers currently tracked (tests: the table shrinks again).
  size_t tracked_peers() const;

 private:
  struct Peer {
    size_t connections = 0;
    double tokens = 0;
    absl::Time refilled;
    bool has_bucket = false;
  };

  // The map key: the address bytes (v4-mapped v6 folded to v4).
  static std::string Key(const boost::asio::ip::address& ip);
  double Burst() const;
  // The peer's tokens now (refilled since its last request).
  double TokensAt(const Peer& peer, absl::Time now) const;
  // True when the entry holds nothing worth remembering.
  bool Idle(const Peer& peer, absl::Time now) const;
  // A new peer's entry; sweeps idle entries when the table has doubled.
  Peer& Insert(std::string key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
  size_t sweep_at_ ABSL_GUARDED_BY(mu_) = 1024;
};

}  // namespace hookstream::ingress
