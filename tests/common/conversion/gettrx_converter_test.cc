#include "common/conversion/gettrx_converter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"

namespace hookstream {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const absl::Time kReceivedAt = absl::FromUnixMillis(1733267346123);

std::string ReadTestdata(absl::string_view name) {
  const std::string path =
      absl::StrCat(HOOKSTREAM_TESTDATA_DIR, "/gettrx/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The partial seed examples stop before the envelope's `id` (they are the
// readable start of documented deliveries). As they are, they must be
// refused; completed with this id they must convert.
constexpr absl::string_view kPartialId = "evt_partial_example";

std::string CompletePartial(const std::string& body) {
  const size_t brace = body.find('{');
  return absl::StrCat(body.substr(0, brace + 1), "\n  \"id\": \"", kPartialId,
                      "\",", body.substr(brace + 1));
}

bool IsPartial(absl::string_view name) {
  return absl::StartsWith(name, "partial/");
}

v1::Event ConvertFile(absl::string_view name) {
  std::string body = ReadTestdata(name);
  if (IsPartial(name)) body = CompletePartial(body);
  absl::StatusOr<v1::Event> event = ConvertGettrxEvent(body, kReceivedAt);
  EXPECT_TRUE(event.ok()) << name << ": " << event.status();
  return event.ok() ? *std::move(event) : v1::Event();
}

// ---------------------------------------------------------------------------
// An independent oracle: walks the JSON (parsed by nlohmann's own tree) and
// the typed message side by side through protobuf reflection. A JSON key
// maps to the field whose json_name equals it ignoring case (so
// `businessNameDBA` → business_name_dba). Every key must land in a field,
// every set field must come from a key, and the values must agree.

const FieldDescriptor* FieldForKey(const Message& m, const std::string& key) {
  const auto* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    if (absl::EqualsIgnoreCase(d->field(i)->json_name(), key)) {
      return d->field(i);
    }
  }
  return nullptr;
}

Json StructToJson(const Message& m) {
  std::string text;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &text).ok());
  return Json::parse(text);
}

void ExpectMatchesJson(const Json& j, const Message& m, const std::string& path,
                       bool top_level_object);

void ExpectScalarOrMessageMatches(const Json& v, const Message& m,
                                  const FieldDescriptor* f,
                                  const std::string& path) {
  const Reflection* r = m.GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      EXPECT_EQ(r->GetString(m, f),
                v.is_string() ? v.get<std::string>() : v.dump())
          << path;
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      EXPECT_EQ(r->GetBool(m, f), v.get<bool>()) << path;
      return;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
    default:
      ADD_FAILURE() << path << ": unexpected field type in the contract";
      return;
  }
  ASSERT_TRUE(r->HasField(m, f)) << path << " should be set";
  const Message& sub = r->GetMessage(m, f);
  const std::string& type = f->message_type()->full_name();
  if (type == "google.protobuf.Timestamp") {
    const auto& ts = static_cast<const google::protobuf::Timestamp&>(sub);
    EXPECT_EQ(ts.seconds(), v.get<int64_t>()) << path;
    EXPECT_EQ(ts.nanos(), 0) << path;
  } else if (type == "hookstream.v1.Amount") {
    const auto& a = static_cast<const v1::Amount&>(sub);
    EXPECT_EQ(a.decimal(), v.dump()) << path;
    EXPECT_NEAR(static_cast<double>(a.units()) + a.nanos() * 1e-9,
                v.get<double>(), 1e-9)
        << path;
  } else if (type == "google.protobuf.Struct") {
    EXPECT_EQ(StructToJson(sub), v) << path;
  } else {
    ASSERT_TRUE(v.is_object()) << path;
    ExpectMatchesJson(v, sub, path, /*top_level_object=*/false);
  }
}

void ExpectMatchesJson(const Json& j, const Message& m, const std::string& path,
                       bool top_level_object) {
  const Reflection* r = m.GetReflection();
  for (const auto& [key, v] : j.items()) {
    const std::string p = absl::StrCat(path, ".", key);
    if (top_level_object && (key == "object" || key == "_object")) continue;
    const FieldDescriptor* f = FieldForKey(m, key);
    ASSERT_NE(f, nullptr) << p << " has no typed field";
    if (v.is_null()) {
      if (f->is_repeated()) {
        EXPECT_EQ(r->FieldSize(m, f), 0) << p;
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        EXPECT_FALSE(r->HasField(m, f)) << p << " is null, must be unset";
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        EXPECT_EQ(r->GetString(m, f), "") << p;
      }
      continue;
    }
    if (f->is_repeated()) {
      ASSERT_TRUE(v.is_array()) << p;
      ASSERT_EQ(r->FieldSize(m, f), static_cast<int>(v.size())) << p;
      for (size_t i = 0; i < v.size(); ++i) {
        ExpectMatchesJson(v[i],
                          r->GetRepeatedMessage(m, f, static_cast<int>(i)),
                          absl::StrCat(p, "[", i, "]"), false);
      }
      continue;
    }
    ExpectScalarOrMessageMatches(v, m, f, p);
  }
  // The other way round: nothing typed that the JSON did not carry.
  std::vector<const FieldDescriptor*> set_fields;
  r->ListFields(m, &set_fields);
  for (const FieldDescriptor* f : set_fields) {
    const bool from_json =
        std::any_of(j.items().begin(), j.items().end(), [&](const auto& item) {
          return absl::EqualsIgnoreCase(f->json_name(), item.key()) &&
                 !item.value().is_null();
        });
    EXPECT_TRUE(from_json) << path << "." << f->name()
                           << " is set but absent from the JSON";
  }
}

