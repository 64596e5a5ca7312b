#include "client/cli/command_line.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/base/flag_help.h"

namespace hookstream::cli {
namespace {

struct FlagArg {
  absl::CommandLineFlag* flag;
  std::string value;
  // As typed, for messages.
  std::string text;
};

const Command* FindCommand(absl::Span<const Command> commands,
                           absl::string_view name) {
  for (const Command& c : commands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

absl::Status UsageError(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

}  // namespace

absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    int argc, char** argv, absl::Span<const Command> commands) {
  ParsedCommandLine parsed;
  std::vector<FlagArg> flags;
  std::vector<std::string> positional;
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    const size_t eq = body.find('=');
    const std::string name(body.substr(0, eq));
    if (name == "h" || name == "help" || name == "helpfull") {
      parsed.help = true;
      continue;
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string value;
    if (flag == nullptr && absl::StartsWith(name, "no") &&
        eq == absl::string_view::npos) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
      value = "false";
    } else if (flag != nullptr && eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    } else if (flag != nullptr && flag->IsOfType<bool>()) {
      value = "true";
    } else if (flag != nullptr) {
      if (i + 1 >= argc) {
        return UsageError(absl::StrCat("--", name, " needs a value"));
      }
      value = argv[++i];
    }
    if (flag == nullptr) {
      return UsageError(absl::StrCat("unknown flag ", arg));
    }
    flags.push_back({flag, std::move(value), arg});
  }

  if (!positional.empty()) {
    if (positional[0] == "help") {
      // `hookstream help [COMMAND]`.
      parsed.help = true;
      positional.erase(positional.begin());
    }
    if (!positional.empty()) {
      parsed.command = FindCommand(commands, positional[0]);
      if (parsed.command == nullptr) {
        std::vector<std::string> names;
        for (const Command& c : commands) names.push_back(c.name);
        return UsageError(
            absl::StrCat("unknown command '", positional[0],
                         "' (commands: ", absl::StrJoin(names, ", "), ")"));
      }
      parsed.args.assign(positional.begin() + 1, positional.end());
    }
  }
  if (parsed.help) return parsed;

  for (FlagArg& f : flags) {
    const std::string name(f.flag->Name());
    if (parsed.command == nullptr ||
        !absl::c_linear_search(parsed.command->flags, name)) {
      return UsageError(parsed.command == nullptr
                            ? absl::StrCat(f.text, " needs a command")
                            : absl::StrCat("--", name, " does not apply to '",
                                           parsed.command->name,
                                           "' (see hookstream help ",
                                           parsed.command->name, ")"));
    }
    std::string error;
    if (!f.flag->ParseFrom(f.value, &error)) {
      return UsageError(absl::StrCat("--", name, ": ", error));
    }
    parsed.given.push_back(name);
  }
  return parsed;
}

bool FlagGiven(const ParsedCommandLine& parsed, absl::string_view name) {
  return absl::c_linear_search(parsed.given, name);
}

std::string OverviewHelp(absl::Span<const Command> commands) {
  std::string out =
      "hookstream: the command-line client of hookstream-server.\n\n"
      "Usage: hookstream COMMAND [flags] [args]\n\nCommands:\n";
  for (const Command& c : commands) {
    absl::StrAppend(&out, "  ", c.name, std::string(12 - c.name.size(), ' '),
                    c.summary, "\n");
  }
  absl::StrAppend(
      &out,
      "\n`hookstream help COMMAND` or `hookstream COMMAND --help` lists a "
      "command's\nflags with their defaults.\n\n"
      "Environment: HOOKSTREAM_TARGET, HOOKSTREAM_TLS, HOOKSTREAM_CACERT,\n"
      "HOOKSTREAM_CERT, HOOKSTREAM_KEY, HOOKSTREAM_TOKEN (the gRPC "
      "connection);\nHOOKSTREAM_URL, HOOKSTREAM_SIGNING_SECRETS, "
      "HOOKSTREAM_DEV_DIR (send, trigger);\nNO_COLOR (no colours). Flags win "
      "over the environment.\n\n"
      "Exit codes: 0 ok, 1 the server answered with an error or could not be\n"
      "reached, 2 bad command line, 3 tail stopped because events were "
      "missed.\n");
  return out;
}

std::string CommandHelp(const Command& command) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const std::string& name : command.flags) {
    if (const absl::CommandLineFlag* f = absl::FindCommandLineFlag(name)) {
      flags.push_back(f);
    }
  }
  return absl::StrCat("Usage: hookstream ", command.name, " ", command.usage,
                      "\n\n", command.description, "\n\nFlags:\n",
                      FormatFlags(flags));
}

}  // namespace hookstream::cli
