// -----------------------------------------------------------------------------
// File: webhook_handler.h
// -----------------------------------------------------------------------------
// WebhookHandler is the ingress's decision logic without sockets: from a
// request (method, target, headers, body, request id, arrival time) to an
// answer (status, extra headers, tiny JSON body) plus the fields of its log
// line. The HTTP session only moves bytes and calls it.
//
// Order, per request:
//   draining → route (404) → method (405) → framing limits (411, 413) →
//   content type (415)     [CheckHead: decidable before the body is read]
//   → signature over the raw bytes (401) → conversion (400, 422)
//   → event id length (422 id_too_long)
//   → EventAppender::Append (common/store/event_appender.h): the backend
//     dedups and keeps it, then calls back (200, duplicate or not; 503 when
//     it could not keep it).
// The 200 is produced only in the appender's completion, which runs once
// the event is durable in the configured backend: every acknowledged event
// is kept (memory: in the ring; journal: fsynced; JetStream: acked).
//
// Example (what HttpSession does):
//   WebhookRequest request = ...;  // head filled, body empty
//   if (auto early = handler.CheckHead(request)) return Send(*early);
//   request.body = ReadBody();
//   handler.Handle(std::move(request), [session](WebhookResponse response) {
//     session->OnOwnLoop([=] { Send(response); LogAndCount(...); });
//   });
//
// Thread-safety: CheckHead and Handle are const and thread-safe (the
// appender and the metrics are); StartDraining may be called from any
// thread. Handle's `done` runs exactly once, either before Handle returns (a
// refusal, or the memory backend) or later on a backend thread: it must not
// block, and should move the answer to the session's own event loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/store/event_appender.h"
#include "server/ingress/ingress_metrics.h"
#include "server/ingress/outcomes.h"
#include "server/ingress/source_registry.h"

namespace hookstream::ingress {

// Header names are lower-case; values as received.
struct HttpHeader {
  std::string name;
  std::string value;
};
using HttpHeaders = std::vector<HttpHeader>;

// WebhookResponse::secret_label of a request accepted without verification
// (a source with allow_unsigned).
inline constexpr absl::string_view kUnsignedLabel = "UNSIGNED";

// 4 MiB (gRPC's default receive limit) minus 64 KiB for what wraps an event
// in a response (EventBatch, GetEventResponse, ListEventsResponse).
inline constexpr size_t kDefaultMaxEventBytes = (size_t{4} << 20) - (64 << 10);

// The first header with this lower-case name, or nullopt.
std::optional<absl::string_view> FindHeader(const HttpHeaders& headers,
                                            absl::string_view lower_name);

struct WebhookRequest {
  std::string method;
  std::string target;
  HttpHeaders headers;
  // From the Content-Length header; nullopt when absent.
  std::optional<uint64_t> content_length;
  bool chunked = false;
  // The raw body, exactly as received (empty until read).
  std::string body;
  std::string request_id;
  absl::Time received_at;
};

struct WebhookResponse {
  Outcome outcome = Outcome::kInternal;
  int status = 500;
  // Besides X-Request-Id / Content-Type, which the session always sends.
  HttpHeaders headers;
  std::string body;
  bool close_connection = false;

  // Log fields (never the body or a secret).
  std::string request_id;
  std::string source;
  std::string detail;  // why, for the log only
  std::string event_id;
  std::string event_type;
  std::string secret_label;
  uint64_t sequence = 0;
};

// The answer for an outcome that needs no event: status, body
// {"error":"<code>","reason":"<label>"} (the outcome row's code and label;
// never `detail`, which only goes to the log), Allow / Retry-After where the
// row needs them.
WebhookResponse MakeErrorResponse(Outcome outcome, std::string request_id,
                                  std::string detail = "");

// The answer to an append (200 with the sequence, or 503/500 with why),
// given the response's log fields filled from the request.
WebhookResponse AnswerAppend(WebhookResponse response,
                             const absl::StatusOr<AppendResult>& appended);

// Writes the request's one log line and counts its outcome.
void LogAndCount(IngressMetrics& metrics, const WebhookResponse& response,
                 absl::Duration latency);

class WebhookHandler {
 public:
  struct Options {
    size_t max_body_bytes = size_t{1} << 20;
    // Longer event ids are refused (422 id_too_long): an id is kept in the
    // dedup index for days, so its length is memory an attacker chooses.
    size_t max_event_id_bytes = 256;
    // Largest encoded event (the stored form, raw_json included) accepted:
    // every event must reach a subscriber whose gRPC client keeps the
    // default 4 MiB receive limit, with room for the message around it.
    size_t max_event_bytes = kDefaultMaxEventBytes;
  };

  using ResponseCallback = absl::AnyInvocable<void(WebhookResponse) &&>;

  // `appender` and `metrics` must outlive the handler.
  WebhookHandler(Options options, SourceRegistry sources,
                 EventAppender& appender, IngressMetrics& metrics);

  WebhookHandler(const WebhookHandler&) = delete;
  WebhookHandler& operator=(const WebhookHandler&) = delete;

  // The answer decided from the head alone (route, method, framing, size,
  // content type, draining), or nullopt when the body should be read.
  std::optional<WebhookResponse> CheckHead(const WebhookRequest& request) const;

  // The whole decision (runs CheckHead first); hands a verified, converted
  // event to the appender and answers from its completion.
  void Handle(WebhookRequest request, ResponseCallback done) const;

  // From now on every request is answered 503 + Retry-After.
  void StartDraining() { draining_.store(true, std::memory_order_release); }
  bool draining() const { return draining_.load(std::memory_order_acquire); }

  const Options& options() const { return options_; }
  const SourceRegistry& sources() const { return sources_; }

 private:
  const Options options_;
  const SourceRegistry sources_;
  EventAppender& appender_;
  IngressMetrics& metrics_;
  std::atomic<bool> draining_{false};
};

}  // namespace hookstream::ingress
