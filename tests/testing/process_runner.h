// Runs a command line through /bin/sh and captures its exit code, stdout and
// stderr (for the tests that drive the `hookstream` CLI and the Python
// example as a user would).
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace hookstream::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;

  // Non-empty stdout lines.
  std::vector<std::string> Lines() const {
    return absl::StrSplit(out, '\n', absl::SkipEmpty());
  }
};

inline std::string ShellQuote(const std::string& arg) {
  return absl::StrCat("'", absl::StrReplaceAll(arg, {{"'", "'\\''"}}), "'");
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// `timeout_seconds` bounds a hung child (coreutils timeout: exit 124).
// `env`: "K=V …" assignments for the child; `cwd`: its working directory.
inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                int timeout_seconds = 60,
                                const std::string& env = "",
                                const std::string& cwd = "") {
  static int counter = 0;
  const std::string base =
      absl::StrCat(::testing::TempDir(), "/proc_", getpid(), "_", ++counter);
  std::vector<std::string> quoted;
  for (const std::string& a : argv) quoted.push_back(ShellQuote(a));
  const std::string command = absl::StrCat(
      cwd.empty() ? "" : absl::StrCat("cd ", ShellQuote(cwd), " && "), env,
      " timeout ", timeout_seconds, " ", absl::StrJoin(quoted, " "), " >", base,
      ".out 2>", base, ".err </dev/null");
  const int status = std::system(command.c_str());
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadWholeFile(base + ".out");
  result.err = ReadWholeFile(base + ".err");
  return result;
}

}  // namespace hookstream::testing
