// End-to-end security: the real hookstream-server binary with gRPC over TLS,
// bearer tokens and client certificates from an access file, the grant of
// each identity, the limits no client can raise, and the refusals at start
// (docs/security.md names the test behind each claim). Probe rows of issue
// 11 are scaled down where the behaviour is the same; each test says so.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/connection.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "server/auth/access_policy.h"
#include "tests/e2e/e2e_support.h"
#include "tests/testing/process_runner.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadFile;
using testing::Seed;
using testing::UniqueEvent;

constexpr char kBillingToken[] = "billing-token-0123456789abcdef";
constexpr char kOpsToken[] = "ops-token-0123456789abcdef";
constexpr char kCustomerAccount[] = "acm_65f48b068b8d6912fe07f555";

class SecurityE2eTest : public testing::E2eFixture {
 protected:
  // billing: customer.* of one account, by token; ops: everything, by token;
  // analytics: everything, by client certificate.
  std::string WriteAccessFile() {
    const std::string path = dir_ + "/access.json";
    nlohmann::json doc = {
        {"identities",
         {{{"name", "billing"},
           {"token_sha256", auth::TokenSha256Hex(kBillingToken)},
           {"types", {"customer.*"}},
           {"accounts", {kCustomerAccount}}},
          {{"name", "ops"},
           {"token_sha256", auth::TokenSha256Hex(kOpsToken)},
           {"types", {"*"}}},
          {{"name", "analytics"},
           {"client_cert_subject", "CN=analytics"},
           {"types", {"refund.*"}}}}}};
    std::ofstream(path) << doc.dump();
    return path;
  }

  std::vector<std::string> TlsFlags() const {
    return {"--grpc_tls_cert=" + dir_ + "/tls.crt",
            "--grpc_tls_key=" + dir_ + "/tls.key"};
  }

  ConnectionOptions Connection(const std::string& token = "") const {
    return {.target = server_->grpc_target(),
            .tls = true,
            .ca_file = server_->ca_file(),
            .token = token};
  }

  std::unique_ptr<v1::EventStream::Stub> Stub(const ConnectionOptions& c) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = CreateChannel(c);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return v1::EventStream::NewStub(*channel);
  }

  static void Deadline(grpc::ClientContext& ctx) {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  }

  grpc::Status InfoStatus(v1::EventStream::Stub& stub,
                          const ConnectionOptions& c) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(c, ctx);
    v1::GetStreamInfoResponse info;
    return stub.GetStreamInfo(&ctx, {}, &info);
  }

  // The first message of a Subscribe, or the status it ended with.
  grpc::Status SubscribeFirst(v1::EventStream::Stub& stub,
                              const ConnectionOptions& c,
                              const v1::SubscribeRequest& request,
                              std::vector<v1::Event>* events, size_t want) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(c, ctx);
    std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
        stub.Subscribe(&ctx, request);
    v1::SubscribeResponse r;
    while (events->size() < want && reader->Read(&r)) {
      for (const v1::Event& e : r.events().events()) events->push_back(e);
    }
    if (events->size() >= want) {
      ctx.TryCancel();
      reader->Finish().ok();
      return grpc::Status::OK;
    }
    return reader->Finish();
  }

  // Starts the server with TLS and the access file, and posts a refund (seq
  // 1, another account) and a customer.created (seq 2).
  void StartWithAccessFile(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = TlsFlags();
    flags.push_back("--grpc_access_file=" + WriteAccessFile());
    for (std::string& f : extra) flags.push_back(std::move(f));
    ASSERT_NO_FATAL_FAILURE(StartServer(flags));
    ASSERT_EQ(PostSigned(Seed("refund.pending.json")).status, 200);
    ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  }

  // Runs hookstream-server with `flags` (after the test's certificate and
  // secret) expecting it to refuse to start; returns its stderr.
  std::string RefusedStart(const std::vector<std::string>& flags) {
    EXPECT_EQ(std::system(absl::StrCat(HOOKSTREAM_SOURCE_DIR,
                                       "/scripts/dev-setup.sh '", dir_,
                                       "' >/dev/null")
                              .c_str()),
              0);
    const std::string secret = dir_ + "/refused-secret";
    std::ofstream(secret) << testing::kSecret << "\n";
    chmod(secret.c_str(), 0600);
    std::vector<std::string> argv = {HOOKSTREAM_SERVER_BIN,
                                     "--ingress_address=127.0.0.1:0",
                                     "--grpc_address=127.0.0.1:0",
                                     "--tls_cert=" + dir_ + "/tls.crt",
                                     "--tls_key=" + dir_ + "/tls.key",
                                     "--signing_secret_file=" + secret};
    for (const std::string& f : flags) argv.push_back(f);
    const testing::ProcessResult r = testing::RunProcess(argv, 30);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.exit_code, 124) << "it served instead of refusing: " << r.err;
    return r.err;
  }
};

