// Runs the real `hookstream` binary against an in-process DistributionServer
// with a real ring: what a user types, what they see, and the exit codes.
// (Against the real hookstream-server binary, over TLS and through restarts:
// tests/e2e.)
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli/samples.h"
#include "common/ring/event_ring.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/distribution/distribution_server.h"
#include "tests/client/scripted_event_stream.h"
#include "tests/testing/memory_store.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/tcp_forwarder.h"
#include "tests/testing/watched_process.h"

namespace hookstream {
namespace {

using ::hookstream::distribution::DistributionServer;
using ::hookstream::testing::ProcessResult;
using ::hookstream::testing::RunProcess;
using ::hookstream::testing::WatchedProcess;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kWait = absl::Seconds(30);

v1::Event MakeEvent(int n, const std::string& type) {
  v1::Event event;
  event.set_id(absl::StrCat("evt_", n));
  event.set_type(type);
  event.set_account(n % 2 == 0 ? "acm_even" : "acm_odd");
  event.set_raw_json(
      absl::StrCat("{\n  \"id\": \"evt_", n, "\",\n  \"n\": ", n, "\n}"));
  event.mutable_received_at()->set_seconds(1733267345 + n);
  return event;
}

int CountContaining(const std::vector<std::string>& lines,
                    const std::string& text) {
  int n = 0;
  for (const std::string& l : lines) n += absl::StrContains(l, text);
  return n;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/cli_test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Start(1000);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // A new server (and, with `new_ring`, a new ring: a new epoch) behind the
  // forwarder, whose port the CLI keeps using.
  void Start(size_t max_events, bool new_ring = true) {
    if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
    server_.reset();
    if (new_ring) {
      EventRing::Options options;
      options.max_events = max_events;
      old_rings_.push_back(std::move(ring_));  // outlives its server
      ring_ = std::make_unique<testing::MemoryStore>(options, RealClock());
    }
    absl::StatusOr<std::unique_ptr<DistributionServer>> server =
        DistributionServer::Start(
            {.address = "127.0.0.1:0", .credentials = nullptr}, ring_->ring(),
            RealClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    forwarder_.SetBackend(static_cast<uint16_t>(server_->port()));
  }

  void Append(int first, int last) {
    for (int i = first; i <= last; ++i) {
      ASSERT_TRUE(ring_
                      ->Append(MakeEvent(i, i % 3 == 0 ? "refund.created"
                                                       : "customer.created"))
                      .ok());
    }
  }

  std::string Target() const {
    return absl::StrCat("127.0.0.1:", forwarder_.port());
  }

  ProcessResult Cli(std::vector<std::string> args, const std::string& env = "",
                    const std::string& cwd = "") {
    args.insert(args.begin(), HOOKSTREAM_CLI_PATH);
    args.push_back("--target=" + Target());
    return RunProcess(args, 60, env, cwd);
  }
  // Without --target (commands that take none, or usage errors).
  static ProcessResult Bare(std::vector<std::string> args,
                            const std::string& env = "",
                            const std::string& cwd = "") {
    args.insert(args.begin(), HOOKSTREAM_CLI_PATH);
    return RunProcess(args, 60, env, cwd);
  }

  std::string dir_;
  testing::TcpForwarder forwarder_;
  std::vector<std::unique_ptr<testing::MemoryStore>> old_rings_;
  std::unique_ptr<testing::MemoryStore> ring_;
  std::unique_ptr<DistributionServer> server_;
};

// Verifies `--help` on the binary and on every subcommand, and `help CMD`,
// list the flags with their defaults and exit 0; `help nope` is a usage
// error.
TEST_F(CliTest, HelpEverywhereExitsZero) {
  ProcessResult r = Bare({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* cmd : {"tail", "list", "get", "info", "trigger", "send"}) {
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("  ", cmd, " "))) << cmd;
  }
  EXPECT_THAT(r.out, HasSubstr("HOOKSTREAM_TOKEN"));
  r = Bare({"help", "tail"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Usage: hookstream tail"));
  EXPECT_THAT(r.out, HasSubstr("--heartbeat_interval (default 15s)"));
  EXPECT_THAT(r.out, HasSubstr("--target (default \"127.0.0.1:50051\")"));
  EXPECT_THAT(r.out, HasSubstr("--max_retries (default 0)"));
  EXPECT_THAT(r.out, Not(HasSubstr("--secret_file")));
  for (const char* cmd : {"tail", "list", "get", "info", "trigger", "send"}) {
    for (const char* help : {"--help", "-h"}) {
      r = Bare({cmd, help});
      EXPECT_EQ(r.exit_code, 0) << cmd << " " << help << ": " << r.err;
      EXPECT_THAT(r.out, HasSubstr(absl::StrCat("Usage: hookstream ", cmd)));
      EXPECT_THAT(r.out, HasSubstr("(default ")) << cmd;
    }
  }
  EXPECT_THAT(Bare({"send", "--help"}).out, HasSubstr("--secret_file"));
  r = Bare({"help", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'nope'"));
}

// Verifies every kind of usage error exits 2 with a message naming it, as
// the docs say: an unknown command or flag, a flag of another command, a
// bad value, a heartbeat interval the server would refuse, a bad format or
// type pattern, an unexpected argument.
TEST_F(CliTest, UsageErrorsExitTwo) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "Usage: hookstream COMMAND"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"tail", "--bogus"}, "unknown flag --bogus"},
      {{"send", "--from=oldest", "x.json"}, "--from does not apply to 'send'"},
      {{"tail", "--max_events=many"}, "--max_events"},
      {{"tail", "--heartbeat_interval", "0s"}, "between 1s and 1h"},
      {{"tail", "--heartbeat_interval=2h"}, "between 1s and 1h"},
      {{"tail", "--format=xml"}, "--format must be pretty, json or summary"},
      {{"tail", "--types=cust*omer"}, "not a type pattern"},
      {{"tail", "--from=yesterday"}, "expected oldest, latest"},
      {{"tail", "--gap_policy=ignore"}, "--gap_policy must be"},
      {{"tail", "extra"}, "unexpected argument 'extra'"},
      {{"get"}, "exactly one of --seq N or --id"},
      {{"tail", "--timeout=1s"}, "--timeout does not apply to 'tail'"},
      {{"tail", "--cert=c.pem"}, "needs its key"},
      {{"info", "--target=events.example.com:443", "--token=t"}, "clear text"},
      {{"trigger"}, "give one or more event types"},
      {{"trigger", "widget.exploded"}, "no sample of type 'widget.exploded'"},
      {{"send"}, "give one or more files"},
      {{"tail", "--max_events"}, "--max_events needs a value"},
  };
  for (const auto& [args, message] : cases) {
    const ProcessResult r = Bare(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << absl::StrJoin(args, " ");
  }
}

// Verifies `info` prints GetStreamInfo as one JSON object, zeros included,
// 64-bit numbers as JSON numbers.
TEST_F(CliTest, InfoPrintsTheStreamState) {
  Append(1, 4);
  const ProcessResult r = Cli({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["stream_epoch"], ring_->ring().stream_epoch());
  EXPECT_EQ(info["head_sequence"], 4);
  EXPECT_EQ(info["oldest_sequence"], 1);
  EXPECT_EQ(info["event_count"], 4);
  EXPECT_EQ(info["subscriber_count"], 0);
  EXPECT_EQ(info["dedup_count"], 4);
}

// Verifies `get` by sequence and by id (flag or argument) prints the event
// with its raw webhook body as JSON text (not base64), and an unknown id
// exits 1 naming NOT_FOUND.
TEST_F(CliTest, GetPrintsTheRawJsonAsJson) {
  Append(1, 5);
  ProcessResult r = Cli({"get", "--seq", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json event = nlohmann::json::parse(r.out);
  EXPECT_EQ(event["id"], "evt_3");
  EXPECT_EQ(event["sequence"], 3);
  ASSERT_TRUE(event["raw_json"].is_object()) << r.out;
  EXPECT_EQ(event["raw_json"]["id"], "evt_3");
  EXPECT_EQ(event["raw_json"]["n"], 3);

  for (const char* how : {"--id=evt_4", "evt_4", "4"}) {
    r = Cli({"get", how});
    ASSERT_EQ(r.exit_code, 0) << how << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["sequence"], 4) << how;
  }
  r = Cli({"get", "--id=evt_nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

// Verifies `list` pages through held events with a filter and --after, and
// says how to go on when --limit stopped it.
TEST_F(CliTest, ListPagesThroughFilteredEvents) {
  Append(1, 30);
  ProcessResult r = Cli({"list", "--types=refund.*", "--after=10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<int> sequences;
  for (const std::string& line : r.Lines()) {
    const nlohmann::json e = nlohmann::json::parse(line);
    EXPECT_EQ(e["type"], "refund.created");
    sequences.push_back(e["sequence"]);
  }
  EXPECT_EQ(sequences, (std::vector<int>{12, 15, 18, 21, 24, 27, 30}));

  r = Cli({"list", "--limit=4", "--accounts=acm_even", "--format=summary"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 4u) << r.out;
  const std::vector<std::string> cols = absl::StrSplit(r.Lines()[3], '\t');
  ASSERT_EQ(cols.size(), 5u) << r.Lines()[3];
  EXPECT_EQ(cols[1], "8");
  EXPECT_EQ(cols[3], "evt_8");
  EXPECT_EQ(cols[4], "acm_even");
  // The listing scanned past 8 (9 is odd): it goes on after what it read.
  EXPECT_THAT(r.err, HasSubstr("hookstream list --after 9"));

  r = Cli({"list", "--types=payment_request.*"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.Lines().empty());
  EXPECT_THAT(r.err, HasSubstr("no held event matches"));
}

// Verifies `tail` as JSON lines (the default when piped): the first line on
// stderr says where it is connected and from which position it waits,
// filters apply, 64-bit numbers are numbers, --raw embeds the body.
TEST_F(CliTest, TailPrintsJsonLinesAfterAFirstLine) {
  Append(1, 9);
  ProcessResult r = Cli({"tail", "--from", "oldest", "--max_events", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = r.Lines();
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    const nlohmann::json e = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(e["id"], absl::StrCat("evt_", i + 1));
    EXPECT_EQ(e["sequence"], i + 1);
    EXPECT_FALSE(e.contains("raw_json"));
  }
  const std::vector<std::string> err = absl::StrSplit(r.err, '\n');
  EXPECT_EQ(
      err[0],
      absl::StrCat("hookstream tail: connected to ", Target(),
                   " (plaintext), stream epoch ", ring_->ring().stream_epoch(),
                   ": replaying sequences 1..9, then waiting for new "
                   "events"));

  r = Cli({"tail", "--from=seq:1", "--types=refund.*", "--accounts=acm_even",
           "--raw", "--max_events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 1u);
  const nlohmann::json e = nlohmann::json::parse(r.Lines()[0]);
  EXPECT_EQ(e["id"], "evt_6");  // the first refund on an even account
  EXPECT_EQ(e["raw_json"]["n"], 6);
  EXPECT_THAT(r.err, HasSubstr("(types refund.*; accounts acm_even)"));

  // From the latest: it waits after the head, and gets what comes next.
  auto tail = WatchedProcess::Start(
      {HOOKSTREAM_CLI_PATH, "tail", "--target=" + Target(), "--max_events=1"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_TRUE(
      (*tail)->WaitForStderr("waiting for events after sequence 9", kWait))
      << (*tail)->Stderr();
  Append(10, 10);
  ASSERT_EQ((*tail)->Wait(kWait).value_or(-1), 0) << (*tail)->Stderr();
  ASSERT_EQ((*tail)->StdoutLines().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse((*tail)->StdoutLines()[0])["sequence"], 10);
}

// Verifies the pretty format: one aligned line per event with time,
// sequence, type, id and account; typed fields indented with --fields;
// colour only when asked for or on a terminal without NO_COLOR.
TEST_F(CliTest, PrettyAndSummaryFormats) {
  v1::Event typed = MakeEvent(1, "customer.created");
  typed.mutable_customer()->set_email("ann@example.com");
  ASSERT_TRUE(ring_->Append(typed).ok());
  Append(2, 2);
  ProcessResult r = Cli({"tail", "--from=oldest", "--max_events=2",
                         "--format=pretty", "--fields"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = r.Lines();
  ASSERT_GE(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex(
                            "[0-9-]+ [0-9:.]+  #1 +customer.created +evt_1  "
                            "acm_odd"));
  EXPECT_THAT(r.out, HasSubstr("    {\n      \"email\": \"ann@example.com\""));
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b[")));  // not a terminal

  r = Cli({"tail", "--from=oldest", "--max_events=1", "--format=pretty",
           "--color=always"});
  EXPECT_THAT(r.out, HasSubstr("\x1b[36mcustomer.created"));

  r = Cli({"tail", "--from=oldest", "--max_events=2", "--format=summary"});
  ASSERT_EQ(r.Lines().size(), 2u);
  EXPECT_THAT(r.Lines()[1], ::testing::EndsWith("\t2\tcustomer.created\tevt_2"
                                                "\tacm_even"));

  // On a terminal (script(1) gives it one): pretty and coloured by default,
  // plain with NO_COLOR.
  const std::string cmd = absl::StrCat(HOOKSTREAM_CLI_PATH,
                                       " tail --from=oldest --max_events=1 "
                                       "--target=",
                                       Target());
  r = RunProcess({"script", "-qec", cmd, "/dev/null"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\x1b[36mcustomer.created"));
  EXPECT_THAT(r.out, Not(HasSubstr("{\"sequence\"")));
  r = RunProcess({"script", "-qec", cmd, "/dev/null"}, 60, "NO_COLOR=1");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("customer.created"));
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b[36m")));
}

// Verifies tail's gap handling: an evicted position ends with a gap line
// and exit 3 (or goes on under --gap_policy=resume); an unknown event id
// exits 1.
TEST_F(CliTest, TailGapsAndErrors) {
  ProcessResult r = Cli({"tail", "--from=id:evt_nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  Start(/*max_events=*/3);
  Append(1, 10);  // holds 8..10
  r = Cli({"tail", "--from=seq:2@" + ring_->ring().stream_epoch()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  ASSERT_EQ(r.Lines().size(), 1u) << r.out;
  const nlohmann::json gap = nlohmann::json::parse(r.Lines()[0])["gap"];
  EXPECT_EQ(gap["oldest_sequence"], 8);
  EXPECT_EQ(gap["missed_count"], 5);
  EXPECT_EQ(gap["reason"], "GAP_REASON_EVICTED");
  EXPECT_THAT(r.err, HasSubstr("5 events were evicted"));

  r = Cli({"tail", "--from=seq:2", "--gap_policy=resume", "--max_events=3"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.Lines().size(), 4u) << r.out;
  EXPECT_TRUE(nlohmann::json::parse(r.Lines()[0]).contains("gap"));
  EXPECT_EQ(nlohmann::json::parse(r.Lines()[1])["id"], "evt_8");
}

// Verifies a type pattern that matches no documented type is warned about
// (and still applied: such events flow through), as is an account that is
// not an acm_ id.
TEST_F(CliTest, WarnsAboutFiltersThatMatchNothingKnown) {
  ASSERT_TRUE(ring_->Append(MakeEvent(1, "foo.bar")).ok());
  ProcessResult r =
      Cli({"tail", "--types=foo.bar", "--from=oldest", "--max_events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("warning: --types foo.bar matches none of the "
                               "documented GETTRX types"));
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["type"], "foo.bar");
  r = Cli({"list", "--types=customer.*", "--accounts=nope"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("warning: --accounts nope is not a GETTRX "
                               "account id"));
  EXPECT_THAT(r.err, Not(HasSubstr("--types")));  // customer.* is documented
}

// Verifies tail against a port nobody listens on gives up after
// --max_retries with one line, not one per attempt, and exits 1.
TEST_F(CliTest, TailGivesUpOnAClosedPortAfterMaxRetries) {
  testing::ClosedPort closed;
  const ProcessResult r =
      Bare({"tail", absl::StrCat("--target=127.0.0.1:", closed.port()),
            "--max_retries=3"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::vector<std::string> err =
      absl::StrSplit(r.err, '\n', absl::SkipEmpty());
  ASSERT_EQ(err.size(), 2u) << r.err;
  EXPECT_THAT(err[0], HasSubstr(absl::StrCat("cannot reach 127.0.0.1:",
                                             closed.port())));
  EXPECT_THAT(err[1], HasSubstr("UNAVAILABLE: gave up after 3 reconnect "
                                "attempts"));
  const ProcessResult info =
      Bare({"info", absl::StrCat("--target=127.0.0.1:", closed.port())});
  EXPECT_EQ(info.exit_code, 1);
  EXPECT_THAT(info.err, HasSubstr("UNAVAILABLE"));
}

// Verifies tail follows the server going away and coming back with the
// same stream (one line when lost, one when back, no loss, no duplicate),
// and a restart with a new stream (an epoch change: one gap line, then the
// new stream from its start).
TEST_F(CliTest, TailFollowsRestartsQuietly) {
  Append(1, 3);
  auto tail = WatchedProcess::Start(
      {HOOKSTREAM_CLI_PATH, "tail", "--target=" + Target(), "--from=oldest",
       "--max_events=8", "--heartbeat_interval=1s"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_TRUE((*tail)->WaitForStdoutLines(3, kWait)) << (*tail)->Stderr();

  server_->Shutdown(absl::Seconds(5));
  forwarder_.SetBackend(0);  // down: connections refused for a while
  ASSERT_TRUE((*tail)->WaitForStderr("connection lost", kWait));
  Append(4, 5);  // while it is away
  ASSERT_NO_FATAL_FAILURE(Start(1000, /*new_ring=*/false));
  Append(6, 6);
  ASSERT_TRUE((*tail)->WaitForStdoutLines(6, kWait)) << (*tail)->Stderr();
  EXPECT_TRUE((*tail)->WaitForStderr("reconnected", kWait));

  const std::string old_epoch = ring_->ring().stream_epoch();
  ASSERT_NO_FATAL_FAILURE(Start(1000, /*new_ring=*/true));
  Append(1, 2);
  ASSERT_EQ((*tail)->Wait(kWait).value_or(-1), 0) << (*tail)->Stderr();

  const std::vector<std::string> out = (*tail)->StdoutLines();
  ASSERT_EQ(out.size(), 9u) << absl::StrJoin(out, "\n");
  for (int i = 0; i < 6; ++i) {
    const nlohmann::json e = nlohmann::json::parse(out[i]);
    EXPECT_EQ(e["sequence"], i + 1);
    EXPECT_EQ(e["stream_epoch"], old_epoch);
  }
  const nlohmann::json gap = nlohmann::json::parse(out[6])["gap"];
  EXPECT_EQ(gap["reason"], "GAP_REASON_EPOCH_CHANGED");
  EXPECT_EQ(gap["stream_epoch"], ring_->ring().stream_epoch());
  for (int i = 7; i < 9; ++i) {
    const nlohmann::json e = nlohmann::json::parse(out[i]);
    EXPECT_EQ(e["sequence"], i - 6);
    EXPECT_EQ(e["stream_epoch"], ring_->ring().stream_epoch());
  }
  const std::vector<std::string> err = (*tail)->StderrLines();
  EXPECT_EQ(CountContaining(err, "connected to"), 1) << (*tail)->Stderr();
  EXPECT_EQ(CountContaining(err, "connection lost"), 2) << (*tail)->Stderr();
  EXPECT_EQ(CountContaining(err, "reconnected"), 2) << (*tail)->Stderr();
  EXPECT_EQ(CountContaining(err, "started over"), 1) << (*tail)->Stderr();
  EXPECT_EQ(CountContaining(err, "CANCELLED"), 0) << (*tail)->Stderr();
}

// Verifies --on_epoch_change=exit stops with exit 3 at a new stream.
TEST_F(CliTest, TailCanExitOnAnEpochChange) {
  Append(1, 2);
  auto tail = WatchedProcess::Start({HOOKSTREAM_CLI_PATH, "tail",
                                     "--target=" + Target(), "--from=oldest",
                                     "--on_epoch_change=exit"});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_TRUE((*tail)->WaitForStdoutLines(2, kWait)) << (*tail)->Stderr();
  ASSERT_NO_FATAL_FAILURE(Start(1000, /*new_ring=*/true));
  EXPECT_EQ((*tail)->Wait(kWait).value_or(-1), 3) << (*tail)->Stderr();
  ASSERT_EQ((*tail)->StdoutLines().size(), 3u);
  EXPECT_EQ(nlohmann::json::parse((*tail)->StdoutLines()[2])["gap"]["reason"],
            "GAP_REASON_EPOCH_CHANGED");
}

// Verifies --token (and $HOOKSTREAM_TOKEN, which a flag overrides) reaches
// the server as `authorization: Bearer …` (the server checks it from the
// security issue on; the end-to-end check waits for it).
TEST_F(CliTest, TailSendsTheBearerToken) {
  testing::ScriptedEventStream scripted;
  // Spare scripts: on a loaded machine a tail may reconnect once before its
  // event arrives, and every attempt must carry the same token.
  for (int i = 0; i < 8; ++i) {
    scripted.AddScript(testing::EndWith(
        grpc::Status::OK,
        {testing::HeartbeatMessage("E", 0), testing::EventsMessage("E", {1})}));
  }
  const std::string target =
      absl::StrCat("--target=127.0.0.1:", scripted.port());
  ProcessResult r =
      Bare({"tail", target, "--from=oldest", "--max_events=1", "--token=t1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("(plaintext, token)"));
  const std::vector<std::string> first = scripted.Authorizations();
  r = Bare({"tail", target, "--from=oldest", "--max_events=1"},
           "HOOKSTREAM_TOKEN=from-env");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> second = scripted.Authorizations();
  ASSERT_GE(second.size(), first.size());
  second.erase(second.begin(), second.begin() + first.size());
  EXPECT_THAT(first, ::testing::AllOf(::testing::Not(::testing::IsEmpty()),
                                      ::testing::Each("Bearer t1")));
  EXPECT_THAT(second, ::testing::AllOf(::testing::Not(::testing::IsEmpty()),
                                       ::testing::Each("Bearer from-env")));
}

// Verifies `trigger --list` names the embedded sample of every documented
// type, and each sample gets fresh ids (the real ingress accepts them in
// tests/e2e).
TEST_F(CliTest, TriggerListsEveryDocumentedType) {
  const ProcessResult r = Bare({"trigger", "--list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.Lines(), cli::KnownEventTypes());
  EXPECT_EQ(
      r.Lines(),
      (std::vector<std::string>{
          "application.created", "customer.created", "customer.deleted",
          "customer.updated", "payment_method.attached",
          "payment_request.succeeded", "refund.pending", "refund.succeeded",
          "setup_request.failed", "setup_request.succeeded"}));
}

// Verifies `send` and `trigger` find the development server's secret and
// certificate from any directory ($XDG_CONFIG_HOME/hookstream/dev, where
// `make run` writes them) and say which file they used.
TEST_F(CliTest, SendFindsTheDevFilesFromAnyDirectory) {
  const std::string dev = dir_ + "/config/hookstream/dev";
  std::filesystem::create_directories(dev);
  std::ofstream(dev + "/signing-secret") << "0123456789abcdef0123\n";
  std::filesystem::permissions(
      dev + "/signing-secret",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(dir_ + "/body.json") << R"({"id":"evt_1"})";
  testing::ClosedPort closed;
  const std::string url =
      absl::StrCat("--url=https://127.0.0.1:", closed.port(), "/v1/webhooks/x");
  const ProcessResult r = Bare(
      {"send", url, dir_ + "/body.json"},
      absl::StrCat("XDG_CONFIG_HOME=", testing::ShellQuote(dir_ + "/config"),
                   " HOME=/nonexistent"),
      "/");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("signing with the first secret of ",
                                            dev, "/signing-secret")));
  EXPECT_THAT(r.err, HasSubstr("Couldn't connect"));

  const ProcessResult none = Bare({"trigger", "customer.created", url},
                                  "HOME=/nonexistent XDG_CONFIG_HOME= "
                                  "HOOKSTREAM_SIGNING_SECRETS= ",
                                  "/");
  EXPECT_EQ(none.exit_code, 1);
}

// Verifies `send`'s errors: an unreadable secret file, a missing body file
// and an unreachable ingress each exit 1 with a message naming the cause
// (the success path and the server's reasons are covered end to end).
TEST_F(CliTest, SendReportsItsErrors) {
  const std::string secret_file = dir_ + "/secret";
  const std::string body_file = dir_ + "/body.json";
  std::ofstream(secret_file) << "label1:0123456789abcdef\n";
  // Secrets files others can read are refused (docs/security.md).
  std::filesystem::permissions(
      secret_file,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream(body_file) << R"({"id":"evt_1"})";
  ProcessResult r =
      Bare({"send", "--secret_file=" + dir_ + "/no_such_secret", body_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));

  testing::ClosedPort closed;
  const std::string url =
      absl::StrCat("https://127.0.0.1:", closed.port(), "/v1/webhooks/gettrx");
  r = Bare({"send", "--secret_file=" + secret_file, "--url=" + url,
            "--cacert=", dir_ + "/no_such_body.json", body_file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot read"));
  EXPECT_THAT(r.err, HasSubstr("POST " + url));
}

}  // namespace
}  // namespace hookstream
