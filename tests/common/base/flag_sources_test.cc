#include "common/base/flag_sources.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "common/base/flag_help.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, fs_events, 100, "test flag");
ABSL_FLAG(std::string, fs_name, "default", "test flag");
ABSL_FLAG(bool, fs_debug, false, "test flag");

namespace hookstream {
namespace {

using ::testing::HasSubstr;

class FlagSourcesTest : public ::testing::Test {
 protected:
  absl::Status Apply(std::vector<std::string> args,
                     std::vector<std::string> env = {}) {
    args.insert(args.begin(), "prog");
    argv_.clear();
    for (std::string& a : args_ = std::move(args)) argv_.push_back(a.data());
    envp_.clear();
    for (std::string& e : env_ = std::move(env)) envp_.push_back(e.data());
    envp_.push_back(nullptr);
    return ApplyFlagSources(static_cast<int>(argv_.size()), argv_.data(),
                            envp_.data(),
                            FlagsDefinedIn("flag_sources_test.cc"));
  }
  std::string WriteConfig(const std::string& text) {
    const std::string path = (std::filesystem::path(::testing::TempDir()) /
                              absl::StrCat("fs-", getpid(), ".conf"))
                                 .string();
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }

  absl::FlagSaver saver_;  // restores the flags after each test
  std::vector<std::string> args_, env_;
  std::vector<char*> argv_, envp_;
};

// Verifies flag > environment > file > default, setting by setting.
TEST_F(FlagSourcesTest, Precedence) {
  const std::string config =
      WriteConfig("# comment\n\n--fs_events=1\n--fs_name=file\n--fs_debug\n");
  ASSERT_TRUE(Apply({"--config=" + config, "--fs_events=3"},
                    {"HOOKSTREAM_FS_EVENTS=2", "HOOKSTREAM_FS_NAME=env",
                     "HOOKSTREAM_SIGNING_SECRETS=not-a-flag"})
                  .ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_events), 3);    // flag
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_name), "env");  // env over file
  EXPECT_TRUE(absl::GetFlag(FLAGS_fs_debug));      // file
}

// Verifies Abseil's `--name value` form and that Abseil's own flags
// (--flagfile, …) are left to absl::ParseCommandLine.
TEST_F(FlagSourcesTest, SpaceSeparatedValuesAndAbseilFlags) {
  const absl::Status s =
      Apply({"--fs_events", "7", "--fs_name", "spaced", "--undefok=whatever"});
  ASSERT_TRUE(s.ok()) << s;
  // What the server does next: Abseil parses the same command line.
  absl::ParseCommandLine(static_cast<int>(argv_.size()), argv_.data());
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_events), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_name), "spaced");
}

// Verifies the defaults when nothing is given, and HOOKSTREAM_CONFIG.
TEST_F(FlagSourcesTest, DefaultsAndConfigFromEnvironment) {
  ASSERT_TRUE(Apply({}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_events), 100);
  const std::string config = WriteConfig("--fs_name=from-file\n");
  ASSERT_TRUE(Apply({"--nofs_debug"}, {"HOOKSTREAM_CONFIG=" + config}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_fs_name), "from-file");
  EXPECT_FALSE(absl::GetFlag(FLAGS_fs_debug));
}

// Verifies that each bad setting is one line naming it and its source.
TEST_F(FlagSourcesTest, BadSettingsNameTheSettingAndSource) {
  absl::Status s = Apply({"--fs_events=abc"});
  EXPECT_THAT(s.message(), HasSubstr("--fs_events (from the command line): "
                                     "illegal value \"abc\""));
  s = Apply({}, {"HOOKSTREAM_FS_EVENTS=x"});
  EXPECT_THAT(s.message(),
              HasSubstr("--fs_events (from HOOKSTREAM_FS_EVENTS)"));
  const std::string config = WriteConfig("--fs_events=1\n--bogus=2\n");
  s = Apply({"--config=" + config});
  EXPECT_THAT(s.message(),
              HasSubstr("--bogus (from " + config + ":2): unknown flag"));
  s = Apply({"stray"});
  EXPECT_THAT(s.message(), HasSubstr("unexpected argument \"stray\""));
  s = Apply({"--config=/nonexistent/x.conf"});
  EXPECT_THAT(s.message(), HasSubstr("cannot read /nonexistent/x.conf"));
  s = Apply({"--fs_name"});
  EXPECT_THAT(s.message(), HasSubstr("--fs_name (from the command line): "
                                     "missing value"));
  for (const absl::Status& each : {s}) {
    EXPECT_EQ(each.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(std::string(each.message()).find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace hookstream
