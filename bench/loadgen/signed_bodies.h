// -----------------------------------------------------------------------------
// File: signed_bodies.h
// -----------------------------------------------------------------------------
// SignedRequestFactory makes the webhook requests the load generators send:
// a template GETTRX body (tests/testdata/gettrx/customer.created.json) with
// its top-level `"evt_…"` id replaced by a unique one, signed like GETTRX
// signs (`x-webhook-signature` = lowercase hex HMAC-SHA256 of the raw body),
// as complete HTTP/1.1 keep-alive request bytes ready to write on a socket.
// hookstream appends an id only once, so every request needs its own id.
//
// Example:
//   ASSIGN_OR_RETURN(SignedRequestFactory f,
//                    SignedRequestFactory::Create(body, secret,
//                    "127.0.0.1:8443",
//                                                 "/v1/webhooks/gettrx"));
//   std::string wire = f.Request(UniqueEventId(run, 7));
//
// Thread-safety: const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hookstream::bench {

// Ids are the length of a real GETTRX id (`evt_` + 24 hex digits), so every
// body has the template's exact size: `run` keeps two runs apart, `n` the
// requests of one run.
std::string UniqueEventId(uint32_t run, uint64_t n);

// An id that carries the monotonic time (ns) the request was sent at, for the
// live-latency workloads: the receiver recovers it with SendTimeFromEventId.
std::string TimestampedEventId(int64_t send_ns);
// The ns put in by TimestampedEventId, or -1 when `id` is not such an id.
int64_t SendTimeFromEventId(absl::string_view id);

// Reads a whole file; an error names the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Lowercase hex HMAC-SHA256 of `body` with `secret`.
std::string HmacSha256Hex(absl::string_view secret, absl::string_view body);

class SignedRequestFactory {
 public:
  // Fails when `template_body` holds no `"evt_…"` string to replace.
  static absl::StatusOr<SignedRequestFactory> Create(std::string template_body,
                                                     std::string secret,
                                                     std::string host,
                                                     std::string path);

  // The template body with its event id replaced by `id`.
  std::string Body(absl::string_view id) const;
  // The full request (headers and body) for the event `id`.
  std::string Request(absl::string_view id) const;

  size_t body_size_for(absl::string_view id) const {
    return prefix_.size() + id.size() + suffix_.size();
  }

 private:
  SignedRequestFactory() = default;

  std::string prefix_;  // body up to and including the opening quote of the id
  std::string suffix_;  // body from the closing quote of the id
  std::string secret_;
  std::string head_;  // request line and fixed headers
};

}  // namespace hookstream::bench
