// The ingress's completion path over real TLS: an appender that completes
// later, on its own thread (as the journal does after its fdatasync). The
// session's event loop must keep serving other connections meanwhile, and
// the answer must go out once the completion arrives. Run under ASan/UBSan
// by the sanitizer build (the cross-thread hand-off is what it checks).
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/journal/journal.h"
#include "common/signature/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ingress/ingress_server.h"
#include "tests/server/ingress/test_clients.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/memory_store.h"
#include "tests/testing/test_certs.h"

namespace hookstream::ingress {
namespace {

using ::hookstream::ingress::testing::CurlClient;
using ::hookstream::ingress::testing::HttpResult;
using ::hookstream::ingress::testing::RawTlsClient;
using ::hookstream::testing::FakeClock;
using ::hookstream::testing::MemoryStore;
using ::hookstream::testing::TestCertificate;
using ::testing::HasSubstr;

constexpr char kSecret[] = "async-secret-0123456789abcdef";

std::string Body(absl::string_view id) {
  return absl::StrCat(R"({"id":")", id,
                      R"(","type":"customer.created","data":{"object":{}}})");
}

// Passes events to the real memory backend, but holds the completion of
// those whose id starts with "hold" until Release(), then runs it on a
// thread of its own.
class HoldingAppender final : public EventAppender {
 public:
  explicit HoldingAppender(EventAppender& inner) : inner_(inner) {}
  ~HoldingAppender() override {
    for (std::thread& t : threads_) t.join();
  }

  void Append(v1::Event event, AppendCallback done) override {
    if (!absl::StartsWith(event.id(), "hold")) {
      inner_.Append(std::move(event), std::move(done));
      return;
    }
    std::lock_guard lock(mu_);
    held_.push_back({std::move(event), std::move(done)});
    cv_.notify_all();
  }

  void AwaitHeld(size_t n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return held_.size() >= n; }));
  }

  // Completes the held appends from a new thread, `status` or through the
  // backend.
  void Release(std::optional<absl::Status> status = std::nullopt) {
    std::deque<Held> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
    }
    threads_.emplace_back([this, held = std::move(held), status]() mutable {
      for (Held& h : held) {
        if (status) {
          std::move(h.done)(*status);
        } else {
          inner_.Append(std::move(h.event), std::move(h.done));
        }
      }
    });
  }

 private:
  struct Held {
    v1::Event event;
    AppendCallback done;
  };
  EventAppender& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Held> held_;
  std::vector<std::thread> threads_;
};

class AsyncAppendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto cert = TestCertificate::Create();
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = cert->release();
  }
  static void TearDownTestSuite() {
    delete cert_;  // owned by the suite; unique_ptr cannot be a static here
    cert_ = nullptr;
  }

  void SetUp() override {
    SourceRegistry sources;
    absl::StatusOr<WebhookSource> gettrx =
        MakeGettrxSource({.secrets = {{"current", kSecret}}});
    ASSERT_TRUE(gettrx.ok()) << gettrx.status();
    ASSERT_TRUE(sources.Add(*std::move(gettrx)).ok());
    IngressOptions options;
    options.port = 0;
    options.cert_file = cert_->cert_file();
    options.key_file = cert_->key_file();
    options.io_threads = 1;  // one loop: a blocked loop would block both
    absl::StatusOr<std::unique_ptr<IngressServer>> server =
        IngressServer::Start(options, std::move(sources), appender_, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  HttpResult Post(CurlClient& client, const std::string& body) {
    return client.Post(
        "/v1/webhooks/gettrx", body,
        {"x-webhook-signature: " + EncodeHex(HmacSha256(kSecret, body))});
  }

  static TestCertificate* cert_;
  std::mutex answer_mu_;
  FakeClock clock_;
  MemoryStore store_{{.max_events = 100, .max_bytes = 1 << 20}, clock_};
  HoldingAppender appender_{store_.backend()};
  std::unique_ptr<IngressServer> server_;
};
TestCertificate* AsyncAppendTest::cert_ = nullptr;

// Verifies that while one request waits for its (late, off-loop)
// completion, the same event loop serves another connection, and that the
// waiting one is answered 200 once the completion comes.
TEST_F(AsyncAppendTest, TheLoopServesOthersWhileAnAppendWaits) {
  std::optional<HttpResult> held_answer;
  std::thread held([&] {
    CurlClient client(cert_->cert_file(), server_->port());
    HttpResult r = Post(client, Body("hold_1"));
    std::lock_guard lock(answer_mu_);
    held_answer = std::move(r);
  });
  appender_.AwaitHeld(1);
  CurlClient other(cert_->cert_file(), server_->port());
  const HttpResult r = Post(other, Body("evt_2"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"sequence":1,"duplicate":false})");
  {
    std::lock_guard lock(answer_mu_);
    EXPECT_FALSE(held_answer.has_value()) << "answered before it was kept";
  }
  appender_.Release();
  held.join();
  ASSERT_TRUE(held_answer.has_value());
  EXPECT_EQ(held_answer->status, 200);
  EXPECT_EQ(held_answer->body, R"({"sequence":2,"duplicate":false})");
  EXPECT_EQ(store_.ring().GetInfo().head_sequence, 2u);
}

// Verifies that a backend that cannot keep an event (UNAVAILABLE, as a full
// disk) is answered 503 + Retry-After, the connection stays usable, and
// nothing is appended.
TEST_F(AsyncAppendTest, AnUnavailableBackendIsA503) {
  CurlClient client(cert_->cert_file(), server_->port());
  std::optional<HttpResult> answer;
  std::thread t([&] { answer = Post(client, Body("hold_2")); });
  appender_.AwaitHeld(1);
  appender_.Release(absl::UnavailableError("disk full"));
  t.join();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503);
  EXPECT_EQ(answer->header("retry-after"), "1");
  EXPECT_THAT(answer->body, HasSubstr("unavailable"));
  EXPECT_EQ(Post(client, Body("evt_3")).status, 200);  // same connection
  EXPECT_EQ(store_.ring().GetInfo().head_sequence, 1u);
}

// Verifies that a completion arriving after the client went away is
// harmless (the session is still owned by the pending completion), and that
// the server stops cleanly after it.
TEST_F(AsyncAppendTest, ACompletionAfterTheClientLeftIsHarmless) {
  {
    RawTlsClient client(server_->port());
    ASSERT_TRUE(client.Connect());
    ASSERT_TRUE(client.Handshake());
    const std::string body = Body("hold_3");
    ASSERT_TRUE(client.Send(
        absl::StrCat("POST /v1/webhooks/gettrx HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\nContent-Length: ",
                     body.size(), "\r\nx-webhook-signature: ",
                     EncodeHex(HmacSha256(kSecret, body)), "\r\n\r\n", body)));
    appender_.AwaitHeld(1);
    client.Close();  // gone while its request waits for the backend
  }
  appender_.Release();
  // The late completion was kept (memory backend) though nobody heard it.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (store_.ring().GetInfo().head_sequence < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));  // the release thread runs
  }
  EXPECT_EQ(store_.ring().GetInfo().head_sequence, 1u);
  CurlClient again(cert_->cert_file(), server_->port());
  EXPECT_EQ(Post(again, Body("evt_4")).status, 200);
  server_->Stop();
}

