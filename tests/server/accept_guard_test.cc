// accept_guard.cc's accept4 in this process, with the descriptor table
// really full (RLIMIT_NOFILE lowered to what is open): what gRPC's accept
// loop is told, and what the shed peer sees. Each test runs in its own
// process (gtest_discover_tests), so arming in one does not leak into
// another.
#include "server/accept_guard.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "gtest/gtest.h"

namespace hookstream {
namespace {

class AcceptGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(listener_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    ASSERT_EQ(listen(listener_, 16), 0);
    socklen_t len = sizeof(addr);
    ASSERT_EQ(getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len),
              0);
    port_ = ntohs(addr.sin_port);
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
  }

  void TearDown() override {
    Unfill();
    for (int fd : clients_) close(fd);
    close(listener_);
  }

  // A connection the kernel completes and queues for accept.
  int Connect() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    clients_.push_back(fd);
    return fd;
  }

  // Fills the descriptor table: the soft limit just above the highest open
  // descriptor, every hole below it taken.
  void Fill() {
    int highest = 0;
    for (int fd = 0; fd < 4096; ++fd) {
      if (fcntl(fd, F_GETFD) != -1) highest = fd;
    }
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest) + 1;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (;;) {
      const int fd = open("/dev/null", O_RDONLY);
      if (fd < 0) break;
      fillers_.push_back(fd);
    }
    ASSERT_EQ(errno, EMFILE);
  }
  // Frees the descriptors again: closes the fillers and restores the limit
  // (with no hole below the highest descriptor, Fill opened no filler and
  // only the limit keeps the table full; CI's runner inherits no stray
  // descriptors, so there it is always so).
  void Unfill() {
    for (int fd : fillers_) close(fd);
    fillers_.clear();
    setrlimit(RLIMIT_NOFILE, &saved_);
  }

  int listener_ = -1;
  uint16_t port_ = 0;
  rlimit saved_{};
  std::vector<int> clients_;
  std::vector<int> fillers_;
};

// Verifies that unarmed, accept4 is libc's: EMFILE reaches the caller.
TEST_F(AcceptGuardTest, UnarmedPassesEmfileThrough) {
  Connect();
  ASSERT_NO_FATAL_FAILURE(Fill());
  errno = 0;
  EXPECT_EQ(accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EMFILE);
  EXPECT_EQ(AcceptShedTotal(), 0u);
}

// Verifies that armed, a pending connection is shed (the peer reads a
// reset) and the caller is told EINTR, i.e. to call again; with nothing
// left to shed it is told EAGAIN (re-arm), never EMFILE; and once
// descriptors are free, accept4 accepts again.
TEST_F(AcceptGuardTest, ArmedShedsThePendingConnectionAndKeepsAccepting) {
  ASSERT_TRUE(ArmAcceptGuard());
  const int shed = Connect();
  ASSERT_NO_FATAL_FAILURE(Fill());
  errno = 0;
  EXPECT_EQ(accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(AcceptShedTotal(), 1u);
  errno = 0;
  EXPECT_EQ(accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EAGAIN);  // the backlog is empty now
  EXPECT_EQ(AcceptShedTotal(), 1u);

  pollfd p{.fd = shed, .events = POLLIN, .revents = 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  char byte = 0;
  errno = 0;
  EXPECT_EQ(read(shed, &byte, 1), -1);
  EXPECT_EQ(errno, ECONNRESET);

  Unfill();
  Connect();
  const int accepted = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  EXPECT_GE(accepted, 0);
  if (accepted >= 0) close(accepted);
  // The reserve came back: a second exhaustion is shed the same way.
  Connect();
  ASSERT_NO_FATAL_FAILURE(Fill());
  errno = 0;
  EXPECT_EQ(accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC), -1);
  EXPECT_EQ(errno, EINTR);
  EXPECT_EQ(AcceptShedTotal(), 2u);
}

}  // namespace
}  // namespace hookstream
