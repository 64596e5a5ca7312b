// Running it like infrastructure, against the real binary: the admin
// listener (/metrics checked by promtool, /healthz, /readyz), gRPC health
// through reflection, subscribers visible (ListSubscribers, the log lines),
// --version.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/https_client.h"
#include "tests/testing/process_runner.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using testing::HttpRequest;
using testing::HttpResult;
using testing::MetricValue;
using ::testing::Not;
using testing::PromtoolCheck;
using testing::ReadFile;
using testing::Seed;
using testing::Signature;
using testing::UniqueEvent;

class OpsE2eTest : public testing::E2eFixture {
 protected:
  std::string Scrape() {
    const HttpResult r = HttpRequest("GET", server_->admin_url("/metrics"));
    EXPECT_EQ(r.code, CURLE_OK) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("content-type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return r.body;
  }

  // promtool's verdict on `text` ("" when it has nothing to say).
  std::string Promtool(const std::string& text) {
    return PromtoolCheck(HOOKSTREAM_PROMTOOL, dir_, text);
  }

  // Waits (bounded) for `needle` in the server's log.
  bool LogHas(const std::string& needle) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (ReadFile(server_->log_file()).find(needle) != std::string::npos) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));  // polling a log file
    }
    return false;
  }

  v1::ListSubscribersResponse ListSubscribers() {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::ListSubscribersResponse out;
    const grpc::Status s = stub_->ListSubscribers(&ctx, {}, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
};

// Verifies that /metrics passes `promtool check metrics` before and after
// traffic, and that the counters move with webhooks (accepted, duplicate,
// bad signature), a subscription (started, events sent, its named series)
// and the gRPC calls (the grpc_server_* families).
TEST_F(OpsE2eTest, MetricsPassPromtoolAndCountersMove) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string before = Scrape();
  Promtool(before);
  EXPECT_EQ(MetricValue(before, "hookstream_events_appended_total"), 0);
  EXPECT_EQ(MetricValue(before, "hookstream_ready"), 1);
  EXPECT_THAT(before, HasSubstr("hookstream_build_info{version=\""));

  const std::string body = Seed("customer.created.json");
  ASSERT_EQ(PostSigned(body).status, 200);
  ASSERT_EQ(PostSigned(body).status, 200);  // the duplicate
  ASSERT_EQ(Post(UniqueEvent(body, 2), "00").status, 401);
  ASSERT_EQ(PostSigned(UniqueEvent(body, 3)).status, 200);

  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-subscriber-name", "billing");
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&ctx, request);
  size_t events = 0;
  v1::SubscribeResponse r;
  while (events < 2 && reader->Read(&r)) events += r.events().events_size();
  ASSERT_EQ(events, 2u);

  const std::string after = Scrape();
  const std::string lint = Promtool(after);
  EXPECT_THAT(lint, Not(HasSubstr("problem")));
  EXPECT_EQ(MetricValue(after,
                        "hookstream_webhooks_total{source=\"gettrx\","
                        "status=\"200\",reason=\"accepted\"}"),
            2);
  EXPECT_EQ(MetricValue(after,
                        "hookstream_webhooks_total{source=\"gettrx\","
                        "status=\"200\",reason=\"duplicate\"}"),
            1);
  EXPECT_EQ(MetricValue(after,
                        "hookstream_webhooks_total{source=\"gettrx\","
                        "status=\"401\",reason=\"bad_signature\"}"),
            1);
  EXPECT_EQ(MetricValue(after, "hookstream_webhook_duplicates_total"), 1);
  EXPECT_EQ(MetricValue(after, "hookstream_events_appended_total"), 2);
  EXPECT_EQ(MetricValue(after, "hookstream_ring_events"), 2);
  EXPECT_EQ(MetricValue(after, "hookstream_ring_head_sequence"), 2);
  EXPECT_EQ(MetricValue(after,
                        "hookstream_webhook_signature_matches_total{source="
                        "\"gettrx\",secret=\"secret1\"}"),
            3);
  EXPECT_EQ(
      MetricValue(after, "hookstream_ingress_request_duration_seconds_count"),
      4);
  EXPECT_EQ(MetricValue(after, "hookstream_subscribers"), 1);
  EXPECT_EQ(MetricValue(
                after, "hookstream_subscriber_streams{subscriber=\"billing\"}"),
            1);
  EXPECT_EQ(
      MetricValue(after,
                  "hookstream_subscriber_lag_events{subscriber=\"billing\"}"),
      0);
  EXPECT_EQ(MetricValue(after, "hookstream_subscriber_events_sent_total"), 2);
  EXPECT_EQ(MetricValue(after,
                        "hookstream_subscriber_delivery_latency_seconds_count"),
            2);
  EXPECT_EQ(MetricValue(after,
                        "grpc_server_started_total{grpc_type=\"server_stream\","
                        "grpc_service=\"hookstream.v1.EventStream\","
                        "grpc_method=\"Subscribe\"}"),
            1);
  ctx.TryCancel();
  (void)reader->Finish();

  // The stream's end is counted once the server has seen it.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string last;
  while (absl::Now() < deadline) {
    last = Scrape();
    if (MetricValue(last, "hookstream_subscribers") == 0) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's state
  }
  EXPECT_EQ(MetricValue(last, "hookstream_subscribers"), 0) << last;
  EXPECT_EQ(MetricValue(last,
                        "hookstream_subscriber_stream_ends_total{grpc_code="
                        "\"CANCELLED\"}"),
            1);
  Promtool(last);
}

