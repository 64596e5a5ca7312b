// `hookstream trigger TYPE…`: like `stripe trigger`, sends a signed sample
// delivery of each type (samples.h) with fresh evt_/wha_ ids, so each is a
// new event.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/samples.h"
#include "client/cli/webhook_client.h"

ABSL_FLAG(std::string, account, "",
          "trigger: the merchant account (acm_…) to put in the sample; empty "
          "= the sample's");
ABSL_FLAG(bool, list, false, "trigger: list the event types and exit");

namespace hookstream::cli {
namespace {

constexpr char kName[] = "trigger";

int RunTrigger(const ParsedCommandLine& command_line) {
  if (absl::GetFlag(FLAGS_list)) {
    for (const std::string& type : KnownEventTypes()) {
      std::cout << type << "\n";
    }
    return kExitOk;
  }
  if (command_line.args.empty()) {
    Notice(kName, absl::StrCat("give one or more event types: ",
                               absl::StrJoin(KnownEventTypes(), ", ")));
    return kExitUsage;
  }
  for (const std::string& type : command_line.args) {
    if (FindSample(type) == nullptr) {
      Notice(kName, absl::StrCat("no sample of type '", type, "' (types: ",
                                 absl::StrJoin(KnownEventTypes(), ", "), ")"));
      return kExitUsage;
    }
  }
  absl::StatusOr<WebhookClient> client =
      WebhookClient::FromFlags(kName, command_line);
  if (!client.ok()) {
    PrintError(kName, client.status());
    return kExitFailure;
  }
  int exit_code = kExitOk;
  for (const std::string& type : command_line.args) {
    const DeliveryIds ids = NewDeliveryIds();
    std::optional<std::string> body =
        FreshDelivery(FindSample(type)->contents, ids, absl::Now(),
                      absl::GetFlag(FLAGS_account));
    if (!body.has_value()) {
      PrintError(kName, absl::InternalError(absl::StrCat(
                            "the ", type, " sample has no id to replace")));
      return kExitFailure;
    }
    absl::StatusOr<WebhookAnswer> answer = client->Post(*body);
    if (!answer.ok()) {
      PrintError(kName, answer.status());
      return kExitFailure;
    }
    PrintAnswer(kName, absl::StrCat(type, " ", ids.event_id), *answer);
    if (answer->status < 200 || answer->status > 299) exit_code = kExitFailure;
  }
  return exit_code;
}

}  // namespace

Command TriggerCommand() {
  Command c;
  c.name = "trigger";
  c.summary = "send signed sample events of a type, with fresh ids";
  c.usage = "[flags] TYPE…  (or --list)";
  c.description =
      "Sends a signed sample delivery of each TYPE (every type GETTRX One\n"
      "documents; --list shows them) with a fresh event id (evt_…), attempt\n"
      "id (wha_…) and creation time, so each is a new event. Prints\n"
      "`TYPE EVENT_ID STATUS ANSWER request_id=ID`. Secret, URL and CA as\n"
      "for send.";
  c.flags = {"account", "list"};
  for (const std::string& f : WebhookClient::Flags()) c.flags.push_back(f);
  c.run = RunTrigger;
  return c;
}

}  // namespace hookstream::cli
