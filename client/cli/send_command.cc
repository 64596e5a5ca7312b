// `hookstream send FILE…`: signs each file's bytes exactly as stored and
// POSTs them to the ingress, printing per file the status, the answer, the
// request id and, for a refusal, what the server's reason means.
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/cli/webhook_client.h"

namespace hookstream::cli {
namespace {

constexpr char kName[] = "send";

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int RunSend(const ParsedCommandLine& command_line) {
  if (command_line.args.empty()) {
    Notice(kName, "give one or more files to send (see hookstream help send)");
    return kExitUsage;
  }
  absl::StatusOr<WebhookClient> client =
      WebhookClient::FromFlags(kName, command_line);
  if (!client.ok()) {
    PrintError(kName, client.status());
    return kExitFailure;
  }
  int exit_code = kExitOk;
  for (const std::string& path : command_line.args) {
    absl::StatusOr<std::string> body = ReadFile(path);
    if (!body.ok()) {
      PrintError(kName, body.status());
      exit_code = kExitFailure;
      continue;
    }
    absl::StatusOr<WebhookAnswer> answer = client->Post(*body);
    if (!answer.ok()) {
      PrintError(kName, answer.status());
      exit_code = kExitFailure;
      continue;
    }
    PrintAnswer(kName, path, *answer);
    if (answer->status < 200 || answer->status > 299) exit_code = kExitFailure;
  }
  return exit_code;
}

}  // namespace

Command SendCommand() {
  Command c;
  c.name = "send";
  c.summary = "sign files and POST them to the ingress";
  c.usage = "[flags] FILE…";
  c.description =
      "Signs each file's bytes as GETTRX does (HMAC-SHA256, hex, in\n"
      "x-webhook-signature) with the first signing secret and POSTs it to\n"
      "--url. Prints `FILE STATUS ANSWER request_id=ID` per file and, for a\n"
      "refusal, what its reason means. Re-sending a file is a duplicate: use\n"
      "`hookstream trigger TYPE` for fresh events.\n\n"
      "Defaults found from any directory: the secret is --secret_file, else\n"
      "$HOOKSTREAM_SIGNING_SECRETS, else the development server's\n"
      "($HOOKSTREAM_DEV_DIR, $XDG_CONFIG_HOME/hookstream/dev or\n"
      "~/.config/hookstream/dev, where `make run` writes it); the CA is\n"
      "--cacert, else $HOOKSTREAM_CACERT, else the development certificate\n"
      "there, else the system's. The file used is named on stderr.";
  c.flags = WebhookClient::Flags();
  c.run = RunSend;
  return c;
}

}  // namespace hookstream::cli