// Verifies /healthz and /readyz, the admin port in the ready file, and that
// the gRPC health service answers SERVING and is described by reflection
// (buf curl calls it with no schema).
TEST_F(OpsE2eTest, HealthAndReadiness) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  EXPECT_NE(server_->admin_port(), 0);
  const HttpResult live = HttpRequest("GET", server_->admin_url("/healthz"));
  EXPECT_EQ(live.status, 200);
  const HttpResult ready = HttpRequest("GET", server_->admin_url("/readyz"));
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(HttpRequest("GET", server_->admin_url("/nope")).status, 404);

  const std::string url = absl::StrCat("http://", server_->grpc_target());
  const std::vector<std::string> buf = {HOOKSTREAM_BUF, "curl", "--protocol",
                                        "grpc", "--http2-prior-knowledge"};
  std::vector<std::string> argv = buf;
  argv.push_back("--list-services");
  argv.push_back(url);
  testing::ProcessResult r = testing::RunProcess(argv, 60);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.Lines(), ::testing::Contains("grpc.health.v1.Health"));
  for (const std::string service : {"", "hookstream.v1.EventStream"}) {
    argv = buf;
    argv.push_back("-d");
    argv.push_back(absl::StrCat("{\"service\":\"", service, "\"}"));
    argv.push_back(url + "/grpc.health.v1.Health/Check");
    r = testing::RunProcess(argv, 60);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "SERVING") << service;
  }
}

