#include "server/ingress/webhook_handler.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/signature/verifier.h"

namespace hookstream::ingress {
namespace {

// application/json or any application/<x>+json, with optional parameters.
bool IsJsonContentType(absl::string_view value) {
  absl::string_view type =
      absl::StripAsciiWhitespace(value.substr(0, value.find(';')));
  if (absl::EqualsIgnoreCase(type, "application/json")) return true;
  return absl::StartsWithIgnoreCase(type, "application/") &&
         absl::EndsWithIgnoreCase(type, "+json");
}

Outcome OutcomeForVerifyFailure(const absl::Status& status) {
  const absl::string_view reason = VerifyFailureReason(status);
  if (reason == kReasonMissingSignature) return Outcome::kMissingSignature;
  if (reason == kReasonTimestampTooOld || reason == kReasonTimestampTooNew) {
    return Outcome::kStaleTimestamp;
  }
  return Outcome::kBadSignature;
}

Outcome OutcomeForConversionFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return Outcome::kMalformedJson;
    case absl::StatusCode::kFailedPrecondition:
      return Outcome::kMissingFields;
    case absl::StatusCode::kResourceExhausted:
      return Outcome::kUnavailable;
    default:
      return Outcome::kInternal;
  }
}

}  // namespace

std::optional<absl::string_view> FindHeader(const HttpHeaders& headers,
                                            absl::string_view lower_name) {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) return absl::string_view(h.value);
  }
  return std::nullopt;
}

WebhookResponse MakeErrorResponse(Outcome outcome, std::string request_id,
                                  std::string detail) {
  const OutcomeInfo& row = GetOutcomeInfo(outcome);
  WebhookResponse response;
  response.outcome = outcome;
  response.status = row.http_status;
  response.close_connection = row.close_connection;
  response.request_id = std::move(request_id);
  response.detail = std::move(detail);
  if (!row.error_code.empty()) {
    // The reason is the outcome's fixed label (never the free-text detail,
    // which may quote the request): a sender or `hookstream send` can tell
    // a bad signature from a stale timestamp without the server's log.
    response.body = absl::StrCat(R"({"error":")", row.error_code,
                                 R"(","reason":")", row.label, R"("})");
  }
  if (outcome == Outcome::kMethodNotAllowed) {
    response.headers.push_back({"allow", "POST"});
  }
  if (row.http_status == 503) {
    response.headers.push_back({"retry-after", "1"});
  }
  return response;
}

void LogAndCount(IngressMetrics& metrics, const WebhookResponse& response,
                 absl::Duration latency) {
  metrics.Count(response.outcome, response.source);
  metrics.request_duration().Observe(absl::ToDoubleSeconds(latency));
  // Unsigned requests (insecure mode) warn on every line, so the mode can
  // never go unnoticed in the log.
  const LogLevel level =
      response.status >= 500 || response.secret_label == kUnsignedLabel
          ? LogLevel::kWarning
      : response.status == 0 ? LogLevel::kDebug
                             : LogLevel::kInfo;
  LogRecord record(level, "webhook");
  record.Add("request_id", response.request_id)
      .Add("status", response.status)
      .Add("reason", GetOutcomeInfo(response.outcome).label);
  if (!response.source.empty()) record.Add("source", response.source);
  if (!response.event_id.empty()) record.Add("event_id", response.event_id);
  if (!response.event_type.empty()) {
    record.Add("event_type", response.event_type);
  }
  if (response.sequence != 0) record.Add("sequence", response.sequence);
  if (!response.secret_label.empty()) {
    record.Add("secret", response.secret_label);
  }
  if (!response.detail.empty()) record.Add("detail", response.detail);
  record.Add("latency_us", absl::ToInt64Microseconds(latency));
}

WebhookHandler::WebhookHandler(Options options, SourceRegistry sources,
                               EventAppender& appender, IngressMetrics& metrics)
    : options_(options),
      sources_(std::move(sources)),
      appender_(appender),
      metrics_(metrics) {}

std::optional<WebhookResponse> WebhookHandler::CheckHead(
    const WebhookRequest& request) const {
  auto refuse = [&](Outcome outcome, std::string detail) {
    return MakeErrorResponse(outcome, request.request_id, std::move(detail));
  };
  if (draining()) return refuse(Outcome::kDraining, "server is draining");
  const WebhookSource* source = sources_.FindByTarget(request.target);
  if (source == nullptr) {
    // Neither the path nor the method is echoed back.
    return refuse(Outcome::kUnknownPath, "no webhook source at this path");
  }
  if (request.method != "POST") {
    WebhookResponse r = refuse(Outcome::kMethodNotAllowed,
                               absl::StrCat("method ", request.method));
    r.source = source->name;
    return r;
  }
  std::optional<WebhookResponse> early;
  if (request.chunked) {
    early = refuse(Outcome::kLengthRequired, "chunked transfer encoding");
  } else if (!request.content_length.has_value()) {
    early = refuse(Outcome::kLengthRequired, "no content-length");
  } else if (*request.content_length > options_.max_body_bytes) {
    early = refuse(Outcome::kPayloadTooLarge,
                   absl::StrCat("content-length ", *request.content_length,
                                " > limit ", options_.max_body_bytes));
  } else if (std::optional<absl::string_view> type =
                 FindHeader(request.headers, "content-type");
             !type.has_value() || !IsJsonContentType(*type)) {
    early = refuse(
        Outcome::kUnsupportedMediaType,
        type.has_value() ? "content-type is not JSON" : "no content-type");
  }
  if (early.has_value()) early->source = source->name;
  return early;
}

