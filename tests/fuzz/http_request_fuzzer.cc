// The ingress's HTTP request path, configured as HttpSession configures it
// (server/ingress/http_session.cc): Beast's request parser with the header
// limit, no body limit until the head is accepted, then the body limit; the
// exact header-size check; WebhookHandler::CheckHead and Handle (signature,
// conversion, id length, the memory backend). The first input byte picks
// the read chunk size, so that every chunking of the same bytes is tried
// (the header limit must not depend on it). Never crashes; every answer has
// a status the outcome table knows; an accepted head is never over the
// limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/backend/memory_backend.h"
#include "common/base/clock.h"
#include "common/ring/event_ring.h"
#include "common/signature/crypto.h"
#include "common/store/stream_identity.h"
#include "server/ingress/ingress_metrics.h"
#include "server/ingress/outcomes.h"
#include "server/ingress/source_registry.h"
#include "server/ingress/webhook_handler.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace http = boost::beast::http;
using hookstream::ingress::WebhookRequest;
using hookstream::ingress::WebhookResponse;

constexpr char kSecret[] = "fuzz-secret-0123456789abcdef";
constexpr size_t kMaxHeader = 2048;
constexpr size_t kMaxBody = 64 << 10;

class FixedClock final : public hookstream::Clock {
 public:
  absl::Time Now() const override { return absl::FromUnixSeconds(1733267345); }
};

struct Ingress {
  Ingress()
      : ring({.max_events = 64, .max_bytes = 1 << 20}, clock,
             hookstream::NewStreamIdentity(clock.Now())),
        backend(ring, clock),
        handler({.max_body_bytes = kMaxBody, .max_event_id_bytes = 256},
                Sources(), backend, metrics) {}
  static hookstream::ingress::SourceRegistry Sources() {
    hookstream::ingress::SourceRegistry sources;
    auto gettrx = hookstream::ingress::MakeGettrxSource(
        {.secrets = {{"current", kSecret}}});
    if (!gettrx.ok() || !sources.Add(*std::move(gettrx)).ok()) std::abort();
    return sources;
  }
  FixedClock clock;
  hookstream::EventRing ring;
  hookstream::MemoryBackend backend;
  hookstream::ingress::IngressMetrics metrics;
  hookstream::ingress::WebhookHandler handler;
};

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const std::string& body : hookstream::fuzz::SeedBodies()) {
    const std::string sig =
        hookstream::EncodeHex(hookstream::HmacSha256(kSecret, body));
    seeds.push_back(absl::StrCat(
        "\x10POST /v1/webhooks/gettrx HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: application/json\r\nx-webhook-signature: sha256=",
        sig, "\r\nContent-Length: ", body.size(), "\r\n\r\n", body));
  }
  seeds.push_back("\x01GET /v1/webhooks/gettrx HTTP/1.1\r\nHost: x\r\n\r\n");
  seeds.push_back(
      "\x07POST /v1/webhooks/gettrx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\nhello\r\n0\r\n\r\n");
  return seeds;
}

void Check(const WebhookResponse& r) {
  const auto& row = hookstream::ingress::GetOutcomeInfo(r.outcome);
  HOOKSTREAM_FUZZ_CHECK(r.status == row.http_status || r.status == 200);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Ingress* ingress = new Ingress();
  if (size == 0) return 0;
  const size_t chunk = std::max<size_t>(1, data[0]);
  const char* p = reinterpret_cast<const char*>(data) + 1;
  const char* const end = reinterpret_cast<const char*>(data) + size;

  http::request_parser<http::string_body> parser;
  parser.header_limit(kMaxHeader);
  parser.body_limit(boost::none);
  parser.eager(false);
  // Feed like a socket: the buffer holds what arrived and was not consumed.
  std::string buffer;
  size_t head_bytes = 0;
  boost::beast::error_code ec;
  while (!parser.is_header_done()) {
    if (p == end && buffer.empty()) return 0;
    const size_t take = std::min<size_t>(chunk, end - p);
    buffer.append(p, take);
    p += take;
    const size_t used = parser.put(boost::asio::buffer(buffer), ec);
    buffer.erase(0, used);
    head_bytes += used;
    if (ec == http::error::need_more) {
      if (take == 0) return 0;  // truncated: the client went away
      ec = {};
      continue;
    }
    if (ec) return 0;  // 400 / 431 in the session
  }
  if (head_bytes > kMaxHeader) return 0;  // the session's exact 431

  WebhookRequest request;
  const auto& head = parser.get();
  request.method = std::string(head.method_string());
  request.target = std::string(head.target());
  request.received_at = ingress->clock.Now();
  request.request_id = "fuzz";
  bool transfer_encoding = false;
  for (const auto& field : head) {
    hookstream::ingress::HttpHeader h{
        absl::AsciiStrToLower(std::string(field.name_string())),
        std::string(field.value())};
    if (h.name == "transfer-encoding") transfer_encoding = true;
    request.headers.push_back(std::move(h));
  }
  if (auto length = parser.content_length()) request.content_length = *length;
  request.chunked = parser.chunked() || transfer_encoding;
  if (std::optional<WebhookResponse> early =
          ingress->handler.CheckHead(request)) {
    Check(*early);
    return 0;
  }
  // The body, as the session reads it.
  parser.body_limit(kMaxBody);
  parser.eager(true);
  buffer.append(p, end - p);
  while (!parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(buffer), ec);
    buffer.erase(0, used);
    if (ec) return 0;  // truncated or over the limit: 408 / 413 / closed
    if (used == 0) return 0;
  }
  request.body = std::move(parser.get().body());
  HOOKSTREAM_FUZZ_CHECK(request.content_length.has_value() &&
                        request.body.size() == *request.content_length);
  bool answered = false;
  ingress->handler.Handle(std::move(request), [&](WebhookResponse r) {
    Check(r);
    answered = true;
  });
  HOOKSTREAM_FUZZ_CHECK(answered);  // the memory backend completes inline
  return 0;
}
