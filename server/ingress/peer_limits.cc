#include "server/ingress/peer_limits.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hookstream::ingress {
namespace {

namespace ip = boost::asio::ip;

// v4-mapped v6 addresses (a dual-stack listener) count as their v4 address.
ip::address Normalized(const ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return ip::make_address_v4(ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool PrefixMatches(const uint8_t* a, const uint8_t* b, int bits) {
  const int whole = bits / 8;
  if (!std::equal(a, a + whole, b)) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

bool Cidr::Contains(const ip::address& raw) const {
  const ip::address address = Normalized(raw);
  if (address.is_v4() != !v6) return false;
  if (address.is_v4()) {
    const ip::address_v4::bytes_type b = address.to_v4().to_bytes();
    return PrefixMatches(b.data(), bytes.data(), prefix_bits);
  }
  const ip::address_v6::bytes_type b = address.to_v6().to_bytes();
  return PrefixMatches(b.data(), bytes.data(), prefix_bits);
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view list) {
  std::vector<Cidr> out;
  for (absl::string_view entry : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    auto bad = [&] {
      return absl::InvalidArgumentError(
          absl::StrCat("not a CIDR range: \"", entry, "\""));
    };
    absl::string_view host = entry;
    int bits = 0;
    bool has_prefix = false;
    if (const size_t slash = entry.find('/'); slash != entry.npos) {
      has_prefix = true;
      host = entry.substr(0, slash);
      if (!absl::SimpleAtoi(entry.substr(slash + 1), &bits)) return bad();
    }
    boost::system::error_code ec;
    const ip::address address = ip::make_address(std::string(host), ec);
    if (ec) return bad();
    Cidr cidr;
    cidr.v6 = address.is_v6();
    const int max_bits = cidr.v6 ? 128 : 32;
    if (!has_prefix) bits = max_bits;
    if (bits < 0 || bits > max_bits) return bad();
    cidr.prefix_bits = bits;
    if (cidr.v6) {
      const ip::address_v6::bytes_type b = address.to_v6().to_bytes();
      std::copy(b.begin(), b.end(), cidr.bytes.begin());
    } else {
      const ip::address_v4::bytes_type b = address.to_v4().to_bytes();
      std::copy(b.begin(), b.end(), cidr.bytes.begin());
    }
    out.push_back(cidr);
  }
  return out;
}

PeerLimits::PeerLimits(Options options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

std::string PeerLimits::Key(const ip::address& raw) {
  const ip::address address = Normalized(raw);
  if (address.is_v4()) {
    const ip::address_v4::bytes_type b = address.to_v4().to_bytes();
    return std::string(b.begin(), b.end());
  }
  const ip::address_v6::bytes_type b = address.to_v6().to_bytes();
  return std::string(b.begin(), b.end());
}

double PeerLimits::Burst() const { return std::max(1.0, options_.burst); }

bool PeerLimits::Allowed(const ip::address& address) const {
  if (options_.allow.empty()) return true;
  return std::any_of(options_.allow.begin(), options_.allow.end(),
                     [&](const Cidr& c) { return c.Contains(address); });
}

double PeerLimits::TokensAt(const Peer& peer, absl::Time now) const {
  if (!peer.has_bucket) return Burst();
  const double refill =
      absl::ToDoubleSeconds(now - peer.refilled) * options_.rate_per_second;
  return std::min(Burst(), peer.tokens + std::max(0.0, refill));
}

bool PeerLimits::Idle(const Peer& peer, absl::Time now) const {
  return peer.connections == 0 && TokensAt(peer, now) >= Burst();
}

PeerLimits::Peer& PeerLimits::Insert(std::string key, absl::Time now) {
  if (peers_.size() >= sweep_at_) {
    absl::erase_if(peers_,
                   [&](const auto& entry) { return Idle(entry.second, now); });
    sweep_at_ = std::max<size_t>(1024, 2 * peers_.size());
  }
  return peers_[std::move(key)];
}

bool PeerLimits::TryOpenConnection(const ip::address& address) {
  if (options_.max_connections_per_peer == 0 && !rate_limited()) return true;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  std::string key = Key(address);
  auto it = peers_.find(key);
  Peer& peer = it != peers_.end() ? it->second : Insert(std::move(key), now);
  if (options_.max_connections_per_peer != 0 &&
      peer.connections >= options_.max_connections_per_peer) {
    return false;
  }
  ++peer.connections;
  return true;
}

void PeerLimits::CloseConnection(const ip::address& address) {
  if (options_.max_connections_per_peer == 0 && !rate_limited()) return;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto it = peers_.find(Key(address));
  if (it == peers_.end()) return;
  if (it->second.connections > 0) --it->second.connections;
  if (Idle(it->second, now)) peers_.erase(it);
}

std::optional<absl::Duration> PeerLimits::TakeRequestToken(
    const ip::address& address) {
  if (!rate_limited()) return std::nullopt;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  std::string key = Key(address);
  auto it = peers_.find(key);
  Peer& peer = it != peers_.end() ? it->second : Insert(std::move(key), now);
  const double tokens = TokensAt(peer, now);
  peer.has_bucket = true;
  peer.refilled = now;
  if (tokens >= 1.0) {
    peer.tokens = tokens - 1.0;
    return std::nullopt;
  }
  peer.tokens = tokens;
  return absl::Seconds((1.0 - tokens) / options_.rate_per_second);
}

size_t PeerLimits::tracked_peers() const {
  absl::MutexLock lock(&mu_);
  return peers_.size();
}

}  // namespace hookstream::ingress