// Verifies no identity → UNAUTHENTICATED on every service (EventStream,
// health, reflection's list is covered by buf in docs), a wrong token too,
// and a valid token is accepted; the log names the identity, never a token.
TEST_F(SecurityE2eTest, TokensAreCheckedOnEveryService) {
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  const ConnectionOptions none = Connection();
  std::unique_ptr<v1::EventStream::Stub> stub = Stub(none);
  grpc::Status s = InfoStatus(*stub, none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("no credentials"));

  const ConnectionOptions wrong = Connection("not-the-token-0123456789");
  s = InfoStatus(*stub, wrong);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("unknown bearer token"));

  const ConnectionOptions billing = Connection(kBillingToken);
  s = InfoStatus(*stub, billing);
  EXPECT_TRUE(s.ok()) << s.error_message();

  // Health needs an identity too.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = CreateChannel(none);
  ASSERT_TRUE(channel.ok());
  grpc::GenericStub generic(*channel);
  for (const ConnectionOptions* c : {&none, &billing}) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(*c, ctx);
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    grpc::Status done;
    absl::Notification notified;
    // grpc.health.v1.HealthCheckRequest{} is empty bytes.
    const grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
    generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", {}, &request,
                      &response, [&](grpc::Status st) {
                        done = std::move(st);
                        notified.Notify();
                      });
    ASSERT_TRUE(notified.WaitForNotificationWithTimeout(absl::Seconds(20)));
    if (c == &none) {
      EXPECT_EQ(done.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    } else {
      EXPECT_TRUE(done.ok()) << done.error_message();
    }
  }

  const std::string log = ReadFile(server_->log_file());
  EXPECT_THAT(log, HasSubstr("identity=billing decision=allowed"));
  EXPECT_THAT(log, HasSubstr("decision=unauthenticated"));
  EXPECT_THAT(log, Not(HasSubstr(kBillingToken)));
  EXPECT_THAT(log, Not(HasSubstr("not-the-token")));
}

// Verifies the grant: billing (customer.* of one account) subscribing with
// no filter gets only its events; asking for more is PERMISSION_DENIED on
// Subscribe and ListEvents; GetEvent outside the grant is PERMISSION_DENIED
// and inside it works; ops (everything) reads the refund.
TEST_F(SecurityE2eTest, FiltersAreIntersectedWithTheGrant) {
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  const ConnectionOptions billing = Connection(kBillingToken);
  std::unique_ptr<v1::EventStream::Stub> stub = Stub(billing);

  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  std::vector<v1::Event> events;
  ASSERT_TRUE(SubscribeFirst(*stub, billing, request, &events, 1).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type(), "customer.created");  // seq 1 (refund) skipped
  EXPECT_EQ(events[0].sequence(), 2u);

  for (const char* outside : {"refund.*", "*"}) {
    v1::SubscribeRequest wide = request;
    wide.mutable_filter()->add_types(outside);
    events.clear();
    const grpc::Status s = SubscribeFirst(*stub, billing, wide, &events, 1);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << outside;
    EXPECT_THAT(s.error_message(), HasSubstr("identity 'billing'"));
  }
  {
    v1::SubscribeRequest other_account = request;
    other_account.mutable_filter()->add_accounts("acm_someone_else");
    events.clear();
    EXPECT_EQ(
        SubscribeFirst(*stub, billing, other_account, &events, 1).error_code(),
        grpc::StatusCode::PERMISSION_DENIED);
  }

  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(billing, ctx);
    v1::ListEventsResponse list;
    ASSERT_TRUE(stub->ListEvents(&ctx, {}, &list).ok());
    ASSERT_EQ(list.events_size(), 1);
    EXPECT_EQ(list.events(0).type(), "customer.created");
  }
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(billing, ctx);
    v1::ListEventsRequest list_request;
    list_request.mutable_filter()->add_types("refund.pending");
    v1::ListEventsResponse list;
    EXPECT_EQ(stub->ListEvents(&ctx, list_request, &list).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  for (const auto& [sequence, code] :
       std::vector<std::pair<uint64_t, grpc::StatusCode>>{
           {1, grpc::StatusCode::PERMISSION_DENIED},
           {2, grpc::StatusCode::OK}}) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(billing, ctx);
    v1::GetEventRequest get;
    get.set_sequence(sequence);
    v1::GetEventResponse got;
    EXPECT_EQ(stub->GetEvent(&ctx, get, &got).error_code(), code) << sequence;
  }
  const ConnectionOptions ops = Connection(kOpsToken);
  events.clear();
  ASSERT_TRUE(SubscribeFirst(*stub, ops, request, &events, 2).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), "refund.pending");

  const std::string log = ReadFile(server_->log_file());
  EXPECT_THAT(log, HasSubstr("method=Subscribe identity=billing "
                             "decision=permission_denied"));
  EXPECT_THAT(log, HasSubstr("method=GetEvent identity=billing "
                             "decision=permission_denied"));
}

