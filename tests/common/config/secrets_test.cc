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
      "old.v1:abc==\n");
  EXPECT_THAT(LoadSecretsFromFile(path),
              IsOkAndHolds(ElementsAre(
                  Secret{"new", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                  Secret{"secret2", "plain-secret-without-label"},
                  Secret{"old.v1", "abc=="})));
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
  absl::StatusOr<std::vector<Secret>> result =
      LoadSecretsFromFile(Write("ok:first\nbad label!:topsecretvalue\n"));
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr("line 2")));
  EXPECT_THAT(std::string(result.status().message()),
              Not(HasSubstr("topsecretvalue")));
  EXPECT_THAT(LoadSecretsFromFile(Write("a:x\na:y\n")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than once")));
  EXPECT_THAT(
      LoadSecretsFromFile(Write("empty:\n")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is empty")));
  EXPECT_THAT(LoadSecretsFromFile(Write(":nolabel\n")),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Verifies a missing file is NOT_FOUND.
TEST_F(SecretsTest, MissingFile) {
  EXPECT_THAT(LoadSecretsFromFile((dir_ / "nope").string()),
              StatusIs(absl::StatusCode::kNotFound));
}

// Verifies group/other permissions are detected (the loader warns, and
// still loads).
TEST_F(SecretsTest, DetectsFilesAccessibleToOthers) {
  EXPECT_THAT(IsAccessibleByOthers(Write("s\n", 0600)), IsOkAndHolds(false));
  EXPECT_THAT(IsAccessibleByOthers(Write("s\n", 0640)), IsOkAndHolds(true));
  EXPECT_THAT(IsAccessibleByOthers(Write("s\n", 0604)), IsOkAndHolds(true));
  EXPECT_THAT(LoadSecretsFromFile(Write("s\n", 0644)),
              IsOkAndHolds(ElementsAre(Secret{"secret1", "s"})));
}

// Verifies a file larger than 1 MiB is refused.
TEST_F(SecretsTest, HugeFileIsRefused) {
  EXPECT_THAT(LoadSecretsFromFile(Write(std::string((1 << 20) + 1, 'a'))),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// Verifies comma-separated entries from an environment variable.
TEST_F(SecretsTest, LoadsFromEnvironment) {
  setenv("HOOKSTREAM_SECRETS_TEST", "new:abc, old:def ,ghi", 1);
  EXPECT_THAT(
      LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
      IsOkAndHolds(ElementsAre(Secret{"new", "abc"}, Secret{"old", "def"},
                               Secret{"secret3", "ghi"})));
  setenv("HOOKSTREAM_SECRETS_TEST", " , ", 1);
  EXPECT_THAT(LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  unsetenv("HOOKSTREAM_SECRETS_TEST");
  EXPECT_THAT(LoadSecretsFromEnv("HOOKSTREAM_SECRETS_TEST"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace hookstream
