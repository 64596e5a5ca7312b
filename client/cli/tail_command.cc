// `hookstream tail`: follows the stream like `stripe listen` or `nats sub`:
// a first line saying where it is connected and from which position it
// waits, then one line per event (event_format.h), following reconnects and
// server restarts on its own with one line when the connection is lost and
// one when it is back.
#include <atomic>
#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/event_format.h"
#include "client/grpc_status.h"
#include "client/start_position.h"
#include "client/subscriber.h"
#include "common/base/log.h"

ABSL_FLAG(std::string, from, "latest",
          "where to start: oldest, latest, seq:N[@EPOCH], id:evt_…, "
          "time:RFC3339");
ABSL_FLAG(bool, raw, false, "include raw_json, the webhook body (as JSON)");
ABSL_FLAG(uint64_t, max_events, 0, "exit 0 after this many events (0 = never)");
ABSL_FLAG(std::string, gap_policy, "fail",
          "when events were evicted before they were read: fail (print the "
          "gap, exit 3) or resume (print the gap, go on from the oldest "
          "held event)");
ABSL_FLAG(std::string, on_epoch_change, "follow",
          "when the server's stream starts over (a restart without a durable "
          "backend): follow (report it in one line, go on from the new "
          "stream's start) or exit (exit 3)");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(15),
          "heartbeat interval asked of the server, 1s to 1h (it refuses "
          "anything else)");
ABSL_FLAG(int, max_retries, 0,
          "give up (exit 1) after this many reconnect attempts in a row "
          "that did not get a healthy stream; 0 = retry forever");

namespace hookstream::cli {
namespace {

constexpr char kName[] = "tail";

std::string DescribeFilter(const v1::EventFilter& filter) {
  std::vector<std::string> parts;
  if (filter.types_size() > 0) {
    parts.push_back(absl::StrCat("types ", absl::StrJoin(filter.types(), ",")));
  }
  if (filter.accounts_size() > 0) {
    parts.push_back(
        absl::StrCat("accounts ", absl::StrJoin(filter.accounts(), ",")));
  }
  return parts.empty() ? ""
                       : absl::StrCat(" (", absl::StrJoin(parts, "; "), ")");
}

// The one-line connection notices: where it is connected and from which
// position it waits; the connection lost (once per outage) and back.
class ConnectionNotices {
 public:
  ConnectionNotices(std::string where, std::string filter)
      : where_(std::move(where)), filter_(std::move(filter)) {}

  void On(const ConnectionEvent& e) {
    absl::MutexLock lock(&mu_);
    if (e.kind == ConnectionEvent::Kind::kConnected) {
      const v1::Heartbeat& hb = e.heartbeat;
      const std::string position =
          hb.position() < hb.head_sequence()
              ? absl::StrCat("replaying sequences ", hb.position() + 1, "..",
                             hb.head_sequence(),
                             ", then waiting for new events")
              : absl::StrCat("waiting for events after sequence ",
                             hb.position());
      if (!connected_) {
        Notice(kName, absl::StrCat("connected to ", where_, ", stream epoch ",
                                   hb.stream_epoch(), ": ", position, filter_));
      } else if (lost_) {
        Notice(kName, absl::StrCat("reconnected: ", position));
      }
      connected_ = true;
      lost_ = false;
      return;
    }
    if (lost_) return;  // one line per outage
    lost_ = true;
    const std::string why =
        absl::StrCat(StatusCodeName(e.status), ": ", e.status.message());
    Notice(kName, connected_ ? absl::StrCat("connection lost (", why,
                                            "); reconnecting")
                             : absl::StrCat("cannot reach ", where_, " (", why,
                                            "); retrying"));
  }

