// End-to-end: the real hookstream-server binary on ephemeral loopback ports,
// real TLS (libcurl) on the ingress, a real gRPC channel on the stream.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/conversion/gettrx_converter.h"
#include "common/signature/crypto.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "tests/e2e/server_process.h"
#include "tests/testing/https_client.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using v1::EventStream;
using v1::SubscribeRequest;
using v1::SubscribeResponse;

constexpr char kSecret[] = "e2e-secret-0123456789abcdef";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Seed(const std::string& name) {
  return ReadFile(absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/", name));
}

std::string Signature(absl::string_view body,
                      absl::string_view secret = kSecret) {
  return EncodeHex(HmacSha256(secret, body));
}

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::CurlGlobalInit();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "hookstream-e2e-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  void StartServer(std::vector<std::string> flags = {}) {
    absl::StatusOr<testing::ServerProcess> p =
        testing::ServerProcess::Start(dir_, {.flags = std::move(flags)});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = std::make_unique<testing::ServerProcess>(*std::move(p));
    channel_ = grpc::CreateChannel(server_->grpc_target(),
                                   grpc::InsecureChannelCredentials());
    stub_ = EventStream::NewStub(channel_);
    https_ = std::make_unique<testing::HttpsClient>(server_->ca_file(),
                                                    server_->ingress_port());
  }

  testing::HttpResult Post(const std::string& body,
                           const std::string& signature) {
    return https_->Post("/v1/webhooks/gettrx", body,
                        {"x-webhook-signature: " + signature});
  }
  testing::HttpResult PostSigned(const std::string& body) {
    return Post(body, Signature(body));
  }

  v1::GetStreamInfoResponse Info() {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStreamInfoResponse info;
    EXPECT_TRUE(stub_->GetStreamInfo(&ctx, {}, &info).ok());
    return info;
  }

  std::string dir_;
  std::unique_ptr<testing::ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EventStream::Stub> stub_;
  std::unique_ptr<testing::HttpsClient> https_;
};

// A subscription with a bounded deadline, read message by message.
class Subscription {
 public:
  Subscription(EventStream::Stub& stub, const SubscribeRequest& request) {
    ctx_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    reader_ = stub.Subscribe(&ctx_, request);
  }
  bool Read(SubscribeResponse* response) { return reader_->Read(response); }
  // Reads until `n` events have arrived; heartbeats are skipped, anything
  // else fails the test.
  std::vector<v1::Event> ReadEvents(size_t n) {
    std::vector<v1::Event> events;
    SubscribeResponse r;
    while (events.size() < n && reader_->Read(&r)) {
      if (r.has_events()) {
        for (const v1::Event& e : r.events().events()) events.push_back(e);
      } else {
        EXPECT_TRUE(r.has_heartbeat()) << r.DebugString();
      }
    }
    return events;
  }
  grpc::Status Finish() { return reader_->Finish(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReader<SubscribeResponse>> reader_;
};

// Verifies that every seed event posted over HTTPS is acknowledged with the
// next sequence and arrives over gRPC typed, every field equal to what the
// converter makes of the same bytes, with the raw JSON only on request.
TEST_F(E2eTest, SeedEventsArriveTypedWithEveryField) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<std::string> names = {
      "customer.created.json", "customer.updated.json", "customer.deleted.json",
      "refund.pending.json", "setup_request.succeeded.json"};
  std::vector<std::string> bodies;
  for (size_t i = 0; i < names.size(); ++i) {
    bodies.push_back(Seed(names[i]));
    const testing::HttpResult r = PostSigned(bodies.back());
    ASSERT_EQ(r.status, 200) << names[i] << ": " << r.body;
    EXPECT_EQ(r.body,
              absl::StrCat("{\"sequence\":", i + 1, ",\"duplicate\":false}"));
    EXPECT_FALSE(r.header("x-request-id").empty());
  }

  for (const bool raw : {false, true}) {
    SubscribeRequest request;
    request.set_origin(v1::ORIGIN_OLDEST);
    request.set_include_raw_json(raw);
    Subscription sub(*stub_, request);
    SubscribeResponse first;
    ASSERT_TRUE(sub.Read(&first));
    ASSERT_TRUE(first.has_heartbeat()) << first.DebugString();
    EXPECT_EQ(first.heartbeat().stream_epoch(), server_->stream_epoch());
    EXPECT_EQ(first.heartbeat().head_sequence(), names.size());

    const std::vector<v1::Event> events = sub.ReadEvents(names.size());
    ASSERT_EQ(events.size(), names.size());
    for (size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE(names[i]);
      const v1::Event& got = events[i];
      EXPECT_EQ(got.sequence(), i + 1);
      EXPECT_EQ(got.stream_epoch(), server_->stream_epoch());
      EXPECT_TRUE(got.has_received_at());
      absl::StatusOr<v1::Event> want =
          ConvertGettrxEvent(bodies[i], absl::Now());
      ASSERT_TRUE(want.ok()) << want.status();
      if (!raw) want->clear_raw_json();
      google::protobuf::util::MessageDifferencer diff;
      const auto* d = v1::Event::descriptor();
      diff.IgnoreField(d->FindFieldByName("sequence"));
      diff.IgnoreField(d->FindFieldByName("stream_epoch"));
      diff.IgnoreField(d->FindFieldByName("received_at"));
      std::string report;
      diff.ReportDifferencesToString(&report);
      EXPECT_TRUE(diff.Compare(*want, got)) << report;
      EXPECT_EQ(got.raw_json(), raw ? bodies[i] : "");
    }
    sub.Cancel();
  }
  // Typed spot checks, straight from the seed files.
  v1::GetEventRequest get;
  get.set_event_id("evt_674f8f91778c0c7274a6636c");
  v1::GetEventResponse got;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetEvent(&ctx, get, &got).ok());
  EXPECT_EQ(got.event().customer().address().city(), "West Eladiofurt");
  EXPECT_EQ(got.event().customer().shipping().phone(), "GL 1587872490");
  EXPECT_EQ(got.event().raw_json(), bodies[0]);
}

