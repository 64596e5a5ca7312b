#include "common/jetstream/jetstream_backend.h"

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "common/base/proto_time.h"
#include "common/jetstream/nats_handles.h"
#include "common/jetstream/publisher.h"
#include "common/jetstream/stored_identity.h"
#include "common/jetstream/stream_setup.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/nats_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tcp_forwarder.h"

namespace hookstream::jetstream {
namespace {

using ::hookstream::testing::NatsServer;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;

v1::Event MakeEvent(absl::string_view id,
                    absl::string_view type = "customer.created") {
  v1::Event event;
  event.set_id(std::string(id));
  event.set_type(std::string(type));
  event.set_source("gettrx");
  event.set_account("acct_1");
  *event.mutable_received_at() = ToProtoTimestamp(absl::Now());
  event.set_raw_json(absl::StrCat(R"({"id":")", id, R"("})"));
  return event;
}

// Appends and waits (bounded) for the completion, which must run once.
absl::StatusOr<AppendResult> AppendAndWait(
    EventAppender& appender, v1::Event event,
    absl::Duration timeout = absl::Seconds(30)) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int calls = 0;
    std::optional<absl::StatusOr<AppendResult>> result;
  };
  auto state = std::make_shared<State>();
  appender.Append(std::move(event), [state](absl::StatusOr<AppendResult> r) {
    std::lock_guard lock(state->mu);
    ++state->calls;
    state->result = std::move(r);
    state->cv.notify_all();
  });
  std::unique_lock lock(state->mu);
  if (!state->cv.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                          [&] { return state->calls > 0; })) {
    return absl::DeadlineExceededError("no completion within the timeout");
  }
  EXPECT_EQ(state->calls, 1);
  return *state->result;
}

// Waits (bounded) until the ring's head reaches `sequence`.
bool WaitForHead(const EventReader& reader, uint64_t sequence,
                 absl::Duration timeout = absl::Seconds(30)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (reader.GetInfo().head_sequence >= sequence) return true;
    absl::SleepFor(absl::Milliseconds(5));  // polling a bounded condition
  }
  return false;
}

class JetStreamBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        ::testing::TempDir(), "/jetstream_backend_test_", getpid(), "_",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    absl::StatusOr<std::unique_ptr<NatsServer>> nats =
        NatsServer::Start(dir_ + "/nats");
    ASSERT_TRUE(nats.ok()) << nats.status();
    nats_ = *std::move(nats);
  }
  void TearDown() override {
    nats_.reset();
    std::filesystem::remove_all(dir_);
  }

  JetStreamOptions Options() const {
    JetStreamOptions options;
    options.urls = {nats_->url()};
    options.publish_timeout = absl::Seconds(3);
    options.attempt_timeout = absl::Milliseconds(500);
    return options;
  }

  std::unique_ptr<JetStreamBackend> OpenOrDie(JetStreamOptions options) {
    absl::StatusOr<std::unique_ptr<JetStreamBackend>> backend =
        JetStreamBackend::Open(std::move(options), RealClock());
    EXPECT_TRUE(backend.ok()) << backend.status();
    return backend.ok() ? *std::move(backend) : nullptr;
  }

  std::string dir_;
  std::unique_ptr<NatsServer> nats_;
};

