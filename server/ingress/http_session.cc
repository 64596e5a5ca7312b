#include "server/ingress/http_session.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/ssl/error.hpp"
#include "boost/beast/core/bind_handler.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "common/base/log.h"

namespace hookstream::ingress {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// How long a closing connection is drained after its last answer, so the
// client reads the answer rather than a reset caused by its unread upload.
constexpr absl::Duration kMaxLinger = absl::Seconds(2);
constexpr size_t kMinLingerBytes = size_t{8} << 20;

std::string NewRequestId() {
  thread_local absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

std::string ToString(beast::string_view sv) {
  return std::string(sv.data(), sv.size());
}

bool IsHttpParseError(const boost::system::error_code& ec) {
  return ec.category() ==
         http::make_error_code(http::error::bad_method).category();
}

}  // namespace

HttpSession::HttpSession(tcp::socket socket, net::ssl::context& tls,
                         const Options& options, const WebhookHandler& handler,
                         IngressMetrics& metrics, const Clock& clock,
                         ConnectionSlot slot)
    : stream_(std::move(socket), tls),
      deadline_(stream_.get_executor()),
      options_(options),
      handler_(handler),
      metrics_(metrics),
      clock_(clock),
      slot_(std::move(slot)) {}

void HttpSession::Start() {
  net::dispatch(
      stream_.get_executor(),
      beast::bind_front_handler(&HttpSession::DoHandshake, shared_from_this()));
}

void HttpSession::DoHandshake() {
  phase_ = Phase::kHandshake;
  ArmDeadline(Phase::kHandshake, options_.header_timeout);
  stream_.async_handshake(
      net::ssl::stream_base::server,
      beast::bind_front_handler(&HttpSession::OnHandshake, shared_from_this()));
}

void HttpSession::OnHandshake(ErrorCode ec) {
  DisarmDeadline();
  if (ec) {
    // Scanners, plain HTTP on the TLS port, expired handshakes: a counter,
    // one line per 10 s however many, no answer (there is no channel to
    // answer on).
    metrics_.CountTlsHandshakeFailure();
    if (uint64_t suppressed = 0;
        metrics_.handshake_failure_log().Allow(clock_.Now(), &suppressed)) {
      LogRecord(LogLevel::kInfo, "tls handshake failed")
          .Add("error", ec.message())
          .Add("timed_out", deadline_expired_)
          .Add("suppressed", suppressed);
    }
    CloseSocket();
    return;
  }
  DoWaitForRequest();
}

void HttpSession::BeginRequest() {
  request_ = WebhookRequest();
  request_.request_id = NewRequestId();
  request_start_ = clock_.Now();
  client_keep_alive_ = false;
  early_response_.reset();
}

void HttpSession::DoWaitForRequest() {
  BeginRequest();
  if (buffer_.size() > 0) {  // the client pipelined its next request
    DoReadHeader();
    return;
  }
  phase_ = Phase::kWaitForRequest;
  ArmDeadline(Phase::kWaitForRequest,
              requests_served_ == 0 ? options_.header_timeout
              : trusted_            ? options_.idle_timeout
                                    : std::min(options_.idle_timeout,
                                               options_.untrusted_idle_timeout));
  stream_.async_read_some(buffer_.prepare(4096),
                          beast::bind_front_handler(&HttpSession::OnFirstBytes,
                                                    shared_from_this()));
}

void HttpSession::OnFirstBytes(ErrorCode ec, size_t bytes) {
  DisarmDeadline();
  if (ec) {
    // An idle keep-alive connection just ends. A fresh connection that says
    // nothing after its handshake is a slow client: 408.
    if (deadline_expired_ && requests_served_ == 0) {
      OnReadError(ec);
    } else {
      CloseSocket();
    }
    return;
  }
  buffer_.commit(bytes);
  request_start_ = clock_.Now();
  DoReadHeader();
}

void HttpSession::DoReadHeader() {
  phase_ = Phase::kReadHeader;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(options_.max_header_bytes, UINT32_MAX)));
  // The body limit is decided by the handler from Content-Length once the
  // head is read (413); Beast would otherwise fail the header read itself.
  parser_->body_limit(boost::none);
  ArmDeadline(Phase::kReadHeader, options_.header_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::OnReadHeader,
                                                    shared_from_this()));
}