// ---------------------------------------------------------------------------
// Every seed delivery, checked against the oracle.

struct SeedCase {
  const char* file;
  v1::Event::DataCase data_case;
};

class SeedEventTest : public ::testing::TestWithParam<SeedCase> {};

// Verifies that each seed event converts and that the envelope and every
// field of data.object agree with the JSON, field by field. Partial examples
// (no `id`) must first be refused, then convert once an id is added.
TEST_P(SeedEventTest, TypedFieldsMatchTheJson) {
  std::string body = ReadTestdata(GetParam().file);
  if (IsPartial(GetParam().file)) {
    EXPECT_THAT(ConvertGettrxEvent(body, kReceivedAt),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         R"(event field "id" is missing)"));
    body = CompletePartial(body);
  }
  const Json j = Json::parse(body);
  absl::StatusOr<v1::Event> event = ConvertGettrxEvent(body, kReceivedAt);
  ASSERT_TRUE(event.ok()) << event.status();

  EXPECT_EQ(event->source(), "gettrx");
  EXPECT_EQ(event->raw_json(), body);
  EXPECT_EQ(event->id(), j.value("id", ""));
  EXPECT_EQ(event->type(), j.at("type").get<std::string>());
  EXPECT_EQ(event->account(), j.at("account").get<std::string>());
  EXPECT_EQ(event->attempt_id(), j.at("attemptId").get<std::string>());
  const int64_t created = std::stoll(j.at("created").get<std::string>());
  if (created >= 1'000'000'000'000) {
    EXPECT_EQ(event->created().seconds(), created / 1000);
    EXPECT_EQ(event->created().nanos(), created % 1000 * 1'000'000);
  } else {
    EXPECT_EQ(event->created().seconds(), created);
    EXPECT_EQ(event->created().nanos(), 0);
  }
  EXPECT_EQ(event->received_at().seconds(), 1733267346);
  EXPECT_EQ(event->received_at().nanos(), 123000000);
  EXPECT_EQ(event->sequence(), 0u);
  EXPECT_EQ(event->stream_epoch(), "");
  EXPECT_EQ(event->idempotency_key(),
            j.contains("request")
                ? j.at("request").value("idempotencyKey", std::string())
                : "");

  const Json& data = j.at("data");
  ASSERT_EQ(event->has_previous_attributes(),
            data.contains("previousAttributes"));
  if (event->has_previous_attributes()) {
    EXPECT_EQ(StructToJson(event->previous_attributes()),
              data.at("previousAttributes"));
  }

  const Json& object = data.at("object");
  EXPECT_EQ(event->object_type(),
            object.value("object", object.value("_object", std::string())));
  ASSERT_EQ(event->data_case(), GetParam().data_case);
  const Reflection* r = event->GetReflection();
  const FieldDescriptor* data_field = r->GetOneofFieldDescriptor(
      *event, v1::Event::descriptor()->FindOneofByName("data"));
  ASSERT_NE(data_field, nullptr);
  ExpectMatchesJson(object, r->GetMessage(*event, data_field), "data.object",
                    /*top_level_object=*/true);

  // The stored form must survive a round trip through the wire format.
  v1::Event reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(event->SerializeAsString()));
  EXPECT_EQ(reparsed.raw_json(), body);
}

