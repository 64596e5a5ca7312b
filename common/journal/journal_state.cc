#include "common/journal/journal_state.h"

#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/journal/crc32c.h"
#include "common/journal/file_util.h"

namespace hookstream::journal {

std::string EncodeJournalState(const JournalState& state) {
  const std::string body = absl::StrCat(
      "hookstream-journal-state 1\n", "epoch ", state.epoch, "\n",
      "epoch_start_unix_nanos ", absl::ToUnixNanos(state.epoch_start), "\n",
      "boot_id ", state.boot_id, "\n", "sync ", state.sync, "\n", "clean ",
      state.clean ? "true" : "false", "\n");
  return absl::StrCat(body, "crc32c ", Crc32c(body), "\n");
}

absl::StatusOr<JournalState> DecodeJournalState(absl::string_view text) {
  const size_t crc_line = text.rfind("crc32c ");
  if (crc_line == absl::string_view::npos) {
    return absl::DataLossError("STATE: no crc32c line");
  }
  uint32_t crc = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text.substr(crc_line + 7)),
                        &crc) ||
      crc != Crc32c(text.substr(0, crc_line))) {
    return absl::DataLossError("STATE: checksum mismatch");
  }
  std::map<std::string, std::string> values;
  for (absl::string_view line :
       absl::StrSplit(text.substr(0, crc_line), '\n', absl::SkipEmpty())) {
    const size_t space = line.find(' ');
    if (space == absl::string_view::npos) continue;
    values[std::string(line.substr(0, space))] =
        std::string(line.substr(space + 1));
  }
  if (values["hookstream-journal-state"] != "1") {
    return absl::DataLossError("STATE: not a version 1 state file");
  }
  JournalState state;
  int64_t start_nanos = 0;
  state.epoch = values["epoch"];
  state.boot_id = values["boot_id"];
  state.sync = values["sync"];
  if (state.epoch.empty() ||
      !absl::SimpleAtoi(values["epoch_start_unix_nanos"], &start_nanos) ||
      (values["clean"] != "true" && values["clean"] != "false")) {
    return absl::DataLossError("STATE: missing or malformed keys");
  }
  state.epoch_start = absl::FromUnixNanos(start_nanos);
  state.clean = values["clean"] == "true";
  return state;
}

bool NeedsNewEpoch(const JournalState& last, absl::string_view boot_id) {
  return !last.clean && last.sync == "none" && last.boot_id != boot_id;
}

std::string CurrentBootId() {
  absl::StatusOr<std::string> id =
      ReadWholeFile("/proc/sys/kernel/random/boot_id");
  if (!id.ok()) return "unknown";
  return std::string(absl::StripAsciiWhitespace(*id));
}

}  // namespace hookstream::journal
