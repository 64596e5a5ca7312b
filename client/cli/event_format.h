// -----------------------------------------------------------------------------
// File: event_format.h
// -----------------------------------------------------------------------------
// How `tail` and `list` print events and gaps (--format, --color, --fields):
// - pretty (the default on a terminal): one readable line per event — time
//   received, sequence, type, id, account — with the typed fields indented
//   below it on request (--fields); colour on a terminal unless NO_COLOR is
//   set or --color=never.
// - json (the default when stdout is not a terminal): one JSON object per
//   line (proto_json.h: proto field names, 64-bit integers as numbers, the
//   raw body as JSON); a gap is {"gap":{…}}.
// - summary: one tab-separated line per event (received_at, sequence, type,
//   id, account), for cut/awk; a gap is a line starting with "gap".
//
// Example:
//   absl::StatusOr<EventPrinter> printer = EventPrinter::FromFlags();
//   printer->PrintEvent(event, std::cout);
//
// Thread-safety: not thread-safe; one printer per output stream.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::cli {

class EventPrinter {
 public:
  enum class Format { kPretty, kJson, kSummary };

  // From --format, --color, --fields and whether stdout is a terminal.
  // INVALID_ARGUMENT for an unknown value.
  static absl::StatusOr<EventPrinter> FromFlags();
  // The flags FromFlags reads (for Command::flags).
  static std::vector<std::string> Flags();

  EventPrinter(Format format, bool color, bool fields)
      : format_(format), color_(color), fields_(fields) {}

  void PrintEvent(const v1::Event& event, std::ostream& out) const;
  void PrintGap(const v1::Gap& gap, std::ostream& out) const;

  Format format() const { return format_; }
  bool color() const { return color_; }

 private:
  std::string Paint(const char* sgr, absl::string_view text) const;

  Format format_;
  bool color_;
  bool fields_;
};

// A gap in plain words ("5 events were evicted before they were read …").
std::string DescribeGap(const v1::Gap& gap);

}  // namespace hookstream::cli