INSTANTIATE_TEST_SUITE_P(
    Seed, SeedEventTest,
    ::testing::Values(
        SeedCase{"customer.created.json", v1::Event::kCustomer},
        SeedCase{"customer.updated.json", v1::Event::kCustomer},
        SeedCase{"customer.deleted.json", v1::Event::kCustomer},
        SeedCase{"refund.pending.json", v1::Event::kRefund},
        SeedCase{"setup_request.succeeded.json", v1::Event::kSetupRequest},
        SeedCase{"partial/application.created.partial.json",
                 v1::Event::kApplication},
        SeedCase{"partial/payment_method.attached.partial.json",
                 v1::Event::kPaymentMethod},
        SeedCase{"partial/payment_request.succeeded.partial.json",
                 v1::Event::kPaymentRequest},
        SeedCase{"partial/refund.succeeded.partial.json", v1::Event::kRefund},
        SeedCase{"partial/setup_request.failed.partial.json",
                 v1::Event::kSetupRequest}),
    [](const ::testing::TestParamInfo<SeedCase>& info) {
      std::string name = info.param.file;
      for (char& c : name) {
        if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

// ---------------------------------------------------------------------------
// Spot checks written out by hand, so a bug shared by the converter and the
// oracle above would still be caught.

// Verifies customer.created's envelope and customer fields.
TEST(GettrxConverterTest, CustomerCreated) {
  const v1::Event e = ConvertFile("customer.created.json");
  EXPECT_EQ(e.id(), "evt_674f8f91778c0c7274a6636c");
  EXPECT_EQ(e.type(), "customer.created");
  EXPECT_EQ(e.account(), "acm_65f48b068b8d6912fe07f555");
  EXPECT_EQ(e.attempt_id(), "wha_674f912cf7f75d7de084aa0c");
  EXPECT_EQ(e.created().seconds(), 1733267345);
  EXPECT_EQ(e.object_type(), "customer");
  EXPECT_EQ(e.idempotency_key(), "");
  EXPECT_FALSE(e.has_previous_attributes());
  ASSERT_TRUE(e.has_customer());
  const v1::Customer& c = e.customer();
  EXPECT_EQ(c.id(), "cus_674f8ebeb6d07a3f7b6cf555");
  EXPECT_EQ(c.address().city(), "West Eladiofurt");
  EXPECT_EQ(c.address().country(), "SA");
  EXPECT_EQ(c.address().postal_code(), "12782");
  EXPECT_EQ(c.address().state(), "Michigan");
  EXPECT_EQ(c.created().seconds(), 1733267134);
  EXPECT_EQ(c.email(), "alejandra@example.com");
  EXPECT_EQ(c.invoice_prefix(), "D817FED4");
  EXPECT_TRUE(c.has_invoice_settings());
  EXPECT_EQ(c.invoice_settings().custom_fields_size(), 0);
  EXPECT_EQ(c.phone(), "GW 1663954111");
  EXPECT_EQ(c.shipping().name(), "Hannah Shanahan");
  EXPECT_EQ(c.shipping().phone(), "GL 1587872490");
  EXPECT_EQ(c.shipping().address().city(), "Eliasville");
  EXPECT_EQ(c.shipping().address().state(), "US-IN");
}

// Verifies customer.deleted: `_object`, custom fields, footer and emoji.
TEST(GettrxConverterTest, CustomerDeleted) {
  const v1::Event e = ConvertFile("customer.deleted.json");
  EXPECT_EQ(e.object_type(), "customer");
  const v1::Customer& c = e.customer();
  ASSERT_EQ(c.invoice_settings().custom_fields_size(), 1);
  EXPECT_EQ(c.invoice_settings().custom_fields(0).name(), "demulceo");
  EXPECT_EQ(c.invoice_settings().custom_fields(0).value(), "aegrotatio");
  EXPECT_THAT(c.invoice_settings().footer(),
              HasSubstr("Boyer, Konopelski and Abbott"));
  EXPECT_EQ(c.description(), "engineer, author, creator 🇨🇨");
  EXPECT_EQ(c.address().postal_code(), "09852");
  EXPECT_FALSE(e.has_previous_attributes());
}

// Verifies customer.updated: idempotency key and previous attributes (an
// empty object is still "present").
TEST(GettrxConverterTest, CustomerUpdated) {
  const v1::Event e = ConvertFile("customer.updated.json");
  EXPECT_EQ(e.idempotency_key(), "118d7cf6-bdf0-402f-abfa-3fc43bf02f43");
  EXPECT_TRUE(e.has_previous_attributes());
  EXPECT_EQ(e.previous_attributes().fields_size(), 0);
  EXPECT_EQ(e.customer().invoice_settings().default_payment_method(),
            "pm_66ad2f8e60f2a24375837619");
  EXPECT_EQ(e.customer().shipping().phone(), "7248978912 ");
  EXPECT_EQ(e.customer().address().line1(), "");
}

// Verifies refund.pending, including the exact amount.
TEST(GettrxConverterTest, RefundPending) {
  const v1::Event e = ConvertFile("refund.pending.json");
  ASSERT_TRUE(e.has_refund());
  const v1::Refund& r = e.refund();
  EXPECT_EQ(r.id(), "re_675144e11b260933080d9177");
  EXPECT_EQ(r.amount().decimal(), "19.78");
  EXPECT_EQ(r.amount().units(), 19);
  EXPECT_EQ(r.amount().nanos(), 780000000);
  EXPECT_EQ(r.charge(), "ch_675144dd1b260933080d9171");
  EXPECT_EQ(r.currency(), "usd");
  EXPECT_EQ(r.payment_request(), "pr_675144dd1b260933080d9170");
  EXPECT_EQ(r.reason(), "fraudulent");
  EXPECT_THAT(r.reason_notes(), HasSubstr("John's Shoe Store"));
  EXPECT_EQ(r.status(), "pending");
  EXPECT_EQ(r.created().seconds(), 1733379298);
  EXPECT_EQ(r.type(), "offline_return");
}

// Verifies refund.succeeded, which has no `object`: typed from the type.
TEST(GettrxConverterTest, RefundSucceededTypedFromEventType) {
  const v1::Event e = ConvertFile("partial/refund.succeeded.partial.json");
  EXPECT_EQ(e.object_type(), "");
  ASSERT_TRUE(e.has_refund());
  EXPECT_EQ(e.refund().amount().decimal(), "38.95");
  EXPECT_EQ(e.refund().amount().units(), 38);
  EXPECT_EQ(e.refund().amount().nanos(), 950000000);
  EXPECT_EQ(e.refund().type(), "reversal");
  EXPECT_EQ(e.id(), kPartialId);
}

// Verifies setup_request.succeeded's fields.
TEST(GettrxConverterTest, SetupRequestSucceeded) {
  const v1::Event e = ConvertFile("setup_request.succeeded.json");
  const v1::SetupRequest& s = e.setup_request();
  EXPECT_EQ(s.id(), "setr_675144631b260933080d90ae");
  EXPECT_EQ(s.created().seconds(), 1733379171);
  EXPECT_EQ(s.customer(), "cus_66e34169c4cbbf37be2f3997");
  EXPECT_EQ(s.description(), "Veniam creta taceo utor.");
  EXPECT_EQ(s.setup_attempt(), "setatt_675144630788034b8605032d");
  EXPECT_EQ(s.payment_method(), "pm_675144631b260933080d90ad");
  EXPECT_EQ(s.setup_future_usage(), "on_session");
  EXPECT_EQ(s.status(), "successful");
}

// Verifies payment_request.succeeded's first charge, outcome and card.
TEST(GettrxConverterTest, PaymentRequestCharge) {
  const v1::Event e =
      ConvertFile("partial/payment_request.succeeded.partial.json");
  ASSERT_EQ(e.payment_request().charges_size(), 1);
  const v1::Charge& c = e.payment_request().charges(0);
  EXPECT_EQ(c.id(), "ch_6750288bc3cc4b0d634a3861");
  EXPECT_EQ(c.amount().decimal(), "104");
  EXPECT_EQ(c.amount().units(), 104);
  EXPECT_EQ(c.amount_captured().units(), 104);
  EXPECT_EQ(c.amount_refunded().decimal(), "0");
  EXPECT_TRUE(c.has_amount_refunded());
  EXPECT_FALSE(c.has_last_payment_error());
  EXPECT_FALSE(c.has_metadata());
  EXPECT_EQ(c.billing_details().address().city(), "");
  EXPECT_EQ(c.billing_details().address().country(), "US");
  EXPECT_EQ(c.billing_details().address().postal_code(), "85284");
  EXPECT_EQ(c.billing_details().email(), "");
  EXPECT_TRUE(c.captured());
  EXPECT_TRUE(c.paid());
  EXPECT_EQ(c.created().seconds(), 1733306511);
  EXPECT_EQ(c.customer(), "");
  EXPECT_EQ(c.on_behalf_of(), "acm_66b3230bd3f69300019e01ba");
  EXPECT_EQ(c.outcome().network_status(), "approved_by_network");
  EXPECT_EQ(c.outcome().network_authorization_code(), "TAS494");
  EXPECT_EQ(c.outcome().seller_message(), "Payment complete.");
  EXPECT_EQ(c.outcome().type(), "authorized");
  EXPECT_EQ(c.outcome().reason(), "");
  EXPECT_EQ(c.payment_request(), "pr_6750288bc3cc4b0d634a3860");
  EXPECT_EQ(c.payment_method(), "pm_6750288fc3cc4b0d634a3862");
  const v1::Card& card = c.payment_method_details().card();
  EXPECT_EQ(card.brand(), "visa");
  EXPECT_EQ(card.checks().address_line1_check(), "");
  EXPECT_EQ(card.checks().address_postal_code_check(), "pass");
  EXPECT_EQ(card.checks().cvc_check(), "pass");
  EXPECT_EQ(card.exp_month(), "12");
  EXPECT_EQ(card.exp_year(), "28");
  EXPECT_EQ(card.last4(), "5439");
  EXPECT_EQ(card.wallet().fields().at("type").kind_case(),
            google::protobuf::Value::kNullValue);
}

// Verifies payment_method.attached's card and billing details.
TEST(GettrxConverterTest, PaymentMethodAttached) {
  const v1::Event e =
      ConvertFile("partial/payment_method.attached.partial.json");
  const v1::PaymentMethod& p = e.payment_method();
  EXPECT_EQ(p.id(), "pm_6750bbdb1b260933080d8662");
  EXPECT_EQ(p.type(), "card");
  EXPECT_EQ(p.card().brand(), "visa");
  EXPECT_EQ(p.card().checks().address_line1_check(), "fail");
  EXPECT_EQ(p.card().checks().cvc_check(), "unchecked");
  EXPECT_EQ(p.card().exp_month(), "10");
  EXPECT_EQ(p.card().exp_year(), "2026");
  EXPECT_EQ(p.card().fingerprint(), "");
  EXPECT_EQ(p.card().last4(), "1667");
  EXPECT_EQ(p.card().wallet().fields_size(), 3);
  EXPECT_FALSE(p.has_mandate());
  EXPECT_FALSE(p.has_us_bank_account());
  EXPECT_FALSE(p.has_metadata());
  EXPECT_EQ(p.billing_details().address().city(), "West Alexandre");
}

// Verifies application.created: object named after the event, summary,
// primary contact, Struct business info and the millisecond envelope time.
TEST(GettrxConverterTest, ApplicationCreated) {
  const v1::Event e = ConvertFile("partial/application.created.partial.json");
  EXPECT_EQ(e.object_type(), "application.created");
  EXPECT_EQ(e.created().seconds(), 1737712885);
  EXPECT_EQ(e.created().nanos(), 939000000);
  const v1::Application& a = e.application();
  EXPECT_EQ(a.id(), "5c5de7f9-e51b-40a7-bb97-54956808fd08");
  const v1::ApplicationSummary& s = a.application_summary();
  EXPECT_EQ(s.legal_business_name(), "ACE Studio");
  EXPECT_EQ(s.business_name_dba(), "ACE Studio");
  EXPECT_EQ(s.status(), "created");
  EXPECT_EQ(s.special_notes(), "");
  EXPECT_EQ(s.relationship().relationship_name(), "Galaxy Payments");
  EXPECT_EQ(s.relationship().agentcode(), "XXXXX1-GLXY-XXX");
  EXPECT_TRUE(s.auto_submit_deal());
  EXPECT_EQ(s.primary_contact().first_name(), "John");
  EXPECT_EQ(s.primary_contact().last_name(), "Smith");
  EXPECT_EQ(s.primary_contact().phone(), "(555)-555-5555");
  EXPECT_EQ(a.core_business_info().fields().at("businessCity").string_value(),
            "San Francisco");
  EXPECT_EQ(
      a.core_business_info().fields().at("businessStockTicker").string_value(),
      "null");
  EXPECT_EQ(a.core_business_info().fields().at("mccCode").kind_case(),
            google::protobuf::Value::kNullValue);
}

// ---------------------------------------------------------------------------
// Hostile and odd deliveries.

// An envelope around `object` (raw JSON text) with the given type.
std::string Envelope(absl::string_view type, absl::string_view object,
                     absl::string_view created = R"("1733267345")") {
  return absl::StrCat(R"({"account":"acm_1","attemptId":"wha_1","created":)",
                      created, R"(,"data":{"object":)", object,
                      R"(},"id":"evt_1","object":"event","request":{},)",
                      R"("type":")", type, R"("})");
}

struct HostileCase {
  std::string name;
  std::string body;
  absl::StatusCode code;
  std::string message;  // substring, for errors
  std::function<void(const v1::Event&)> check;
};

std::vector<HostileCase> HostileCases() {
  const std::string long_text(512 * 1024, 'x');
  const std::string customer_created = ReadTestdata("customer.created.json");
  std::string loose = ReadTestdata("customer-events.txt");
  const std::string loose_object = loose.substr(loose.find('{'));
  std::string deep = "1";
  for (int i = 0; i < 100'000; ++i) deep = "[" + deep;  // unbalanced is fine
  const auto ok = absl::StatusCode::kOk;
  const auto bad = absl::StatusCode::kInvalidArgument;
  const auto unprocessable = absl::StatusCode::kFailedPrecondition;
  return {
      // --- tolerated -------------------------------------------------------
      {"MissingFields", Envelope("customer.created", R"({"id":"cus_1"})"), ok,
       "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.customer().id(), "cus_1");
         EXPECT_FALSE(e.customer().has_address());
         EXPECT_FALSE(e.customer().has_created());
         EXPECT_EQ(e.customer().name(), "");
       }},
      {"NullsEverywhere",
       Envelope("customer.created",
                R"({"id":null,"address":null,"name":null,"created":null,)"
                R"("invoiceSettings":{"customFields":null}})"),
       ok, "",
       [](const v1::Event& e) {
         ASSERT_TRUE(e.has_customer());
         EXPECT_EQ(e.customer().id(), "");
         EXPECT_FALSE(e.customer().has_address());
         EXPECT_FALSE(e.customer().has_created());
         EXPECT_EQ(e.customer().invoice_settings().custom_fields_size(), 0);
       }},
      {"NullEnvelopeFields",
       R"({"id":"evt_1","type":"customer.created","account":null,)"
       R"("attemptId":null,"created":null,"request":null,"data":null})",
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.account(), "");
         EXPECT_EQ(e.attempt_id(), "");
         EXPECT_FALSE(e.has_created());
         EXPECT_EQ(e.data_case(), v1::Event::DATA_NOT_SET);
       }},
      {"ExtraFields",
       Envelope("customer.created",
                R"({"id":"cus_1","brandNew":{"x":[1,2]},"name":"A"})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.customer().name(), "A");
         EXPECT_THAT(e.raw_json(), HasSubstr("brandNew"));
       }},
      {"UnderscoreObjectOverridesTypePrefix",
       Envelope("thing.happened", R"({"_object":"refund","id":"re_1"})"), ok,
       "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.object_type(), "refund");
         EXPECT_EQ(e.refund().id(), "re_1");
       }},
      {"NumbersAsStrings",
       Envelope("refund.pending",
                R"({"amount":"19.78","created":"1733379298"})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.refund().amount().decimal(), "19.78");
         EXPECT_EQ(e.refund().amount().units(), 19);
         EXPECT_EQ(e.refund().amount().nanos(), 780000000);
         EXPECT_EQ(e.refund().created().seconds(), 1733379298);
       }},
      {"StringsAsNumbers",
       Envelope("customer.created",
                R"({"phone":8336971128,"address":{"postalCode":12782},)"
                R"("invoicePrefix":1.50})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.customer().phone(), "8336971128");
         EXPECT_EQ(e.customer().address().postal_code(), "12782");
         EXPECT_EQ(e.customer().invoice_prefix(), "1.50");
       }},
      {"BooleansAsStrings",
       Envelope("payment_request.succeeded",
                R"({"charges":[{"captured":"true","paid":"false"}]})"),
       ok, "",
       [](const v1::Event& e) {
         ASSERT_EQ(e.payment_request().charges_size(), 1);
         EXPECT_TRUE(e.payment_request().charges(0).captured());
         EXPECT_FALSE(e.payment_request().charges(0).paid());
       }},
      {"EmojiAndEscapes",
       Envelope("customer.created",
                R"({"description":"creator 🇨🇨 \ud83d\ude00 caf\u00e9",)"
                R"("name":"Zoë 名前"})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.customer().description(), "creator 🇨🇨 😀 café");
         EXPECT_EQ(e.customer().name(), "Zoë 名前");
       }},
      {"VeryLongString",
       Envelope("customer.created",
                absl::StrCat(R"({"description":")", long_text, R"("})")),
       ok, "",
       [long_text](const v1::Event& e) {
         EXPECT_EQ(e.customer().description(), long_text);
       }},
      {"UnexpectedTypesLeaveFieldsEmpty",
       Envelope("customer.created",
                R"({"id":"cus_1","address":"somewhere","name":{"first":"A"},)"
                R"("created":{"s":1},"shipping":[1],"email":["a@b"]})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.customer().id(), "cus_1");
         EXPECT_FALSE(e.customer().has_address());
         EXPECT_EQ(e.customer().name(), "");
         EXPECT_FALSE(e.customer().has_created());
         EXPECT_FALSE(e.customer().has_shipping());
         EXPECT_EQ(e.customer().email(), "");
       }},
      {"OddAmountsAndBools",
       Envelope("payment_request.succeeded",
                R"({"amount":{"value":1},"charges":[7,{"amount":"n/a",)"
                R"("captured":1,"paid":null,"amountCaptured":1e2}]})"),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_FALSE(e.payment_request().has_amount());
         ASSERT_EQ(e.payment_request().charges_size(), 1);
         const v1::Charge& c = e.payment_request().charges(0);
         EXPECT_FALSE(c.has_amount());
         EXPECT_FALSE(c.captured());
         EXPECT_EQ(c.amount_captured().decimal(), "1e2");
         EXPECT_EQ(c.amount_captured().units(), 100);
       }},
      {"CreatedInMilliseconds",
       Envelope("customer.created", "{}", R"("1737712885939")"), ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.created().seconds(), 1737712885);
         EXPECT_EQ(e.created().nanos(), 939000000);
       }},
      {"CreatedAsNumber", Envelope("customer.created", "{}", "1733267345"), ok,
       "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.created().seconds(), 1733267345);
       }},
      {"CreatedUnreadable",
       Envelope("customer.created", "{}", R"("yesterday")"), ok, "",
       [](const v1::Event& e) { EXPECT_FALSE(e.has_created()); }},
      {"UnknownTypeBecomesOther",
       Envelope("dispute.created",
                R"({"id":"dp_1","amount":5,"reason":null,"tags":["a"]})"),
       ok, "",
       [](const v1::Event& e) {
         ASSERT_TRUE(e.has_other());
         EXPECT_EQ(e.object_type(), "");
         EXPECT_EQ(e.other().fields().at("id").string_value(), "dp_1");
         EXPECT_EQ(e.other().fields().at("amount").number_value(), 5);
         EXPECT_EQ(e.other().fields().at("tags").list_value().values_size(), 1);
       }},
      {"UnknownObjectNameBecomesOther",
       Envelope("customer.created", R"({"object":"charge","id":"ch_1"})"), ok,
       "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.object_type(), "charge");
         ASSERT_TRUE(e.has_other());
         EXPECT_EQ(e.other().fields().at("id").string_value(), "ch_1");
       }},
      {"TypeWithoutDot", Envelope("ping", R"({"hello":"world"})"), ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.type(), "ping");
         EXPECT_TRUE(e.has_other());
       }},
      {"ApplicationNamedAfterEvent",
       Envelope("application.signed",
                R"({"object":"application.signed","id":"u-1"})"),
       ok, "",
       [](const v1::Event& e) { EXPECT_EQ(e.application().id(), "u-1"); }},
      {"MissingDataObject",
       R"({"id":"evt_1","type":"customer.created","data":{}})", ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.data_case(), v1::Event::DATA_NOT_SET);
         EXPECT_EQ(e.object_type(), "");
       }},
      {"DataObjectNotAnObject",
       R"({"id":"evt_1","type":"customer.created","data":{"object":"cus_1"}})",
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.data_case(), v1::Event::DATA_NOT_SET);
       }},
      {"PreviousAttributesNotAnObject",
       R"({"id":"evt_1","type":"customer.updated",)"
       R"("data":{"previousAttributes":"x","object":{}}})",
       ok, "",
       [](const v1::Event& e) { EXPECT_FALSE(e.has_previous_attributes()); }},
      {"PreviousAttributesCarried",
       R"({"id":"evt_1","type":"customer.updated",)"
       R"("data":{"previousAttributes":{"name":"Old","phone":null},)"
       R"("object":{"name":"New"}}})",
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.previous_attributes().fields().at("name").string_value(),
                   "Old");
         EXPECT_EQ(e.customer().name(), "New");
       }},
      {"IdempotencyKeyAsNumber",
       R"({"id":"evt_1","type":"x.y","request":{"idempotencyKey":42}})", ok, "",
       [](const v1::Event& e) { EXPECT_EQ(e.idempotency_key(), "42"); }},
      {"DuplicateKeysLastWins", R"({"id":"evt_a","type":"x.y","id":"evt_b"})",
       ok, "", [](const v1::Event& e) { EXPECT_EQ(e.id(), "evt_b"); }},
      {"MaximumAllowedNesting",
       Envelope("x.y",
                absl::StrCat(std::string(30, '['), "1", std::string(30, ']'))),
       ok, "",
       [](const v1::Event& e) {
         EXPECT_EQ(e.data_case(), v1::Event::DATA_NOT_SET);
       }},
      // --- 400: not usable JSON --------------------------------------------
      {"EmptyBody", "", bad, "body is empty", nullptr},
      {"WhitespaceOnly", "  \n", bad, "malformed JSON", nullptr},
      {"Malformed", R"({"id": "evt_1", })", bad,
       "malformed JSON at byte 16 (line 1, column 17)", nullptr},
      {"Truncated", customer_created.substr(0, customer_created.size() / 2),
       bad, "malformed JSON at byte", nullptr},
      {"LooseDocumentationText", loose_object, bad,
       "malformed JSON at byte 2 (line 2, column 1)", nullptr},
      {"WholeDocumentationPage", loose, bad, "malformed JSON at byte 0",
       nullptr},
      {"InvalidUtf8InString",
       absl::StrCat(R"({"id":"evt_1","type":"x.y","name":")", "\xff\xfe",
                    R"("})"),
       bad, "not valid UTF-8: byte 0xff at offset 35", nullptr},
      {"OverlongUtf8", "{\"id\":\"\xc0\xaf\"}", bad, "UTF-8", nullptr},
      {"Utf16Body", std::string("{\0\"\0}\0", 6), bad, "malformed JSON",
       nullptr},
      {"LoneSurrogateEscape", R"({"id":"evt_\ud800","type":"x.y"})", bad,
       "malformed JSON", nullptr},
      {"TopLevelArray", R"([{"id":"evt_1","type":"x.y"}])", bad,
       "body is a JSON array, not an object", nullptr},
      {"TopLevelString", R"("evt_1")", bad,
       "body is a JSON string, not an object", nullptr},
      {"TrailingGarbage", R"({"id":"evt_1","type":"x.y"} trailing)", bad,
       "malformed JSON", nullptr},
      {"DeeplyNested", Envelope("x.y", deep), bad,
       "JSON nested deeper than 32 levels", nullptr},
      {"OneLevelTooDeep",
       Envelope("x.y",
                absl::StrCat(std::string(31, '['), "1", std::string(31, ']'))),
       bad, "JSON nested deeper than 32 levels", nullptr},
      // --- 422: JSON object, but not an event ------------------------------
      {"IdMissing", R"({"type":"x.y"})", unprocessable,
       R"(event field "id" is missing)", nullptr},
      {"IdNull", R"({"id":null,"type":"x.y"})", unprocessable,
       R"(event field "id" is null)", nullptr},
      {"IdNumber", R"({"id":42,"type":"x.y"})", unprocessable,
       R"(event field "id" must be a string, got number)", nullptr},
      {"IdEmpty", R"({"id":"","type":"x.y"})", unprocessable,
       R"(event field "id" is empty)", nullptr},
      {"IdObject", R"({"id":{},"type":"x.y"})", unprocessable,
       R"(event field "id" must be a string, got object)", nullptr},
      {"TypeMissing", R"({"id":"evt_1"})", unprocessable,
       R"(event field "type" is missing)", nullptr},
      {"TypeNull", R"({"id":"evt_1","type":null})", unprocessable,
       R"(event field "type" is null)", nullptr},
      {"TypeEmpty", R"({"id":"evt_1","type":""})", unprocessable,
       R"(event field "type" is empty)", nullptr},
      {"TypeBoolean", R"({"id":"evt_1","type":true})", unprocessable,
       R"(event field "type" must be a string, got boolean)", nullptr},
      {"EmptyObject", "{}", unprocessable, R"(event field "id" is missing)",
       nullptr},
  };
}

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class HostileBodyTest : public ::testing::TestWithParam<HostileCase> {};