// Verifies that SIGHUP rotates the gRPC listener's certificate: a stream
// opened before keeps going; new handshakes get the new certificate (a
// client trusting only the old one is refused, one trusting the new one
// connects); a broken key is refused with one line naming the part and the
// new certificate stays in force.
TEST_F(SecurityE2eTest, SighupRotatesTheGrpcCertificate) {
  // Copies left by a killed server (a pid that is gone) are removed at
  // start; those of a live process are not.
  const testing::ProcessResult gone =
      testing::RunProcess({"/bin/sh", "-c", "echo $$"});
  const std::string tmp = std::filesystem::temp_directory_path().string();
  const std::string stale = absl::StrCat(
      tmp, "/hookstream-grpc-tls-",
      std::string(absl::StripAsciiWhitespace(gone.out)), "-e2etest");
  const std::string live =
      absl::StrCat(tmp, "/hookstream-grpc-tls-", ::getpid(), "-e2etest");
  ASSERT_TRUE(std::filesystem::create_directories(stale + "/gen-1"));
  ASSERT_TRUE(std::filesystem::create_directories(live));
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(live));
  std::filesystem::remove_all(live);
  const std::string old_ca = dir_ + "/old-ca.crt";
  std::filesystem::copy_file(server_->ca_file(), old_ca);
  const ConnectionOptions ops = Connection(kOpsToken);
  std::unique_ptr<v1::EventStream::Stub> ops_stub = Stub(ops);
  grpc::ClientContext sub_ctx;
  sub_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
  AddCallCredentials(ops, sub_ctx);
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      ops_stub->Subscribe(&sub_ctx, request);
  size_t events = 0;
  v1::SubscribeResponse r;
  while (events < 2 && reader->Read(&r)) events += r.events().events_size();
  ASSERT_EQ(events, 2u);

  // Each check dials a fresh connection (a local subchannel pool), so it
  // sees the certificate of a new handshake.
  auto info_with_ca = [&](const std::string& ca) {
    ConnectionOptions c = Connection(kOpsToken);
    c.ca_file = ca;
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        CreateChannel(c, args);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return InfoStatus(*v1::EventStream::NewStub(*channel), c);
  };
  ASSERT_TRUE(info_with_ca(old_ca).ok());

  const std::string fresh = dir_ + "/fresh";
  ASSERT_EQ(
      std::system(absl::StrCat(HOOKSTREAM_SOURCE_DIR, "/scripts/dev-setup.sh '",
                               fresh, "' >/dev/null")
                      .c_str()),
      0);
  for (const char* f : {"/tls.crt", "/tls.key"}) {
    std::filesystem::copy_file(
        fresh + f, dir_ + f, std::filesystem::copy_options::overwrite_existing);
  }
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  auto log_has = [&](const std::string& needle) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (ReadFile(server_->log_file()).find(needle) != std::string::npos) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling a log file
    }
    return false;
  };
  ASSERT_TRUE(log_has("msg=reloaded parts=5"));
  // gRPC's watcher picks the new pair up within GrpcTls::kRefreshSeconds.
  grpc::Status with_new;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    with_new = info_with_ca(fresh + "/tls.crt");
    if (with_new.ok()) break;
    absl::SleepFor(absl::Milliseconds(50));  // polling for the new handshake
  }
  ASSERT_TRUE(with_new.ok()) << with_new.error_message();
  EXPECT_EQ(info_with_ca(old_ca).error_code(), grpc::StatusCode::UNAVAILABLE);

  // The stream opened before the rotation still delivers.
  ASSERT_EQ(PostSigned(UniqueEvent(Seed("customer.created.json"), 7)).status,
            200);
  while (events < 3 && reader->Read(&r)) events += r.events().events_size();
  EXPECT_EQ(events, 3u);

  std::ofstream(dir_ + "/tls.key", std::ios::trunc) << "not a key\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  ASSERT_TRUE(log_has("msg=\"reload failed\" part=grpc_tls"));
  EXPECT_TRUE(info_with_ca(fresh + "/tls.crt").ok());
  sub_ctx.TryCancel();
  (void)reader->Finish();
}

// Verifies that SIGHUP re-reads the access file: a token added to it works
// for new calls without a restart (and a removed one stops working); a file
// that does not load is refused with one line naming the part, and the
// policy in force stays.
TEST_F(SecurityE2eTest, SighupReloadsTheAccessFile) {
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  const std::string late_token = "late-token-0123456789abcdef";
  const ConnectionOptions late = Connection(late_token);
  const ConnectionOptions billing = Connection(kBillingToken);
  std::unique_ptr<v1::EventStream::Stub> late_stub = Stub(late);
  std::unique_ptr<v1::EventStream::Stub> billing_stub = Stub(billing);
  ASSERT_EQ(InfoStatus(*late_stub, late).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // billing leaves, late arrives.
  nlohmann::json doc = {{"identities",
                         {{{"name", "late"},
                           {"token_sha256", auth::TokenSha256Hex(late_token)},
                           {"types", {"*"}}}}}};
  std::ofstream(dir_ + "/access.json", std::ios::trunc) << doc.dump();
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  auto log_has = [&](const std::string& needle) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (ReadFile(server_->log_file()).find(needle) != std::string::npos) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling a log file
    }
    return false;
  };
  ASSERT_TRUE(log_has("msg=reloaded parts=5"));
  EXPECT_TRUE(InfoStatus(*late_stub, late).ok());
  EXPECT_EQ(InfoStatus(*billing_stub, billing).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  std::ofstream(dir_ + "/access.json", std::ios::trunc) << "{not json";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  ASSERT_TRUE(log_has("msg=\"reload failed\" part=grpc_access_file"));
  EXPECT_TRUE(InfoStatus(*late_stub, late).ok());  // the policy stayed
}

// Verifies ListSubscribers' rule: it shows every subscriber's filter, so it
// needs a grant of every type and account (ops); billing is
// PERMISSION_DENIED, no token UNAUTHENTICATED. An authenticated stream is
// listed under its identity's name, not the x-subscriber-name it claims.
TEST_F(SecurityE2eTest, ListSubscribersNeedsAGrantOfEverything) {
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  const ConnectionOptions billing = Connection(kBillingToken);
  const ConnectionOptions ops = Connection(kOpsToken);
  std::unique_ptr<v1::EventStream::Stub> billing_stub = Stub(billing);
  std::unique_ptr<v1::EventStream::Stub> ops_stub = Stub(ops);

  grpc::ClientContext sub_ctx;
  Deadline(sub_ctx);
  AddCallCredentials(billing, sub_ctx);
  sub_ctx.AddMetadata("x-subscriber-name", "pretending-to-be-ops");
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      billing_stub->Subscribe(&sub_ctx, request);
  v1::SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));

  auto list = [](v1::EventStream::Stub& stub, const ConnectionOptions& c,
                 v1::ListSubscribersResponse* out) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    AddCallCredentials(c, ctx);
    return stub.ListSubscribers(&ctx, {}, out);
  };
  v1::ListSubscribersResponse listed;
  const grpc::Status denied = list(*billing_stub, billing, &listed);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(denied.error_message(), HasSubstr("identity 'billing'"));
  EXPECT_EQ(list(*Stub(Connection()), Connection(), &listed).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const grpc::Status allowed = list(*ops_stub, ops, &listed);
  ASSERT_TRUE(allowed.ok()) << allowed.error_message();
  ASSERT_EQ(listed.subscribers_size(), 1);
  EXPECT_EQ(listed.subscribers(0).name(), "billing");
  // The effective filter: the grant's, not the empty one asked for.
  EXPECT_THAT(listed.subscribers(0).filter().types(),
              ::testing::ElementsAre("customer.*"));
  // The admin listener (loopback, no token) must not bypass the grants.
  for (const char* path :
       {"/api/subscribers", "/api/event?sequence=1", "/api/events"}) {
    const testing::HttpResult r =
        testing::HttpRequest("GET", server_->admin_url(path));
    EXPECT_EQ(r.status, 403) << path;
    EXPECT_THAT(r.body, HasSubstr("--admin_token_file")) << path;
  }
  EXPECT_EQ(testing::HttpRequest("GET", server_->admin_url("/metrics")).status,
            200);
  sub_ctx.TryCancel();
  (void)reader->Finish();
}