// Verifies ListSubscribers (name, peer, filter, start, position, events sent,
// lag) and the log lines when a subscriber connects and leaves.
TEST_F(OpsE2eTest, SubscribersAreVisible) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string body = Seed("customer.created.json");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(PostSigned(UniqueEvent(body, i)).status, 200);
  }
  v1::SubscribeRequest request;
  request.set_after_sequence(1);
  request.mutable_filter()->add_types("customer.*");
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-subscriber-name", "billing worker");  // space → _
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&ctx, request);
  size_t events = 0;
  v1::SubscribeResponse r;
  while (events < 2 && reader->Read(&r)) events += r.events().events_size();
  ASSERT_EQ(events, 2u);
  ASSERT_TRUE(LogHas("msg=\"subscriber connected\" subscriber=billing_worker"));

  const v1::ListSubscribersResponse list = ListSubscribers();
  ASSERT_EQ(list.subscribers_size(), 1);
  const v1::Subscriber& s = list.subscribers(0);
  EXPECT_EQ(s.name(), "billing_worker");
  EXPECT_THAT(s.peer(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(s.filter().types(), ::testing::ElementsAre("customer.*"));
  EXPECT_EQ(s.start(), "after_sequence=1");
  EXPECT_EQ(s.position(), 3u);
  EXPECT_EQ(s.events_sent(), 2u);
  EXPECT_EQ(s.lag_events(), 0u);
  EXPECT_EQ(list.head_sequence(), 3u);
  EXPECT_EQ(list.stream_epoch(), server_->stream_epoch());

  ctx.TryCancel();
  (void)reader->Finish();
  EXPECT_TRUE(LogHas("msg=\"subscriber left\" subscriber=billing_worker"));
  const std::string log = ReadFile(server_->log_file());
  EXPECT_THAT(log, HasSubstr("events_sent=2"));
  EXPECT_THAT(log, HasSubstr("end_code=CANCELLED"));
  EXPECT_EQ(ListSubscribers().subscribers_size(), 0);
}

// Verifies SIGHUP under load: a poster on one keep-alive connection and a
// subscriber run throughout while the signing secrets and the ingress
// certificate are rotated. Nothing is dropped (every POST answered 200 on
// the same connection, every event delivered on the same stream); new
// requests verify with the new secret and new handshakes see the new
// certificate; a reload that fails keeps the previous configuration; both
// are counted.
TEST_F(OpsE2eTest, SighupRotatesSecretAndCertificateUnderLoad) {
  const std::string old_secret = "e2e-old-secret-0123456789abcdef";
  const std::string new_secret = "e2e-new-secret-fedcba9876543210";
  absl::StatusOr<testing::ServerProcess> p =
      testing::ServerProcess::Start(dir_, {.secrets = {"old:" + old_secret}});
  ASSERT_TRUE(p.ok()) << p.status();
  server_ = std::make_unique<testing::ServerProcess>(*std::move(p));
  channel_ = grpc::CreateChannel(server_->grpc_target(),
                                 grpc::InsecureChannelCredentials());
  stub_ = v1::EventStream::NewStub(channel_);
  const std::string old_ca = dir_ + "/old-ca.crt";
  std::filesystem::copy_file(server_->ca_file(), old_ca);

  // The subscriber: counts events until cancelled.
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  grpc::ClientContext sub_ctx;
  sub_ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&sub_ctx, request);
  std::atomic<uint64_t> delivered{0};
  std::thread subscriber([&] {
    v1::SubscribeResponse r;
    while (reader->Read(&r)) delivered += r.events().events_size();
  });

  // The poster: one keep-alive connection, old secret, until told to stop.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> bad{0};
  std::atomic<uint64_t> reconnects{0};
  std::thread poster([&] {
    testing::HttpsClient client(old_ca, server_->ingress_port());
    const std::string seed = Seed("customer.created.json");
    for (uint64_t n = 0; !stop.load(); ++n) {
      const std::string body = UniqueEvent(seed, 1000 + n);
      const HttpResult r =
          client.Post("/v1/webhooks/gettrx", body,
                      {"x-webhook-signature: " + Signature(body, old_secret)});
      (r.status == 200 ? accepted : bad)++;
      if (n > 0 && r.new_connections > 0) reconnects++;
    }
  });
  auto wait_for_posts = [&](uint64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (accepted.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));  // polling a counter
    }
    return accepted.load() >= n;
  };
  ASSERT_TRUE(wait_for_posts(20));

  // Rotate: the new secret first, the old one kept (GETTRX is still
  // signing with it); a new certificate and key in place of the old.
  std::ofstream(dir_ + "/signing-secret", std::ios::trunc)
      << "new:" << new_secret << "\nold:" << old_secret << "\n";
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
  ASSERT_TRUE(LogHas("msg=reloaded parts=3"));
  const uint64_t at_reload = accepted.load();
  ASSERT_TRUE(wait_for_posts(at_reload + 20));

  // New requests verify with the new secret; new handshakes get the new
  // certificate (the old CA no longer verifies it).
  testing::HttpsClient fresh_client(fresh + "/tls.crt",
                                    server_->ingress_port());
  const std::string body = UniqueEvent(Seed("customer.created.json"), 1);
  const HttpResult with_new = fresh_client.Post(
      "/v1/webhooks/gettrx", body,
      {"x-webhook-signature: " + Signature(body, new_secret)});
  EXPECT_EQ(with_new.status, 200) << with_new.error << with_new.body;
  testing::HttpsClient old_ca_client(old_ca, server_->ingress_port());
  EXPECT_EQ(old_ca_client.Post("/v1/webhooks/gettrx", "{}").code,
            CURLE_PEER_FAILED_VERIFICATION);

  // A broken key: the reload fails, the previous (new) pair stays.
  std::ofstream(dir_ + "/tls.key", std::ios::trunc) << "not a key\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  ASSERT_TRUE(LogHas("msg=\"reload failed\" part=ingress_tls"));
  testing::HttpsClient after_failure(fresh + "/tls.crt",
                                     server_->ingress_port());
  const std::string body2 = UniqueEvent(Seed("customer.created.json"), 2);
  EXPECT_EQ(after_failure
                .Post("/v1/webhooks/gettrx", body2,
                      {"x-webhook-signature: " + Signature(body2, new_secret)})
                .status,
            200);

  stop = true;
  poster.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(reconnects.load(), 0u);  // the poster's connection survived
  const uint64_t want = accepted.load() + 2;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (delivered.load() < want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));  // polling a counter
  }
  EXPECT_EQ(delivered.load(), want);  // the stream survived both reloads
  sub_ctx.TryCancel();
  subscriber.join();

  const std::string metrics = Scrape();
  EXPECT_EQ(MetricValue(metrics,
                        "hookstream_config_reloads_total{result=\"success\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "hookstream_config_reloads_total{result=\"failure\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "hookstream_webhook_signature_matches_total{"
                        "source=\"gettrx\",secret=\"new\"}"),
            2);
}

// Verifies that SIGHUP re-reads --log_level from the config file: after a
// reload to warning a webhook's (info) line is gone; a bad level is refused
// with one error line naming the part and the level stays; back to info
// the lines return.
TEST_F(OpsE2eTest, SighupReloadsTheLogLevel) {
  const std::string config = dir_ + "/hookstream.conf";
  // Another setting in the same file: read again, not taken, no error.
  constexpr char kOther[] = "--ring_max_events=50\n";
  std::ofstream(config) << kOther << "--log_level=info\n";
  ASSERT_NO_FATAL_FAILURE(StartServer({"--config=" + config}));
  const std::string seed = Seed("customer.created.json");
  int n = 0;
  // The request id of a fresh webhook, once answered.
  auto post = [&] {
    const HttpResult r = PostSigned(UniqueEvent(seed, ++n));
    EXPECT_EQ(r.status, 200);
    return r.header("x-request-id");
  };
  auto reload_with = [&](const std::string& level, const std::string& line) {
    std::ofstream(config, std::ios::trunc)
        << kOther << "--log_level=" << level << "\n";
    ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
    ASSERT_TRUE(LogHas(line)) << line;
  };
  const std::string logged = post();
  ASSERT_TRUE(LogHas("request_id=" + logged));

  // The summary line is info, so the counter says when this one is done.
  std::ofstream(config, std::ios::trunc) << kOther << "--log_level=warning\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  const std::string success =
      "hookstream_config_reloads_total{result=\"success\"}";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (MetricValue(Scrape(), success) < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's state
  }
  ASSERT_EQ(MetricValue(Scrape(), success), 1);
  reload_with("loud", "msg=\"reload failed\" part=log_level");
  EXPECT_THAT(ReadFile(server_->log_file()), HasSubstr("got \\\"loud\\\""));
  const std::string quiet = post();
  EXPECT_THAT(ReadFile(server_->log_file()), Not(HasSubstr(quiet)));

  reload_with("info", "msg=reloaded parts=3");
  const std::string back = post();
  EXPECT_TRUE(LogHas("request_id=" + back));
  const std::string metrics = Scrape();
  EXPECT_EQ(MetricValue(metrics,
                        "hookstream_config_reloads_total{result=\"failure\"}"),
            1);
}

// Verifies the precedence flag > environment > config file > default on the
// real binary (read back through /metrics), and that a bad value exits 2
// with one line naming the setting and its source.
TEST_F(OpsE2eTest, ConfigFileEnvironmentAndFlags) {
  const std::string config = dir_ + "/hookstream.conf";
  std::ofstream(config) << "# settings\n--ring_max_events=7\n"
                        << "--ring_max_bytes=1000000\n"
                        << "--dedup_max_ids=5000\n";
  ASSERT_EQ(::setenv("HOOKSTREAM_RING_MAX_BYTES", "2000000", 1), 0);
  ASSERT_EQ(::setenv("HOOKSTREAM_DEDUP_MAX_IDS", "6000", 1), 0);
  ASSERT_NO_FATAL_FAILURE(StartServer(
      {"--config=" + config, "--ring_max_events=9", "--dedup_max_ids=8000"}));
  ::unsetenv("HOOKSTREAM_RING_MAX_BYTES");
  ::unsetenv("HOOKSTREAM_DEDUP_MAX_IDS");
  const std::string metrics = Scrape();
  EXPECT_EQ(MetricValue(metrics, "hookstream_ring_capacity_events"),
            9);  // flag
  EXPECT_EQ(MetricValue(metrics, "hookstream_ring_capacity_bytes"),
            2000000);  // env

  const testing::ProcessResult bad =
      testing::RunProcess({HOOKSTREAM_SERVER_BIN, "--config=" + config}, 60,
                          "HOOKSTREAM_RING_MAX_EVENTS=lots");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "hookstream-server: --ring_max_events (from "
            "HOOKSTREAM_RING_MAX_EVENTS): illegal value \"lots\"\n");
  const testing::ProcessResult unknown =
      testing::RunProcess({HOOKSTREAM_SERVER_BIN, "--ring_max_eventz=3"}, 60);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("--ring_max_eventz (from the command "
                                     "line): unknown flag"));
}

