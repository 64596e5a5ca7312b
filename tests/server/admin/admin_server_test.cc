#include "server/admin/admin_server.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/https_client.h"

namespace hookstream::admin {
namespace {

using ::hookstream::testing::HttpRequest;
using ::hookstream::testing::HttpResult;

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdminServer::Routes routes;
    routes["/healthz"] = [](absl::string_view) {
      return AdminResponse{.body = "ok\n"};
    };
    routes["/echo"] = [](absl::string_view query) {
      return AdminResponse{.status = 503,
                           .content_type = "application/json",
                           .body = absl::StrCat("{\"q\":\"", query, "\"}")};
    };
    absl::StatusOr<std::unique_ptr<AdminServer>> s =
        AdminServer::Start({.address = "127.0.0.1", .port = 0}, routes);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  std::string Url(absl::string_view target) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), target);
  }

  std::unique_ptr<AdminServer> server_;
};

// Verifies that a route answers with its status, type and body.
TEST_F(AdminServerTest, ServesRoutes) {
  const HttpResult ok = HttpRequest("GET", Url("/healthz"));
  ASSERT_EQ(ok.code, CURLE_OK) << ok.error;
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  EXPECT_EQ(ok.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(ok.header("cache-control"), "no-store");

  const HttpResult echo = HttpRequest("GET", Url("/echo?limit=5"));
  EXPECT_EQ(echo.status, 503);
  EXPECT_EQ(echo.body, "{\"q\":\"limit=5\"}");
  EXPECT_EQ(echo.header("content-type"), "application/json");
}

// Verifies 404 for an unknown path, 405 + Allow for a method other than
// GET/HEAD, and an empty body for HEAD.
TEST_F(AdminServerTest, RefusesWhatItDoesNotServe) {
  EXPECT_EQ(HttpRequest("GET", Url("/nope")).status, 404);
  const HttpResult post = HttpRequest("DELETE", Url("/healthz"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
  const HttpResult head = HttpRequest("HEAD", Url("/healthz"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
}

// Verifies that an address already in use is a one-line UNAVAILABLE naming
// it, and that Stop closes the port.
TEST_F(AdminServerTest, BindFailureAndStop) {
  absl::StatusOr<std::unique_ptr<AdminServer>> second =
      AdminServer::Start({.address = "127.0.0.1", .port = server_->port()}, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr(absl::StrCat(
                                             "127.0.0.1:", server_->port())));
  const std::string url = Url("/healthz");
  server_->Stop();
  EXPECT_NE(HttpRequest("GET", url).code, CURLE_OK);
}

}  // namespace
}  // namespace hookstream::admin