// Verifies mutual TLS with a CA generated here by openssl: a client
// certificate the CA signed (CN=analytics) is the access file's analytics
// identity; no certificate, or one from another CA, cannot connect.
TEST_F(SecurityE2eTest, ClientCertificatesFromTheClientCa) {
  const std::string pki = dir_ + "/pki";
  std::filesystem::create_directories(pki);
  const std::string script = absl::StrCat(
      "set -e; cd ", testing::ShellQuote(pki), "; ",
      "for ca in ca other; do "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout $ca.key -out $ca.crt -days 2 -subj /CN=test-$ca >/dev/null "
      "2>&1; "
      "done; "
      "for who in analytics:ca stranger:other; do n=${who%%:*}; c=${who##*:}; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout $n.key -out $n.csr -subj /CN=$n >/dev/null 2>&1; "
      "openssl x509 -req -in $n.csr -CA $c.crt -CAkey $c.key -CAcreateserial "
      "-out $n.crt -days 2 >/dev/null 2>&1; done");
  ASSERT_EQ(
      std::system(absl::StrCat("sh -c ", testing::ShellQuote(script)).c_str()),
      0);
  std::vector<std::string> flags = TlsFlags();
  flags.push_back("--grpc_client_ca=" + pki + "/ca.crt");
  flags.push_back("--grpc_access_file=" + WriteAccessFile());
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("refund.pending.json")).status, 200);

  ConnectionOptions analytics = Connection();
  analytics.cert_file = pki + "/analytics.crt";
  analytics.key_file = pki + "/analytics.key";
  std::unique_ptr<v1::EventStream::Stub> stub = Stub(analytics);
  grpc::Status s = InfoStatus(*stub, analytics);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  std::vector<v1::Event> events;
  ASSERT_TRUE(SubscribeFirst(*stub, analytics, request, &events, 1).ok());
  EXPECT_EQ(events.at(0).type(), "refund.pending");  // its grant: refund.*

  ConnectionOptions stranger = Connection();
  stranger.cert_file = pki + "/stranger.crt";
  stranger.key_file = pki + "/stranger.key";
  for (const ConnectionOptions& c : {Connection(), stranger}) {
    std::unique_ptr<v1::EventStream::Stub> refused = Stub(c);
    s = InfoStatus(*refused, c);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << s.error_message();  // the TLS handshake fails
  }
  EXPECT_THAT(ReadFile(server_->log_file()),
              HasSubstr("identity=analytics decision=allowed"));
}

// Verifies `hookstream tail` with a token against the real server reads
// what its identity may, and a wrong token fails with UNAUTHENTICATED.
TEST_F(SecurityE2eTest, CliTailWithToken) {
  ASSERT_NO_FATAL_FAILURE(StartWithAccessFile());
  testing::ProcessResult r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "tail", "--from=oldest", "--max_events=1",
       "--target=" + server_->grpc_target(), "--tls",
       "--cacert=" + server_->ca_file(),
       std::string("--token=") + kBillingToken},
      60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["type"], "customer.created");
  r = testing::RunProcess(
      {HOOKSTREAM_CLI_BIN, "info", "--target=" + server_->grpc_target(),
       "--tls", "--cacert=" + server_->ca_file(), "--token=wrong-0123456789"},
      60);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED"));
}

// Verifies the refusals at start: beyond loopback without authentication;
// authentication without TLS; a host name passing for loopback (issue 11's
// probe `127.attacker.example`); a secret file others may read, a short
// secret.
TEST_F(SecurityE2eTest, RefusesUnsafeStarts) {
  std::vector<std::string> tls = TlsFlags();
  std::vector<std::string> flags = tls;
  flags.push_back("--grpc_address=0.0.0.0:0");
  EXPECT_THAT(RefusedStart(flags),
              HasSubstr("would let anyone who reaches it read every event"));
  EXPECT_THAT(RefusedStart({"--grpc_access_file=" + WriteAccessFile()}),
              HasSubstr("need --grpc_tls_cert"));
  EXPECT_THAT(RefusedStart({"--grpc_address=127.attacker.example:15052"}),
              HasSubstr("only served on a loopback IP address"));
  EXPECT_THAT(RefusedStart({"--grpc_address=localhost:0"}),
              HasSubstr("only served on a loopback IP address"));

  const std::string shared = dir_ + "/shared-secret";
  std::ofstream(shared) << testing::kSecret << "\n";
  chmod(shared.c_str(), 0644);
  const std::string err = RefusedStart({"--signing_secret_file=" + shared});
  EXPECT_THAT(err, HasSubstr("accessible to group or others"));
  const std::string short_secret = dir_ + "/short-secret";
  std::ofstream(short_secret) << "k\n";
  chmod(short_secret.c_str(), 0600);
  EXPECT_THAT(RefusedStart({"--signing_secret_file=" + short_secret}),
              HasSubstr("at least 16"));
  const std::string as_label = dir_ + "/label-secret";
  std::ofstream(as_label) << "f00dfeedc0ffee0123456789:\n";
  chmod(as_label.c_str(), 0600);
  EXPECT_THAT(RefusedStart({"--signing_secret_file=" + as_label}),
              Not(HasSubstr("f00dfeedc0ffee0123456789")));
}

