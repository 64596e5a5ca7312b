#include "server/ingress/webhook_handler.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/ring/event_ring.h"
#include "common/signature/crypto.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ingress/source_registry.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/memory_store.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::ingress {
namespace {

using ::hookstream::testing::FakeClock;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "test-secret";

std::string Body(absl::string_view id, absl::string_view attempt = "wha_1") {
  return absl::StrCat(
      R"({"account":"acm_1","attemptId":")", attempt,
      R"(","created":"1733267345","data":{"object":{"id":"cus_1","object":"customer","email":"a@example.com"}},"id":")",
      id, R"(","object":"event","request":{},"type":"customer.created"})");
}

std::string Sign(absl::string_view body, absl::string_view key = kSecret) {
  return EncodeHex(HmacSha256(key, body));
}

class WebhookHandlerTest : public ::testing::Test {
 protected:
  WebhookHandlerTest()
      : store_({.max_events = 16, .max_bytes = 1 << 20}, clock_),
        ring_(store_.ring()) {}

  void SetUp() override { handler_ = MakeHandler(MakeSources()); }

  static SourceRegistry MakeSources(GettrxSourceOptions options = {
                                        .secrets = {{"current", kSecret}}}) {
    SourceRegistry sources;
    absl::StatusOr<WebhookSource> gettrx = MakeGettrxSource(std::move(options));
    EXPECT_TRUE(gettrx.ok()) << gettrx.status();
    EXPECT_TRUE(sources.Add(*std::move(gettrx)).ok());
    return sources;
  }

  std::unique_ptr<WebhookHandler> MakeHandler(SourceRegistry sources) {
    return std::make_unique<WebhookHandler>(
        WebhookHandler::Options{.max_body_bytes = 4096}, std::move(sources),
        store_.backend(), metrics_);
  }

  // Runs the handler to its answer: the memory backend completes inline, so
  // the answer is there when Handle returns.
  static WebhookResponse Handle(const WebhookHandler& handler,
                                WebhookRequest request) {
    std::optional<WebhookResponse> response;
    handler.Handle(std::move(request),
                   [&response](WebhookResponse r) { response = std::move(r); });
    EXPECT_TRUE(response.has_value()) << "no answer before Handle returned";
    return response.value_or(WebhookResponse());
  }
  WebhookResponse Handle(WebhookRequest request) {
    return Handle(*handler_, std::move(request));
  }

  WebhookRequest Request(std::string body,
                         std::optional<std::string> signature) {
    WebhookRequest r;
    r.method = "POST";
    r.target = "/v1/webhooks/gettrx";
    r.headers.push_back({"content-type", "application/json"});
    if (signature.has_value()) {
      r.headers.push_back({"x-webhook-signature", *signature});
    }
    r.content_length = body.size();
    r.body = std::move(body);
    r.request_id = "req-1";
    r.received_at = clock_.Now();
    return r;
  }

  WebhookRequest Signed(std::string body) {
    std::string signature = Sign(body);
    return Request(std::move(body), std::move(signature));
  }

  size_t RingCount() const { return ring_.GetInfo().event_count; }

  FakeClock clock_;
  ::hookstream::testing::MemoryStore store_;
  EventRing& ring_;
  IngressMetrics metrics_;
  std::unique_ptr<WebhookHandler> handler_;
};

// Verifies a new, signed event is appended and acknowledged with its
// sequence, and the ring holds the raw bytes.
TEST_F(WebhookHandlerTest, NewEventIsAppendedAnd200) {
  const std::string body = Body("evt_1");
  const WebhookResponse r = Handle(Signed(body));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.outcome, Outcome::kAccepted);
  EXPECT_EQ(r.body, R"({"sequence":1,"duplicate":false})");
  EXPECT_EQ(r.secret_label, "current");
  EXPECT_EQ(r.event_id, "evt_1");
  EXPECT_EQ(r.event_type, "customer.created");
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_FALSE(r.close_connection);
  ASSERT_EQ(RingCount(), 1u);
  StoredEventPtr stored = ring_.Get(1);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->id, "evt_1");
  EXPECT_EQ(stored->RawJson(), body);
  EXPECT_EQ(metrics_.count(Outcome::kAccepted), 0u);  // counted by LogAndCount
  EXPECT_EQ(metrics_.Read().by_secret.at("gettrx/current"), 1u);
}

