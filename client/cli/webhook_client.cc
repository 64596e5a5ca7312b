#include "client/cli/webhook_client.h"

#include <cstdlib>
#include <iostream>
#include <memory>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/cli/cli_common.h"
#include "client/cli/dev_files.h"
#include "common/config/secrets.h"
#include "common/signature/crypto.h"
#include "curl/curl.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

ABSL_FLAG(std::string, url, "https://127.0.0.1:8443/v1/webhooks/gettrx",
          "the ingress URL; also $HOOKSTREAM_URL");
ABSL_FLAG(std::string, secret_file, "",
          "file with the signing secret(s), the server's syntax; the first "
          "is used. Default: $HOOKSTREAM_SIGNING_SECRETS if set (not empty), "
          "else the development server's (see hookstream help send)");
ABSL_DECLARE_FLAG(std::string, cacert);

namespace hookstream::cli {
namespace {

constexpr char kSecretsEnv[] = "HOOKSTREAM_SIGNING_SECRETS";

size_t AppendToString(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

size_t FindRequestId(char* data, size_t size, size_t count, void* out) {
  absl::string_view line(data, size * count);
  constexpr absl::string_view kHeader = "x-request-id:";
  if (line.size() > kHeader.size() &&
      absl::EqualsIgnoreCase(line.substr(0, kHeader.size()), kHeader)) {
    *static_cast<std::string*>(out) =
        std::string(absl::StripAsciiWhitespace(line.substr(kHeader.size())));
  }
  return size * count;
}

std::string ReasonOf(absl::string_view body) {
  google::protobuf::Struct parsed;
  if (!google::protobuf::util::JsonStringToMessage(
           google::protobuf::StringPiece(body.data(), body.size()), &parsed)
           .ok()) {
    return "";
  }
  const auto it = parsed.fields().find("reason");
  return it == parsed.fields().end() ? "" : it->second.string_value();
}

// What a refusal's reason means for the person who sent it.
absl::string_view Hint(absl::string_view reason) {
  if (reason == "bad_signature") {
    return "the signature matches none of the server's signing secrets: "
           "sign with the secret the server uses (--secret_file)";
  }
  if (reason == "missing_signature") return "the request had no signature";
  if (reason == "stale_timestamp") {
    return "the signature's timestamp is outside the server's tolerance";
  }
  if (reason == "bad_json") {
    return "the body is not a JSON object (malformed JSON, invalid UTF-8, "
           "or nested too deep): is it a webhook delivery?";
  }
  if (reason == "missing_fields") {
    return "the JSON has no string `id` or `type`: not a GETTRX delivery";
  }
  if (reason == "too_large") return "the body exceeds --max_body_bytes";
  if (reason == "unknown_path") {
    return "no webhook source at this path: check --url";
  }
  if (reason == "draining" || reason == "unavailable") {
    return "the server is busy or shutting down: retry later";
  }
  return "";
}

}  // namespace

std::vector<std::string> WebhookClient::Flags() {
  return {"url", "secret_file", "cacert"};
}

absl::StatusOr<WebhookClient> WebhookClient::FromFlags(
    absl::string_view command, const ParsedCommandLine& command_line) {
  // getenv: the CLI is single-threaded here.
  std::string url = absl::GetFlag(FLAGS_url);
  if (const char* env = std::getenv("HOOKSTREAM_URL");
      !FlagGiven(command_line, "url") && env != nullptr && *env != '\0') {
    url = env;
  }
  std::string ca_file = absl::GetFlag(FLAGS_cacert);
  if (!FlagGiven(command_line, "cacert")) {
    const char* env = std::getenv("HOOKSTREAM_CACERT");
    ca_file = env != nullptr && *env != '\0' ? env : DevFile("tls.crt");
  }

  std::string file = absl::GetFlag(FLAGS_secret_file);
  absl::StatusOr<std::vector<Secret>> secrets;
  std::string source;
  // Empty counts as unset, as for every HOOKSTREAM_* variable: `VAR= cmd`
  // is how a shell clears one for a command.
  if (const char* env = std::getenv(kSecretsEnv);
      file.empty() && env != nullptr && *env != '\0') {
    secrets = LoadSecretsFromEnv(kSecretsEnv);
    source = absl::StrCat("$", kSecretsEnv);
  } else {
    if (file.empty()) file = DevFile("signing-secret");
    if (file.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no signing secret: give --secret_file, set ",
                       kSecretsEnv, ", or run `make run` once (it writes ",
                       DevDir(), "/signing-secret)"));
    }
    secrets = LoadSecretsFromFile(file);
    source = file;
  }
  if (!secrets.ok()) return secrets.status();
  if (secrets->empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no secret in ", source));
  }
  Notice(command, absl::StrCat("signing with the first secret of ", source,
                               ca_file.empty() ? "" : "; trusting ", ca_file));
  // The first entry is the current one; later ones are older (rotation).
  return WebhookClient(std::move(url), std::move(ca_file),
                       secrets->front().value);
}

absl::StatusOr<WebhookAnswer> WebhookClient::Post(
    absl::string_view body) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  const std::string signature = EncodeHex(HmacSha256(secret_, body));
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "content-type: application/json");
  headers = curl_slist_append(
      headers, absl::StrCat("x-webhook-signature: ", signature).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, curl_slist_free_all);
  WebhookAnswer answer;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, FindRequestId);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &answer.request_id);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!ca_file_.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, ca_file_.c_str());
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("POST ", url_, ": ",
                     error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.body = std::string(absl::StripTrailingAsciiWhitespace(answer.body));
  if (answer.status < 200 || answer.status > 299) {
    answer.reason = ReasonOf(answer.body);
  }
  return answer;
}

void PrintAnswer(absl::string_view command, absl::string_view label,
                 const WebhookAnswer& answer) {
  std::cout << label << " " << answer.status << " " << answer.body
            << " request_id="
            << (answer.request_id.empty() ? "-" : answer.request_id)
            << std::endl;
  if (const absl::string_view hint = Hint(answer.reason); !hint.empty()) {
    Notice(command, absl::StrCat(label, ": ", answer.reason, ": ", hint));
  }
}

}  // namespace hookstream::cli