// Verifies the 200's contract: the completion carries the stream sequence
// after the PubAck, the follower applies the event at that sequence with the
// bytes the publisher encoded, and a retry of the same id is a duplicate with
// the original sequence that uses no new one.
TEST_F(JetStreamBackendTest, PublishesAndFollowsAtStreamSequences) {
  std::unique_ptr<JetStreamBackend> backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  EXPECT_TRUE(backend->stream_at_start().created);

  absl::StatusOr<AppendResult> first =
      AppendAndWait(backend->appender(), MakeEvent("evt_1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sequence, 1u);
  EXPECT_FALSE(first->duplicate);
  absl::StatusOr<AppendResult> second =
      AppendAndWait(backend->appender(), MakeEvent("evt_2"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->sequence, 2u);

  absl::StatusOr<AppendResult> again =
      AppendAndWait(backend->appender(), MakeEvent("evt_1"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->sequence, 1u);
  EXPECT_TRUE(again->duplicate);

  ASSERT_TRUE(WaitForHead(backend->reader(), 2));
  StoredEventPtr one = backend->reader().Get(1);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->id, "evt_1");
  EXPECT_EQ(one->type, "customer.created");
  EXPECT_EQ(one->ToEvent(true).stream_epoch(), backend->identity().epoch);
  EXPECT_EQ(one->ToEvent(true).sequence(), 1u);
  EXPECT_EQ(one->RawJson(), R"({"id":"evt_1"})");

  // A third append gets 3: the duplicate took no sequence.
  absl::StatusOr<AppendResult> third =
      AppendAndWait(backend->appender(), MakeEvent("evt_3"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->sequence, 3u);
  EXPECT_EQ(backend->reader().GetInfo().backend, "");  // named by Storage
}

// Verifies that two replicas of one stream have the same epoch and the same
// events byte for byte, whichever replica published them, and that a
// replica started later catches up from the stream.
TEST_F(JetStreamBackendTest, ReplicasHoldIdenticalStreams) {
  std::unique_ptr<JetStreamBackend> a = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  std::unique_ptr<JetStreamBackend> b = OpenOrDie(Options());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->identity().epoch, b->identity().epoch);
  EXPECT_EQ(a->identity().start_time, b->identity().start_time);
  for (int i = 1; i <= 10; ++i) {
    EventAppender& via = i % 2 == 0 ? a->appender() : b->appender();
    absl::StatusOr<AppendResult> r =
        AppendAndWait(via, MakeEvent(absl::StrCat("evt_", i)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sequence, static_cast<uint64_t>(i));
  }
  // The same event through the other replica is the same sequence.
  absl::StatusOr<AppendResult> dup =
      AppendAndWait(a->appender(), MakeEvent("evt_1"));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->sequence, 1u);

  std::unique_ptr<JetStreamBackend> late = OpenOrDie(Options());
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->identity().epoch, a->identity().epoch);
  for (JetStreamBackend* replica : {a.get(), b.get(), late.get()}) {
    ASSERT_TRUE(WaitForHead(replica->reader(), 10));
  }
  for (uint64_t s = 1; s <= 10; ++s) {
    StoredEventPtr ea = a->reader().Get(s);
    StoredEventPtr eb = b->reader().Get(s);
    StoredEventPtr el = late->reader().Get(s);
    ASSERT_TRUE(ea != nullptr && eb != nullptr && el != nullptr) << s;
    EXPECT_EQ(ea->WithRawJson(), eb->WithRawJson()) << s;
    EXPECT_EQ(ea->WithRawJson(), el->WithRawJson()) << s;
    EXPECT_EQ(ea->log_time, el->log_time) << s;
  }
}

// The stream's Description, read with a client of its own.
std::string DescriptionOf(const std::string& url, const std::string& stream) {
  natsConnection* raw_nc = nullptr;
  EXPECT_EQ(natsConnection_ConnectTo(&raw_nc, url.c_str()), NATS_OK);
  ConnectionPtr nc(raw_nc);
  jsCtx* raw_js = nullptr;
  EXPECT_EQ(natsConnection_JetStream(&raw_js, nc.get(), nullptr), NATS_OK);
  JsPtr js(raw_js);
  jsStreamInfo* raw = nullptr;
  EXPECT_EQ(js_GetStreamInfo(&raw, js.get(), stream.c_str(), nullptr, nullptr),
            NATS_OK);
  StreamInfoPtr info(raw);
  if (info == nullptr || info->Config->Description == nullptr) return "";
  return info->Config->Description;
}

// Creates `stream` as an older hookstream did (no identity stored, or
// `description` someone else wrote); returns its creation time.
int64_t CreateStreamWithoutIdentity(const std::string& url,
                                    const JetStreamOptions& options,
                                    const char* description = nullptr) {
  natsConnection* raw_nc = nullptr;
  EXPECT_EQ(natsConnection_ConnectTo(&raw_nc, url.c_str()), NATS_OK);
  ConnectionPtr nc(raw_nc);
  jsCtx* raw_js = nullptr;
  EXPECT_EQ(natsConnection_JetStream(&raw_js, nc.get(), nullptr), NATS_OK);
  JsPtr js(raw_js);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {kStreamSubjects};
  config.Name = options.stream.c_str();
  config.Description = description;
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Duplicates = absl::ToInt64Nanoseconds(options.duplicate_window);
  config.MaxAge = config.Duplicates;
  jsStreamInfo* raw = nullptr;
  EXPECT_EQ(js_AddStream(&raw, js.get(), &config, nullptr, nullptr), NATS_OK);
  StreamInfoPtr info(raw);
  return info == nullptr ? 0 : info->Created;
}

// Verifies that the replica creating the stream stores its identity in the
// stream's Description, and that every later open reads that one.
TEST_F(JetStreamBackendTest, StoresTheIdentityInTheStream) {
  std::string epoch;
  {
    std::unique_ptr<JetStreamBackend> first = OpenOrDie(Options());
    ASSERT_NE(first, nullptr);
    epoch = first->identity().epoch;
    EXPECT_EQ(DescriptionOf(nats_->url(), "HOOKSTREAM"),
              FormatStoredIdentity(first->identity()));
  }
  std::unique_ptr<JetStreamBackend> again = OpenOrDie(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->identity().epoch, epoch);
}

// Verifies that a stream an older hookstream created (no identity in its
// Description) keeps the epoch derived from its creation time, and that the
// epoch is then stored in the stream, so later opens read it.
TEST_F(JetStreamBackendTest, AdoptsAnOlderStreamKeepingItsEpoch) {
  const int64_t created = CreateStreamWithoutIdentity(nats_->url(), Options());
  ASSERT_NE(created, 0);
  const StreamIdentity derived = IdentityOfStream("HOOKSTREAM", created);
  {
    std::unique_ptr<JetStreamBackend> adopting = OpenOrDie(Options());
    ASSERT_NE(adopting, nullptr);
    EXPECT_EQ(adopting->identity().epoch, derived.epoch);
  }
  EXPECT_EQ(DescriptionOf(nats_->url(), "HOOKSTREAM"),
            FormatStoredIdentity(derived));
  std::unique_ptr<JetStreamBackend> again = OpenOrDie(Options());
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->identity().epoch, derived.epoch);
}

// Replaces the stream's Description, the rest of its config as it is.
void SetDescription(const std::string& url, const std::string& stream,
                    const std::string& description) {
  natsConnection* raw_nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&raw_nc, url.c_str()), NATS_OK);
  ConnectionPtr nc(raw_nc);
  jsCtx* raw_js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&raw_js, nc.get(), nullptr), NATS_OK);
  JsPtr js(raw_js);
  jsStreamInfo* raw = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&raw, js.get(), stream.c_str(), nullptr, nullptr),
            NATS_OK);
  StreamInfoPtr info(raw);
  jsStreamConfig config = *info->Config;
  config.Description = description.c_str();
  raw = nullptr;
  ASSERT_EQ(js_UpdateStream(&raw, js.get(), &config, nullptr, nullptr),
            NATS_OK);
  StreamInfoPtr updated(raw);
}

