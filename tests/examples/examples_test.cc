// The client examples in Go, Node and Python, each run against the real
// hookstream-server binary, as issue 13 lists: the seed events arrive typed;
// resume after an event id; the Gap read from the rich status details of a
// tiny ring; resume across a server restart, live (reconnect with backoff)
// and from the state file in a new process.
//
// Every server here serves gRPC over TLS with an access file, as a real
// deployment does (docs/security.md), so every example run checks the
// server's certificate and authenticates with a bearer token; one test
// passes the credentials through the HOOKSTREAM_* variables instead of
// flags, one shows what a missing, wrong or too narrow token gets.
//
// Restarts are tested with both backends: with the journal
// (--backend=journal) the stream epoch survives and the examples simply
// resume; in memory a restart starts a new epoch, which they report and
// follow from the new stream's start.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/signature/crypto.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/server_process.h"
#include "tests/testing/https_client.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/tcp_forwarder.h"
#include "tests/testing/watched_process.h"

namespace hookstream {
namespace {

using ::hookstream::testing::ServerProcess;
using ::hookstream::testing::WatchedProcess;

constexpr char kSecret[] = "e2e-secret-0123456789abcdef";
// Granted every type and account.
constexpr char kToken[] = "examples-token-0123456789abcdef";
// Granted customer.* only.
constexpr char kCustomersToken[] = "customers-token-0123456789abcdef";
constexpr absl::Duration kWait = absl::Seconds(60);
const std::string kSource = HOOKSTREAM_SOURCE_DIR;

struct Language {
  std::string name;
  // The command line up to the example's own flags.
  std::vector<std::string> command;
};

// For readable test names and messages.
void PrintTo(const Language& language, std::ostream* out) {
  *out << language.name;
}

std::vector<Language> Languages() {
  return {
      {"go", {HOOKSTREAM_GO_SUBSCRIBER}},
      {"node",
       {HOOKSTREAM_NODE, kSource + "/examples/node_subscriber/subscriber.js"}},
      {"python",
       {"/usr/bin/python3",
        kSource + "/examples/python_subscriber/subscriber.py",
        std::string("--gen-dir=") + HOOKSTREAM_PY_GEN}},
  };
}

std::string Seed(const std::string& name) {
  return testing::ReadWholeFile(
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/", name));
}

// The customer.created seed with a new event id.
std::string UniqueEvent(uint64_t n) {
  return absl::StrReplaceAll(
      Seed("customer.created.json"),
      {{"evt_674f8f91778c0c7274a6636c", absl::StrCat("evt_ex_", n)}});
}

// A 64-bit integer of the proto3 JSON mapping (a string) or a number.
uint64_t U64(const nlohmann::json& j) {
  return j.is_string() ? std::stoull(j.get<std::string>()) : j.get<uint64_t>();
}

class ExamplesTest : public ::testing::TestWithParam<Language> {
 protected:
  void SetUp() override {
    testing::CurlGlobalInit();
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "hookstream-examples-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // The access file: the SHA-256 of each token and what it may read.
  std::string WriteAccessFile() const {
    const std::string path = dir_ + "/access.json";
    const nlohmann::json doc = {
        {"identities",
         {{{"name", "examples"},
           {"token_sha256", EncodeHex(Sha256(kToken))},
           {"types", {"*"}}},
          {{"name", "customers"},
           {"token_sha256", EncodeHex(Sha256(kCustomersToken))},
           {"types", {"customer.*"}}}}}};
    std::ofstream(path) << doc.dump();
    return path;
  }

  // (Re)starts the server behind the forwarder on fresh ports, gRPC over
  // TLS (the test's certificate, which the examples check) with the access
  // file.
  void StartServer(std::vector<std::string> flags = {}) {
    if (server_ != nullptr) {
      absl::StatusOr<int> stopped = server_->Stop();
      ASSERT_TRUE(stopped.ok()) << stopped.status();
    }
    flags.push_back("--grpc_tls_cert=" + dir_ + "/tls.crt");
    flags.push_back("--grpc_tls_key=" + dir_ + "/tls.key");
    flags.push_back("--grpc_access_file=" + WriteAccessFile());
    absl::StatusOr<ServerProcess> p =
        ServerProcess::Start(dir_, {.flags = std::move(flags)});
    ASSERT_TRUE(p.ok()) << p.status();
    server_ = std::make_unique<ServerProcess>(*std::move(p));
    forwarder_.SetBackend(server_->grpc_port());
    https_ = std::make_unique<testing::HttpsClient>(server_->ca_file(),
                                                    server_->ingress_port());
  }

  void Post(const std::string& body) {
    const testing::HttpResult r = https_->Post(
        "/v1/webhooks/gettrx", body,
        {"x-webhook-signature: " + EncodeHex(HmacSha256(kSecret, body))});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The example's command line: the target, then the credentials (TLS
  // checked against the server's certificate, the token) unless
  // `credentials` is false, then `flags`.
  std::vector<std::string> Command(std::vector<std::string> flags,
                                   bool credentials = true) const {
    std::vector<std::string> argv = GetParam().command;
    argv.push_back(absl::StrCat("--target=127.0.0.1:", forwarder_.port()));
    if (credentials) {
      argv.push_back("--tls");
      argv.push_back("--cacert=" + dir_ + "/tls.crt");
      argv.push_back(absl::StrCat("--token=", kToken));
    }
    for (std::string& f : flags) argv.push_back(std::move(f));
    return argv;
  }
  testing::ProcessResult Run(std::vector<std::string> flags) const {
    return testing::RunProcess(Command(std::move(flags)), 90);
  }
  // Without the credential flags; `env` ("K=V …") may give them.
  testing::ProcessResult RunBare(std::vector<std::string> flags,
                                 const std::string& env = "") const {
    return testing::RunProcess(Command(std::move(flags), false), 90, env);
  }

  static std::vector<nlohmann::json> Parse(
      const std::vector<std::string>& lines) {
    std::vector<nlohmann::json> out;
    for (const std::string& l : lines) out.push_back(nlohmann::json::parse(l));
    return out;
  }

  std::string dir_;
  testing::TcpForwarder forwarder_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<testing::HttpsClient> https_;
};

// Verifies the seed events arrive typed, in order, over TLS (the server's
// certificate checked against the CA) with the bearer token, both given
// through HOOKSTREAM_TLS, HOOKSTREAM_CACERT and HOOKSTREAM_TOKEN.
TEST_P(ExamplesTest, ReceivesTheSeedEventsTypedOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::vector<std::string> names = {
      "customer.created", "customer.updated", "customer.deleted",
      "refund.pending", "setup_request.succeeded"};
  for (const std::string& n : names) {
    ASSERT_NO_FATAL_FAILURE(Post(Seed(n + ".json")));
  }
  const testing::ProcessResult r =
      RunBare({"--from=oldest", "--max-events=5"},
              absl::StrCat("HOOKSTREAM_TLS=1 HOOKSTREAM_CACERT=",
                           testing::ShellQuote(server_->ca_file()),
                           " HOOKSTREAM_TOKEN=", kToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> lines = Parse(r.Lines());
  ASSERT_EQ(lines.size(), names.size()) << r.out;
  for (size_t i = 0; i < names.size(); ++i) {
    const nlohmann::json& e = lines[i]["event"];
    EXPECT_EQ(e["type"], names[i]);
    EXPECT_EQ(U64(e["sequence"]), i + 1);
    EXPECT_EQ(e["stream_epoch"], server_->stream_epoch());
  }
  EXPECT_EQ(lines[0]["event"]["id"], "evt_674f8f91778c0c7274a6636c");
  EXPECT_EQ(lines[0]["event"]["customer"]["address"]["city"],
            "West Eladiofurt");
  EXPECT_EQ(lines[0]["event"]["customer"]["shipping"]["phone"],
            "GL 1587872490");
  EXPECT_EQ(lines[3]["event"]["refund"]["amount"]["decimal"], "19.78");
  EXPECT_EQ(lines[3]["event"]["refund"]["reason"], "fraudulent");
  EXPECT_EQ(lines[4]["event"]["setup_request"]["status"], "successful");
  EXPECT_NE(testing::ReadWholeFile(server_->log_file())
                .find("identity=examples decision=allowed"),
            std::string::npos);
}

// Verifies what the server refuses reaches the example as a precise error
// line and exit 1, never retried: no token and a wrong token are
// UNAUTHENTICATED, a filter beyond the token's grant PERMISSION_DENIED;
// within the grant, an empty filter gets the granted types only. Plaintext
// to the TLS port never connects, and --max-retries ends it.
TEST_P(ExamplesTest, TokensAndGrantsAreEnforced) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_NO_FATAL_FAILURE(Post(Seed("refund.pending.json")));
  ASSERT_NO_FATAL_FAILURE(Post(Seed("customer.created.json")));
  const std::string tls = "--cacert=" + dir_ + "/tls.crt";
  const auto error_code = [](const testing::ProcessResult& r) {
    const std::vector<std::string> lines = r.Lines();
    if (lines.empty()) return std::string("(no output)");
    const nlohmann::json j = nlohmann::json::parse(lines.back());
    return j.contains("error") ? j["error"]["code"].get<std::string>()
                               : lines.back();
  };

  testing::ProcessResult r = RunBare({tls, "--from=oldest", "--max-events=1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(error_code(r), "UNAUTHENTICATED") << r.err;

  r = RunBare({tls, "--token=wrong-token-0123456789abcdef", "--from=oldest",
               "--max-events=1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(error_code(r), "UNAUTHENTICATED") << r.err;

  const std::string customers = absl::StrCat("--token=", kCustomersToken);
  r = RunBare(
      {tls, customers, "--types=refund.*", "--from=oldest", "--max-events=1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(error_code(r), "PERMISSION_DENIED") << r.err;

  r = RunBare({tls, customers, "--from=oldest", "--max-events=1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.Lines().size(), 1u) << r.out;
  const nlohmann::json e = nlohmann::json::parse(r.Lines()[0])["event"];
  EXPECT_EQ(e["type"], "customer.created");
  EXPECT_EQ(U64(e["sequence"]), 2u);

  r = RunBare({absl::StrCat("--token=", kToken), "--from=oldest",
               "--max-events=1", "--max-retries=1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(r.Lines().empty()) << r.out;

  // A token never goes in clear text beyond a loopback IP literal (a host
  // name, even localhost, resolves elsewhere): a usage error, nothing dialled
  // (192.0.2.1 is TEST-NET-1).
  for (const char* target : {"192.0.2.1:50051", "localhost:50051"}) {
    std::vector<std::string> argv = GetParam().command;
    argv.push_back(absl::StrCat("--target=", target));
    argv.push_back(absl::StrCat("--token=", kToken));
    r = testing::RunProcess(argv, 60);
    EXPECT_EQ(r.exit_code, 2) << target << ": " << r.err;
    EXPECT_NE(r.err.find("clear text"), std::string::npos) << r.err;
  }
}

// Verifies a start after an event id delivers exactly what followed it.
TEST_P(ExamplesTest, ResumesAfterAnEventId) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (uint64_t n = 1; n <= 5; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  const testing::ProcessResult r =
      Run({"--after-event-id=evt_ex_3", "--max-events=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<nlohmann::json> lines = Parse(r.Lines());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["event"]["id"], "evt_ex_4");
  EXPECT_EQ(lines[1]["event"]["id"], "evt_ex_5");
  EXPECT_EQ(U64(lines[1]["event"]["sequence"]), 5u);
}

// Verifies a position evicted from a tiny ring ends with the Gap read from
// grpc-status-details-bin (google.rpc.Status -> hookstream.v1.Gap): a gap
// line, an error line naming OUT_OF_RANGE, exit 3.
TEST_P(ExamplesTest, ReadsTheGapFromATinyRing) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--ring_max_events=3"}));
  for (uint64_t n = 1; n <= 5; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  const std::string state = dir_ + "/state.json";
  std::ofstream(state) << nlohmann::json{
      {"stream_epoch", server_->stream_epoch()},
      {"sequence", 1}}.dump();
  const testing::ProcessResult r = Run({"--state-file=" + state});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  const std::vector<nlohmann::json> lines = Parse(r.Lines());
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const nlohmann::json& gap = lines[0]["gap"];
  EXPECT_EQ(gap["reason"], "GAP_REASON_EVICTED");
  EXPECT_EQ(U64(gap["requested_after_sequence"]), 1u);
  EXPECT_EQ(U64(gap["oldest_sequence"]), 3u);
  EXPECT_EQ(U64(gap["missed_count"]), 1u);
  EXPECT_EQ(gap["stream_epoch"], server_->stream_epoch());
  EXPECT_EQ(lines[1]["error"]["code"], "OUT_OF_RANGE");
  EXPECT_EQ(lines[1]["error"]["gap"], gap);
}

// Verifies the example follows a server restart live: it reconnects with
// backoff, reports the new stream (an epoch-change gap) and goes on from its
// start; its state file holds the new position, from which a new process
// resumes without replaying anything.
TEST_P(ExamplesTest, ResumesAcrossAServerRestart) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string state = dir_ + "/state.json";
  absl::StatusOr<std::unique_ptr<WatchedProcess>> sub = WatchedProcess::Start(
      Command({"--state-file=" + state, "--from=oldest", "--max-events=5",
               "--heartbeat-interval=1"}));
  ASSERT_TRUE(sub.ok()) << sub.status();
  for (uint64_t n = 1; n <= 2; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  ASSERT_TRUE((*sub)->WaitForStdoutLines(2, kWait)) << (*sub)->Stderr();
  const std::string first_epoch = server_->stream_epoch();

  ASSERT_NO_FATAL_FAILURE(StartServer());  // a restart: a new, empty stream
  ASSERT_NE(server_->stream_epoch(), first_epoch);
  for (uint64_t n = 3; n <= 5; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  absl::StatusOr<int> code = (*sub)->Wait(kWait);
  ASSERT_TRUE(code.ok()) << code.status() << (*sub)->Stderr();
  EXPECT_EQ(*code, 0) << (*sub)->Stderr();
  const std::vector<nlohmann::json> lines = Parse((*sub)->StdoutLines());
  ASSERT_EQ(lines.size(), 6u) << testing::ReadWholeFile(state);
  EXPECT_EQ(lines[0]["event"]["id"], "evt_ex_1");
  EXPECT_EQ(lines[1]["event"]["id"], "evt_ex_2");
  EXPECT_EQ(lines[1]["event"]["stream_epoch"], first_epoch);
  EXPECT_EQ(lines[2]["gap"]["reason"], "GAP_REASON_EPOCH_CHANGED");
  EXPECT_EQ(lines[2]["gap"]["stream_epoch"], server_->stream_epoch());
  for (uint64_t i = 3; i < 6; ++i) {
    EXPECT_EQ(lines[i]["event"]["id"], absl::StrCat("evt_ex_", i));
    EXPECT_EQ(U64(lines[i]["event"]["sequence"]), i - 2);
    EXPECT_EQ(lines[i]["event"]["stream_epoch"], server_->stream_epoch());
  }
  EXPECT_NE((*sub)->Stderr().find("connection lost"), std::string::npos)
      << (*sub)->Stderr();

  const nlohmann::json saved =
      nlohmann::json::parse(testing::ReadWholeFile(state));
  EXPECT_EQ(saved["stream_epoch"], server_->stream_epoch());
  EXPECT_EQ(U64(saved["sequence"]), 3u);
  // A new process resumes from the file: only what came after.
  ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(6)));
  const testing::ProcessResult again =
      Run({"--state-file=" + state, "--from=oldest", "--max-events=1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ASSERT_EQ(again.Lines().size(), 1u) << again.out;
  EXPECT_EQ(nlohmann::json::parse(again.Lines()[0])["event"]["id"], "evt_ex_6");
}

// Verifies the example follows a restart of a server with the journal
// backend: the epoch survives, so it resumes exactly (no gap, nothing twice),
// live and from its state file.
TEST_P(ExamplesTest, ResumesExactlyAcrossARestartWithTheJournal) {
  const std::vector<std::string> journal = {
      "--backend=journal", "--journal_dir=" + dir_ + "/journal"};
  ASSERT_NO_FATAL_FAILURE(StartServer(journal));
  const std::string epoch = server_->stream_epoch();
  const std::string state = dir_ + "/state.json";
  absl::StatusOr<std::unique_ptr<WatchedProcess>> sub = WatchedProcess::Start(
      Command({"--state-file=" + state, "--from=oldest", "--max-events=4",
               "--heartbeat-interval=1"}));
  ASSERT_TRUE(sub.ok()) << sub.status();
  for (uint64_t n = 1; n <= 2; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  ASSERT_TRUE((*sub)->WaitForStdoutLines(2, kWait)) << (*sub)->Stderr();
  ASSERT_NO_FATAL_FAILURE(StartServer(journal));
  ASSERT_EQ(server_->stream_epoch(), epoch) << "the journal keeps the epoch";
  for (uint64_t n = 3; n <= 4; ++n)
    ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(n)));
  absl::StatusOr<int> code = (*sub)->Wait(kWait);
  ASSERT_TRUE(code.ok()) << code.status() << (*sub)->Stderr();
  EXPECT_EQ(*code, 0) << (*sub)->Stderr();
  const std::vector<nlohmann::json> lines = Parse((*sub)->StdoutLines());
  ASSERT_EQ(lines.size(), 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(lines[i].contains("event")) << lines[i];
    EXPECT_EQ(lines[i]["event"]["id"], absl::StrCat("evt_ex_", i + 1));
    EXPECT_EQ(U64(lines[i]["event"]["sequence"]), i + 1);
    EXPECT_EQ(lines[i]["event"]["stream_epoch"], epoch);
  }
  ASSERT_NO_FATAL_FAILURE(StartServer(journal));
  ASSERT_NO_FATAL_FAILURE(Post(UniqueEvent(5)));
  const testing::ProcessResult again =
      Run({"--state-file=" + state, "--max-events=1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ASSERT_EQ(again.Lines().size(), 1u) << again.out;
  const nlohmann::json e = nlohmann::json::parse(again.Lines()[0])["event"];
  EXPECT_EQ(e["id"], "evt_ex_5");
  EXPECT_EQ(U64(e["sequence"]), 5u);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExamplesTest,
                         ::testing::ValuesIn(Languages()),
                         [](const ::testing::TestParamInfo<Language>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace hookstream