// Verifies a redelivery (same id, new attemptId) answers 200 with the first
// sequence and duplicate:true, appending nothing.
TEST_F(WebhookHandlerTest, DuplicateAnswersFirstSequenceAndAppendsNothing) {
  ASSERT_EQ(Handle(Signed(Body("evt_0"))).status, 200);
  ASSERT_EQ(Handle(Signed(Body("evt_1", "wha_1"))).sequence, 2u);
  const WebhookResponse again = Handle(Signed(Body("evt_1", "wha_2")));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.outcome, Outcome::kDuplicate);
  EXPECT_EQ(again.body, R"({"sequence":2,"duplicate":true})");
  EXPECT_EQ(RingCount(), 2u);
  EXPECT_THAT(std::string(ring_.Get(2)->RawJson()), HasSubstr("wha_1"));
}

// Verifies malformed JSON, invalid UTF-8 and non-objects answer 400 after a
// valid signature, leaving the ring unchanged.
TEST_F(WebhookHandlerTest, MalformedJsonIs400) {
  for (const std::string& body :
       {std::string(R"({"id":)"), std::string("[1,2]"),
        std::string("{\"id\":\"evt_\xff\",\"type\":\"t\"}"), std::string("")}) {
    const WebhookResponse r = Handle(Signed(body));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.outcome, Outcome::kMalformedJson) << body;
    EXPECT_EQ(r.body, R"({"error":"bad_request","reason":"bad_json"})");
  }
  EXPECT_EQ(RingCount(), 0u);
}

// Verifies valid JSON without a usable id or type answers 422.
TEST_F(WebhookHandlerTest, MissingIdOrTypeIs422) {
  for (const std::string& body :
       {std::string(R"({"type":"customer.created"})"),
        std::string(R"({"id":"evt_1"})"),
        std::string(R"({"id":7,"type":"customer.created"})")}) {
    const WebhookResponse r = Handle(Signed(body));
    EXPECT_EQ(r.status, 422) << body;
    EXPECT_EQ(r.outcome, Outcome::kMissingFields);
    EXPECT_EQ(r.body, R"({"error":"unprocessable","reason":"missing_fields"})");
  }
  EXPECT_EQ(RingCount(), 0u);
}

// Verifies missing, malformed and wrong signatures answer 401 with the same
// body, and that the signature is checked before the JSON is looked at.
TEST_F(WebhookHandlerTest, SignatureFailuresAre401) {
  const std::string body = Body("evt_1");
  const WebhookResponse missing = Handle(Request(body, std::nullopt));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.outcome, Outcome::kMissingSignature);
  const WebhookResponse garbled = Handle(Request(body, "zzz"));
  EXPECT_EQ(garbled.status, 401);
  EXPECT_EQ(garbled.outcome, Outcome::kBadSignature);
  const WebhookResponse wrong =
      Handle(Request(body, Sign(body, "other-secret")));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.outcome, Outcome::kBadSignature);
  EXPECT_THAT(wrong.detail, HasSubstr("none of 1"));
  // Malformed JSON with a bad signature: authentication comes first.
  const WebhookResponse unauthenticated_garbage =
      Handle(Request("{", Sign("}")));
  EXPECT_EQ(unauthenticated_garbage.status, 401);
  for (const WebhookResponse* r : {&missing, &garbled, &wrong}) {
    EXPECT_EQ(r->body, absl::StrCat(R"({"error":"unauthenticated","reason":")",
                                    GetOutcomeInfo(r->outcome).label, R"("})"));
  }
  EXPECT_EQ(RingCount(), 0u);
}

