#include "server/accept_guard.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"
#include "common/base/log.h"

namespace hookstream {
namespace {

std::atomic<bool> armed{false};
// -1 while not held: not yet armed, being used by a thread, or lost to a
// racing open after a shed.
std::atomic<int> reserve{-1};
std::atomic<uint64_t> shed_total{0};

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
  if (fd >= 0) {
    // Linger 0: the peer gets a reset now, not a FIN it may not notice.
    const linger reset{.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    close(fd);
  }
  RestoreReserve();
  if (fd < 0) return accept_errno == EINTR ? EINTR : EAGAIN;
  shed_total.fetch_add(1, std::memory_order_relaxed);
  LogShed(error);
  return EINTR;
}

}  // namespace

bool ArmAcceptGuard() {
  RestoreReserve();
  armed.store(true, std::memory_order_release);
  return reserve.load(std::memory_order_acquire) >= 0;
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
  if (fd >= 0 || (errno != EMFILE && errno != ENFILE) ||
      !hookstream::armed.load(std::memory_order_acquire)) {
    return fd;
  }
  errno = hookstream::Shed(sockfd, errno);
  return -1;
}