// Verifies SIGTERM's drain as a load balancer sees it: during --drain_delay
// /readyz answers 503 "draining", gRPC health NOT_SERVING, /metrics
// hookstream_ready 0 and new webhooks 503 + Retry-After, while a live
// stream keeps its connection; then the stream ends UNAVAILABLE and the
// process exits 0.
TEST_F(OpsE2eTest, ReadyzSaysDrainingAfterSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--drain_delay=15s"}));
  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&ctx, request);
  v1::SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));  // the opening heartbeat

  ASSERT_EQ(::kill(server_->pid(), SIGTERM), 0);
  HttpResult ready;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline) {
    ready = HttpRequest("GET", server_->admin_url("/readyz"));
    if (ready.status == 503) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's state
  }
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.body, "draining\n");
  EXPECT_EQ(HttpRequest("GET", server_->admin_url("/healthz")).status, 200);
  EXPECT_EQ(MetricValue(Scrape(), "hookstream_ready"), 0);

  for (const std::string service : {"", "hookstream.v1.EventStream"}) {
    const testing::ProcessResult r =
        testing::RunProcess({HOOKSTREAM_BUF, "curl", "--protocol", "grpc",
                             "--http2-prior-knowledge", "-d",
                             absl::StrCat("{\"service\":\"", service, "\"}"),
                             absl::StrCat("http://", server_->grpc_target(),
                                          "/grpc.health.v1.Health/Check")},
                            60);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["status"], "NOT_SERVING") << service;
  }
  const HttpResult post = PostSigned(Seed("customer.created.json"));
  EXPECT_EQ(post.status, 503);
  EXPECT_FALSE(post.header("retry-after").empty());

  // The stream is still up during the delay, then ends for a resume.
  const absl::StatusOr<int> exit_code = server_->Wait(absl::Seconds(60));
  v1::SubscribeResponse r;
  while (reader->Read(&r)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_TRUE(LogHas("msg=draining drain_delay=15s"));
}