// Verifies that the stream monitor tells when the stream's Description no
// longer holds the epoch the replica serves (someone edited it, or a
// concurrent create replaced it), and when it holds it again.
TEST_F(JetStreamBackendTest, MonitorTellsWhenTheStoredIdentityDiffers) {
  JetStreamOptions options = Options();
  options.stream_info_interval = absl::Milliseconds(20);
  std::unique_ptr<JetStreamBackend> backend = OpenOrDie(options);
  ASSERT_NE(backend, nullptr);
  // Polling a poller, bounded.
  auto wait_until = [&](bool differs) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    StreamSnapshot s = backend->monitor().Latest();
    while ((!s.valid || s.identity_differs != differs) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      s = backend->monitor().Latest();
    }
    return s.valid && s.identity_differs == differs;
  };
  EXPECT_TRUE(wait_until(false));
  const std::string ours = FormatStoredIdentity(backend->identity());
  SetDescription(nats_->url(), "HOOKSTREAM",
                 FormatStoredIdentity(NewStreamIdentity(absl::Now())));
  EXPECT_TRUE(wait_until(true));
  SetDescription(nats_->url(), "HOOKSTREAM", ours);
  EXPECT_TRUE(wait_until(false));
}

// Verifies that a Description someone else wrote stops the start with one
// line naming the setting, and is left as it was.
TEST_F(JetStreamBackendTest, RefusesAStreamDescribedBySomeoneElse) {
  ASSERT_NE(CreateStreamWithoutIdentity(nats_->url(), Options(),
                                        "orders of the shop"),
            0);
  absl::StatusOr<std::unique_ptr<JetStreamBackend>> refused =
      JetStreamBackend::Open(Options(), RealClock());
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                         HasSubstr("(setting: description)")));
  EXPECT_EQ(DescriptionOf(nats_->url(), "HOOKSTREAM"), "orders of the shop");
}

