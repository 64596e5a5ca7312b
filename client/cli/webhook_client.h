// -----------------------------------------------------------------------------
// File: webhook_client.h
// -----------------------------------------------------------------------------
// What `send` and `trigger` share: the signing secret (--secret_file, else
// $HOOKSTREAM_SIGNING_SECRETS, else the development server's), the ingress
// URL (--url, else $HOOKSTREAM_URL) and its CA (--cacert, else
// $HOOKSTREAM_CACERT, else the development certificate), signing a body as
// GETTRX does (HMAC-SHA256, hex, x-webhook-signature) and POSTing it, and
// printing the answer with its request id and, for a refusal, what the
// server's reason means.
//
// Example:
//   absl::StatusOr<WebhookClient> client = WebhookClient::FromFlags("send");
//   absl::StatusOr<WebhookAnswer> answer = client->Post(body);
//
// Thread-safety: one client per thread.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/command_line.h"

namespace hookstream::cli {

struct WebhookAnswer {
  long status = 0;
  std::string body;
  std::string request_id;
  // The body's `reason` for a refusal ("bad_signature"), else empty.
  std::string reason;
};

class WebhookClient {
 public:
  // Reads the secret and says on stderr which file or variable it used.
  static absl::StatusOr<WebhookClient> FromFlags(
      absl::string_view command, const ParsedCommandLine& command_line);
  // The flags FromFlags reads (for Command::flags).
  static std::vector<std::string> Flags();

  // Signs and POSTs `body`. UNAVAILABLE names curl's reason (TLS, refused).
  absl::StatusOr<WebhookAnswer> Post(absl::string_view body) const;

  const std::string& url() const { return url_; }

 private:
  WebhookClient(std::string url, std::string ca_file, std::string secret)
      : url_(std::move(url)),
        ca_file_(std::move(ca_file)),
        secret_(std::move(secret)) {}

  std::string url_;
  std::string ca_file_;
  std::string secret_;
};

// `LABEL STATUS BODY request_id=ID` on stdout; for a refusal also what its
// reason means, on stderr.
void PrintAnswer(absl::string_view command, absl::string_view label,
                 const WebhookAnswer& answer);

}  // namespace hookstream::cli
