// `hookstream tail`: follows the stream and prints one JSON line per event
// (the Event's JSON) or gap (`{"gap":{…}}`) on stdout; reconnects and resumes
// on its own when the server goes away.
#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/grpc_status.h"
#include "client/start_position.h"
#include "client/subscriber.h"

ABSL_FLAG(std::string, types, "",
          "tail: comma-separated event types: exact (customer.created), "
          "prefix (customer.*) or *; empty = all");
ABSL_FLAG(std::string, accounts, "",
          "tail: comma-separated accounts (acm_…); empty = all");
ABSL_FLAG(std::string, from, "latest",
          "tail: where to start: oldest, latest, seq:N[@EPOCH], id:evt_…, "
          "time:RFC3339");
ABSL_FLAG(bool, raw, false,
          "tail: include raw_json (base64, per the proto3 JSON mapping)");
ABSL_FLAG(uint64_t, max_events, 0,
          "tail: exit 0 after this many events (0 = never)");
ABSL_FLAG(std::string, gap_policy, "fail",
          "tail: fail (stop with exit code 3 when events were missed) or "
          "resume (print the gap and go on from the oldest event)");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Seconds(15),
          "tail: heartbeat interval asked of the server (>= 1s)");

namespace hookstream::cli {

int RunTail(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "hookstream tail: unexpected argument '" << args[0] << "'\n";
    return kExitUsage;
  }
  absl::StatusOr<StartPosition> start =
      ParseStartPosition(absl::GetFlag(FLAGS_from));
  if (!start.ok()) {
    PrintError("tail", start.status());
    return kExitUsage;
  }
  const std::string policy = absl::GetFlag(FLAGS_gap_policy);
  if (policy != "fail" && policy != "resume") {
    std::cerr << "hookstream tail: --gap_policy must be fail or resume, not '"
              << policy << "'\n";
    return kExitUsage;
  }

  SubscriberOptions options;
  options.start = *start;
  for (std::string& t : SplitList(absl::GetFlag(FLAGS_types))) {
    options.filter.add_types(std::move(t));
  }
  for (std::string& a : SplitList(absl::GetFlag(FLAGS_accounts))) {
    options.filter.add_accounts(std::move(a));
  }
  options.include_raw_json = absl::GetFlag(FLAGS_raw);
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.gap_policy = policy == "fail" ? v1::GAP_POLICY_FAIL
                                        : v1::GAP_POLICY_RESUME_FROM_OLDEST;
  const uint64_t max_events = absl::GetFlag(FLAGS_max_events);

  Subscriber subscriber(MakeChannel(), std::move(options));
  uint64_t printed = 0;
  const auto print_gap = [&](const v1::Gap& gap) {
    v1::SubscribeResponse wrapper;
    *wrapper.mutable_gap() = gap;
    std::cout << ToJson(wrapper) << std::endl;
    std::cerr << "hookstream tail: "
              << (gap.reason() == v1::GAP_REASON_EPOCH_CHANGED
                      ? "the server restarted (new stream epoch " +
                            gap.stream_epoch() + "); earlier events are gone"
                      : absl::StrCat(gap.missed_count(),
                                     " events were evicted before they were "
                                     "read"))
              << "; oldest held sequence " << gap.oldest_sequence() << "\n";
  };
  const absl::Status status = subscriber.Run({
      .on_event =
          [&](const v1::Event& event) {
            std::cout << ToJson(event) << std::endl;
            if (max_events > 0 && ++printed >= max_events) subscriber.Stop();
          },
      .on_gap = print_gap,
      .on_epoch_change = print_gap,
  });
  if (status.ok()) return kExitOk;  // stopped after --max_events
  PrintError("tail", status);
  return GapFromStatus(status).has_value() ? kExitGap : kExitFailure;
}

}  // namespace hookstream::cli
