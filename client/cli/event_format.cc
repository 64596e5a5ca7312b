#include "client/cli/event_format.h"

#include <unistd.h>

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "client/cli/proto_json.h"
#include "google/protobuf/descriptor.h"

ABSL_FLAG(std::string, format, "",
          "pretty, json or summary; empty = pretty on a terminal, json "
          "otherwise");
ABSL_FLAG(std::string, color, "auto",
          "auto (on a terminal, unless NO_COLOR is set), always or never");
ABSL_FLAG(bool, fields, false,
          "pretty: also print each event's typed fields, indented");

namespace hookstream::cli {
namespace {

constexpr char kBold[] = "1";
constexpr char kDim[] = "2";
constexpr char kCyan[] = "36";
constexpr char kYellow[] = "33";
constexpr char kRed[] = "1;31";

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", time, absl::LocalTimeZone());
}

std::string PadRight(absl::string_view s, size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

// The event's typed object (`customer`, `refund`, … or `other`), if set.
const google::protobuf::Message* TypedData(const v1::Event& event) {
  const auto* oneof = v1::Event::descriptor()->FindOneofByName("data");
  const auto* field =
      event.GetReflection()->GetOneofFieldDescriptor(event, oneof);
  if (field == nullptr) return nullptr;
  return &event.GetReflection()->GetMessage(event, field);
}

}  // namespace

std::vector<std::string> EventPrinter::Flags() {
  return {"format", "color", "fields"};
}

absl::StatusOr<EventPrinter> EventPrinter::FromFlags() {
  const bool tty = isatty(STDOUT_FILENO) == 1;
  const std::string format = absl::GetFlag(FLAGS_format);
  Format f;
  if (format.empty()) {
    f = tty ? Format::kPretty : Format::kJson;
  } else if (format == "pretty") {
    f = Format::kPretty;
  } else if (format == "json") {
    f = Format::kJson;
  } else if (format == "summary") {
    f = Format::kSummary;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--format must be pretty, json or summary, not '", format, "'"));
  }
  const std::string color = absl::GetFlag(FLAGS_color);
  bool c;
  // https://no-color.org: set and not empty means no colour.
  const char* no_color = std::getenv("NO_COLOR");
  if (color == "auto") {
    c = tty && (no_color == nullptr || no_color[0] == '\0');
  } else if (color == "always") {
    c = true;
  } else if (color == "never") {
    c = false;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "--color must be auto, always or never, not '", color, "'"));
  }
  return EventPrinter(f, c && f == Format::kPretty,
                      absl::GetFlag(FLAGS_fields));
}

std::string EventPrinter::Paint(const char* sgr, absl::string_view text) const {
  if (!color_) return std::string(text);
  return absl::StrCat("\x1b[", sgr, "m", text, "\x1b[0m");
}

void EventPrinter::PrintEvent(const v1::Event& event, std::ostream& out) const {
  switch (format_) {
    case Format::kJson:
      out << ToJson(event) << "\n";
      break;
    case Format::kSummary:
      out << Time(event.received_at()) << "\t" << event.sequence() << "\t"
          << event.type() << "\t" << event.id() << "\t" << event.account()
          << "\n";
      break;
    case Format::kPretty: {
      out << Paint(kDim, Time(event.received_at())) << "  "
          << Paint(kBold, PadRight(absl::StrCat("#", event.sequence()), 7))
          << " " << Paint(kCyan, PadRight(event.type(), 26)) << " "
          << Paint(kYellow, event.id()) << "  " << Paint(kDim, event.account())
          << "\n";
      if (fields_) {
        if (const google::protobuf::Message* data = TypedData(event)) {
          const std::string json = ToJson(*data, {.indent = 2});
          out << "    " << absl::StrReplaceAll(json, {{"\n", "\n    "}})
              << "\n";
        }
      }
      break;
    }
  }
  out.flush();
}

void EventPrinter::PrintGap(const v1::Gap& gap, std::ostream& out) const {
  switch (format_) {
    case Format::kJson: {
      v1::SubscribeResponse wrapper;
      *wrapper.mutable_gap() = gap;
      out << ToJson(wrapper) << "\n";
      break;
    }
    case Format::kSummary:
      out << "gap\t" << v1::GapReason_Name(gap.reason()) << "\t"
          << gap.stream_epoch() << "\t" << gap.oldest_sequence() << "\t"
          << gap.missed_count() << "\n";
      break;
    case Format::kPretty:
      out << Paint(
                 gap.reason() == v1::GAP_REASON_EPOCH_CHANGED ? kYellow : kRed,
                 absl::StrCat("-- ", DescribeGap(gap), " --"))
          << "\n";
      break;
  }
  out.flush();
}

std::string DescribeGap(const v1::Gap& gap) {
  if (gap.reason() == v1::GAP_REASON_EPOCH_CHANGED) {
    return absl::StrCat("the server's stream started over (new epoch ",
                        gap.stream_epoch(),
                        "; positions of the old one mean nothing in it); "
                        "continuing from its sequence ",
                        gap.oldest_sequence());
  }
  return absl::StrCat(gap.missed_count(),
                      " events were evicted before they were read (after "
                      "sequence ",
                      gap.requested_after_sequence(), "; the oldest held is ",
                      gap.oldest_sequence(), ")");
}

}  // namespace hookstream::cli