// Verifies that a retry of an accepted event (same id, new attemptId) is
// answered with the first delivery's sequence and appends nothing, and that
// a bad signature gets 401 and appends nothing.
TEST_F(E2eTest, DuplicatesAndBadSignaturesAppendNothing) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string body = Seed("refund.pending.json");
  ASSERT_EQ(PostSigned(body).body, "{\"sequence\":1,\"duplicate\":false}");
  const std::string retry = absl::StrReplaceAll(
      body, {{"wha_6751e4a3a02adccc5f7dcb18", "wha_ffffffffffffffffffffffff"}});
  ASSERT_NE(retry, body);
  const testing::HttpResult r = PostSigned(retry);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"sequence\":1,\"duplicate\":true}");

  const std::string other = Seed("customer.created.json");
  EXPECT_EQ(Post(other, Signature(other, "wrong-secret")).status, 401);
  EXPECT_EQ(Post(other, "").status, 401);
  EXPECT_EQ(Info().head_sequence(), 1u);
  EXPECT_EQ(Info().event_count(), 1u);
}

// Verifies that a live subscriber with a type filter receives exactly the
// matching events posted after it subscribed, in order.
TEST_F(E2eTest, LiveSubscriberWithFilterReceivesMatchingEvents) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  SubscribeRequest request;  // no start: latest
  request.mutable_filter()->add_types("customer.*");
  Subscription sub(*stub_, request);
  SubscribeResponse first;
  ASSERT_TRUE(sub.Read(&first));  // the first heartbeat: subscribed
  ASSERT_TRUE(first.has_heartbeat());

  ASSERT_EQ(PostSigned(Seed("refund.pending.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("setup_request.succeeded.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("customer.deleted.json")).status, 200);
  const std::vector<v1::Event> events = sub.ReadEvents(2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type(), "customer.created");
  EXPECT_EQ(events[0].sequence(), 2u);
  EXPECT_EQ(events[1].type(), "customer.deleted");
  EXPECT_EQ(events[1].sequence(), 4u);
}

// Verifies that SIGTERM ends open streams with UNAVAILABLE (so clients
// reconnect) and the process exits 0.
TEST_F(E2eTest, ShutdownEndsStreamsWithUnavailable) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  Subscription sub(*stub_, request);
  SubscribeResponse r;
  ASSERT_TRUE(sub.Read(&r));
  absl::StatusOr<int> code = server_->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  while (sub.Read(&r)) {
  }
  EXPECT_EQ(sub.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// Verifies that the server refuses to start without a signing secret, with
// a one-line reason, unless told to accept unsigned webhooks.
TEST_F(E2eTest, RefusesToStartWithoutSecret) {
  ASSERT_EQ(
      std::system(absl::StrCat(HOOKSTREAM_SOURCE_DIR, "/scripts/dev-setup.sh '",
                               dir_, "' >/dev/null")
                      .c_str()),
      0);
  const std::string log = dir_ + "/refuse.log";
  const std::string cmd = absl::StrCat(
      "env -u HOOKSTREAM_SIGNING_SECRETS ", HOOKSTREAM_SERVER_BIN,
      " --ingress_address=127.0.0.1:0 --grpc_address=127.0.0.1:0",
      " --tls_cert=", dir_, "/tls.crt --tls_key=", dir_, "/tls.key 2>", log);
  const int status = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_THAT(ReadFile(log), HasSubstr("no signing secret"));
}

}  // namespace
}  // namespace hookstream
