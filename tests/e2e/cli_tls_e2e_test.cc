// The `hookstream` CLI against the real hookstream-server binary serving
// gRPC the way a deployment does (docs/security.md): over TLS, with an
// access file of bearer tokens, or with a client CA (mutual TLS). Every
// command a user runs — tail, list, get, info on the gRPC port, send and
// trigger on the HTTPS ingress — with the credentials from flags and from
// the HOOKSTREAM_* variables; what a missing, wrong or too narrow
// credential gets is a precise error and exit 1, never a retry loop.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/signature/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_support.h"
#include "tests/testing/process_runner.h"
#include "tests/testing/tcp_forwarder.h"
#include "tests/testing/watched_process.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using testing::ProcessResult;
using testing::Seed;
using testing::ShellQuote;

// Granted every type and account.
constexpr char kOpsToken[] = "cli-ops-token-0123456789abcdef";
// Granted customer.* only.
constexpr char kCustomersToken[] = "cli-customers-token-0123456789ab";

class CliTlsE2eTest : public testing::E2eFixture {
 protected:
  std::string WriteAccessFile() const {
    const std::string path = dir_ + "/access.json";
    const nlohmann::json doc = {
        {"identities",
         {{{"name", "ops"},
           {"token_sha256", EncodeHex(Sha256(kOpsToken))},
           {"types", {"*"}}},
          {{"name", "customers"},
           {"token_sha256", EncodeHex(Sha256(kCustomersToken))},
           {"types", {"customer.*"}}},
          {{"name", "analytics"},
           {"client_cert_subject", "CN=analytics"},
           {"types", {"refund.*"}}}}}};
    std::ofstream(path) << doc.dump();
    return path;
  }

  std::vector<std::string> ServerFlags() const {
    return {"--grpc_tls_cert=" + dir_ + "/tls.crt",
            "--grpc_tls_key=" + dir_ + "/tls.key",
            "--grpc_access_file=" + WriteAccessFile()};
  }

  // `hookstream ARGS…` with `env` ("K=V …"), run from / so that nothing is
  // found relative to the working directory.
  static ProcessResult Cli(const std::vector<std::string>& args,
                           const std::string& env = "") {
    std::vector<std::string> argv = {HOOKSTREAM_CLI_BIN};
    for (const std::string& a : args) argv.push_back(a);
    return testing::RunProcess(argv, 60, env, "/");
  }

  // The gRPC connection flags with `token`.
  std::vector<std::string> Grpc(const std::string& command,
                                const std::string& token,
                                std::vector<std::string> more = {}) const {
    std::vector<std::string> args = {command,
                                     "--target=" + server_->grpc_target(),
                                     "--tls", "--cacert=" + server_->ca_file()};
    if (!token.empty()) args.push_back("--token=" + token);
    for (std::string& m : more) args.push_back(std::move(m));
    return args;
  }

  // The ingress flags of send/trigger: the test's URL, secret and CA.
  std::vector<std::string> Ingress(const std::string& command,
                                   std::vector<std::string> more) const {
    std::vector<std::string> args = {
        command, "--url=" + server_->webhook_url(),
        "--secret_file=" + dir_ + "/signing-secret",
        "--cacert=" + server_->ca_file()};
    for (std::string& m : more) args.push_back(std::move(m));
    return args;
  }

  static std::vector<nlohmann::json> Parse(const ProcessResult& r) {
    std::vector<nlohmann::json> out;
    for (const std::string& l : r.Lines())
      out.push_back(nlohmann::json::parse(l));
    return out;
  }
};