// Verifies that a replica knows the stream's last sequence and treats a
// position it has not applied as within the stream, and one beyond the
// stream as not.
TEST_F(JetStreamBackendTest, PositionsUpToTheStreamsLastAreWithinIt) {
  std::unique_ptr<JetStreamBackend> a = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(
        AppendAndWait(a->appender(), MakeEvent(absl::StrCat("e", i))).ok());
  }
  EXPECT_TRUE(a->reader().IsWithinStream(3));
  EXPECT_FALSE(a->reader().IsWithinStream(4));
  EXPECT_GE(a->reader().GetInfo().stream_last_sequence, 3u);
}

// Verifies the start-up refusal of a stream whose duplicate window is
// shorter than hookstream's, naming the setting, and of other subjects.
TEST_F(JetStreamBackendTest, RefusesAContradictingStream) {
  JetStreamOptions short_window = Options();
  short_window.duplicate_window = absl::Minutes(1);
  { ASSERT_NE(OpenOrDie(short_window), nullptr); }
  absl::StatusOr<std::unique_ptr<JetStreamBackend>> refused =
      JetStreamBackend::Open(Options(), RealClock());
  EXPECT_THAT(refused.status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(refused.status().message(), HasSubstr("duplicate_window"));

  JetStreamOptions replicas = short_window;
  replicas.replicas = 3;
  refused = JetStreamBackend::Open(replicas, RealClock());
  EXPECT_THAT(refused.status().message(), HasSubstr("num_replicas"));
}

// Verifies ContradictionOf for the settings the start checks.
TEST(StreamSetupTest, NamesEachContradiction) {
  JetStreamOptions options;
  const char* ours[] = {kStreamSubjects};
  const char* other[] = {"orders.>"};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Subjects = ours;
  config.SubjectsLen = 1;
  config.Retention = js_LimitsPolicy;
  config.Duplicates = absl::ToInt64Nanoseconds(absl::Hours(72));
  config.MaxAge = 0;
  config.Replicas = 1;
  EXPECT_EQ(ContradictionOf(config, options), "");
  jsStreamConfig c = config;
  c.Subjects = other;
  EXPECT_THAT(ContradictionOf(c, options), HasSubstr("setting: subjects"));
  c = config;
  c.Retention = js_WorkQueuePolicy;
  EXPECT_THAT(ContradictionOf(c, options), HasSubstr("setting: retention"));
  c = config;
  c.MaxAge = absl::ToInt64Nanoseconds(absl::Hours(1));
  EXPECT_THAT(ContradictionOf(c, options), HasSubstr("setting: max_age"));
  c = config;
  c.Duplicates = absl::ToInt64Nanoseconds(absl::Hours(1));
  EXPECT_THAT(ContradictionOf(c, options),
              HasSubstr("setting: duplicate_window"));
}

TEST(SubjectTest, KeepsTypeTokensAndReplacesWhatNatsForbids) {
  EXPECT_EQ(SubjectOf("gettrx", "customer.created"),
            "hookstream.events.gettrx.customer.created");
  EXPECT_EQ(SubjectOf("gettrx", "a b*>"), "hookstream.events.gettrx.a_b__");
  EXPECT_EQ(SubjectOf("gettrx", ""), "hookstream.events.gettrx._");
}

// Verifies the start-up refusal when no NATS server is reachable.
TEST(JetStreamStartTest, RefusesWhenNoNatsIsReachable) {
  hookstream::testing::ClosedPort closed;
  JetStreamOptions options;
  options.urls = {absl::StrCat("nats://127.0.0.1:", closed.port())};
  options.connect_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<JetStreamBackend>> backend =
      JetStreamBackend::Open(options, RealClock());
  EXPECT_THAT(backend.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(backend.status().message(), HasSubstr("cannot connect"));
}

// Verifies that while JetStream does not answer (its server stopped), an
// append keeps retrying the same message id until its deadline and then
// fails UNAVAILABLE (the 503); once the server is back on its store the
// provider's retry is kept exactly once.
TEST_F(JetStreamBackendTest, UnansweredPublishIsUnavailableThenKeptOnce) {
  std::unique_ptr<JetStreamBackend> backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(AppendAndWait(backend->appender(), MakeEvent("before")).ok());
  ASSERT_TRUE(nats_->Stop().ok());
  absl::StatusOr<AppendResult> stopped =
      AppendAndWait(backend->appender(), MakeEvent("during"));
  ASSERT_TRUE(nats_->Restart().ok());
  EXPECT_THAT(stopped.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_GT(backend->publisher_stats().retries.load(), 0u);

  // The provider retries: the event is kept exactly once (nats.c may have
  // sent its buffered copy on reconnecting: then the retry is a duplicate).
  absl::StatusOr<AppendResult> retried =
      AppendAndWait(backend->appender(), MakeEvent("during"));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->sequence, 2u);
  absl::StatusOr<AppendResult> after =
      AppendAndWait(backend->appender(), MakeEvent("after"));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->sequence, 3u);
}

// Verifies that a PubAck this replica's ring never applies (its follower
// stuck) does not hold the completion for ever: UNAVAILABLE at the
// deadline, and the provider's retry is a duplicate with the stored
// sequence.
TEST_F(JetStreamBackendTest,
       AnAckTheRingNeverAppliesIsUnavailableAtTheDeadline) {
  std::unique_ptr<JetStreamBackend> backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  // A publisher whose ring nothing follows.
  JetStreamOptions options = Options();
  options.publish_timeout = absl::Seconds(1);
  EventRing unfollowed({}, RealClock(), backend->identity());
  Publisher publisher(options, RealClock(), backend->identity().epoch);
  publisher.set_ring(&unfollowed);
  natsConnection* raw_conn = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&raw_conn, nats_->url().c_str()), NATS_OK);
  ConnectionPtr conn(raw_conn);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = &Publisher::OnAck;
  jo.PublishAsync.AckHandlerClosure = &publisher;
  jsCtx* raw_js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&raw_js, conn.get(), &jo), NATS_OK);
  JsPtr js(raw_js);
  publisher.set_js(js.get());

  absl::StatusOr<AppendResult> stuck =
      AppendAndWait(publisher, MakeEvent("stuck"));
  EXPECT_THAT(stuck.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(stuck.status().message(), HasSubstr("has not applied"));
  EXPECT_EQ(publisher.stats().unapplied.load(), 1u);
  publisher.Close();

  absl::StatusOr<AppendResult> retried =
      AppendAndWait(backend->appender(), MakeEvent("stuck"));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->duplicate);
  EXPECT_EQ(retried->sequence, 1u);
}