// Verifies each odd or hostile body: tolerated ones convert (raw_json kept
// byte for byte), the rest fail with the documented code and message.
TEST_P(HostileBodyTest, ConvertsOrFailsPrecisely) {
  const HostileCase& c = GetParam();
  absl::StatusOr<v1::Event> event = ConvertGettrxEvent(c.body, kReceivedAt);
  if (c.code == absl::StatusCode::kOk) {
    ASSERT_TRUE(event.ok()) << event.status();
    EXPECT_EQ(event->raw_json(), c.body);
    EXPECT_EQ(event->source(), "gettrx");
    v1::Event reparsed;
    EXPECT_TRUE(reparsed.ParseFromString(event->SerializeAsString()));
    c.check(*event);
  } else {
    EXPECT_THAT(event, StatusIs(c.code, HasSubstr(c.message)));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, HostileBodyTest,
                         ::testing::ValuesIn(HostileCases()),
                         [](const ::testing::TestParamInfo<HostileCase>& info) {
                           return info.param.name;
                         });

// Verifies that the deepest accepted Struct still parses back under
// protobuf's default recursion limit, which is what the depth limit of 32
// promises to subscribers.
TEST(GettrxConverterTest, DeepestAcceptedEventReparses) {
  for (const bool arrays : {false, true}) {
    std::string inner = "1";
    for (int i = 0; i < 29; ++i) {
      inner = arrays ? absl::StrCat("[", inner, "]")
                     : absl::StrCat(R"({"a":)", inner, "}");
    }
    // The envelope, data and data.object are levels 1-3; 29 more make 32.
    const std::string body = absl::StrCat(
        R"({"id":"evt_1","type":"x.y","data":{"object":{"a":)", inner, "}}}");
    absl::StatusOr<v1::Event> event = ConvertGettrxEvent(body, kReceivedAt);
    ASSERT_TRUE(event.ok()) << arrays << ": " << event.status();
    ASSERT_TRUE(event->has_other());
    v1::Event reparsed;
    EXPECT_TRUE(reparsed.ParseFromString(event->SerializeAsString()))
        << (arrays ? "arrays" : "objects");
    std::string json;
    EXPECT_TRUE(
        google::protobuf::util::MessageToJsonString(*event, &json).ok());
  }
}

}  // namespace
}  // namespace hookstream