void HttpSession::OnReadHeader(ErrorCode ec, size_t bytes) {
  DisarmDeadline();
  if (ec) {
    OnReadError(ec);
    return;
  }
  // Beast checks its header_limit per parse step, so depending on how the
  // bytes arrived a head slightly over it can pass; `bytes` is what the
  // parser consumed for this head, which makes the limit exact.
  if (bytes > options_.max_header_bytes) {
    OnReadError(http::error::header_limit);
    return;
  }
  const auto& head = parser_->get();
  client_keep_alive_ = head.keep_alive();
  request_.method = ToString(head.method_string());
  request_.target = ToString(head.target());
  request_.received_at = clock_.Now();
  bool has_transfer_encoding = false;
  for (const auto& field : head) {
    HttpHeader header{absl::AsciiStrToLower(ToString(field.name_string())),
                      ToString(field.value())};
    if (header.name == "transfer-encoding") has_transfer_encoding = true;
    request_.headers.push_back(std::move(header));
  }
  if (boost::optional<uint64_t> length = parser_->content_length()) {
    request_.content_length = *length;
  }
  request_.chunked = parser_->chunked() || has_transfer_encoding;

  const std::optional<absl::string_view> expect =
      FindHeader(request_.headers, "expect");
  const bool expects_continue =
      expect.has_value() && absl::EqualsIgnoreCase(*expect, "100-continue");
  std::optional<WebhookResponse> early = RateLimit();
  if (!early.has_value()) early = handler_.CheckHead(request_);
  if (early.has_value()) {
    const uint64_t length = request_.content_length.value_or(0);
    // A client expecting 100-continue sends no body before it has one: answer
    // now rather than wait for bytes that will not come.
    if (!early->close_connection && !request_.chunked && !expects_continue &&
        length > 0 && length <= options_.max_body_bytes) {
      // A refusal the connection survives (404, 405, 415): read and drop
      // the body so the next request starts at a message boundary.
      early_response_ = *std::move(early);
      DoReadBody();
      return;
    }
    if (request_.chunked || length > 0) early->close_connection = true;
    Respond(*std::move(early));
    return;
  }
  if (expects_continue) {
    DoContinue();
    return;
  }
  DoReadBody();
}

std::optional<WebhookResponse> HttpSession::RateLimit() const {
  PeerLimits* peers = slot_.peers();
  if (peers == nullptr || !peers->rate_limited()) return std::nullopt;
  const std::optional<absl::Duration> wait =
      peers->TakeRequestToken(slot_.peer());
  if (!wait.has_value()) return std::nullopt;
  const int64_t seconds = std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(*wait, absl::Seconds(1))));
  WebhookResponse r = MakeErrorResponse(
      Outcome::kRateLimited, request_.request_id,
      absl::StrCat("peer ", slot_.peer().to_string(), " over ",
                   peers->options().rate_per_second, " requests/s"));
  r.headers.push_back({"retry-after", absl::StrCat(seconds)});
  return r;
}

void HttpSession::DoContinue() {
  phase_ = Phase::kWrite;
  continue_.emplace(http::status::continue_, 11);
  ArmDeadline(Phase::kWrite, options_.write_timeout);
  http::async_write(stream_, *continue_,
                    beast::bind_front_handler(&HttpSession::OnContinueWritten,
                                              shared_from_this()));
}

void HttpSession::OnContinueWritten(ErrorCode ec, size_t /*bytes*/) {
  DisarmDeadline();
  continue_.reset();
  if (ec) {
    CloseSocket();
    return;
  }
  DoReadBody();
}

void HttpSession::DoReadBody() {
  phase_ = Phase::kReadBody;
  parser_->body_limit(options_.max_body_bytes);
  ArmDeadline(Phase::kReadBody, options_.body_timeout);
  http::async_read(
      stream_, buffer_, *parser_,
      beast::bind_front_handler(&HttpSession::OnReadBody, shared_from_this()));
}

void HttpSession::OnReadBody(ErrorCode ec, size_t /*bytes*/) {
  DisarmDeadline();
  if (ec) {
    OnReadError(ec);
    return;
  }
  request_.body = std::move(parser_->get().body());
  parser_.reset();
  if (early_response_.has_value()) {
    WebhookResponse early = *std::move(early_response_);
    early_response_.reset();
    Respond(std::move(early));
    return;
  }
  // The answer comes from the appender's completion, once the event is
  // durable: maybe inline, maybe later on a backend thread. Either way it is
  // sent from this session's own loop, which meanwhile serves the others.
  phase_ = Phase::kAwaitDurable;
  handler_.Handle(std::move(request_), [self = shared_from_this()](
                                           WebhookResponse response) mutable {
    auto executor = self->stream_.get_executor();
    net::dispatch(executor, [self = std::move(self),
                             response = std::move(response)]() mutable {
      self->Respond(std::move(response));
    });
  });
}

void HttpSession::OnReadError(ErrorCode ec) {
  const std::string& id = request_.request_id;
  if (deadline_expired_) {
    Respond(MakeErrorResponse(Outcome::kRequestTimeout, id,
                              phase_ == Phase::kReadBody
                                  ? "body not received in time"
                                  : "header not received in time"));
    return;
  }
  if (ec == http::error::header_limit) {
    Respond(MakeErrorResponse(Outcome::kHeadersTooLarge, id,
                              "header larger than the limit"));
    return;
  }
  if (ec == http::error::body_limit) {
    Respond(MakeErrorResponse(Outcome::kPayloadTooLarge, id,
                              "body larger than the limit"));
    return;
  }
  if (ec == http::error::end_of_stream) {
    // A clean close between requests.
    CloseSocket();
    return;
  }
  if (IsHttpParseError(ec) && ec != http::error::partial_message) {
    Respond(MakeErrorResponse(Outcome::kBadRequest, id, ec.message()));
    return;
  }
  // The client went away (EOF mid-message, reset, TLS truncation): nobody
  // to answer; log and count it.
  Respond(MakeErrorResponse(
      Outcome::kClientClosed, id,
      absl::StrCat(
          phase_ == Phase::kReadBody ? "during body: " : "during header: ",
          ec.message())));
}