// Verifies a second server on a taken gRPC port fails to start (issue 11's
// probe: SO_REUSEPORT let both run, sharing the port silently).
TEST_F(SecurityE2eTest, SecondServerOnTheSameGrpcPortFails) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string err = RefusedStart(
      {absl::StrCat("--grpc_address=127.0.0.1:", server_->grpc_port())});
  EXPECT_THAT(err, HasSubstr("could not listen"));
  EXPECT_THAT(err, Not(HasSubstr("grpc server started")));
}

// Verifies GetEvent with an 8 KB event_id is NOT_FOUND with the id cut in
// the message (issue 11's probe: the echoed id overflowed the metadata
// limit and the client saw RESOURCE_EXHAUSTED).
TEST_F(SecurityE2eTest, LongEventIdIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  v1::GetEventRequest get;
  get.set_event_id(std::string(8192, 'x'));
  v1::GetEventResponse got;
  const grpc::Status s = stub_->GetEvent(&ctx, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_LT(s.error_message().size(), 200u);
  EXPECT_THAT(s.error_message(), HasSubstr("(8192 bytes)"));
}

// Verifies the filter and request limits: many type patterns (issue 11's
// probe: 300,000) and a large accounts filter (the probe: 40 streams of
// 4 MB), both scaled down (see below), are
// RESOURCE_EXHAUSTED by the request size limit; a filter within the request
// size but over the count limits is INVALID_ARGUMENT naming the flag; the
// total stream cap answers RESOURCE_EXHAUSTED.
TEST_F(SecurityE2eTest, FilterAndStreamLimits) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--grpc_max_streams=2"}));
  auto subscribe_status = [&](const v1::SubscribeRequest& request) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    auto reader = stub_->Subscribe(&ctx, request);
    v1::SubscribeResponse r;
    while (reader->Read(&r)) {
      ctx.TryCancel();
    }
    return reader->Finish();
  };
  // Scaled: the probe's 300,000 patterns (3.3 MB) and 4 MB accounts
  // filters meet the same check as any request over the 64 KiB limit; two
  // requests of ~100 KB each show it (and each of 3 streams is refused).
  v1::SubscribeRequest patterns;
  for (int i = 0; patterns.ByteSizeLong() < (100u << 10); ++i) {
    patterns.mutable_filter()->add_types(absl::StrCat("prefix", i, ".*"));
  }
  EXPECT_EQ(subscribe_status(patterns).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::SubscribeRequest accounts;
  while (accounts.ByteSizeLong() < (100u << 10)) {
    accounts.mutable_filter()->add_accounts(
        absl::StrCat("acm_", accounts.filter().accounts_size(),
                     "_0123456789abcdef0123456789"));
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(subscribe_status(accounts).error_code(),
              grpc::StatusCode::RESOURCE_EXHAUSTED);
  }
  v1::SubscribeRequest counted;
  for (int i = 0; i < 257; ++i) {
    counted.mutable_filter()->add_types(absl::StrCat("t", i, ".*"));
  }
  grpc::Status s = subscribe_status(counted);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("--grpc_max_filter_types"));
  v1::ListEventsRequest list;
  *list.mutable_filter() = counted.filter();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::ListEventsResponse response;
    EXPECT_EQ(stub_->ListEvents(&ctx, list, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // Two live streams are the cap; a third is refused, and served once one
  // ends. The refused streams above leave the registry when their reactor
  // is done, just after their client saw the end: wait for that (else one
  // of them may still hold a slot).
  const absl::Time drained = absl::Now() + absl::Seconds(30);
  while (Info().subscriber_count() != 0 && absl::Now() < drained) {
    absl::SleepFor(absl::Milliseconds(5));  // polling GetStreamInfo
  }
  ASSERT_EQ(Info().subscriber_count(), 0u);
  v1::SubscribeRequest plain;
  testing::Subscription first(*stub_, plain);
  testing::Subscription second(*stub_, plain);
  v1::SubscribeResponse r;
  ASSERT_TRUE(first.Read(&r));
  ASSERT_TRUE(second.Read(&r));
  s = subscribe_status(plain);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("--grpc_max_streams"));
}

// Verifies connections that never complete a handshake are closed after
// --grpc_handshake_timeout (issue 11's probe: 3,000 raw TCP connections were
// held forever; scaled to 50, the behaviour per connection is the same).
TEST_F(SecurityE2eTest, RawTcpConnectionsAreClosedAfterTheHandshakeTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--grpc_handshake_timeout=1s"}));
  std::vector<int> fds;
  for (int i = 0; i < 50; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->grpc_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    fds.push_back(fd);
  }
  // gRPC's default would hold them 120 s; the wait is bounded well below.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  size_t closed = 0;
  for (int fd : fds) {
    // The server speaks first (its HTTP/2 SETTINGS): read until it closes.
    for (;;) {
      pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
      const int ms = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now())));
      if (poll(&p, 1, ms) != 1) break;  // the deadline: still open
      char buf[256];
      if (read(fd, buf, sizeof(buf)) <= 0) {
        ++closed;
        break;
      }
    }
    close(fd);
  }
  EXPECT_EQ(closed, fds.size());
  // And the server still serves.
  EXPECT_EQ(Info().head_sequence(), 0u);
}

