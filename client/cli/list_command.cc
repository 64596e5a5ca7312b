// `hookstream list`: the held events (ListEvents) that match --types and
// --accounts, after --after, page by page up to --limit, printed as `tail`
// prints them.
#include <algorithm>
#include <cstdint>
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/event_format.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_FLAG(uint64_t, after, 0,
          "list events with a sequence greater than this (0 = from the "
          "oldest held)");
ABSL_FLAG(uint64_t, limit, 100, "list at most this many events");
ABSL_DECLARE_FLAG(bool, raw);

namespace hookstream::cli {
namespace {

constexpr char kName[] = "list";

int RunList(const ParsedCommandLine& command_line) {
  if (!command_line.args.empty()) {
    Notice(kName, absl::StrCat("unexpected argument '", command_line.args[0],
                               "' (see hookstream help list)"));
    return kExitUsage;
  }
  absl::StatusOr<v1::EventFilter> filter = FilterFromFlags(kName);
  absl::StatusOr<EventPrinter> printer =
      filter.ok() ? EventPrinter::FromFlags() : filter.status();
  if (!printer.ok()) {
    Notice(kName, printer.status().message());
    return kExitUsage;
  }
  int exit_code = kExitOk;
  std::optional<ServerStub> server =
      ConnectFromFlags(kName, command_line, exit_code);
  if (!server.has_value()) return exit_code;
  const uint64_t limit = absl::GetFlag(FLAGS_limit);
  uint64_t after = absl::GetFlag(FLAGS_after);
  uint64_t listed = 0;
  std::string epoch;
  while (listed < limit) {
    v1::ListEventsRequest request;
    request.set_after_sequence(after);
    request.set_page_size(
        static_cast<uint32_t>(std::min<uint64_t>(limit - listed, 1000)));
    *request.mutable_filter() = *filter;
    request.set_include_raw_json(absl::GetFlag(FLAGS_raw));
    std::optional<v1::ListEventsResponse> page =
        CallOnce(kName, *server, &v1::EventStream::Stub::ListEvents, request);
    if (!page.has_value()) return kExitFailure;
    const v1::ListEventsResponse& response = *page;
    epoch = response.stream_epoch();
    for (const v1::Event& event : response.events()) {
      printer->PrintEvent(event, std::cout);
    }
    listed += response.events_size();
    // An empty page: the listing reached the head.
    if (response.events_size() == 0 ||
        response.next_after_sequence() <= after) {
      break;
    }
    after = response.next_after_sequence();
  }
  if (listed >= limit && limit > 0) {
    Notice(kName, absl::StrCat(listed,
                               " events (--limit); more may follow: "
                               "hookstream list --after ",
                               after));
  } else if (listed == 0) {
    Notice(kName,
           absl::StrCat("no held event matches (stream epoch ", epoch, ")"));
  }
  return kExitOk;
}

}  // namespace

Command ListCommand() {
  Command c;
  c.name = "list";
  c.summary = "list held events (with a filter, page by page)";
  c.usage = "[flags]";
  c.description =
      "Lists the events the server holds that match --types and --accounts,\n"
      "with a sequence greater than --after, in order, up to --limit (read\n"
      "page by page). Printed as tail prints them (--format).";
  c.flags = {"types", "accounts", "after", "limit", "raw", "timeout"};
  for (const std::string& f : EventPrinter::Flags()) c.flags.push_back(f);
  for (const std::string& f : ConnectionFlags()) c.flags.push_back(f);
  c.run = RunList;
  return c;
}

}  // namespace hookstream::cli
