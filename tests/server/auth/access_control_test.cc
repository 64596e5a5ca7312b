#include "server/auth/access_control.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::auth {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "access_control_XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/access.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(const std::string& identities) {
    std::ofstream(path_, std::ios::trunc)
        << "{\"identities\":[" << identities << "]}";
  }
  static std::string TokenIdentity(const std::string& name,
                                   const std::string& token,
                                   const std::string& types) {
    return absl::StrCat(R"({"name":")", name, R"(","token_sha256":")",
                        TokenSha256Hex(token), R"(","types":)", types, "}");
  }

  std::string dir_;
  std::string path_;
};

// Verifies the rules of Authenticate: a known token, a wrong token, a
// malformed header, a certificate subject, nothing at all.
TEST_F(AccessControlTest, AuthenticatesTokensAndSubjects) {
  Write(
      TokenIdentity("billing", "tok-billing-0123456789", "[\"customer.*\"]") +
      R"(,{"name":"analytics","client_cert_subject":"CN=analytics","types":["*"]})");
  absl::StatusOr<std::unique_ptr<AccessControl>> access =
      AccessControl::Create({.access_file = path_});
  ASSERT_TRUE(access.ok()) << access.status();
  absl::StatusOr<std::shared_ptr<const Identity>> who = (*access)->Authenticate(
      {.authorization = "Bearer tok-billing-0123456789"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->name, "billing");
  EXPECT_THAT((*access)->Authenticate({.authorization = "Bearer nope"}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("unknown bearer token")));
  // A wrong token is refused even with a valid certificate beside it.
  EXPECT_THAT((*access)->Authenticate({.authorization = "Bearer nope",
                                       .cert_subject = "CN=analytics"}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(
      (*access)->Authenticate({.authorization = "tok-billing-0123456789"}),
      StatusIs(absl::StatusCode::kUnauthenticated,
               HasSubstr("'Bearer <token>'")));
  who = (*access)->Authenticate({.cert_subject = "CN=analytics"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->name, "analytics");
  EXPECT_THAT((*access)->Authenticate({.cert_subject = "CN=stranger"}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("not in the access file")));
  EXPECT_THAT((*access)->Authenticate({}),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("no credentials")));
}

// Verifies mutual TLS without an access file: any verified subject is an
// identity with every type; no certificate is still UNAUTHENTICATED.
TEST_F(AccessControlTest, AnyClientCertificateWithoutFile) {
  absl::StatusOr<std::unique_ptr<AccessControl>> access =
      AccessControl::Create({.any_client_cert = true});
  ASSERT_TRUE(access.ok()) << access.status();
  absl::StatusOr<std::shared_ptr<const Identity>> who =
      (*access)->Authenticate({.cert_subject = "CN=svc,O=acme"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->name, "CN=svc,O=acme");
  EXPECT_THAT((*who)->types, ElementsAre("*"));
  EXPECT_THAT((*access)->Authenticate({}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT((*access)->Authenticate({.authorization = "Bearer x"}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(AccessControl::Create({}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies Reload: a new token works and the removed one stops working; a
// broken file leaves the policy in force and says why; an identity handed
// out before a reload stays intact.
TEST_F(AccessControlTest, ReloadSwapsThePolicyOrKeepsIt) {
  Write(TokenIdentity("old", "tok-old-0123456789", "[\"*\"]"));
  absl::StatusOr<std::unique_ptr<AccessControl>> access =
      AccessControl::Create({.access_file = path_});
  ASSERT_TRUE(access.ok()) << access.status();
  absl::StatusOr<std::shared_ptr<const Identity>> old_identity =
      (*access)->Authenticate({.authorization = "Bearer tok-old-0123456789"});
  ASSERT_TRUE(old_identity.ok());

  Write(TokenIdentity("new", "tok-new-0123456789", "[\"refund.*\"]"));
  ASSERT_THAT((*access)->Reload(), IsOk());
  EXPECT_THAT(
      (*access)->Authenticate({.authorization = "Bearer tok-old-0123456789"}),
      StatusIs(absl::StatusCode::kUnauthenticated));
  absl::StatusOr<std::shared_ptr<const Identity>> who =
      (*access)->Authenticate({.authorization = "Bearer tok-new-0123456789"});
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ((*who)->name, "new");
  EXPECT_EQ((*old_identity)->name, "old");  // still valid memory

  std::ofstream(path_, std::ios::trunc) << "{broken";
  EXPECT_THAT((*access)->Reload(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path_)));
  EXPECT_TRUE((*access)
                  ->Authenticate({.authorization = "Bearer tok-new-0123456789"})
                  .ok());
  std::filesystem::remove(path_);
  EXPECT_THAT((*access)->Reload(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ((*access)->identity_count(), 1u);
}

// Verifies every decision is counted by kind.
TEST_F(AccessControlTest, CountsDecisions) {
  absl::StatusOr<std::unique_ptr<AccessControl>> access =
      AccessControl::Create({.any_client_cert = true});
  ASSERT_TRUE(access.ok());
  (*access)->Record(Decision::kAllowed, "Subscribe", "a", "");
  (*access)->Record(Decision::kAllowed, "GetEvent", "a", "");
  (*access)->Record(Decision::kUnauthenticated, "Subscribe", "",
                    "no credentials");
  (*access)->Record(Decision::kPermissionDenied, "ListEvents", "a", "type");
  const AccessControl::Counts counts = (*access)->counts();
  EXPECT_EQ(counts.allowed, 2u);
  EXPECT_EQ(counts.unauthenticated, 1u);
  EXPECT_EQ(counts.permission_denied, 1u);
}

}  // namespace
}  // namespace hookstream::auth