// Verifies a 1 MiB body whose conversion inflates (issue 11's probe: an
// array of zeros became a 6.8 MB event no default client could receive) is
// refused with 413 and its reason before it is appended; normal events pass.
TEST_F(SecurityE2eTest, OneMebibyteAmplificationIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::string body =
      R"({"id":"evt_amp","type":"widget.created","data":{"object":{"object":"widget","v":[0)";
  const std::string tail = "]}}}";
  while (body.size() + 2 + tail.size() <= (size_t{1} << 20)) body += ",0";
  body += tail;
  const testing::HttpResult r = PostSigned(body);
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"reason\":\"event_too_large\""));
  EXPECT_EQ(Info().event_count(), 0u);
  EXPECT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  EXPECT_EQ(Info().event_count(), 1u);
}

// The status a Subscribe ends with before its first message, or OK once the
// first message (the subscribed heartbeat) arrives.
grpc::Status FirstMessageStatus(v1::EventStream::Stub& stub,
                                const v1::SubscribeRequest& request) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub.Subscribe(&ctx, request);
  v1::SubscribeResponse r;
  if (reader->Read(&r)) {
    ctx.TryCancel();
    reader->Finish().ok();
    return r.has_heartbeat() ? grpc::Status::OK
                             : grpc::Status(grpc::StatusCode::INTERNAL,
                                            "first message not a heartbeat");
  }
  return reader->Finish();
}

// Verifies --grpc_max_filter_bytes: a filter within the count limits and
// the request size but over the byte bound is INVALID_ARGUMENT naming the
// flag, on Subscribe and ListEvents; one under the bound is served.
TEST_F(SecurityE2eTest, FilterBytesLimit) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--grpc_max_filter_bytes=1024"}));
  auto filter_of = [](int accounts) {
    v1::EventFilter f;
    for (int i = 0; i < accounts; ++i) {
      f.add_accounts(absl::StrCat("acm_", i, "_0123456789abcdef0123456789"));
    }
    return f;
  };
  v1::SubscribeRequest request;
  *request.mutable_filter() = filter_of(40);  // ~1.3 KB
  grpc::Status s = FirstMessageStatus(*stub_, request);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("--grpc_max_filter_bytes"));
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::ListEventsRequest list;
    *list.mutable_filter() = request.filter();
    v1::ListEventsResponse response;
    s = stub_->ListEvents(&ctx, list, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("--grpc_max_filter_bytes"));
  }
  *request.mutable_filter() = filter_of(10);  // ~330 bytes
  s = FirstMessageStatus(*stub_, request);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// A GETTRX body of about `bytes` whose typed conversion inflates it (a long
// array of zeros: each ",0" becomes a Struct value).
std::string InflatingBody(const std::string& id, size_t bytes) {
  std::string body = absl::StrCat(
      R"({"id":")", id,
      R"(","type":"widget.created","data":{"object":{"object":"widget","v":[0)");
  const std::string tail = "]}}}";
  while (body.size() + 2 + tail.size() <= bytes) body += ",0";
  return body + tail;
}

// Verifies that the C++ client's default receive limit matches the server's
// default --max_event_bytes: bodies grown until the 413, the largest event
// the server accepted is read whole by a default client, through GetEvent
// (raw JSON always included) and Subscribe with raw JSON.
TEST_F(SecurityE2eTest, ClientReceiveLimitMatchesMaxEvent) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::string largest;
  bool refused = false;
  for (size_t bytes = 400 << 10; !refused && bytes < (1 << 20);
       bytes += 16 << 10) {
    const std::string id = absl::StrCat("evt_big_", bytes);
    const testing::HttpResult r = PostSigned(InflatingBody(id, bytes));
    if (r.status == 413) {
      refused = true;
    } else {
      ASSERT_EQ(r.status, 200) << r.body;
      largest = id;
    }
  }
  ASSERT_TRUE(refused) << "no body reached --max_event_bytes";
  ASSERT_FALSE(largest.empty()) << "the smallest body was refused already";
  const ConnectionOptions plain = {.target = server_->grpc_target()};
  ASSERT_EQ(plain.max_receive_message_bytes, kMaxReceiveMessageBytes);
  auto stub = Stub(plain);
  {
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::GetEventRequest get;
    get.set_event_id(largest);
    v1::GetEventResponse got;
    const grpc::Status s = stub->GetEvent(&ctx, get, &got);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(got.event().id(), largest);
    EXPECT_GT(got.event().ByteSizeLong(), size_t{3} << 20)
        << "the largest accepted event should be near the 4 MiB bound";
  }
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  request.set_include_raw_json(true);
  std::vector<v1::Event> events;
  const size_t accepted = Info().event_count();
  const grpc::Status s =
      SubscribeFirst(*stub, plain, request, &events, accepted);
  EXPECT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(events.size(), accepted);
  EXPECT_EQ(events.back().id(), largest);
}

// Verifies the other side: with a server allowing 16 MiB events, a default
// client gets RESOURCE_EXHAUSTED for a larger event, and one whose
// max_receive_message_bytes is raised with the server's bound reads it.
TEST_F(SecurityE2eTest, RaisedMaxEventNeedsARaisedClientLimit) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--max_event_bytes=16777216"}));
  ASSERT_EQ(PostSigned(InflatingBody("evt_huge", (1 << 20) - 1024)).status,
            200);
  for (const int limit : {kMaxReceiveMessageBytes, 16 << 20}) {
    ConnectionOptions c = {.target = server_->grpc_target()};
    c.max_receive_message_bytes = limit;
    auto stub = Stub(c);
    grpc::ClientContext ctx;
    Deadline(ctx);
    v1::GetEventRequest get;
    get.set_event_id("evt_huge");
    v1::GetEventResponse got;
    const grpc::Status s = stub->GetEvent(&ctx, get, &got);
    if (limit == kMaxReceiveMessageBytes) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
          << s.error_message();
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
      EXPECT_GT(got.event().ByteSizeLong(), size_t{4} << 20);
    }
  }
}