// Verifies the Standard Webhooks strategy: valid → 200, outside the 5-minute
// tolerance either way → 401 stale_timestamp.
TEST_F(WebhookHandlerTest, StandardWebhooksToleranceIs401) {
  handler_ = MakeHandler(MakeSources(
      {.scheme = "standard-webhooks",
       .secrets = {{"sw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}}));
  const std::string key = *DecodeBase64("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  auto make = [&](absl::string_view id, int64_t ts) {
    const std::string body = Body(id);
    const std::string timestamp = absl::StrCat(ts);
    WebhookRequest r = Request(body, std::nullopt);
    r.headers.push_back({"webhook-id", "msg_1"});
    r.headers.push_back({"webhook-timestamp", timestamp});
    r.headers.push_back(
        {"webhook-signature",
         absl::StrCat(
             "v1,", EncodeBase64(HmacSha256(
                        key, absl::StrCat("msg_1.", timestamp, ".", body))))});
    return r;
  };
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  const WebhookResponse ok = Handle(make("evt_1", now - 299));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.secret_label, "sw");
  const WebhookResponse old = Handle(make("evt_2", now - 301));
  EXPECT_EQ(old.status, 401);
  EXPECT_EQ(old.outcome, Outcome::kStaleTimestamp);
  const WebhookResponse future = Handle(make("evt_3", now + 301));
  EXPECT_EQ(future.status, 401);
  EXPECT_EQ(future.outcome, Outcome::kStaleTimestamp);
  EXPECT_EQ(RingCount(), 1u);
}

// Verifies unknown paths answer 404 and other methods 405 with Allow: POST.
TEST_F(WebhookHandlerTest, RoutingAndMethod) {
  for (const std::string target :
       {"/v1/webhooks/other", "/v1/webhooks/", "/v1/webhooks/gettrx/x",
        "/v1/webhooks/GETTRX", "/", "/v1/webhooks/../gettrx"}) {
    WebhookRequest r = Signed(Body("evt_1"));
    r.target = target;
    const WebhookResponse response = Handle(std::move(r));
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(response.body,
              R"({"error":"not_found","reason":"unknown_path"})");
  }
  WebhookRequest with_query = Signed(Body("evt_1"));
  with_query.target = "/v1/webhooks/gettrx?attempt=1";
  EXPECT_EQ(Handle(std::move(with_query)).status, 200);

  WebhookRequest get = Signed(Body("evt_2"));
  get.method = "GET";
  const WebhookResponse response = Handle(std::move(get));
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].name, "allow");
  EXPECT_EQ(response.headers[0].value, "POST");
  EXPECT_EQ(RingCount(), 1u);
}

// Verifies framing limits are decided from the head alone: 411 without a
// length or with chunked encoding, 413 (and close) over the limit.
TEST_F(WebhookHandlerTest, LengthRequiredAndPayloadTooLargeFromHead) {
  WebhookRequest no_length = Signed(Body("evt_1"));
  no_length.content_length.reset();
  no_length.body.clear();
  std::optional<WebhookResponse> r = handler_->CheckHead(no_length);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 411);
  EXPECT_TRUE(r->close_connection);

  WebhookRequest chunked = Signed(Body("evt_1"));
  chunked.chunked = true;
  EXPECT_EQ(Handle(std::move(chunked)).status, 411);

  WebhookRequest big = Signed(Body("evt_1"));
  big.body.clear();
  big.content_length = 4097;
  r = handler_->CheckHead(big);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(r->close_connection);
  EXPECT_EQ(r->body, R"({"error":"payload_too_large","reason":"too_large"})");

  WebhookRequest at_limit = Signed(Body("evt_1"));
  at_limit.content_length = 4096;
  EXPECT_FALSE(handler_->CheckHead(at_limit).has_value());
  EXPECT_EQ(RingCount(), 0u);
}

// Verifies only JSON content types are accepted (415 otherwise).
TEST_F(WebhookHandlerTest, ContentType) {
  int n = 0;
  for (const std::string type :
       {"application/json", "application/json; charset=utf-8",
        "Application/JSON", "application/vnd.gettrx+json"}) {
    WebhookRequest r = Signed(Body(absl::StrCat("evt_", ++n)));
    r.headers[0].value = type;
    EXPECT_EQ(Handle(std::move(r)).status, 200) << type;
  }
  for (const std::string type :
       {"text/plain", "application/x-www-form-urlencoded", "",
        "application/jsonx"}) {
    WebhookRequest r = Signed(Body("evt_x"));
    r.headers[0].value = type;
    const WebhookResponse response = Handle(std::move(r));
    EXPECT_EQ(response.status, 415) << type;
    EXPECT_EQ(response.outcome, Outcome::kUnsupportedMediaType);
  }
  WebhookRequest none = Signed(Body("evt_y"));
  none.headers.erase(none.headers.begin());
  EXPECT_EQ(Handle(std::move(none)).status, 415);
  EXPECT_EQ(RingCount(), 4u);
}

// Verifies draining answers 503 with Retry-After and closes, appending
// nothing.
TEST_F(WebhookHandlerTest, DrainingIs503) {
  handler_->StartDraining();
  const WebhookResponse r = Handle(Signed(Body("evt_1")));
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.close_connection);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].name, "retry-after");
  EXPECT_EQ(RingCount(), 0u);
}

