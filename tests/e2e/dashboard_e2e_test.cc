// The admin listener's live dashboard in a real browser: headless Chromium
// (Debian's chromium + chromium-driver, driven over chromedriver's W3C
// WebDriver HTTP API) loads `/` from the real binary, sees a webhook posted
// after it loaded appear, sees a named subscriber and the answers by reason,
// and shows the typed event and its raw JSON on a click. A screenshot of the
// page is written to HOOKSTREAM_SCREENSHOT (docs/images/dashboard.png is
// one).
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event_stream.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_support.h"
#include "tests/testing/child_process.h"
#include "tests/testing/https_client.h"

namespace hookstream {
namespace {

using ::testing::HasSubstr;
using testing::HttpRequest;
using testing::HttpResult;
using testing::Seed;
using testing::UniqueEvent;

// The text has a match of `pattern` (ECMAScript).
MATCHER_P(Searches, pattern, absl::StrCat("has a match of /", pattern, "/")) {
  return std::regex_search(arg, std::regex(pattern));
}

constexpr char kElementKey[] = "element-6066-11e4-a52e-4f735466cecf";

class DashboardE2eTest : public testing::E2eFixture {
 protected:
  void TearDown() override {
    if (!session_.empty()) Call("DELETE", "");
    driver_.reset();
    E2eFixture::TearDown();
  }

  // Starts chromedriver on a port it picks and a headless Chromium session.
  void StartBrowser() {
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium") &&
                std::filesystem::exists("/usr/bin/chromedriver"))
        << "the browser test needs Debian's chromium and chromium-driver "
           "(scripts/install-deps.sh installs them)";
    // With --port=0 chromedriver takes a free port on one loopback address
    // and then needs the same number on the other; when another process
    // holds it there, it says so and exits ("IPv4 port not available").
    // Then it is started again, on another port (20 times at most: each
    // try takes milliseconds).
    const std::string started = "started successfully on port ";
    const std::string taken = "port not available";
    for (int attempt = 1;; ++attempt) {
      driver_ =
          std::make_unique<testing::ChildProcess>(testing::ChildProcess::Spawn(
              {"/usr/bin/chromedriver", "--port=0"},
              absl::StrCat(dir_, "/chromedriver-", attempt, ".log")));
      ASSERT_NE(driver_->pid(), -1);
      ASSERT_TRUE(driver_->WaitForOutput(
          [&](const std::string& out) {
            return out.find(started) != std::string::npos ||
                   out.find(taken) != std::string::npos;
          },
          absl::Seconds(30)))
          << driver_->Output();
      if (driver_->Output().find(started) != std::string::npos) break;
      ASSERT_LT(attempt, 20) << driver_->Output();
    }
    const std::string out = driver_->Output();
    const size_t at = out.find(started) + started.size();
    driver_url_ = absl::StrCat("http://127.0.0.1:",
                               out.substr(at, out.find('.', at) - at));
    const nlohmann::json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"browserName", "chrome"},
            {"goog:chromeOptions",
             {{"binary", "/usr/bin/chromium"},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--window-size=1400,1100",
                "--user-data-dir=" + dir_ + "/chromium"}}}}}}}}};
    const HttpResult r =
        HttpRequest("POST", driver_url_ + "/session", "",
                    {"Content-Type: application/json"}, caps.dump());
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    session_ = nlohmann::json::parse(r.body)["value"]["sessionId"];
  }

  // One WebDriver command on the session; its "value".
  nlohmann::json Call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nlohmann::json::object(),
                      long* status = nullptr) {
    const HttpResult r = HttpRequest(
        method, absl::StrCat(driver_url_, "/session/", session_, path), "",
        {"Content-Type: application/json"}, body.dump());
    if (status != nullptr) *status = r.status;
    const nlohmann::json reply =
        nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    return reply.is_object() ? reply["value"] : nlohmann::json();
  }

  // The element matching `css` once it is there (polled), or "".
  std::string WaitForElement(const std::string& css) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      long status = 0;
      const nlohmann::json v =
          Call("POST", "/element", {{"using", "css selector"}, {"value", css}},
               &status);
      if (status == 200 && v.is_object() && v[kElementKey].is_string()) {
        return v[kElementKey];
      }
      if (status == 200) {
        ADD_FAILURE() << "unexpected element reply " << v;
        return "";
      }
      absl::SleepFor(absl::Milliseconds(100));  // polling the page
    }
    return "";
  }

  std::string Text(const std::string& element) {
    const nlohmann::json v = Call("GET", "/element/" + element + "/text");
    return v.is_string() ? v.get<std::string>() : "";
  }

  // Waits for the element's text to match `pattern` (ECMAScript regex);
  // returns the text.
  std::string WaitForMatch(const std::string& css, const std::string& pattern) {
    const std::regex re(pattern);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::string text;
    while (absl::Now() < deadline) {
      const std::string element = WaitForElement(css);
      text = element.empty() ? "" : Text(element);
      if (std::regex_search(text, re)) return text;
      absl::SleepFor(absl::Milliseconds(100));  // polling the page
    }
    return text;
  }

  std::unique_ptr<testing::ChildProcess> driver_;
  std::string driver_url_;
  std::string session_;
};