 private:
  const std::string where_;
  const std::string filter_;
  absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool lost_ ABSL_GUARDED_BY(mu_) = false;
};

int RunTail(const ParsedCommandLine& command_line) {
  if (!command_line.args.empty()) {
    Notice(kName, absl::StrCat("unexpected argument '", command_line.args[0],
                               "' (see hookstream help tail)"));
    return kExitUsage;
  }
  const auto usage = [](const absl::Status& s) {
    Notice(kName, s.message());
    return kExitUsage;
  };
  absl::StatusOr<StartPosition> start =
      ParseStartPosition(absl::GetFlag(FLAGS_from));
  if (!start.ok()) return usage(start.status());
  const std::string policy = absl::GetFlag(FLAGS_gap_policy);
  if (policy != "fail" && policy != "resume") {
    return usage(absl::InvalidArgumentError(absl::StrCat(
        "--gap_policy must be fail or resume, not '", policy, "'")));
  }
  const std::string on_epoch = absl::GetFlag(FLAGS_on_epoch_change);
  if (on_epoch != "follow" && on_epoch != "exit") {
    return usage(absl::InvalidArgumentError(absl::StrCat(
        "--on_epoch_change must be follow or exit, not '", on_epoch, "'")));
  }
  const absl::Duration heartbeat = absl::GetFlag(FLAGS_heartbeat_interval);
  if (heartbeat < absl::Seconds(1) || heartbeat > absl::Hours(1)) {
    return usage(absl::InvalidArgumentError(absl::StrCat(
        "--heartbeat_interval must be between 1s and 1h (the server refuses "
        "anything else), not ",
        absl::FormatDuration(heartbeat))));
  }
  const int max_retries = absl::GetFlag(FLAGS_max_retries);
  if (max_retries < 0) {
    return usage(absl::InvalidArgumentError("--max_retries must be >= 0"));
  }
  absl::StatusOr<ConnectionOptions> connection =
      ConnectionFromFlags(command_line);
  if (!connection.ok()) return usage(connection.status());
  absl::StatusOr<v1::EventFilter> filter = FilterFromFlags(kName);
  if (!filter.ok()) return usage(filter.status());
  absl::StatusOr<EventPrinter> printer = EventPrinter::FromFlags();
  if (!printer.ok()) return usage(printer.status());

  // The Subscriber's own log lines would repeat the notices below.
  SetMinLogLevel(LogLevel::kWarning);
  ConnectionNotices notices(Describe(*connection), DescribeFilter(*filter));
  SubscriberOptions options;
  options.connection = *connection;
  options.start = *start;
  options.filter = *filter;
  options.include_raw_json = absl::GetFlag(FLAGS_raw);
  options.heartbeat_interval = heartbeat;
  options.gap_policy = policy == "fail" ? v1::GAP_POLICY_FAIL
                                        : v1::GAP_POLICY_RESUME_FROM_OLDEST;
  options.follow_epoch_changes = on_epoch == "follow";
  // A person is watching: a restarted server is found within seconds.
  options.backoff = {.initial_delay = absl::Milliseconds(100),
                     .max_delay = absl::Seconds(2),
                     .multiplier = 2.0};
  options.max_reconnect_attempts = max_retries;
  options.on_connection = [&notices](const ConnectionEvent& e) {
    notices.On(e);
  };
  const uint64_t max_events = absl::GetFlag(FLAGS_max_events);

  Subscriber subscriber(std::move(options));
  uint64_t printed = 0;
  bool stopped_on_epoch_change = false;
  const auto print_gap = [&](const v1::Gap& gap) {
    printer->PrintGap(gap, std::cout);
    if (printer->format() != EventPrinter::Format::kPretty) {
      Notice(kName, DescribeGap(gap));  // the data line went to a pipe
    }
  };
  const absl::Status status = subscriber.Run({
      .on_event =
          [&](const v1::Event& event) {
            printer->PrintEvent(event, std::cout);
            if (max_events > 0 && ++printed >= max_events) subscriber.Stop();
          },
      .on_gap = print_gap,
      .on_epoch_change =
          [&](const v1::Gap& gap) {
            print_gap(gap);
            if (on_epoch == "exit") {
              stopped_on_epoch_change = true;
              subscriber.Stop();
            }
          },
  });
  if (status.ok()) return stopped_on_epoch_change ? kExitGap : kExitOk;
  PrintError(kName, status);
  return GapFromStatus(status).has_value() ? kExitGap : kExitFailure;
}

}  // namespace

Command TailCommand() {
  Command c;
  c.name = "tail";
  c.summary = "follow the stream, printing events as they arrive";
  c.usage = "[flags]";
  c.description =
      "Follows the stream from --from and prints each event as it arrives:\n"
      "pretty lines on a terminal, JSON lines when piped (--format). The\n"
      "first line (on stderr) says where it is connected and from which\n"
      "position it waits. It reconnects on its own (backoff capped at 2 s,\n"
      "one line when the connection is lost, one when it is back) and\n"
      "resumes exactly where it was; a server restart without a durable\n"
      "backend starts a new stream, reported in one line, and tail goes on\n"
      "from its start (--on_epoch_change). Exit 3 when events were evicted\n"
      "before they were read (--gap_policy=fail).";
  c.flags = {
      "from",       "types",      "accounts",        "raw",
      "max_events", "gap_policy", "on_epoch_change", "heartbeat_interval",
      "max_retries"};
  for (const std::string& f : EventPrinter::Flags()) c.flags.push_back(f);
  for (const std::string& f : ConnectionFlags()) c.flags.push_back(f);
  c.run = RunTail;
  return c;
}

}  // namespace hookstream::cli
