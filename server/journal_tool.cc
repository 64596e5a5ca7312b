// hookstream-journal: reads a journal directory without changing it, for an
// operator or a bug report (docs/journal.md).
//
//   hookstream-journal info DIR     STATE, every segment (sequences, records,
//                                   bytes, damage or a torn tail), ids files
//   hookstream-journal dump DIR [--from=SEQ] [--limit=N]
//                                   one JSON line per record: sequence, log
//                                   time, id, type, account, bytes
//
// Safe on a journal a server is using (it only reads; a record being written
// may show as a torn tail). Exit 0 when everything decodes, 1 when something
// is damaged (named on stdout), 2 on a usage error.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/journal/file_util.h"
#include "common/journal/ids_file.h"
#include "common/journal/journal_state.h"
#include "common/journal/record_format.h"
#include "common/store/stored_event.h"

namespace hookstream::journal {
namespace {

constexpr char kUsage[] =
    "usage: hookstream-journal info DIR\n"
    "       hookstream-journal dump DIR [--from=SEQ] [--limit=N]\n";

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::vector<std::string> Named(const std::vector<std::string>& names,
                               absl::string_view suffix) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    if (absl::EndsWith(n, suffix)) out.push_back(n);
  }
  return out;
}

int Info(const std::string& dir) {
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(dir);
  if (!names.ok()) {
    std::cout << names.status().message() << "\n";
    return 1;
  }
  int status = 0;
  absl::StatusOr<std::string> state_text =
      ReadWholeFile(absl::StrCat(dir, "/", kStateFileName));
  if (state_text.ok()) {
    absl::StatusOr<JournalState> state = DecodeJournalState(*state_text);
    if (state.ok()) {
      std::cout << "STATE  epoch " << state->epoch << " (started "
                << Time(state->epoch_start) << "), sync " << state->sync << ", "
                << (state->clean ? "closed cleanly" : "not closed") << ", boot "
                << state->boot_id
                << (state->boot_id == CurrentBootId() ? " (this boot)"
                                                      : " (another boot)")
                << "\n";
    } else {
      std::cout << "STATE  damaged: " << state.status().message() << "\n";
      status = 1;
    }
  } else {
    std::cout << "STATE  missing\n";
  }
  for (const std::string& name : Named(*names, ".ids")) {
    absl::StatusOr<std::string> bytes =
        ReadWholeFile(absl::StrCat(dir, "/", name));
    absl::StatusOr<std::vector<CarriedId>> ids =
        bytes.ok() ? DecodeIdsFile(*bytes) : bytes.status();
    if (!ids.ok()) {
      std::cout << name << "  damaged: " << ids.status().message() << "\n";
      status = 1;
      continue;
    }
    std::cout << name << "  " << ids->size() << " carried ids";
    if (!ids->empty()) {
      std::cout << ", sequences " << ids->front().sequence << ".."
                << ids->back().sequence << ", newest "
                << Time(ids->back().log_time);
    }
    std::cout << "\n";
  }
  for (const std::string& name : Named(*names, ".seg")) {
    absl::StatusOr<std::string> bytes =
        ReadWholeFile(absl::StrCat(dir, "/", name));
    absl::StatusOr<SegmentScan> scan =
        bytes.ok() ? ScanSegment(*bytes) : bytes.status();
    if (!scan.ok()) {
      std::cout << name << "  damaged: " << scan.status().message() << "\n";
      status = 1;
      continue;
    }
    std::cout << name << "  epoch " << scan->header.epoch << ", "
              << scan->records.size() << " records";
    if (!scan->records.empty()) {
      std::cout << ", sequences " << scan->records.front().sequence << ".."
                << scan->records.back().sequence << ", log times "
                << Time(scan->records.front().log_time) << " .. "
                << Time(scan->records.back().log_time);
    }
    std::cout << ", " << bytes->size() << " bytes";
    if (scan->data_end < bytes->size()) {
      std::cout << " (" << bytes->size() - scan->data_end
                << " of them preallocated, not written yet)";
    }
    std::cout << "\n";
    for (const SegmentScan::Damage& d : scan->damage) {
      std::cout << "  damage at offset " << d.offset << ".." << d.resume_offset
                << ": " << d.reason
                << (d.zero_page ? " (holds a zero page: a torn write)" : "")
                << "\n";
      status = 1;
    }
    if (scan->torn_bytes > 0) {
      std::cout << "  torn tail: " << scan->torn_bytes << " bytes from offset "
                << scan->valid_end
                << " (cut off at the next start if this is the last segment)"
                << "\n";
    }
  }
  return status;
}

int Dump(const std::string& dir, uint64_t from, uint64_t limit) {
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(dir);
  if (!names.ok()) {
    std::cerr << names.status().message() << "\n";
    return 1;
  }
  uint64_t printed = 0;
  for (const std::string& name : Named(*names, ".seg")) {
    absl::StatusOr<std::string> bytes =
        ReadWholeFile(absl::StrCat(dir, "/", name));
    absl::StatusOr<SegmentScan> scan =
        bytes.ok() ? ScanSegment(*bytes) : bytes.status();
    if (!scan.ok()) {
      std::cerr << name << ": " << scan.status().message() << "\n";
      return 1;
    }
    for (const Record& r : scan->records) {
      if (r.sequence < from) continue;
      if (printed++ >= limit) return 0;
      absl::StatusOr<StoredEvent> e = StoredEvent::FromLogged(
          r.payload, scan->header.epoch, r.sequence, r.log_time);
      std::cout << "{\"sequence\":" << r.sequence << ",\"log_time\":\""
                << Time(r.log_time) << "\",\"file\":\"" << name
                << "\",\"offset\":" << r.offset << ",\"bytes\":" << r.size;
      if (e.ok()) {
        std::cout << ",\"id\":" << JsonString(e->id)
                  << ",\"type\":" << JsonString(e->type)
                  << ",\"account\":" << JsonString(e->account);
      } else {
        std::cout << ",\"error\":" << JsonString(e.status().message());
      }
      std::cout << "}\n";
    }
  }
  return 0;
}

int Run(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "help")) {
    std::cout << kUsage;
    return 0;
  }
  if (args.size() == 2 && args[0] == "info") return Info(args[1]);
  if (args.size() >= 2 && args[0] == "dump") {
    uint64_t from = 0;
    uint64_t limit = UINT64_MAX;
    for (size_t i = 2; i < args.size(); ++i) {
      absl::string_view a = args[i];
      if (absl::ConsumePrefix(&a, "--from=") && absl::SimpleAtoi(a, &from)) {
        continue;
      }
      a = args[i];
      if (absl::ConsumePrefix(&a, "--limit=") && absl::SimpleAtoi(a, &limit)) {
        continue;
      }
      std::cerr << "hookstream-journal: unknown argument " << args[i] << "\n"
                << kUsage;
      return 2;
    }
    return Dump(args[1], from, limit);
  }
  std::cerr << kUsage;
  return 2;
}

}  // namespace
}  // namespace hookstream::journal

int main(int argc, char** argv) { return hookstream::journal::Run(argc, argv); }
