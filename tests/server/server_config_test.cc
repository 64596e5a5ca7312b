// ServerConfig::Validate as a table (the loopback rule on IP literals only,
// cert/key pairing, gRPC TLS and authentication, IPv6, each bound), and
// Server::Start against real sockets: IPv6 listeners, a gRPC address that is
// taken (the start fails naming gRPC, and the ingress port it had bound is
// released again), the ingress and gRPC ports it reports.
#include "server/server_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/base/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/testing/test_certs.h"

namespace hookstream {
namespace {

using ::hookstream::testing::TestCertificate;
using ::testing::HasSubstr;

ServerConfig Valid() {
  ServerConfig c;
  c.tls = {.cert_file = "cert.pem", .key_file = "key.pem"};
  c.ingress.address = "127.0.0.1:0";
  c.grpc.address = "127.0.0.1:0";
  return c;
}

struct Case {
  const char* name;
  void (*change)(ServerConfig&);
  // Empty: valid. Otherwise a substring of the INVALID_ARGUMENT message.
  const char* error;
};

const Case kCases[] = {
    {"defaults", [](ServerConfig&) {}, ""},
    {"loopback_127_x", [](ServerConfig& c) { c.grpc.address = "127.8.9.10:1"; },
     ""},
    {"loopback_v6", [](ServerConfig& c) { c.grpc.address = "[::1]:50051"; },
     ""},
    {"name_that_looks_loopback",
     [](ServerConfig& c) { c.grpc.address = "127.attacker.example:15052"; },
     "plaintext gRPC is only served on a loopback IP"},
    {"localhost_is_a_name",
     [](ServerConfig& c) { c.grpc.address = "localhost:50051"; },
     "plaintext gRPC is only served on a loopback IP"},
    {"any_v4", [](ServerConfig& c) { c.grpc.address = "0.0.0.0:50051"; },
     "plaintext gRPC is only served on a loopback IP"},
    {"any_v6", [](ServerConfig& c) { c.grpc.address = "[::]:50051"; },
     "plaintext gRPC is only served on a loopback IP"},
    {"v4_mapped_is_not_v6_loopback",
     [](ServerConfig& c) { c.grpc.address = "[::ffff:127.0.0.1]:1"; },
     "plaintext gRPC is only served on a loopback IP"},
    {"tls_outside_loopback_without_credentials",
     [](ServerConfig& c) {
       c.grpc.address = "0.0.0.0:50051";
       c.grpc.tls = {.cert_file = "g.pem", .key_file = "g.key"};
     },
     "would let anyone who reaches it read every event"},
    {"tls_outside_loopback_with_access_file",
     [](ServerConfig& c) {
       c.grpc.address = "0.0.0.0:50051";
       c.grpc.tls = {.cert_file = "g.pem", .key_file = "g.key"};
       c.grpc.access_file = "access.json";
     },
     ""},
    {"tls_outside_loopback_with_client_ca",
     [](ServerConfig& c) {
       c.grpc.address = "[::]:50051";
       c.grpc.tls = {.cert_file = "g.pem", .key_file = "g.key"};
       c.grpc.client_ca_file = "ca.pem";
     },
     ""},
    {"access_file_needs_tls",
     [](ServerConfig& c) { c.grpc.access_file = "access.json"; },
     "need --grpc_tls_cert"},
    {"grpc_cert_without_key",
     [](ServerConfig& c) { c.grpc.tls.cert_file = "g.pem"; }, "go together"},
    {"grpc_key_without_cert",
     [](ServerConfig& c) { c.grpc.tls.key_file = "g.key"; }, "go together"},
    {"ingress_cert_missing", [](ServerConfig& c) { c.tls.cert_file.clear(); },
     "--tls_cert and --tls_key are required"},
    {"ingress_key_missing", [](ServerConfig& c) { c.tls.key_file.clear(); },
     "--tls_cert and --tls_key are required"},
    {"ingress_no_port", [](ServerConfig& c) { c.ingress.address = "1.2.3.4"; },
     "--ingress_address: want host:port"},
    {"ingress_port_too_big",
     [](ServerConfig& c) { c.ingress.address = "127.0.0.1:65536"; },
     "--ingress_address: want host:port"},
    {"ingress_v6", [](ServerConfig& c) { c.ingress.address = "[::]:8443"; },
     ""},
    {"grpc_empty_host", [](ServerConfig& c) { c.grpc.address = ":50051"; },
     "--grpc_address: want host:port"},
    {"scheme", [](ServerConfig& c) { c.signing.scheme = "md5"; },
     "--signature_scheme"},
    {"ring_empty", [](ServerConfig& c) { c.ring.max_events = 0; },
     "--ring_max_events"},
    {"body_over_ring",
     [](ServerConfig& c) {
       c.ring.max_bytes = 1000;
       c.ingress.max_body_bytes = 1001;
     },
     "--max_body_bytes"},
    {"event_bytes_tiny", [](ServerConfig& c) { c.ingress.max_event_bytes = 1; },
     "--max_event_bytes"},
    {"stream_threads", [](ServerConfig& c) { c.grpc.stream_threads = 0; },
     "--grpc_stream_threads"},
    {"io_threads", [](ServerConfig& c) { c.ingress.io_threads = 0; },
     "--io_threads"},
    {"max_streams", [](ServerConfig& c) { c.grpc.max_streams = 0; },
     "--grpc_max_streams"},
    {"request_bytes", [](ServerConfig& c) { c.grpc.max_request_bytes = 10; },
     "--grpc_max_request_bytes"},
    {"handshake_timeout",
     [](ServerConfig& c) { c.grpc.handshake_timeout = absl::ZeroDuration(); },
     "--grpc_handshake_timeout"},
    {"journal_without_dir",
     [](ServerConfig& c) { c.storage.backend = "journal"; },
     "--backend=journal needs --journal_dir"},
    {"journal_sync",
     [](ServerConfig& c) {
       c.storage.backend = "journal";
       c.storage.journal_dir = "/tmp/x";
       c.storage.journal_sync = "sometimes";
     },
     "--journal_sync"},
    {"journal_dir_without_journal",
     [](ServerConfig& c) { c.storage.journal_dir = "/tmp/x"; },
     "need --backend=journal"},
    {"backend", [](ServerConfig& c) { c.storage.backend = "tape"; },
     "--backend: want memory, journal"},
};

class ValidateTest : public ::testing::TestWithParam<Case> {};

// Verifies each row: valid configurations pass, each invalid one is
// INVALID_ARGUMENT naming its flag.
TEST_P(ValidateTest, Row) {
  ServerConfig c = Valid();
  GetParam().change(c);
  const absl::Status s = c.Validate();
  if (*GetParam().error == '\0') {
    EXPECT_TRUE(s.ok()) << s;
  } else {
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(s.message(), HasSubstr(GetParam().error));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ValidateTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return info.param.name; });

bool HaveIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A listening loopback socket on a port the kernel picks; closed on
// destruction.
class TakenPort {
 public:
  TakenPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot take a port";
    }
    port_ = ntohs(a.sin_port);
  }
  ~TakenPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// True when `port` on 127.0.0.1 can be bound (nobody listens there).
bool CanBind(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The sockets this process holds open (its fds that are sockets).
int OpenSockets() {
  int n = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec && target.string().rfind("socket:", 0) == 0) ++n;
  }
  return n;
}

class ServerStartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cert = TestCertificate::Create();
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *std::move(cert);
    config_.tls = {.cert_file = cert_->cert_file(),
                   .key_file = cert_->key_file()};
    config_.ingress.address = "127.0.0.1:0";
    config_.grpc.address = "127.0.0.1:0";
    config_.signing.secret_env = "HOOKSTREAM_SERVER_CONFIG_TEST_UNSET";
    config_.signing.allow_unsigned = true;
    config_.ring = {.max_events = 100, .max_bytes = 4 << 20};
    config_.ingress.max_body_bytes = 1 << 20;
  }

  std::unique_ptr<TestCertificate> cert_;
  ServerConfig config_;
};

// Verifies that both listeners report the ports the kernel picked, and that
// Shutdown releases them.
TEST_F(ServerStartTest, ReportsPickedPortsAndReleasesThem) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(config_, RealClock());
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t ingress = (*server)->ingress_port();
  const int grpc = (*server)->grpc_port();
  EXPECT_GT(ingress, 0);
  EXPECT_GT(grpc, 0);
  EXPECT_FALSE(CanBind(ingress));
  EXPECT_FALSE(CanBind(static_cast<uint16_t>(grpc)));
  (*server)->Shutdown();
  server->reset();
  EXPECT_TRUE(CanBind(ingress));
  EXPECT_TRUE(CanBind(static_cast<uint16_t>(grpc)));
}

// Verifies that a gRPC address already taken fails the start with a reason
// naming it, and that the ingress listener bound before it is closed again
// (no half-started server keeps a socket: this process's socket count is
// what it was).
TEST_F(ServerStartTest, TakenGrpcPortFailsAndReleasesTheIngress) {
  TakenPort taken;
  config_.grpc.address = absl::StrCat("127.0.0.1:", taken.port());
  const int sockets_before = OpenSockets();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(config_, RealClock());
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("grpc"));
  EXPECT_THAT(server.status().message(), HasSubstr(config_.grpc.address));
  EXPECT_EQ(OpenSockets(), sockets_before) << "a listener stayed open";
}

// Verifies that IPv6 literals in brackets work for both listeners.
TEST_F(ServerStartTest, Ipv6Listeners) {
  if (!HaveIpv6Loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  config_.ingress.address = "[::1]:0";
  config_.grpc.address = "[::1]:0";
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(config_, RealClock());
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_GT((*server)->ingress_port(), 0);
  EXPECT_GT((*server)->grpc_port(), 0);
  (*server)->Shutdown();
}

// Verifies that without a secret and without allow_unsigned the start is
// refused before anything listens.
TEST_F(ServerStartTest, NoSecretIsRefused) {
  config_.signing.allow_unsigned = false;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(config_, RealClock());
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("no signing secret"));
}

}  // namespace
}  // namespace hookstream
