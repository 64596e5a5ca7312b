#include "common/config/secrets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::IsOkAndHolds;
using ::hookstream::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("secrets_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& text, mode_t mode = 0600) {
    const std::string path = (dir_ / "secrets").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path dir_;
};

// Verifies comments, blank lines, labels and positional labels in a file.
TEST_F(SecretsTest, LoadsFileWithCommentsAndLabels) {
  const std::string path = Write(
      "# rotated 2026-11\n"
      "\n"
      "new: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \n"
      "  plain-secret-without-label\r\n"
      "   # indented comment\n"
      "old.v1:abcdefghijklmnop==\n");
  EXPECT_THAT(LoadSecretsFromFile(path),
              IsOkAndHolds(ElementsAre(
                  Secret{"new", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                  Secret{"secret2", "plain-secret-without-label"},
                  Secret{"old.v1", "abcdefghijklmnop=="})));
}

// Verifies a file without secrets refuses to load with a one-line reason.
TEST_F(SecretsTest, EmptyFileIsAnError) {
  const absl::StatusOr<std::vector<Secret>> result =
      LoadSecretsFromFile(Write("# nothing yet\n\n"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("holds no signing secret")));
  EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr("\n")));
}

// Verifies errors name the line but never echo the secret text.
TEST_F(SecretsTest, BadEntriesNameTheLineNotTheSecret) {
  absl::StatusOr<std::vector<Secret>> result = LoadSecretsFromFile(
      Write("ok:first-secret-0123456\nbad label!:topsecretvalue\n"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("line 2")));
  EXPECT_THAT(std::string(result.status().message()),
              Not(HasSubstr("topsecretvalue")));
  EXPECT_THAT(
      LoadSecretsFromFile(Write("a:0123456789abcdefx\na:0123456789abcdefy\n")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("more than once")));
  EXPECT_THAT(
      LoadSecretsFromFile(Write("empty:\n")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is empty")));
  EXPECT_THAT(LoadSecretsFromFile(Write(":nolabel\n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies a secret written as `<secret>:` (read as a label with an empty
// secret) is refused without the secret in the message (issue 11's probe:
// the message used to quote the label).
TEST_F(SecretsTest, SecretMistakenForALabelIsNotEchoed) {
  const std::string secret = "8a0f3c9b5e7d1a2f4c6e8b0d";
  absl::StatusOr<std::vector<Secret>> result =
      LoadSecretsFromFile(Write(secret + ":\n"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("line 1: the secret is empty")));
  EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr(secret)));
  // A duplicate label is not quoted either.
  result = LoadSecretsFromFile(
      Write(secret + ":0123456789abcdefx\n" + secret + ":0123456789abcdefy\n"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(result.status().message()), Not(HasSubstr(secret)));
}

// Verifies a secret shorter than 16 bytes is refused (issue 11's probe: a
// 1-character secret was accepted), in a file and in the environment.
TEST_F(SecretsTest, ShortSecretsAreRefused) {
  EXPECT_THAT(LoadSecretsFromFile(Write("x\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the secret is 1 bytes; at least 16")));
  EXPECT_THAT(
      LoadSecretsFromFile(Write("label:0123456789abcde\n")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("15 bytes")));
  EXPECT_THAT(LoadSecretsFromFile(Write("label:0123456789abcdef\n")),
              IsOkAndHolds(ElementsAre(Secret{"label", "0123456789abcdef"})));
  setenv("HOOKSTREAM_SECRETS_TEST", "k", 1);
  EXPECT_THAT(
      LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 16")));
}

// Verifies a missing file is NOT_FOUND.
TEST_F(SecretsTest, MissingFile) {
  EXPECT_THAT(LoadSecretsFromFile((dir_ / "nope").string()),
              StatusIs(absl::StatusCode::kNotFound));
}

// Verifies group/other permissions are detected and such a file refused
// (issue 11's probe: a world-readable file was accepted with a warning),
// unless the development override asks for it.
TEST_F(SecretsTest, FilesAccessibleToOthersAreRefused) {
  const std::string s = "0123456789abcdef-secret\n";
  EXPECT_THAT(IsAccessibleByOthers(Write(s, 0600)), IsOkAndHolds(false));
  EXPECT_THAT(IsAccessibleByOthers(Write(s, 0640)), IsOkAndHolds(true));
  EXPECT_THAT(IsAccessibleByOthers(Write(s, 0604)), IsOkAndHolds(true));
  EXPECT_THAT(
      LoadSecretsFromFile(Write(s, 0644)),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  EXPECT_THAT(LoadSecretsFromFile(Write(s, 0640)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(
      LoadSecretsFromFile(Write(s, 0644), {.allow_shared_mode = true}),
      IsOkAndHolds(ElementsAre(Secret{"secret1", "0123456789abcdef-secret"})));
  EXPECT_THAT(LoadSecretsFromFile(Write(s, 0600)), IsOk());
}

// Verifies a file larger than 1 MiB is refused.
TEST_F(SecretsTest, HugeFileIsRefused) {
  EXPECT_THAT(LoadSecretsFromFile(Write(std::string((1 << 20) + 1, 'a'))),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Verifies comma-separated entries from an environment variable.
TEST_F(SecretsTest, LoadsFromEnvironment) {
  setenv("HOOKSTREAM_SECRETS_TEST",
         "new:abc0123456789abc, old:def0123456789def ,ghi0123456789ghi", 1);
  EXPECT_THAT(LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
              IsOkAndHolds(ElementsAre(Secret{"new", "abc0123456789abc"},
                                       Secret{"old", "def0123456789def"},
                                       Secret{"secret3", "ghi0123456789ghi"})));
  // Read once, then scrubbed from the environment.
  EXPECT_EQ(getenv("HOOKSTREAM_SECRETS_TEST"), nullptr);
  setenv("HOOKSTREAM_SECRETS_TEST", " , ", 1);
  EXPECT_THAT(LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  unsetenv("HOOKSTREAM_SECRETS_TEST");
  EXPECT_THAT(LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace hookstream