// The real journal as the appender: its completions run on the journal's
// writer thread (after the fdatasync, or after write(2) under kNone), and
// each session must resume on its own loop from there. Several clients on
// two loops post new events and re-sends at once; every answer is a 200
// with a unique sequence (the re-sends are duplicates of the first), and
// the ring holds exactly the new events. Under ASan/UBSan (make
// test-sanitizers) this is the cross-thread completion path of issue 9.
class JournalCompletionTest
    : public ::testing::TestWithParam<journal::JournalOptions::Sync> {
 protected:
  void SetUp() override {
    auto cert = TestCertificate::Create();
    ASSERT_TRUE(cert.ok()) << cert.status();
    cert_ = *std::move(cert);
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("async_append_journal_", ::getpid(), "_",
                        static_cast<int>(GetParam()));
    std::filesystem::remove_all(dir_);
    journal::JournalOptions options;
    options.dir = dir_.string();
    options.sync = GetParam();
    options.segment_bytes = 16 << 10;  // rotations happen under the load
    options.ring = {.max_events = 10'000, .max_bytes = 64 << 20};
    absl::StatusOr<std::unique_ptr<journal::Journal>> journal =
        journal::Journal::Open(std::move(options), clock_, nullptr);
    ASSERT_TRUE(journal.ok()) << journal.status();
    journal_ = *std::move(journal);

    SourceRegistry sources;
    absl::StatusOr<WebhookSource> gettrx =
        MakeGettrxSource({.secrets = {{"current", kSecret}}});
    ASSERT_TRUE(gettrx.ok()) << gettrx.status();
    ASSERT_TRUE(sources.Add(*std::move(gettrx)).ok());
    IngressOptions ingress;
    ingress.port = 0;
    ingress.cert_file = cert_->cert_file();
    ingress.key_file = cert_->key_file();
    ingress.io_threads = 2;
    absl::StatusOr<std::unique_ptr<IngressServer>> server =
        IngressServer::Start(ingress, std::move(sources), *journal_, clock_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
    if (journal_ != nullptr) journal_->Close();
    server_.reset();
    journal_.reset();
    std::filesystem::remove_all(dir_);
  }

  FakeClock clock_;
  std::unique_ptr<TestCertificate> cert_;
  std::filesystem::path dir_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<IngressServer> server_;
};

TEST_P(JournalCompletionTest, EverySessionResumesWithItsOwnAnswer) {
  constexpr int kClients = 4;
  constexpr int kEvents = 40;
  std::mutex mu;
  std::vector<std::string> failures;
  absl::flat_hash_set<std::string> new_sequences;
  int duplicates = 0;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      CurlClient client(cert_->cert_file(), server_->port());
      for (int i = 0; i < kEvents; ++i) {
        // Every client also re-sends client 0's ids: duplicates that race
        // the first append (in flight in the journal, or already durable).
        const std::string id = i % 4 == 3 ? absl::StrCat("evt_0_", i - 3)
                                          : absl::StrCat("evt_", c, "_", i);
        const std::string body = Body(id);
        const HttpResult r = client.Post(
            "/v1/webhooks/gettrx", body,
            {"x-webhook-signature: " + EncodeHex(HmacSha256(kSecret, body))});
        std::lock_guard lock(mu);
        if (r.status != 200) {
          failures.push_back(absl::StrCat(id, ": ", r.status, " ", r.body));
        } else if (absl::StrContains(r.body, R"("duplicate":true)")) {
          ++duplicates;
        } else if (!new_sequences.insert(r.body).second) {
          failures.push_back(absl::StrCat(id, ": answer seen twice ", r.body));
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_THAT(failures, ::testing::IsEmpty());
  // Per client 30 ids of its own; its 10 re-sends name ids of client 0's
  // (whichever send of such an id comes first is the new one).
  constexpr int kDistinct = kClients * 30;
  EXPECT_EQ(new_sequences.size(), static_cast<size_t>(kDistinct));
  EXPECT_EQ(duplicates, kClients * kEvents - kDistinct);
  EXPECT_EQ(journal_->ring().GetInfo().head_sequence,
            static_cast<uint64_t>(kDistinct));
}

INSTANTIATE_TEST_SUITE_P(
    BothSyncModes, JournalCompletionTest,
    ::testing::Values(journal::JournalOptions::Sync::kFsync,
                      journal::JournalOptions::Sync::kNone),
    [](const auto& info) {
      return info.param == journal::JournalOptions::Sync::kFsync ? "fsync"
                                                                 : "none";
    });

}  // namespace
}  // namespace hookstream::ingress