void WebhookHandler::Handle(WebhookRequest request,
                            ResponseCallback done) const {
  if (std::optional<WebhookResponse> early = CheckHead(request)) {
    std::move(done)(*std::move(early));
    return;
  }
  const WebhookSource& source = *sources_.FindByTarget(request.target);
  auto refuse = [&](Outcome outcome, std::string detail) {
    WebhookResponse r =
        MakeErrorResponse(outcome, request.request_id, std::move(detail));
    r.source = source.name;
    return r;
  };
  // The session reads exactly Content-Length bytes; anything else is a bug
  // in the caller, and the signature would not cover what was sent.
  if (request.body.size() != *request.content_length) {
    std::move(done)(
        refuse(Outcome::kBadRequest, "body length != content-length"));
    return;
  }

  std::string secret_label;
  if (source.verifier != nullptr) {
    const HttpHeaders& headers = request.headers;
    auto lookup = [&headers](absl::string_view name) {
      return FindHeader(headers, name);
    };
    absl::StatusOr<std::string> matched = source.verifier->Verify(
        {.header = lookup, .body = request.body}, request.received_at);
    if (!matched.ok()) {
      std::move(done)(refuse(OutcomeForVerifyFailure(matched.status()),
                             std::string(matched.status().message())));
      return;
    }
    secret_label = *std::move(matched);
    metrics_.CountSecretMatch(source.name, secret_label);
  } else {
    metrics_.CountUnsigned();
    secret_label = std::string(kUnsignedLabel);
  }

  absl::StatusOr<v1::Event> event =
      source.convert(request.body, request.received_at);
  if (!event.ok()) {
    WebhookResponse r = refuse(OutcomeForConversionFailure(event.status()),
                               std::string(event.status().message()));
    r.secret_label = std::move(secret_label);
    std::move(done)(std::move(r));
    return;
  }
  if (event->id().size() > options_.max_event_id_bytes) {
    // The id is not echoed (nor logged): its length is the problem.
    WebhookResponse r =
        refuse(Outcome::kEventIdTooLong,
               absl::StrCat("event id of ", event->id().size(),
                            " bytes > limit ", options_.max_event_id_bytes));
    r.secret_label = std::move(secret_label);
    r.event_type = event->type().substr(0, 128);
    std::move(done)(std::move(r));
    return;
  }
  if (event->source().empty()) event->set_source(source.name);
  // Refused before it is appended, so before it is acknowledged.
  if (const size_t bytes = event->ByteSizeLong();
      bytes > options_.max_event_bytes) {
    WebhookResponse r = refuse(
        Outcome::kEventTooLarge,
        absl::StrCat("the converted event takes ", bytes, " bytes > limit ",
                     options_.max_event_bytes, " (--max_event_bytes)"));
    r.secret_label = std::move(secret_label);
    r.event_id = event->id();
    r.event_type = event->type();
    std::move(done)(std::move(r));
    return;
  }

  // What the answer carries besides the append's result; filled now, while
  // the request is at hand.
  WebhookResponse response;
  response.request_id = std::move(request.request_id);
  response.source = source.name;
  response.secret_label = std::move(secret_label);
  response.event_id = event->id();
  response.event_type = event->type();
  appender_.Append(
      *std::move(event),
      [response = std::move(response),
       done = std::move(done)](absl::StatusOr<AppendResult> appended) mutable {
        std::move(done)(AnswerAppend(std::move(response), appended));
      });
}

WebhookResponse AnswerAppend(WebhookResponse response,
                             const absl::StatusOr<AppendResult>& appended) {
  if (!appended.ok()) {
    // UNAVAILABLE: the backend kept nothing and can again later (a full
    // disk, a failed fsync, no JetStream leader): 503 + Retry-After, so the
    // sender retries. Anything else (one event larger than the whole store,
    // a bug) is our trouble too: 5xx, never 4xx, so the sender keeps the
    // event.
    const Outcome outcome = absl::IsUnavailable(appended.status())
                                ? Outcome::kUnavailable
                                : Outcome::kInternal;
    WebhookResponse r = MakeErrorResponse(
        outcome, std::move(response.request_id),
        absl::StrCat("not kept: ", appended.status().message()));
    r.source = std::move(response.source);
    r.secret_label = std::move(response.secret_label);
    r.event_id = std::move(response.event_id);
    r.event_type = std::move(response.event_type);
    return r;
  }
  response.outcome =
      appended->duplicate ? Outcome::kDuplicate : Outcome::kAccepted;
  response.status = 200;
  response.sequence = appended->sequence;
  response.body =
      absl::StrCat(R"({"sequence":)", appended->sequence, R"(,"duplicate":)",
                   appended->duplicate ? "true" : "false", "}");
  return response;
}

}  // namespace hookstream::ingress