// Verifies the start-up refusal of a server whose max_payload cannot hold
// the largest event, naming the setting.
TEST(JetStreamStartTest, RefusesAMaxPayloadBelowTheLargestEvent) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/jetstream_payload_", getpid());
  std::filesystem::remove_all(dir);
  absl::StatusOr<std::unique_ptr<NatsServer>> nats =
      NatsServer::Start(dir, {.max_payload = 1 << 20});
  ASSERT_TRUE(nats.ok()) << nats.status();
  JetStreamOptions options;
  options.urls = {(*nats)->url()};
  options.max_event_bytes = 1 << 20;
  absl::StatusOr<std::unique_ptr<JetStreamBackend>> backend =
      JetStreamBackend::Open(options, RealClock());
  EXPECT_THAT(backend.status(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(backend.status().message(), HasSubstr("(setting: max_payload)"));
  options.max_event_bytes = (1 << 20) - 8192;
  backend = JetStreamBackend::Open(options, RealClock());
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (backend.ok()) backend->reset();
  nats->reset();
  std::filesystem::remove_all(dir);
}

// Verifies Close: pending appends complete (here: none left), later appends
// are refused UNAVAILABLE, and Close is idempotent.
TEST_F(JetStreamBackendTest, CloseRefusesLaterAppends) {
  std::unique_ptr<JetStreamBackend> backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(AppendAndWait(backend->appender(), MakeEvent("one")).ok());
  backend->Close();
  backend->Close();
  EXPECT_THAT(AppendAndWait(backend->appender(), MakeEvent("two")).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace hookstream::jetstream
