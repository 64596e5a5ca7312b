#include "server/accept_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/time/clock.h"
#include "common/base/log.h"
#include "server/connection_table.h"

namespace hookstream {
namespace {

std::atomic<bool> armed{false};
// -1 while not held: not yet armed, being used by a thread, or lost to a
// racing open after a shed.
std::atomic<int> reserve{-1};
std::atomic<uint64_t> shed_total{0};
std::atomic<uint64_t> shed_connection_cap{0};
std::atomic<uint64_t> shed_peer_cap{0};
// Set once by ArmAcceptGuard when a cap is configured, never freed: accept4
// may still run on gRPC's threads while the process exits.
std::atomic<ConnectionTable*> table{nullptr};

int OpenReserve() { return open("/dev/null", O_RDONLY | O_CLOEXEC); }

// Puts a reserve back when none is held; closes it if another thread won.
void RestoreReserve() {
  if (reserve.load(std::memory_order_acquire) >= 0) return;
  const int fd = OpenReserve();
  if (fd < 0) return;
  int expected = -1;
  if (!reserve.compare_exchange_strong(expected, fd,
                                       std::memory_order_acq_rel)) {
    close(fd);
  }
}

int RealAccept4(int sockfd, sockaddr* addr, socklen_t* addrlen, int flags) {
  return static_cast<int>(syscall(SYS_accept4, sockfd, addr, addrlen, flags));
}

void LogShed(int error) {
  // A function-local static: accept4 may run before main's statics in
  // another translation unit are built (the guard itself needs none).
  static LogLimiter* const limiter = new LogLimiter(absl::Seconds(10));
  if (uint64_t suppressed = 0; limiter->Allow(absl::Now(), &suppressed)) {
    LogRecord(LogLevel::kWarning, "connection shed: no file descriptor")
        .Add("error", std::strerror(error))
        .Add("shed_total", shed_total.load(std::memory_order_relaxed))
        .Add("suppressed", suppressed);
  }
}

// Closes an accepted connection so that the peer gets a reset now, not a
// FIN it may not notice (linger 0).
void Reset(int fd) {
  const linger reset{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  close(fd);
}

// The peer's address without its port ("unix" for a Unix socket).
std::string PeerOf(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "";
  }
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, text,
              sizeof(text));
  } else if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr,
              text, sizeof(text));
  } else {
    return "unix";
  }
  return text;
}

// Whether a connection just accepted fits the caps; resets, counts and logs
// it when it does not.
bool AdmitOrReset(int fd) {
  ConnectionTable* const t = table.load(std::memory_order_acquire);
  if (t == nullptr) return true;
  struct stat st {};
  if (fstat(fd, &st) != 0) return true;  // cannot track it: let gRPC decide
  const std::string peer = PeerOf(fd);
  const ConnectionTable::Verdict verdict =
      t->Admit(fd, static_cast<uint64_t>(st.st_ino), peer, absl::Now());
  if (verdict == ConnectionTable::Verdict::kAdmitted) return true;
  // Counted and logged before the reset: whoever sees the reset (a test,
  // an operator) then also sees it counted.
  const bool peer_cap = verdict == ConnectionTable::Verdict::kOverPeer;
  (peer_cap ? shed_peer_cap : shed_connection_cap)
      .fetch_add(1, std::memory_order_relaxed);
  static LogLimiter* const limiter = new LogLimiter(absl::Seconds(10));
  if (uint64_t suppressed = 0; limiter->Allow(absl::Now(), &suppressed)) {
    LogRecord(LogLevel::kWarning, "grpc connection refused")
        .Add("reason", peer_cap ? "peer_cap" : "connection_cap")
        .Add("peer", peer)
        .Add("suppressed", suppressed);
  }
  Reset(fd);
  return false;
}

// Accepts one pending connection in the reserve's place and resets it.
// Returns the errno for gRPC: EINTR (call again) after a shed, EAGAIN
// (re-arm) when there was nothing to shed or no reserve to shed with.
int Shed(int sockfd, int error) {
  const int spare = reserve.exchange(-1, std::memory_order_acq_rel);
  if (spare < 0) {
    RestoreReserve();
    return EAGAIN;
  }
  close(spare);
  const int fd = RealAccept4(sockfd, nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_errno = errno;
  if (fd < 0) {
    RestoreReserve();
    return accept_errno == EINTR ? EINTR : EAGAIN;
  }
  // Counted and logged before the reset, as in AdmitOrReset.
  shed_total.fetch_add(1, std::memory_order_relaxed);
  LogShed(error);
  Reset(fd);
  RestoreReserve();
  return EINTR;
}

}  // namespace

bool ArmAcceptGuard(AcceptLimits limits) {
  if (limits.max_connections > 0 || limits.max_connections_per_peer > 0) {
    // Never freed (see `table`).
    table.store(
        new ConnectionTable({.max_total = limits.max_connections,
                             .max_per_peer = limits.max_connections_per_peer}),
        std::memory_order_release);
  }
  RestoreReserve();
  armed.store(true, std::memory_order_release);
  return reserve.load(std::memory_order_acquire) >= 0;
}

AcceptShedCounts AcceptShed() {
  return {.no_descriptor = shed_total.load(std::memory_order_relaxed),
          .connection_cap = shed_connection_cap.load(std::memory_order_relaxed),
          .peer_cap = shed_peer_cap.load(std::memory_order_relaxed)};
}

uint64_t AcceptShedTotal() {
  return shed_total.load(std::memory_order_relaxed);
}

}  // namespace hookstream

// Interposes libc's accept4 for every caller in the process (libgrpc's
// grpc_accept4 among them); see accept_guard.h for why.
extern "C" int accept4(int sockfd, sockaddr* addr, socklen_t* addrlen,
                       int flags) {
  const int fd = hookstream::RealAccept4(sockfd, addr, addrlen, flags);
  if (fd >= 0) {
    if (!hookstream::armed.load(std::memory_order_acquire) ||
        hookstream::AdmitOrReset(fd)) {
      return fd;
    }
    // Refused and reset: EINTR tells gRPC to call again at once.
    errno = EINTR;
    return -1;
  }
  if ((errno != EMFILE && errno != ENFILE) ||
      !hookstream::armed.load(std::memory_order_acquire)) {
    return fd;
  }
  errno = hookstream::Shed(sockfd, errno);
  return -1;
}