// Verifies the admin listener's rule (the one gRPC follows): off loopback it
// refuses to start without TLS and a token; with them it speaks HTTPS only,
// every route but the probes needs the bearer token, and SIGHUP rotates the
// token (a bad one is refused and the one in force stays).
TEST_F(OpsE2eTest, AdminNeedsTlsAndTokenOffLoopback) {
  const std::vector<std::string> base = {HOOKSTREAM_SERVER_BIN, "--tls_cert=x",
                                         "--tls_key=y",
                                         "--insecure_accept_unsigned"};
  for (const auto& [flags, names] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--admin_address=0.0.0.0:0"}, "--admin_token_file"},
           {{"--admin_address=[::]:0", "--admin_tls_cert=c",
             "--admin_tls_key=k"},
            "--admin_token_file"},
           {{"--admin_token_file=t"}, "--admin_tls_cert"},
           {{"--admin_tls_cert=c"}, "--admin_tls_key"}}) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), flags.begin(), flags.end());
    const testing::ProcessResult r = testing::RunProcess(argv, 60);
    EXPECT_EQ(r.exit_code, 2) << flags[0];
    EXPECT_THAT(r.err, HasSubstr(names)) << flags[0];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }

  const std::string token = "admin-token-0123456789abcdef";
  const std::string token_file = dir_ + "/admin-token";
  std::ofstream(token_file) << token << "\n";
  ASSERT_EQ(::chmod(token_file.c_str(), 0600), 0);
  ASSERT_NO_FATAL_FAILURE(StartServer({"--admin_tls_cert=" + dir_ + "/tls.crt",
                                       "--admin_tls_key=" + dir_ + "/tls.key",
                                       "--admin_token_file=" + token_file}));
  const std::string https =
      absl::StrCat("https://127.0.0.1:", server_->admin_port());
  const std::string ca = server_->ca_file();
  const HttpResult anonymous = HttpRequest("GET", https + "/metrics", ca);
  EXPECT_EQ(anonymous.status, 401) << anonymous.error;
  EXPECT_EQ(anonymous.header("www-authenticate"), "Bearer");
  EXPECT_THAT(anonymous.body, Not(HasSubstr("hookstream_")));
  EXPECT_EQ(HttpRequest("GET", https + "/metrics", ca,
                        {"Authorization: Bearer " + token + "x"})
                .status,
            401);
  const HttpResult scraped = HttpRequest("GET", https + "/metrics", ca,
                                         {"Authorization: Bearer " + token});
  EXPECT_EQ(scraped.status, 200);
  EXPECT_THAT(scraped.body, HasSubstr("hookstream_build_info"));
  EXPECT_EQ(HttpRequest("GET", https + "/readyz", ca).status, 200);
  EXPECT_EQ(HttpRequest("GET", https + "/healthz", ca).status, 200);
  // Plain HTTP gets no answer from a TLS-only listener.
  EXPECT_NE(HttpRequest("GET", server_->admin_url("/readyz")).status, 200);

  // SIGHUP rotates the token: the new one works, the old one no longer.
  const std::string rotated = "rotated-admin-token-fedcba9876543210";
  std::ofstream(token_file, std::ios::trunc) << rotated << "\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  ASSERT_TRUE(LogHas("msg=reloaded parts=4"));
  EXPECT_EQ(HttpRequest("GET", https + "/metrics", ca,
                        {"Authorization: Bearer " + rotated})
                .status,
            200);
  EXPECT_EQ(HttpRequest("GET", https + "/metrics", ca,
                        {"Authorization: Bearer " + token})
                .status,
            401);
  // A token too short is refused; the rotated one stays.
  std::ofstream(token_file, std::ios::trunc) << "short\n";
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  ASSERT_TRUE(LogHas("msg=\"reload failed\" part=admin_tls"));
  EXPECT_EQ(HttpRequest("GET", https + "/metrics", ca,
                        {"Authorization: Bearer " + rotated})
                .status,
            200);
  ASSERT_TRUE(server_->Stop().ok());
  std::ofstream(token_file, std::ios::trunc) << token << "\n";

  // A token file others may read is refused at start, naming it.
  ASSERT_EQ(::chmod(token_file.c_str(), 0644), 0);
  absl::StatusOr<testing::ServerProcess> refused =
      testing::ServerProcess::Start(
          dir_, {.flags = {"--admin_tls_cert=" + dir_ + "/tls.crt",
                           "--admin_tls_key=" + dir_ + "/tls.key",
                           "--admin_token_file=" + token_file},
                 .start_timeout = absl::Seconds(20)});
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(ReadFile(dir_ + "/server.log"),
              HasSubstr("admin-token may be read by group or others"));
}