// Verifies every command against TLS + tokens: send and trigger post to the
// HTTPS ingress (printing status and request id); tail (credentials from
// the environment), list, get and info read with the ops token; the
// customers token sees only customer events, and asking beyond its grant
// is PERMISSION_DENIED; no token and a wrong token are UNAUTHENTICATED.
TEST_F(CliTlsE2eTest, EveryCommandWithATokenOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer(ServerFlags()));
  const std::string testdata =
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/");
  ProcessResult r = Cli(Ingress("send", {testdata + "refund.pending.json",
                                         testdata + "customer.created.json"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(r.Lines().size(), 2u) << r.out;
  EXPECT_THAT(r.Lines()[0], HasSubstr(" 200 {\"sequence\":1,"));
  EXPECT_THAT(r.Lines()[1], HasSubstr(" 200 {\"sequence\":2,"));
  EXPECT_THAT(r.Lines()[1], HasSubstr("request_id="));
  r = Cli(Ingress("trigger", {"customer.updated"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(" 200 {\"sequence\":3,"));

  // tail with every credential from the environment.
  r = Cli({"tail", "--from=oldest", "--max_events=3"},
          absl::StrCat("HOOKSTREAM_TARGET=", server_->grpc_target(),
                       " HOOKSTREAM_TLS=1 HOOKSTREAM_CACERT=",
                       ShellQuote(server_->ca_file()),
                       " HOOKSTREAM_TOKEN=", kOpsToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> events = Parse(r);
  ASSERT_EQ(events.size(), 3u) << r.out;
  EXPECT_EQ(events[0]["type"], "refund.pending");
  EXPECT_EQ(events[1]["type"], "customer.created");
  EXPECT_EQ(events[2]["type"], "customer.updated");
  EXPECT_EQ(events[2]["sequence"], 3);
  EXPECT_THAT(r.err, HasSubstr("(TLS, token)"));

  r = Cli(Grpc("list", kOpsToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Parse(r).size(), 3u) << r.out;
  r = Cli(Grpc("get", kOpsToken, {"1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json got = nlohmann::json::parse(r.out);
  EXPECT_EQ(got["type"], "refund.pending");
  ASSERT_TRUE(got["raw_json"].is_object()) << r.out;
  EXPECT_EQ(got["raw_json"]["type"], "refund.pending");
  r = Cli(Grpc("info", kOpsToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["head_sequence"], 3);

  // The customers token: its grant, and nothing beyond it.
  r = Cli(Grpc("list", kCustomersToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  events = Parse(r);
  ASSERT_EQ(events.size(), 2u) << r.out;
  EXPECT_EQ(events[0]["sequence"], 2);
  EXPECT_EQ(events[1]["sequence"], 3);
  r = Cli(Grpc("tail", kCustomersToken, {"--from=oldest", "--max_events=1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["sequence"], 2);
  for (const std::vector<std::string>& beyond :
       {Grpc("get", kCustomersToken, {"1"}),
        Grpc("list", kCustomersToken, {"--types=refund.*"}),
        Grpc("tail", kCustomersToken, {"--types=refund.*", "--from=oldest"})}) {
    r = Cli(beyond);
    EXPECT_EQ(r.exit_code, 1) << beyond[0] << ": " << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED")) << beyond[0];
  }

  // No token, a wrong token: refused, not retried (tail too).
  for (const std::string& token :
       {std::string(), std::string("wrong-token-0123456789abcdef")}) {
    for (const char* command : {"tail", "list", "get", "info"}) {
      std::vector<std::string> more;
      if (std::string(command) == "get") more.push_back("2");
      r = Cli(Grpc(command, token, more));
      EXPECT_EQ(r.exit_code, 1) << command << " " << token << ": " << r.err;
      EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED")) << command;
      EXPECT_TRUE(r.Lines().empty()) << r.out;
    }
  }
}

// Verifies `hookstream subscribers` over TLS with a token: a tail holding
// the customers token is listed under that identity with its granted
// filter, as a table and as JSON; the customers token itself, not granted
// every type and account, gets PERMISSION_DENIED.
TEST_F(CliTlsE2eTest, SubscribersListsTheLiveTailsByIdentity) {
  ASSERT_NO_FATAL_FAILURE(StartServer(ServerFlags()));
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> tail =
      testing::WatchedProcess::Start(
          {HOOKSTREAM_CLI_BIN, "tail", "--target=" + server_->grpc_target(),
           "--tls", "--cacert=" + server_->ca_file(),
           absl::StrCat("--token=", kCustomersToken)},
          {});
  ASSERT_TRUE(tail.ok()) << tail.status();
  ProcessResult r;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    r = Cli(Grpc("subscribers", kOpsToken, {"--format=json"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (r.out.find("\"customers\"") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(100));  // polling for the registration
  }
  EXPECT_THAT(r.out, HasSubstr("\"customers\"")) << (*tail)->Stderr();
  EXPECT_THAT(r.out, HasSubstr("customer.*"));
  r = Cli(Grpc("subscribers", kOpsToken));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("customers"));
  EXPECT_THAT(r.out, HasSubstr("types=customer.*"));
  EXPECT_THAT(r.out, HasSubstr("1 subscriber, head 0"));
  r = Cli(Grpc("subscribers", kCustomersToken));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));
}

// Verifies mutual TLS with a CA made here by openssl: tail, list and get
// with --cert/--key (and tail with HOOKSTREAM_CERT/HOOKSTREAM_KEY) read as
// the certificate's identity; without a certificate nothing connects, and
// tail gives up as --max_retries says.
TEST_F(CliTlsE2eTest, ClientCertificates) {
  const std::string pki = dir_ + "/pki";
  std::filesystem::create_directories(pki);
  const std::string script = absl::StrCat(
      "set -e; cd ", ShellQuote(pki), "; ",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca >/dev/null 2>&1; "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout analytics.key -out analytics.csr -subj /CN=analytics "
      ">/dev/null 2>&1; "
      "openssl x509 -req -in analytics.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -out analytics.crt -days 2 >/dev/null 2>&1");
  ASSERT_EQ(std::system(absl::StrCat("sh -c ", ShellQuote(script)).c_str()), 0);
  std::vector<std::string> flags = ServerFlags();
  flags.push_back("--grpc_client_ca=" + pki + "/ca.crt");
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  ASSERT_EQ(PostSigned(Seed("customer.created.json")).status, 200);
  ASSERT_EQ(PostSigned(Seed("refund.pending.json")).status, 200);
  const std::string cert = "--cert=" + pki + "/analytics.crt";
  const std::string key = "--key=" + pki + "/analytics.key";

  ProcessResult r = Cli(Grpc("list", "", {cert, key}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<nlohmann::json> events = Parse(r);
  ASSERT_EQ(events.size(), 1u) << r.out;  // its grant: refund.*
  EXPECT_EQ(events[0]["type"], "refund.pending");
  r = Cli(Grpc("get", "", {cert, key, "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["type"], "refund.pending");
  r = Cli({"tail", "--from=oldest", "--max_events=1"},
          absl::StrCat("HOOKSTREAM_TARGET=", server_->grpc_target(),
                       " HOOKSTREAM_CACERT=", ShellQuote(server_->ca_file()),
                       " HOOKSTREAM_CERT=", ShellQuote(pki + "/analytics.crt"),
                       " HOOKSTREAM_KEY=", ShellQuote(pki + "/analytics.key")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.Lines().at(0))["sequence"], 2);
  EXPECT_THAT(r.err, HasSubstr("(TLS, client certificate)"));

  r = Cli(Grpc("list", ""));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE"));  // the handshake fails
  r = Cli(Grpc("tail", "", {"--max_retries=1"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.Lines().empty()) << r.out;
}

// Verifies tail over TLS with a token follows a restart of the server
// behind the same address (the journal keeps the epoch): it resumes
// exactly. Before, a 100 ms connect timeout cut every TLS reconnect short
// and tail never came back.
TEST_F(CliTlsE2eTest, TailFollowsARestartOverTls) {
  std::vector<std::string> flags = ServerFlags();
  flags.push_back("--backend=journal");
  flags.push_back("--journal_dir=" + dir_ + "/journal");
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  const std::string epoch = server_->stream_epoch();
  testing::TcpForwarder forwarder;
  forwarder.SetBackend(server_->grpc_port());
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> tail =
      testing::WatchedProcess::Start(
          {HOOKSTREAM_CLI_BIN, "tail", "--from=oldest", "--max_events=2",
           absl::StrCat("--target=127.0.0.1:", forwarder.port()),
           "--cacert=" + server_->ca_file()},
          {absl::StrCat("HOOKSTREAM_TOKEN=", kOpsToken)});
  ASSERT_TRUE(tail.ok()) << tail.status();
  const std::string seed = Seed("customer.created.json");
  ASSERT_EQ(PostSigned(testing::UniqueEvent(seed, 1)).status, 200);
  ASSERT_TRUE((*tail)->WaitForStdoutLines(1, absl::Seconds(30)))
      << (*tail)->Stderr();
  absl::StatusOr<int> stopped = server_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  ASSERT_TRUE((*tail)->WaitForStderr("connection lost", absl::Seconds(30)));
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  forwarder.SetBackend(server_->grpc_port());
  ASSERT_EQ(PostSigned(testing::UniqueEvent(seed, 2)).status, 200);
  absl::StatusOr<int> code = (*tail)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status() << (*tail)->Stderr();
  EXPECT_EQ(*code, 0) << (*tail)->Stderr();
  const std::vector<std::string> out = (*tail)->StdoutLines();
  ASSERT_EQ(out.size(), 2u) << (*tail)->Stderr();
  const nlohmann::json second = nlohmann::json::parse(out[1]);
  EXPECT_EQ(second["id"], "evt_e2e_2");
  EXPECT_EQ(second["sequence"], 2);
  EXPECT_EQ(second["stream_epoch"], epoch);
  EXPECT_THAT((*tail)->Stderr(), HasSubstr("reconnected"));
}

// Verifies failover across replicas of one stream (`--target A,B`), over
// TLS with a token: the journal keeps the epoch, so a server that comes back
// at B while A stays down is the same stream. tail, connected to A, moves
// to B at its first reconnect and resumes exactly (no gap, nothing twice);
// list and info ask the replica that connects.
TEST_F(CliTlsE2eTest, TailFailsOverToTheNextReplica) {
  std::vector<std::string> flags = ServerFlags();
  flags.push_back("--backend=journal");
  flags.push_back("--journal_dir=" + dir_ + "/journal");
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  const std::string epoch = server_->stream_epoch();
  testing::TcpForwarder a;
  testing::TcpForwarder b;  // no backend yet: refuses connections
  a.SetBackend(server_->grpc_port());
  const std::string targets =
      absl::StrCat("127.0.0.1:", a.port(), ",127.0.0.1:", b.port());
  absl::StatusOr<std::unique_ptr<testing::WatchedProcess>> tail =
      testing::WatchedProcess::Start(
          {HOOKSTREAM_CLI_BIN, "tail", "--from=oldest", "--max_events=2"},
          {"HOOKSTREAM_TARGET=" + targets,
           "HOOKSTREAM_CACERT=" + server_->ca_file(),
           absl::StrCat("HOOKSTREAM_TOKEN=", kOpsToken)});
  ASSERT_TRUE(tail.ok()) << tail.status();
  const std::string seed = Seed("customer.created.json");
  ASSERT_EQ(PostSigned(testing::UniqueEvent(seed, 1)).status, 200);
  ASSERT_TRUE((*tail)->WaitForStdoutLines(1, absl::Seconds(30)))
      << (*tail)->Stderr();

  // A goes away for good; the same stream comes back behind B.
  absl::StatusOr<int> stopped = server_->Stop();
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  a.SetBackend(0);
  ASSERT_NO_FATAL_FAILURE(StartServer(flags));
  ASSERT_EQ(server_->stream_epoch(), epoch);
  b.SetBackend(server_->grpc_port());
  ASSERT_EQ(PostSigned(testing::UniqueEvent(seed, 2)).status, 200);
  absl::StatusOr<int> code = (*tail)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status() << (*tail)->Stderr();
  EXPECT_EQ(*code, 0) << (*tail)->Stderr();
  const std::vector<std::string> out = (*tail)->StdoutLines();
  ASSERT_EQ(out.size(), 2u) << (*tail)->Stderr();
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json e = nlohmann::json::parse(out[i]);
    EXPECT_EQ(e["id"], absl::StrCat("evt_e2e_", i + 1));
    EXPECT_EQ(e["sequence"], i + 1);
    EXPECT_EQ(e["stream_epoch"], epoch);
  }
  EXPECT_THAT((*tail)->Stderr(), HasSubstr("reconnected"));

  const std::string env =
      absl::StrCat("HOOKSTREAM_TARGET=", targets,
                   " HOOKSTREAM_CACERT=", ShellQuote(server_->ca_file()),
                   " HOOKSTREAM_TOKEN=", kOpsToken);
  ProcessResult r = Cli({"list"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Parse(r).size(), 2u) << r.out;
  r = Cli({"info"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["head_sequence"], 2);
}

}  // namespace
}  // namespace hookstream