void HttpSession::Respond(WebhookResponse response) {
  LogAndCount(metrics_, response, clock_.Now() - request_start_);
  if (!response.secret_label.empty()) trusted_ = true;
  if (response.status == 0) {
    CloseSocket();
    return;
  }
  const bool close =
      response.close_connection || !client_keep_alive_ || handler_.draining();
  response_.emplace(static_cast<http::status>(response.status), 11);
  auto& res = *response_;
  res.set(http::field::server, "hookstream");
  res.set("X-Request-Id", response.request_id);
  res.set(http::field::cache_control, "no-store");
  if (!response.body.empty()) {
    res.set(http::field::content_type, "application/json");
  }
  for (const HttpHeader& header : response.headers) {
    res.set(header.name, header.value);
  }
  res.body() = std::move(response.body);
  res.keep_alive(!close);
  res.prepare_payload();
  phase_ = Phase::kWrite;
  ArmDeadline(Phase::kWrite, options_.write_timeout);
  http::async_write(stream_, res,
                    beast::bind_front_handler(&HttpSession::OnWrite,
                                              shared_from_this(), close));
}

void HttpSession::OnWrite(bool close, ErrorCode ec, size_t /*bytes*/) {
  DisarmDeadline();
  response_.reset();
  if (ec) {
    CloseSocket();
    return;
  }
  ++requests_served_;
  if (close) {
    DoLingeringClose();
    return;
  }
  DoWaitForRequest();
}

void HttpSession::DoLingeringClose() {
  phase_ = Phase::kLinger;
  ErrorCode ignored;
  stream_.lowest_layer().shutdown(tcp::socket::shutdown_send, ignored);
  ArmDeadline(Phase::kLinger, std::min(kMaxLinger, options_.header_timeout));
  stream_.next_layer().async_read_some(
      net::buffer(linger_buffer_),
      beast::bind_front_handler(&HttpSession::OnLinger, shared_from_this()));
}

void HttpSession::OnLinger(ErrorCode ec, size_t bytes) {
  lingered_bytes_ += bytes;
  // Enough for a client that keeps uploading an oversized body after its
  // 413 to finish and read the answer; the linger deadline bounds the time.
  const size_t cap = std::max(4 * options_.max_body_bytes, kMinLingerBytes);
  if (ec || lingered_bytes_ > cap) {
    CloseSocket();
    return;
  }
  // The deadline armed in DoLingeringClose still runs: it bounds the whole
  // drain, not each read.
  stream_.next_layer().async_read_some(
      net::buffer(linger_buffer_),
      beast::bind_front_handler(&HttpSession::OnLinger, shared_from_this()));
}

void HttpSession::CloseSocket() {
  DisarmDeadline();
  ErrorCode ignored;
  stream_.lowest_layer().close(ignored);
}

void HttpSession::ArmDeadline(Phase /*phase*/, absl::Duration timeout) {
  ++deadline_generation_;
  deadline_expired_ = false;
  deadline_.expires_after(absl::ToChronoNanoseconds(timeout));
  deadline_.async_wait([self = shared_from_this(),
                        generation = deadline_generation_](ErrorCode ec) {
    self->OnDeadline(generation, ec);
  });
}

void HttpSession::DisarmDeadline() {
  ++deadline_generation_;
  deadline_.cancel();
}

void HttpSession::OnDeadline(uint64_t generation, ErrorCode ec) {
  if (ec == net::error::operation_aborted ||
      generation != deadline_generation_) {
    return;
  }
  deadline_expired_ = true;
  ErrorCode ignored;
  switch (phase_) {
    case Phase::kWaitForRequest:
    case Phase::kReadHeader:
    case Phase::kReadBody:
      // The read handler sees operation_aborted and answers 408 (the TLS
      // state is intact: only the socket read was cancelled).
      stream_.lowest_layer().cancel(ignored);
      break;
    case Phase::kAwaitDurable:
      break;  // no deadline is armed while the backend keeps the event
    case Phase::kWrite:
      // The client stopped reading (its receive window is full): closing
      // fails the pending write, whose handler ends the session. Nothing
      // waits on it meanwhile: the write is asynchronous.
      metrics_.CountWriteTimeout();
      if (uint64_t suppressed = 0;
          metrics_.write_timeout_log().Allow(clock_.Now(), &suppressed)) {
        LogRecord(LogLevel::kWarning, "ingress write timed out")
            .Add("peer", slot_.peer().to_string())
            .Add("timeout", absl::FormatDuration(options_.write_timeout))
            .Add("suppressed", suppressed);
      }
      stream_.lowest_layer().close(ignored);
      break;
    case Phase::kHandshake:
    case Phase::kLinger:
      stream_.lowest_layer().close(ignored);
      break;
  }
}

}  // namespace hookstream::ingress