// Verifies --log_format=json on the real binary: every line of the log is
// one JSON object, and the webhook's line carries the X-Request-Id its
// answer gave (accepted and refused alike).
TEST_F(OpsE2eTest, JsonLogsCarryTheRequestId) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--log_format=json"}));
  const std::string body = Seed("customer.created.json");
  const HttpResult accepted = PostSigned(body);
  ASSERT_EQ(accepted.status, 200);
  const HttpResult refused = Post(UniqueEvent(body, 5), "00");
  ASSERT_EQ(refused.status, 401);
  for (const HttpResult* r : {&accepted, &refused}) {
    const std::string id = r->header("x-request-id");
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(LogHas("\"request_id\":\"" + id + "\""));
  }
  ASSERT_TRUE(server_->Stop().ok());
  size_t lines = 0;
  size_t webhooks = 0;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(server_->log_file()), '\n', absl::SkipEmpty())) {
    const nlohmann::json record =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(record.is_object()) << line;
    EXPECT_TRUE(record.contains("ts") && record.contains("level") &&
                record.contains("msg"))
        << line;
    if (record.contains("request_id")) {
      ++webhooks;
      EXPECT_TRUE(record["status"].is_number()) << line;
    }
    ++lines;
  }
  EXPECT_GT(lines, 3u);
  EXPECT_GE(webhooks, 2u);
}

