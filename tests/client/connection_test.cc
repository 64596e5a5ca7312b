// ConnectionOptions: target parsing, the rules Validate enforces, the
// environment variables, and — against an in-process EventStream server
// speaking real TLS with certificates made at test time — server
// verification, client certificates (mTLS) and the bearer token, through
// the Subscriber as an application uses it.
#include "client/connection.h"

#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "client/subscriber.h"
#include "gmock/gmock.h"
#include "grpcpp/security/server_credentials.h"
#include "gtest/gtest.h"
#include "tests/client/scripted_event_stream.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace hookstream {
namespace {

using ::hookstream::testing::EventsMessage;
using ::hookstream::testing::HeartbeatMessage;
using ::hookstream::testing::ScriptedEventStream;
using ::hookstream::testing::StatusIs;
using ::hookstream::testing::TestCertificate;
using ::testing::HasSubstr;

constexpr absl::Duration kWait = absl::Seconds(30);

std::unique_ptr<TestCertificate> MakeCert() {
  absl::StatusOr<std::unique_ptr<TestCertificate>> cert =
      TestCertificate::Create();
  EXPECT_TRUE(cert.ok()) << cert.status();
  return cert.ok() ? *std::move(cert) : nullptr;
}

// TLS server credentials from `server_cert`; with `client_ca`, clients must
// present a certificate it signed.
std::shared_ptr<grpc::ServerCredentials> ServerTls(
    const TestCertificate& server_cert,
    const TestCertificate* client_ca = nullptr) {
  grpc::SslServerCredentialsOptions options(
      client_ca == nullptr
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_key_cert_pairs.push_back(
      {testing::ReadWholeFile(server_cert.key_file()),
       testing::ReadWholeFile(server_cert.cert_file())});
  if (client_ca != nullptr) {
    options.pem_root_certs = testing::ReadWholeFile(client_ca->cert_file());
  }
  return grpc::SslServerCredentials(options);
}

SubscriberOptions OptionsFor(ConnectionOptions connection) {
  SubscriberOptions options;
  options.connection = std::move(connection);
  options.backoff.initial_delay = absl::Milliseconds(1);
  options.backoff.max_delay = absl::Milliseconds(20);
  return options;
}

// Verifies the host part is found in every target form gRPC accepts.
TEST(ConnectionTest, TargetHost) {
  EXPECT_EQ(TargetHost("127.0.0.1:50051"), "127.0.0.1");
  EXPECT_EQ(TargetHost("[::1]:50051"), "::1");
  EXPECT_EQ(TargetHost("::1"), "::1");
  EXPECT_EQ(TargetHost("localhost:1"), "localhost");
  EXPECT_EQ(TargetHost("dns:///events.example.com:443"), "events.example.com");
  EXPECT_EQ(TargetHost("dns://8.8.8.8/events.example.com:443"),
            "events.example.com");
  EXPECT_EQ(TargetHost("ipv4:127.0.0.2:9"), "127.0.0.2");
  EXPECT_EQ(TargetHost("events.example.com"), "events.example.com");
}

// Verifies loopback means an IP literal in 127/8 or ::1 — not a host name,
// neither "localhost" nor one that merely starts with "127." (the server's
// rule too).
TEST(ConnectionTest, IsLoopbackTarget) {
  EXPECT_TRUE(IsLoopbackTarget("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackTarget("127.10.20.30:1"));
  EXPECT_TRUE(IsLoopbackTarget("[::1]:50051"));
  EXPECT_FALSE(IsLoopbackTarget("localhost:50051"));
  EXPECT_FALSE(IsLoopbackTarget("127.attacker.example:50051"));
  EXPECT_FALSE(IsLoopbackTarget("127.0.0.256:1"));
  EXPECT_FALSE(IsLoopbackTarget("10.0.0.1:50051"));
  EXPECT_FALSE(IsLoopbackTarget("dns:///events.example.com:443"));
}

// Verifies a comma-separated target is a failover list of replicas, while a
// gRPC URI (whose own syntax may hold commas) stays one target; a list is
// validated target by target and gets one channel per target.
TEST(ConnectionTest, FailoverLists) {
  EXPECT_EQ(SplitTargets("127.0.0.1:1"),
            std::vector<std::string>{"127.0.0.1:1"});
  EXPECT_EQ(SplitTargets("10.0.0.1:1, 10.0.0.2:2,[::1]:3"),
            (std::vector<std::string>{"10.0.0.1:1", "10.0.0.2:2", "[::1]:3"}));
  EXPECT_EQ(SplitTargets("ipv4:10.0.0.1:1,10.0.0.2:2"),
            std::vector<std::string>{"ipv4:10.0.0.1:1,10.0.0.2:2"});
  EXPECT_EQ(SplitTargets("dns:///a.example:1"),
            std::vector<std::string>{"dns:///a.example:1"});

  ConnectionOptions o;
  o.target = "127.0.0.1:1,";
  EXPECT_THAT(Validate(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("empty target in the list")));
  o.target = "127.0.0.1:1,events.example.com:2";
  o.token = "t0ken";
  EXPECT_THAT(Validate(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("clear text to events.example.com:2")));
  o.target = "127.0.0.1:1,127.0.0.2:2";
  EXPECT_TRUE(Validate(o).ok());
  EXPECT_THAT(CreateChannel(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("CreateChannels")));
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      CreateChannels(o);
  ASSERT_TRUE(channels.ok()) << channels.status();
  EXPECT_EQ(channels->size(), 2u);
}

// Verifies the rules: a certificate needs its key; a token is refused in
// clear text beyond loopback; a CA file implies TLS.
TEST(ConnectionTest, ValidateRules) {
  ConnectionOptions o;
  EXPECT_TRUE(Validate(o).ok());
  o.cert_file = "c.pem";
  EXPECT_THAT(Validate(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("needs its key")));
  o = {};
  o.target = "events.example.com:50051";
  o.token = "t0ken";
  EXPECT_THAT(Validate(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("clear text")));
  o.ca_file = "ca.pem";
  EXPECT_TRUE(o.UsesTls());
  EXPECT_TRUE(Validate(o).ok());
  o = {};
  o.token = "t0ken";  // loopback plaintext: the development server
  EXPECT_TRUE(Validate(o).ok());
  EXPECT_EQ(Describe(o), "127.0.0.1:50051 (plaintext, token)");
}

// Verifies a list of targets (replicas): split in order, each target
// checked by the rules (a token in clear text to any non-loopback one is
// refused), one channel per target.
TEST(ConnectionTest, SeveralTargets) {
  ConnectionOptions o;
  o.target = "127.0.0.1:1,127.0.0.1:2";
  o.token = "t0ken";
  EXPECT_TRUE(Validate(o).ok());
  absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> channels =
      CreateChannels(o);
  ASSERT_TRUE(channels.ok()) << channels.status();
  EXPECT_EQ(channels->size(), 2u);
  o.target = "127.0.0.1:1,events.example.com:50051";
  EXPECT_THAT(Validate(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("events.example.com")));
  o.target = " , ";
  EXPECT_THAT(Validate(o), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("empty target")));
}

// Verifies HOOKSTREAM_* variables apply over the defaults, and a bad
// HOOKSTREAM_TLS is an error naming it.
TEST(ConnectionTest, FromEnvironment) {
  setenv("HOOKSTREAM_TARGET", "127.0.0.9:7", 1);
  setenv("HOOKSTREAM_TLS", "yes", 1);
  setenv("HOOKSTREAM_CACERT", "/ca.pem", 1);
  setenv("HOOKSTREAM_TOKEN", "from-env", 1);
  ConnectionOptions defaults;
  defaults.cert_file = "/kept.pem";
  absl::StatusOr<ConnectionOptions> o =
      ConnectionOptionsFromEnvironment(defaults);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->target, "127.0.0.9:7");
  EXPECT_TRUE(o->tls);
  EXPECT_EQ(o->ca_file, "/ca.pem");
  EXPECT_EQ(o->cert_file, "/kept.pem");
  EXPECT_EQ(o->token, "from-env");
  setenv("HOOKSTREAM_TLS", "maybe", 1);
  EXPECT_THAT(ConnectionOptionsFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("HOOKSTREAM_TLS")));
  for (const char* name : {"HOOKSTREAM_TARGET", "HOOKSTREAM_TLS",
                           "HOOKSTREAM_CACERT", "HOOKSTREAM_TOKEN"}) {
    unsetenv(name);
  }
}

// Verifies the bearer token is sent as `authorization: Bearer …` with every
// Subscribe, the first and the resumed one.
TEST(ConnectionTest, SendsTheBearerTokenWithEverySubscribe) {
  ScriptedEventStream server;
  server.AddScript(
      testing::EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE, "restart"),
                       {HeartbeatMessage("E", 0), EventsMessage("E", {1})}));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 1), EventsMessage("E", {2})}));
  ConnectionOptions connection;
  connection.target = absl::StrCat("127.0.0.1:", server.port());
  connection.token = "s3cret-token";
  Subscriber sub(OptionsFor(connection));
  for (uint64_t want : {1, 2}) {
    absl::StatusOr<Delivery> d = sub.Next(kWait);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->event.sequence(), want);
  }
  EXPECT_EQ(
      server.Authorizations(),
      (std::vector<std::string>{"Bearer s3cret-token", "Bearer s3cret-token"}));
}

