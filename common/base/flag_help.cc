#include "common/base/flag_help.h"

#include <algorithm>
#include <string>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hookstream {
namespace {

constexpr size_t kWidth = 80;
constexpr absl::string_view kHelpIndent = "      ";

// Appends `text` word-wrapped, each line indented by kHelpIndent.
void AppendWrapped(absl::string_view text, std::string& out) {
  std::string line;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() &&
        kHelpIndent.size() + line.size() + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, kHelpIndent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, kHelpIndent, line, "\n");
}

}  // namespace

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help" || arg == "-help" ||
        arg == "--helpfull" || arg == "--helpshort" ||
        absl::StartsWith(arg, "--help=")) {
      return true;
    }
  }
  return false;
}

std::vector<const absl::CommandLineFlag*> FlagsDefinedIn(
    absl::string_view file_suffix) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!flag->IsRetired() && absl::EndsWith(flag->Filename(), file_suffix)) {
      flags.push_back(flag);
    }
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  return flags;
}

std::string FormatFlags(absl::Span<const absl::CommandLineFlag* const> flags) {
  std::string out;
  for (const absl::CommandLineFlag* flag : flags) {
    const std::string value = flag->DefaultValue();
    // Strings are quoted, so an empty default shows as "".
    const bool quoted = flag->IsOfType<std::string>();
    absl::StrAppend(&out, "  --", flag->Name(), " (default ",
                    quoted ? absl::StrCat("\"", value, "\"") : value, ")\n");
    AppendWrapped(flag->Help(), out);
  }
  return out;
}

}  // namespace hookstream