// Verifies that a flood of connection-level failures is one log line per
// class per interval: 200 connections that speak plain text to the TLS port
// are all counted, but logged once (the next line, 10 s later, would say
// how many it stands for).
TEST_F(OpsE2eTest, ConnectionFailureFloodIsOneLogLine) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  constexpr int kFlood = 200;
  const absl::Time flood_start = absl::Now();
  for (int i = 0; i < kFlood; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->ingress_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
              0);
    constexpr char kPlain[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_GT(::write(fd, kPlain, sizeof(kPlain) - 1), 0);
    ::close(fd);
  }
  const std::string failures =
      "hookstream_ingress_tls_handshake_failures_total";
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (MetricValue(Scrape(), failures) < kFlood && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // polling the server's state
  }
  ASSERT_EQ(MetricValue(Scrape(), failures), kFlood);
  const std::string log = ReadFile(server_->log_file());
  size_t lines = 0;
  for (size_t at = log.find("msg=\"tls handshake failed\"");
       at != std::string::npos;
       at = log.find("msg=\"tls handshake failed\"", at + 1)) {
    ++lines;
  }
  // One per started 10 s of the flood, whatever the machine's speed.
  const int64_t windows =
      absl::ToInt64Seconds(absl::Now() - flood_start) / 10 + 1;
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, static_cast<size_t>(windows)) << log;
  EXPECT_LT(lines, static_cast<size_t>(kFlood));
}

// The names of the server's threads as top -H and ps -L show them.
std::multiset<std::string> ThreadNames(pid_t pid) {
  std::multiset<std::string> names;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"), ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) names.insert(name);
  }
  return names;
}

// Verifies that each thread hookstream starts carries the role
// docs/operations.md ("Threads") gives it, one per configured thread.
TEST_F(OpsE2eTest, ThreadsAreNamedByRole) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--backend=journal", "--journal_dir=" + dir_ + "/journal",
                   "--io_threads=2", "--grpc_stream_threads=3"}));
  const std::multiset<std::string> expected = {
      "hs-https-0",    "hs-https-1",      "hs-stream-0",   "hs-stream-1",
      "hs-stream-2",   "hs-stream-timer", "hs-catch-up",   "hs-admin",
      "hs-jrnl-write", "hs-jrnl-zero",    "hs-jrnl-retain"};
  // Each thread names itself when it starts, which may follow the ready
  // file by a moment: poll (bounded) until all have.
  std::multiset<std::string> ours;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    ours.clear();
    for (const std::string& name : ThreadNames(server_->pid())) {
      if (absl::StartsWith(name, "hs-")) ours.insert(name);
    }
    if (ours == expected) break;
    absl::SleepFor(absl::Milliseconds(20));  // polling /proc
  } while (absl::Now() < deadline);
  EXPECT_EQ(ours, expected);
}

// Verifies --version: the version, the commit and the build type, exit 0
// (not Abseil's "Debug build (NDEBUG not #defined)").
TEST_F(OpsE2eTest, VersionNamesCommitAndBuildType) {
  const testing::ProcessResult r =
      testing::RunProcess({HOOKSTREAM_SERVER_BIN, "--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::StartsWith("hookstream-server 0.1.0 (commit "));
  EXPECT_THAT(r.out, HasSubstr(HOOKSTREAM_BUILD_TYPE));
  EXPECT_THAT(r.out, Not(HasSubstr("NDEBUG")));
}

}  // namespace
}  // namespace hookstream
