#include "common/base/flag_sources.h"

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace hookstream {
namespace {

constexpr absl::string_view kEnvPrefix = "HOOKSTREAM_";
constexpr absl::string_view kConfigFlag = "config";

// One `--name[=value]` from some source.
struct Setting {
  std::string name;
  std::optional<std::string> value;  // none: `--name` (a boolean)
  std::string source;                // for the error line
};

using FlagMap =
    std::map<std::string, const absl::CommandLineFlag*, std::less<>>;

// Parses "--name=value", "-name=value", "--name", "--noname".
std::optional<Setting> ParseArg(absl::string_view arg, std::string source) {
  if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
    return std::nullopt;
  }
  Setting s;
  s.source = std::move(source);
  const size_t eq = arg.find('=');
  s.name = std::string(arg.substr(0, eq));
  if (eq != absl::string_view::npos) s.value = std::string(arg.substr(eq + 1));
  return s;
}

absl::Status Apply(const Setting& s, const FlagMap& flags) {
  auto it = flags.find(s.name);
  std::optional<std::string> value = s.value;
  if (it == flags.end() && !value && absl::StartsWith(s.name, "no")) {
    // `--noname` turns a boolean off.
    it = flags.find(absl::string_view(s.name).substr(2));
    if (it != flags.end() && it->second->IsOfType<bool>())
      value = "false";
    else
      it = flags.end();
  }
  if (it == flags.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", s.name, " (from ", s.source,
                     "): unknown flag (--help lists them)"));
  }
  const absl::CommandLineFlag& flag = *it->second;
  if (!value) {
    if (!flag.IsOfType<bool>()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag.Name(), " (from ", s.source, "): missing value"));
    }
    value = "true";
  }
  std::string error;
  // ParseFrom is on the reflection handle; the flag itself is const here.
  absl::CommandLineFlag* mutable_flag = absl::FindCommandLineFlag(flag.Name());
  if (mutable_flag == nullptr || !mutable_flag->ParseFrom(*value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag.Name(), " (from ", s.source,
                     "): illegal value \"", *value, "\""));
  }
  return absl::OkStatus();
}

absl::Status ReadConfigFile(const std::string& path,
                            std::vector<Setting>& out) {
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config: cannot read ", path));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    std::optional<Setting> s = ParseArg(text, absl::StrCat(path, ":", number));
    if (!s) {
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", path, ":", number,
                       ": want --name=value, got \"", text, "\""));
    }
    out.push_back(*std::move(s));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EnvNameOf(absl::string_view flag_name) {
  return absl::StrCat(kEnvPrefix, absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyFlagSources(
    int argc, char** argv, char** envp,
    absl::Span<const absl::CommandLineFlag* const> flags) {
  FlagMap by_name;
  for (const absl::CommandLineFlag* f : flags)
    by_name[std::string(f->Name())] = f;

  // The command line: checked here (a usage error exits 2 naming it) and
  // applied last, so it wins; it also names the config file.
  std::vector<Setting> command_line;
  std::optional<std::string> config_file;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    std::optional<Setting> s = ParseArg(arg, "the command line");
    if (!s || s->name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\""));
    }
    const absl::CommandLineFlag* known = absl::FindCommandLineFlag(s->name);
    // Abseil's `--name value` form.
    if (!s->value && known != nullptr && !known->IsOfType<bool>() &&
        i + 1 < argc) {
      s->value = argv[++i];
    }
    if (s->name == kConfigFlag) {
      if (!s->value) {
        return absl::InvalidArgumentError("--config: want --config=FILE");
      }
      config_file = s->value;
      continue;
    }
    // Abseil's own flags (--flagfile, --fromenv, …) are left to it.
    if (known != nullptr && !by_name.contains(s->name)) continue;
    command_line.push_back(*std::move(s));
  }

  std::vector<Setting> environment;
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry = *e;
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view name = entry.substr(0, eq);
    if (!absl::ConsumePrefix(&name, kEnvPrefix)) continue;
    const std::string flag = absl::AsciiStrToLower(name);
    if (flag == kConfigFlag && !config_file) {
      config_file = std::string(entry.substr(eq + 1));
      continue;
    }
    if (!by_name.contains(flag)) continue;  // another HOOKSTREAM_ setting
    environment.push_back({.name = flag,
                           .value = std::string(entry.substr(eq + 1)),
                           .source = std::string(entry.substr(0, eq))});
  }

  std::vector<Setting> file;
  if (config_file) {
    if (absl::Status s = ReadConfigFile(*config_file, file); !s.ok()) return s;
  }
  for (const std::vector<Setting>* source :
       {&file, &environment, &command_line}) {
    for (const Setting& s : *source) {
      if (absl::Status status = Apply(s, by_name); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace hookstream
