#include "tests/testing/tcp_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace hookstream::testing {
namespace {

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Binds a TCP socket to 127.0.0.1:0; aborts the test binary if it cannot
// (nothing a test could do without it).
int BindEphemeral(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

bool WriteAll(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= w;
  }
  return true;
}

}  // namespace

TcpForwarder::TcpForwarder() {
  listener_ = BindEphemeral(&port_);
  if (listen(listener_, 64) != 0 || pipe2(wake_, O_CLOEXEC) != 0) std::abort();
  acceptor_ = std::thread([this] { Accept(); });
}

TcpForwarder::~TcpForwarder() {
  std::vector<std::thread> pumps;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    ++generation_;
    pumps.swap(pumps_);
  }
  const char byte = 0;
  (void)!write(wake_[1], &byte, 1);
  acceptor_.join();
  for (std::thread& t : pumps) t.join();
  close(listener_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpForwarder::SetBackend(uint16_t backend_port) {
  absl::MutexLock lock(&mu_);
  backend_ = backend_port;
  ++generation_;  // pumps of older generations close their connections
}

void TcpForwarder::Accept() {
  for (;;) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    uint16_t backend;
    uint64_t generation;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) {
        close(client);
        return;
      }
      backend = backend_;
      generation = generation_;
    }
    int server = -1;
    if (backend != 0) {
      server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in addr = Loopback(backend);
      if (connect(server, reinterpret_cast<const sockaddr*>(&addr),
                  sizeof(addr)) != 0) {
        close(server);
        server = -1;
      }
    }
    if (server < 0) {
      close(client);  // the backend is down: as a refused connection
      continue;
    }
    absl::MutexLock lock(&mu_);
    pumps_.emplace_back([this, client, server, generation] {
      Pump(client, server, generation);
    });
  }
}

void TcpForwarder::Pump(int client, int server, uint64_t generation) {
  char buffer[16384];
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (generation_ != generation) break;
    }
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    // Wakes up now and then to notice a new generation.
    const int ready = poll(fds, 2, 50);
    if (ready < 0 && errno != EINTR) break;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = recv(fds[i].fd, buffer, sizeof(buffer), 0);
      done = n <= 0 || !WriteAll(fds[1 - i].fd, buffer, n);
    }
    if (done) break;
  }
  close(client);
  close(server);
}

ClosedPort::ClosedPort() { fd_ = BindEphemeral(&port_); }
ClosedPort::~ClosedPort() { close(fd_); }

}  // namespace hookstream::testing