// One GetStreamInfo over a channel of its own (no shared subchannel), so
// that the server must accept a new connection for it; true when served.
bool CallOnAFreshConnection(const std::string& target, absl::Duration timeout,
                            bool wait_for_ready) {
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto stub = v1::EventStream::NewStub(grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.set_wait_for_ready(wait_for_ready);
  v1::GetStreamInfoResponse info;
  return stub->GetStreamInfo(&ctx, {}, &info).ok();
}

// `n` idle TCP connections to `port` on loopback, from `source` (any
// 127.0.0.0/8 address is this host's loopback: a peer of its own).
std::vector<int> IdleConnections(uint16_t port, int n,
                                 const char* source = "127.0.0.1") {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0) {
      close(fd);
      break;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      break;
    }
    fds.push_back(fd);
  }
  return fds;
}

// Verifies the descriptor budget (issue 11's first probe: with a soft limit
// of 1,024, 1,100 idle connections made gRPC's accept4 fail with EMFILE and
// its listener never accepted again). The server raises its soft limit to
// the hard one at start, so the same flood leaves the gRPC port serving; a
// hard limit below --max_connections plus the reserve refuses the start.
TEST_F(SecurityE2eTest, IdleConnectionFloodDoesNotKillTheGrpcListener) {
  rlimit mine{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_cur < 4096) GTEST_SKIP() << "the test itself needs 4,096 fds";
  // No gRPC caps here (1,000 + 2,000 + the 1,024 reserve fit in 4,096):
  // this test is about the descriptor limit.
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--max_connections=1000", "--grpc_max_connections=2000",
                   "--grpc_max_connections_per_peer=0"},
                  {"prlimit", "--nofile=1024:4096", "--"}));
  // The probe's flood, to either port (both at once here).
  std::vector<int> flood = IdleConnections(server_->grpc_port(), 1100);
  EXPECT_EQ(flood.size(), 1100u);
  std::vector<int> ingress_flood =
      IdleConnections(server_->ingress_port(), 1100);
  EXPECT_EQ(ingress_flood.size(), 1100u);
  for (int fd : flood) close(fd);
  for (int fd : ingress_flood) close(fd);
  // A dead listener never recovers: a bounded retry cannot hide it.
  bool served = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!served && absl::Now() < deadline) {
    served = CallOnAFreshConnection(server_->grpc_target(), absl::Seconds(5),
                                    /*wait_for_ready=*/true);
  }
  EXPECT_TRUE(served) << ReadFile(server_->log_file());
  EXPECT_THAT(ReadFile(server_->log_file()), HasSubstr("soft_limit=4096"));
  // The ingress recovers too (it refused what was over its cap meanwhile).
  EXPECT_EQ(PostSigned(Seed("customer.created.json")).status, 200);

  const testing::ProcessResult r = testing::RunProcess(
      {"prlimit", "--nofile=1024:1024", "--", HOOKSTREAM_SERVER_BIN,
       "--ingress_address=127.0.0.1:0", "--grpc_address=127.0.0.1:0",
       "--tls_cert=" + dir_ + "/tls.crt", "--tls_key=" + dir_ + "/tls.key",
       "--signing_secret_file=" + dir_ + "/signing-secret"},
      30);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--grpc_max_connections=4096"));
  EXPECT_THAT(r.err, HasSubstr("lower the caps"));
}

// Verifies the gRPC listener survives running out of descriptors (issue 11's
// first probe, with the limit really reached this time: gRPC 1.51's listener
// gives up its port for good on the first EMFILE from accept4). With a hard
// limit of 1,100 and 1,300 idle connections, the connections past the limit
// are reset (server/accept_guard.cc sheds them and counts them); once the
// flood is closed a new gRPC client is served, and the ingress too.
TEST_F(SecurityE2eTest, GrpcListenerAcceptsAgainAfterFdExhaustion) {
  rlimit mine{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_cur < 2048) GTEST_SKIP() << "the test itself needs 2,048 fds";
  // 8 + the 1,024 reserve fits in 1,100, so the server starts; the
  // handshake timeout is long so that gRPC itself frees nothing meanwhile.
  ASSERT_NO_FATAL_FAILURE(StartServer(
      {"--max_connections=8", "--grpc_handshake_timeout=300s",
       "--grpc_max_connections=0", "--grpc_max_connections_per_peer=0"},
      {"prlimit", "--nofile=1100:1100", "--"}));
  std::vector<int> flood = IdleConnections(server_->grpc_port(), 1300);
  ASSERT_EQ(flood.size(), 1300u);  // queued by the kernel, accepted or not

  // A shed connection is reset: read() gives 0 or ECONNRESET. An accepted
  // one gets the server's HTTP/2 SETTINGS first (read() > 0), then nothing.
  std::vector<pollfd> polls;
  for (int fd : flood)
    polls.push_back({.fd = fd, .events = POLLIN, .revents = 0});
  size_t shed = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (shed == 0 && absl::Now() < deadline) {
    if (poll(polls.data(), polls.size(), 1000) <= 0) continue;
    for (pollfd& p : polls) {
      if (p.fd < 0 || p.revents == 0) continue;
      char buf[256];
      if (read(p.fd, buf, sizeof(buf)) <= 0) {
        ++shed;
        p.fd = -1;  // poll skips it from now on
      }
    }
  }
  const std::string log = ReadFile(server_->log_file());
  EXPECT_GT(shed, 0u) << "no connection was shed:\n" << log;
  EXPECT_THAT(log, Not(HasSubstr("Failed accept4")));
  for (int fd : flood) close(fd);

  // The server frees the accepted connections as it reads their EOF, so the
  // first calls may still be shed: retry (bounded) with fresh connections.
  bool served = false;
  const absl::Time serve_deadline = absl::Now() + absl::Seconds(60);
  while (!served && absl::Now() < serve_deadline) {
    served = CallOnAFreshConnection(server_->grpc_target(), absl::Seconds(5),
                                    /*wait_for_ready=*/false);
  }
  EXPECT_TRUE(served) << ReadFile(server_->log_file());
  EXPECT_EQ(PostSigned(Seed("customer.created.json")).status, 200);

  const testing::HttpResult metrics =
      testing::HttpRequest("GET", server_->admin_url("/metrics"));
  ASSERT_EQ(metrics.status, 200);
  const double counted =
      testing::MetricValue(metrics.body,
                           "hookstream_accept_shed_total{listener=\"grpc\","
                           "reason=\"no_descriptor\"}");
  EXPECT_GE(counted, static_cast<double>(shed)) << metrics.body;
  EXPECT_THAT(ReadFile(server_->log_file()),
              HasSubstr("connection shed: no file descriptor"));
}

