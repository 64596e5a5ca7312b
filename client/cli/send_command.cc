// `hookstream send FILE…`: signs each file's bytes exactly as stored
// (HMAC-SHA256 with the first signing secret, hex, in x-webhook-signature)
// and POSTs them to the ingress over HTTPS, printing per file
// `FILE HTTP_STATUS ANSWER_BODY`. How a developer tries the server.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "common/config/secrets.h"
#include "common/signature/crypto.h"
#include "curl/curl.h"

ABSL_FLAG(std::string, url, "https://127.0.0.1:8443/v1/webhooks/gettrx",
          "send: the ingress URL");
ABSL_FLAG(std::string, secret_file, "",
          "send: file with the signing secret(s); the first is used. Default: "
          "$HOOKSTREAM_SIGNING_SECRETS if set, else var/dev/signing-secret");
ABSL_FLAG(std::string, cacert, "var/dev/tls.crt",
          "send: CA certificate (PEM) the ingress certificate must chain to; "
          "empty = the system's trust store");

namespace hookstream::cli {
namespace {

constexpr char kSecretsEnv[] = "HOOKSTREAM_SIGNING_SECRETS";
constexpr char kDefaultSecretFile[] = "var/dev/signing-secret";

absl::StatusOr<std::string> SigningSecret() {
  std::string file = absl::GetFlag(FLAGS_secret_file);
  absl::StatusOr<std::vector<Secret>> secrets;
  // getenv: the CLI is single-threaded here.
  if (file.empty() && std::getenv(kSecretsEnv) != nullptr) {
    secrets = LoadSecretsFromEnv(kSecretsEnv);
  } else {
    if (file.empty()) file = kDefaultSecretFile;
    secrets = LoadSecretsFromFile(file);
  }
  if (!secrets.ok()) return secrets.status();
  if (secrets->empty()) return absl::InvalidArgumentError("no signing secret");
  // The first entry is the current one; later ones are older (rotation).
  return secrets->front().value;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

size_t AppendToString(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct HttpAnswer {
  long status = 0;
  std::string body;
};

// One POST; the error names curl's reason (TLS, connection refused, …).
absl::StatusOr<HttpAnswer> Post(const std::string& url, const std::string& body,
                                const std::string& signature) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(),
                                                           curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "content-type: application/json");
  headers = curl_slist_append(
      headers, absl::StrCat("x-webhook-signature: ", signature).c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(
      headers, curl_slist_free_all);
  HttpAnswer answer;
  char error[CURL_ERROR_SIZE] = {0};
  const std::string cacert = absl::GetFlag(FLAGS_cacert);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cacert.c_str());
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(
        "POST ", url, ": ", error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

}  // namespace

int RunSend(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "hookstream send: give one or more files to send\n";
    return kExitUsage;
  }
  absl::StatusOr<std::string> secret = SigningSecret();
  if (!secret.ok()) {
    PrintError("send", secret.status());
    return kExitFailure;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string url = absl::GetFlag(FLAGS_url);
  int exit_code = kExitOk;
  for (const std::string& path : args) {
    absl::StatusOr<std::string> body = ReadFile(path);
    if (!body.ok()) {
      PrintError("send", body.status());
      exit_code = kExitFailure;
      continue;
    }
    const std::string signature = EncodeHex(HmacSha256(*secret, *body));
    absl::StatusOr<HttpAnswer> answer = Post(url, *body, signature);
    if (!answer.ok()) {
      PrintError("send", answer.status());
      exit_code = kExitFailure;
      continue;
    }
    std::cout << path << " " << answer->status << " "
              << absl::StripTrailingAsciiWhitespace(answer->body) << std::endl;
    if (answer->status < 200 || answer->status > 299) exit_code = kExitFailure;
  }
  curl_global_cleanup();
  return exit_code;
}

}  // namespace hookstream::cli