// Verifies an event larger than the ring's whole budget is a 5xx (our
// configuration), never a 4xx or a silent loss.
TEST_F(WebhookHandlerTest, RingRefusalIs500) {
  ::hookstream::testing::MemoryStore tiny({.max_events = 4, .max_bytes = 64},
                                          clock_);
  WebhookHandler handler({.max_body_bytes = 4096}, MakeSources(),
                         tiny.backend(), metrics_);
  const WebhookResponse r = Handle(handler, Signed(Body("evt_1")));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, R"({"error":"internal","reason":"internal"})");
  EXPECT_EQ(tiny.ring().GetInfo().event_count, 0u);
}

// Verifies a second provider is one more registry entry with its own
// converter and verifier, and converter errors map to 400/422/503/500.
TEST_F(WebhookHandlerTest, AnotherSourceNeedsNoCoreChange) {
  SourceRegistry sources = MakeSources();
  absl::StatusOr<std::shared_ptr<const Verifier>> verifier =
      MakeVerifier("hmac-sha256", {{"acme-key", "acme-secret"}});
  ASSERT_TRUE(verifier.ok());
  ASSERT_TRUE(sources
                  .Add({.name = "acme",
                        .verifier = *verifier,
                        .convert = [](absl::string_view body,
                                      absl::Time) -> absl::StatusOr<v1::Event> {
                          if (body == "busy") {
                            return absl::ResourceExhaustedError("busy");
                          }
                          if (body == "bug") return absl::InternalError("x");
                          v1::Event e;
                          e.set_id(std::string(body));
                          e.set_type("acme.thing");
                          return e;
                        }})
                  .ok());
  handler_ = MakeHandler(std::move(sources));
  auto acme = [&](std::string body) {
    WebhookRequest r = Request(body, Sign(body, "acme-secret"));
    r.target = "/v1/webhooks/acme";
    return Handle(std::move(r));
  };
  const WebhookResponse ok = acme("acme_1");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ring_.Get(1)->id, "acme_1");
  EXPECT_EQ(ring_.Get(1)->ToEvent(false).source(), "acme");
  EXPECT_EQ(acme("busy").status, 503);
  EXPECT_EQ(acme("bug").status, 500);
  // GETTRX's secret does not open acme's door.
  WebhookRequest cross = Signed("acme_2");
  cross.target = "/v1/webhooks/acme";
  EXPECT_EQ(Handle(std::move(cross)).status, 401);
}

// Verifies insecure mode accepts unsigned requests and counts them.
TEST_F(WebhookHandlerTest, UnsignedModeCountsEveryRequest) {
  handler_ = MakeHandler(MakeSources({.allow_unsigned = true}));
  const WebhookResponse r = Handle(Request(Body("evt_1"), std::nullopt));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.secret_label, "UNSIGNED");
  EXPECT_EQ(metrics_.Read().unsigned_requests, 1u);
}

// Verifies the log line carries the request's fields and never the body or
// the secret, and that LogAndCount counts the outcome.
TEST_F(WebhookHandlerTest, LogLineHasFieldsButNoBodyOrSecret) {
  const WebhookResponse r = Handle(Signed(Body("evt_1")));
  ::testing::internal::CaptureStderr();
  LogAndCount(metrics_, r, absl::Microseconds(412));
  const std::string line = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(line, HasSubstr("request_id=req-1"));
  EXPECT_THAT(line, HasSubstr("status=200"));
  EXPECT_THAT(line, HasSubstr("reason=accepted"));
  EXPECT_THAT(line, HasSubstr("event_id=evt_1"));
  EXPECT_THAT(line, HasSubstr("event_type=customer.created"));
  EXPECT_THAT(line, HasSubstr("sequence=1"));
  EXPECT_THAT(line, HasSubstr("secret=current"));
  EXPECT_THAT(line, HasSubstr("latency_us=412"));
  EXPECT_THAT(line, Not(HasSubstr(kSecret)));
  EXPECT_THAT(line, Not(HasSubstr("a@example.com")));
  EXPECT_EQ(metrics_.count(Outcome::kAccepted), 1u);
}

}  // namespace
}  // namespace hookstream::ingress