// Waits until each of `fds` is readable and says which were reset (read()
// <= 0) rather than accepted (an accepted one gets the server's HTTP/2
// SETTINGS: read() > 0). Bounded: an fd with no outcome in 60 s counts as
// neither.
struct Outcomes {
  size_t accepted = 0;
  size_t reset = 0;
};
Outcomes AcceptedOrReset(const std::vector<int>& fds) {
  std::vector<pollfd> polls;
  for (int fd : fds)
    polls.push_back({.fd = fd, .events = POLLIN, .revents = 0});
  Outcomes out;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (out.accepted + out.reset < fds.size() && absl::Now() < deadline) {
    if (poll(polls.data(), polls.size(), 1000) <= 0) continue;
    for (pollfd& p : polls) {
      if (p.fd < 0 || p.revents == 0) continue;
      char buf[256];
      ++(read(p.fd, buf, sizeof(buf)) > 0 ? out.accepted : out.reset);
      p.fd = -1;
    }
  }
  return out;
}

// Verifies the gRPC connection caps (issue 11: "3,000 raw TCP connections to
// the gRPC port, no cap"; gRPC 1.51 has none, server/accept_guard.cc holds
// them at accept): past --grpc_max_connections_per_peer from one address and
// past --grpc_max_connections in total, connections are reset at once and
// counted by reason; once the connections close, the places are free again.
TEST_F(SecurityE2eTest, GrpcConnectionCapsResetWhatIsOver) {
  ASSERT_NO_FATAL_FAILURE(StartServer(
      {"--grpc_max_connections=5", "--grpc_max_connections_per_peer=3"}));
  // Sequentially, so that each is accepted before the next arrives.
  std::vector<int> a;
  Outcomes from_a;
  for (int i = 0; i < 5; ++i) {
    std::vector<int> one =
        IdleConnections(server_->grpc_port(), 1, "127.0.0.1");
    ASSERT_EQ(one.size(), 1u);
    const Outcomes o = AcceptedOrReset(one);
    from_a.accepted += o.accepted;
    from_a.reset += o.reset;
    a.push_back(one[0]);
  }
  EXPECT_EQ(from_a.accepted, 3u);  // the peer's cap
  EXPECT_EQ(from_a.reset, 2u);
  std::vector<int> b;
  Outcomes from_b;
  for (int i = 0; i < 4; ++i) {
    std::vector<int> one =
        IdleConnections(server_->grpc_port(), 1, "127.0.0.2");
    ASSERT_EQ(one.size(), 1u);
    const Outcomes o = AcceptedOrReset(one);
    from_b.accepted += o.accepted;
    from_b.reset += o.reset;
    b.push_back(one[0]);
  }
  EXPECT_EQ(from_b.accepted, 2u);  // 3 + 2 = the total cap
  EXPECT_EQ(from_b.reset, 2u);

  const std::string metrics =
      testing::HttpRequest("GET", server_->admin_url("/metrics")).body;
  EXPECT_EQ(
      testing::MetricValue(metrics,
                           "hookstream_accept_shed_total{listener=\"grpc\","
                           "reason=\"peer_cap\"}"),
      2);
  EXPECT_EQ(
      testing::MetricValue(metrics,
                           "hookstream_accept_shed_total{listener=\"grpc\","
                           "reason=\"connection_cap\"}"),
      2);
  const std::string log = ReadFile(server_->log_file());
  EXPECT_THAT(log, HasSubstr("grpc connection refused"));
  EXPECT_THAT(log, HasSubstr("reason=peer_cap"));

  // Closed connections free their places (the server notices them closed
  // when gRPC has closed its side: bounded retries, a fresh channel each).
  for (int fd : a) close(fd);
  for (int fd : b) close(fd);
  // Four fresh connections in a row from the capped peer: more than its
  // cap, so closed ones must have freed their places.
  int served = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (served < 4 && absl::Now() < deadline) {
    if (CallOnAFreshConnection(server_->grpc_target(), absl::Seconds(2),
                               /*wait_for_ready=*/false)) {
      ++served;
    }
  }
  EXPECT_EQ(served, 4) << ReadFile(server_->log_file());
}

}  // namespace
}  // namespace hookstream