// Verifies a TLS connection that trusts the server's CA works, and one
// that trusts another CA fails the handshake (and gives up as told).
TEST(ConnectionTest, VerifiesTheServerCertificate) {
  std::unique_ptr<TestCertificate> server_cert = MakeCert();
  std::unique_ptr<TestCertificate> other_ca = MakeCert();
  ASSERT_NE(server_cert, nullptr);
  ASSERT_NE(other_ca, nullptr);
  ScriptedEventStream server(ServerTls(*server_cert));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 0), EventsMessage("E", {1})}));
  ConnectionOptions connection;
  connection.target = absl::StrCat("127.0.0.1:", server.port());
  connection.ca_file = server_cert->cert_file();
  connection.token = "over-tls";
  {
    Subscriber sub(OptionsFor(connection));
    absl::StatusOr<Delivery> d = sub.Next(kWait);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->event.sequence(), 1u);
  }
  EXPECT_EQ(server.Authorizations(),
            std::vector<std::string>{"Bearer over-tls"});

  connection.ca_file = other_ca->cert_file();
  SubscriberOptions options = OptionsFor(connection);
  options.max_reconnect_attempts = 1;
  Subscriber untrusted(options);
  EXPECT_THAT(untrusted.Next(kWait), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(server.WaitForRequests(1).size(), 1u) << "no call got through";
}