// Verifies the dashboard end to end in Chromium: a webhook posted after the
// page loaded appears in "Newest events" (type, id, account), the answers
// table counts it under 200/accepted and a bad signature under
// 401/bad_signature, a named subscriber is listed, and a click on the event
// shows its typed fields and the raw JSON as received.
TEST_F(DashboardE2eTest, ShowsLiveEventsSubscribersAndTheEventOnClick) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const std::string seed = Seed("customer.created.json");
  ASSERT_EQ(PostSigned(UniqueEvent(seed, 1)).status, 200);

  v1::SubscribeRequest request;
  request.set_origin(v1::ORIGIN_OLDEST);
  request.mutable_filter()->add_types("customer.*");
  grpc::ClientContext ctx;
  ctx.AddMetadata("x-subscriber-name", "dash-watcher");
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub_->Subscribe(&ctx, request);
  v1::SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));

  ASSERT_NO_FATAL_FAILURE(StartBrowser());
  Call("POST", "/url", {{"url", server_->admin_url("/")}});
  ASSERT_NE(WaitForElement("#events tr[data-sequence=\"1\"]"), "");

  // Posted after the page loaded: it appears without a reload.
  const std::string body = UniqueEvent(seed, 2);
  const std::string id = nlohmann::json::parse(body)["id"];
  ASSERT_EQ(PostSigned(body).status, 200);
  ASSERT_EQ(Post(UniqueEvent(seed, 3), "00").status, 401);
  const std::string row_css = "#events tr[data-sequence=\"2\"]";
  const std::string row_text =
      WaitForMatch(row_css, "customer\\.created\\s+" + id + "\\s");
  EXPECT_THAT(row_text, Searches("^2\\s+customer\\.created"));
  EXPECT_THAT(row_text, HasSubstr("acm_"));  // the account
  // Opened after the first webhook: 1 in the window, 2 since start.
  EXPECT_THAT(WaitForMatch("#answers tr[data-answer=\"200 accepted\"]",
                           "accepted\\s+1\\s+2$"),
              Searches("^200\\s+accepted\\s+1\\s+2$"));
  EXPECT_THAT(WaitForMatch("#answers tr[data-answer=\"401 bad_signature\"]",
                           "bad_signature\\s+1\\s+1$"),
              Searches("^401\\s+bad_signature\\s+1\\s+1$"));
  EXPECT_THAT(WaitForMatch("#subscribers tr[data-subscriber=\"dash-watcher\"]",
                           "customer\\.\\*"),
              HasSubstr("127.0.0.1"));
  EXPECT_THAT(WaitForMatch("#ring-events", "^2 /"), HasSubstr("2 / "));

  const std::string row = WaitForElement(row_css);
  ASSERT_NE(row, "");
  Call("POST", "/element/" + row + "/click");
  const std::string raw = WaitForMatch("#detail-raw", id);
  EXPECT_THAT(raw, HasSubstr("\"type\": \"customer.created\""));
  const std::string typed = WaitForMatch("#detail-typed", "\"customer\": \\{");
  EXPECT_THAT(typed, HasSubstr("\"sequence\": \"2\""));

  // The picture in the README.
  const nlohmann::json png = Call("GET", "/screenshot");
  ASSERT_TRUE(png.is_string());
  std::string bytes;
  ASSERT_TRUE(absl::Base64Unescape(png.get<std::string>(), &bytes));
  std::ofstream(HOOKSTREAM_SCREENSHOT, std::ios::binary | std::ios::trunc)
      << bytes;
  ctx.TryCancel();
  (void)reader->Finish();
}

}  // namespace
}  // namespace hookstream