// Verifies mutual TLS: a server that requires a client certificate accepts
// the client's --cert/--key and refuses a client without one.
TEST(ConnectionTest, PresentsTheClientCertificate) {
  std::unique_ptr<TestCertificate> server_cert = MakeCert();
  std::unique_ptr<TestCertificate> client_cert = MakeCert();
  ASSERT_NE(server_cert, nullptr);
  ASSERT_NE(client_cert, nullptr);
  ScriptedEventStream server(ServerTls(*server_cert, client_cert.get()));
  server.AddScript(
      testing::Hang({HeartbeatMessage("E", 0), EventsMessage("E", {7})}));
  ConnectionOptions connection;
  connection.target = absl::StrCat("127.0.0.1:", server.port());
  connection.ca_file = server_cert->cert_file();
  {
    SubscriberOptions options = OptionsFor(connection);
    options.max_reconnect_attempts = 1;
    Subscriber anonymous(options);
    EXPECT_THAT(anonymous.Next(kWait),
                StatusIs(absl::StatusCode::kUnavailable));
  }
  connection.cert_file = client_cert->cert_file();
  connection.key_file = client_cert->key_file();
  Subscriber sub(OptionsFor(connection));
  absl::StatusOr<Delivery> d = sub.Next(kWait);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->event.sequence(), 7u);
}

// Verifies a Subscriber whose connection cannot be made ends at once with
// the reason: a missing CA file, a token in clear text beyond loopback.
TEST(ConnectionTest, SubscriberEndsWithTheConnectionError) {
  ConnectionOptions connection;
  connection.ca_file = "/nonexistent/ca.pem";
  Subscriber missing(OptionsFor(connection));
  EXPECT_THAT(missing.Next(kWait), StatusIs(absl::StatusCode::kNotFound,
                                            HasSubstr("/nonexistent/ca.pem")));
  connection = {};
  connection.target = "events.example.com:443";
  connection.token = "t";
  Subscriber clear_text(OptionsFor(connection));
  EXPECT_THAT(clear_text.Next(kWait),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hookstream
