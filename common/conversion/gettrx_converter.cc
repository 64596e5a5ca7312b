#include "common/conversion/gettrx_converter.h"

#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/proto_time.h"
#include "common/base/status_macros.h"
#include "common/conversion/json_readers.h"
#include "common/conversion/json_value.h"
#include "google/protobuf/timestamp.pb.h"
#include "hookstream/v1/gettrx.pb.h"

namespace hookstream {
namespace {

// ---------------------------------------------------------------------------
// Small adapters from readers to protobuf setters. Each leaves the field
// untouched when the value cannot be read.

void CopyString(const JsonValue& obj, absl::string_view key, std::string* out) {
  if (std::optional<std::string> s = ReadString(obj.Find(key))) {
    *out = *std::move(s);
  }
}

template <typename Message, typename Setter>
void CopyBool(const JsonValue& obj, absl::string_view key, Message& msg,
              Setter set) {
  if (const std::optional<bool> b = ReadBool(obj.Find(key))) (msg.*set)(*b);
}

// Fills a message-typed field only when the JSON value is readable, so
// presence means "GETTRX sent something usable".
template <typename Mutable>
void CopyTime(const JsonValue& obj, absl::string_view key, Mutable mut) {
  if (std::optional<google::protobuf::Timestamp> t =
          ReadUnixTime(obj.Find(key))) {
    *mut() = *t;
  }
}

template <typename Mutable>
void CopyAmount(const JsonValue& obj, absl::string_view key, Mutable mut) {
  if (std::optional<v1::Amount> a = ReadAmount(obj.Find(key))) {
    *mut() = *std::move(a);
  }
}

template <typename Mutable>
void CopyStruct(const JsonValue& obj, absl::string_view key, Mutable mut) {
  if (const JsonValue* o = ReadObject(obj.Find(key))) ToProtoStruct(*o, mut());
}

// Calls fill(*object, *mut()) when `key` holds an object.
template <typename Mutable, typename Fill>
void CopyObject(const JsonValue& obj, absl::string_view key, Mutable mut,
                Fill fill) {
  if (const JsonValue* o = ReadObject(obj.Find(key))) fill(*o, *mut());
}

// ---------------------------------------------------------------------------
// One Fill function per modeled GETTRX object; JSON names are camelCase.

void FillAddress(const JsonValue& j, v1::Address& a) {
  CopyString(j, "city", a.mutable_city());
  CopyString(j, "country", a.mutable_country());
  CopyString(j, "line1", a.mutable_line1());
  CopyString(j, "line2", a.mutable_line2());
  CopyString(j, "postalCode", a.mutable_postal_code());
  CopyString(j, "state", a.mutable_state());
}

void FillShipping(const JsonValue& j, v1::Shipping& s) {
  CopyObject(
      j, "address", [&] { return s.mutable_address(); }, FillAddress);
  CopyString(j, "name", s.mutable_name());
  CopyString(j, "phone", s.mutable_phone());
}

void FillInvoiceSettings(const JsonValue& j, v1::InvoiceSettings& s) {
  if (const JsonValue* fields = j.Find("customFields");
      fields != nullptr && fields->is_array()) {
    for (const JsonValue& f : fields->elements()) {
      // Keep positions honest: a non-object entry has nothing to type, and
      // raw_json still has it.
      if (!f.is_object()) continue;
      v1::CustomField* out = s.add_custom_fields();
      CopyString(f, "name", out->mutable_name());
      CopyString(f, "value", out->mutable_value());
    }
  }
  CopyString(j, "defaultPaymentMethod", s.mutable_default_payment_method());
  CopyString(j, "footer", s.mutable_footer());
}

void FillCustomer(const JsonValue& j, v1::Customer& c) {
  CopyString(j, "id", c.mutable_id());
  CopyObject(
      j, "address", [&] { return c.mutable_address(); }, FillAddress);
  CopyTime(j, "created", [&] { return c.mutable_created(); });
  CopyString(j, "description", c.mutable_description());
  CopyString(j, "email", c.mutable_email());
  CopyString(j, "invoicePrefix", c.mutable_invoice_prefix());
  CopyObject(
      j, "invoiceSettings", [&] { return c.mutable_invoice_settings(); },
      FillInvoiceSettings);
  CopyString(j, "name", c.mutable_name());
  CopyString(j, "phone", c.mutable_phone());
  CopyObject(
      j, "shipping", [&] { return c.mutable_shipping(); }, FillShipping);
}

void FillRefund(const JsonValue& j, v1::Refund& r) {
  CopyString(j, "id", r.mutable_id());
  CopyAmount(j, "amount", [&] { return r.mutable_amount(); });
  CopyString(j, "charge", r.mutable_charge());
  CopyString(j, "currency", r.mutable_currency());
  CopyString(j, "paymentRequest", r.mutable_payment_request());
  CopyString(j, "reason", r.mutable_reason());
  CopyString(j, "reasonNotes", r.mutable_reason_notes());
  CopyString(j, "status", r.mutable_status());
  CopyTime(j, "created", [&] { return r.mutable_created(); });
  CopyString(j, "type", r.mutable_type());
}

void FillCardChecks(const JsonValue& j, v1::CardChecks& c) {
  CopyString(j, "addressLine1Check", c.mutable_address_line1_check());
  CopyString(j, "addressPostalCodeCheck",
             c.mutable_address_postal_code_check());
  CopyString(j, "cvcCheck", c.mutable_cvc_check());
}

void FillCard(const JsonValue& j, v1::Card& c) {
  CopyString(j, "brand", c.mutable_brand());
  CopyObject(
      j, "checks", [&] { return c.mutable_checks(); }, FillCardChecks);
  CopyString(j, "expMonth", c.mutable_exp_month());
  CopyString(j, "expYear", c.mutable_exp_year());
  CopyString(j, "fingerprint", c.mutable_fingerprint());
  CopyString(j, "last4", c.mutable_last4());
  CopyStruct(j, "wallet", [&] { return c.mutable_wallet(); });
}

void FillBillingDetails(const JsonValue& j, v1::BillingDetails& b) {
  CopyObject(
      j, "address", [&] { return b.mutable_address(); }, FillAddress);
  CopyString(j, "email", b.mutable_email());
  CopyString(j, "name", b.mutable_name());
  CopyString(j, "phone", b.mutable_phone());
}

void FillChargeOutcome(const JsonValue& j, v1::ChargeOutcome& o) {
  CopyString(j, "networkStatus", o.mutable_network_status());
  CopyString(j, "networkAuthorizationCode",
             o.mutable_network_authorization_code());
  CopyString(j, "sellerMessage", o.mutable_seller_message());
  CopyString(j, "type", o.mutable_type());
  CopyString(j, "reason", o.mutable_reason());
}

void FillPaymentMethodDetails(const JsonValue& j, v1::PaymentMethodDetails& d) {
  CopyObject(
      j, "card", [&] { return d.mutable_card(); }, FillCard);
}

void FillCharge(const JsonValue& j, v1::Charge& c) {
  CopyString(j, "id", c.mutable_id());
  CopyAmount(j, "amount", [&] { return c.mutable_amount(); });
  CopyAmount(j, "amountCaptured", [&] { return c.mutable_amount_captured(); });
  CopyAmount(j, "amountRefunded", [&] { return c.mutable_amount_refunded(); });
  CopyObject(
      j, "billingDetails", [&] { return c.mutable_billing_details(); },
      FillBillingDetails);
  CopyBool(j, "captured", c, &v1::Charge::set_captured);
  CopyTime(j, "created", [&] { return c.mutable_created(); });
  CopyString(j, "currency", c.mutable_currency());
  CopyString(j, "customer", c.mutable_customer());
  CopyString(j, "description", c.mutable_description());
  CopyString(j, "failureCode", c.mutable_failure_code());
  CopyString(j, "failureMessage", c.mutable_failure_message());
  CopyString(j, "onBehalfOf", c.mutable_on_behalf_of());
  CopyObject(
      j, "outcome", [&] { return c.mutable_outcome(); }, FillChargeOutcome);
  CopyBool(j, "paid", c, &v1::Charge::set_paid);
  CopyString(j, "paymentRequest", c.mutable_payment_request());
  CopyString(j, "paymentMethod", c.mutable_payment_method());
  CopyObject(
      j, "paymentMethodDetails",
      [&] { return c.mutable_payment_method_details(); },
      FillPaymentMethodDetails);
  CopyStruct(j, "metadata", [&] { return c.mutable_metadata(); });
  CopyStruct(j, "lastPaymentError",
             [&] { return c.mutable_last_payment_error(); });
}

void FillPaymentRequest(const JsonValue& j, v1::PaymentRequest& p) {
  CopyString(j, "id", p.mutable_id());
  if (const JsonValue* charges = j.Find("charges");
      charges != nullptr && charges->is_array()) {
    for (const JsonValue& charge : charges->elements()) {
      if (charge.is_object()) FillCharge(charge, *p.add_charges());
    }
  }
  CopyTime(j, "created", [&] { return p.mutable_created(); });
  CopyAmount(j, "amount", [&] { return p.mutable_amount(); });
  CopyString(j, "currency", p.mutable_currency());
  CopyString(j, "customer", p.mutable_customer());
  CopyString(j, "status", p.mutable_status());
  CopyString(j, "description", p.mutable_description());
}

void FillSetupRequest(const JsonValue& j, v1::SetupRequest& s) {
  CopyString(j, "id", s.mutable_id());
  CopyTime(j, "created", [&] { return s.mutable_created(); });
  CopyString(j, "customer", s.mutable_customer());
  CopyString(j, "description", s.mutable_description());
  CopyString(j, "setupAttempt", s.mutable_setup_attempt());
  CopyString(j, "paymentMethod", s.mutable_payment_method());
  CopyString(j, "setupFutureUsage", s.mutable_setup_future_usage());
  CopyString(j, "status", s.mutable_status());
}

void FillPaymentMethod(const JsonValue& j, v1::PaymentMethod& p) {
  CopyString(j, "id", p.mutable_id());
  CopyString(j, "type", p.mutable_type());
  CopyObject(
      j, "card", [&] { return p.mutable_card(); }, FillCard);
  CopyObject(
      j, "billingDetails", [&] { return p.mutable_billing_details(); },
      FillBillingDetails);
  CopyString(j, "customer", p.mutable_customer());
  CopyTime(j, "created", [&] { return p.mutable_created(); });
  CopyStruct(j, "metadata", [&] { return p.mutable_metadata(); });
  CopyStruct(j, "mandate", [&] { return p.mutable_mandate(); });
  CopyStruct(j, "usBankAccount", [&] { return p.mutable_us_bank_account(); });
}

void FillApplicationContact(const JsonValue& j, v1::ApplicationContact& c) {
  CopyString(j, "firstName", c.mutable_first_name());
  CopyString(j, "lastName", c.mutable_last_name());
  CopyString(j, "email", c.mutable_email());
  CopyString(j, "phone", c.mutable_phone());
}

void FillApplicationRelationship(const JsonValue& j,
                                 v1::ApplicationRelationship& r) {
  CopyString(j, "relationshipName", r.mutable_relationship_name());
  CopyString(j, "agentcode", r.mutable_agentcode());
}

void FillApplicationSummary(const JsonValue& j, v1::ApplicationSummary& s) {
  CopyString(j, "id", s.mutable_id());
  CopyString(j, "legalBusinessName", s.mutable_legal_business_name());
  CopyString(j, "businessNameDBA", s.mutable_business_name_dba());
  CopyString(j, "status", s.mutable_status());
  CopyString(j, "specialNotes", s.mutable_special_notes());
  CopyObject(
      j, "relationship", [&] { return s.mutable_relationship(); },
      FillApplicationRelationship);
  CopyBool(j, "autoSubmitDeal", s,
           &v1::ApplicationSummary::set_auto_submit_deal);
  CopyObject(
      j, "primaryContact", [&] { return s.mutable_primary_contact(); },
      FillApplicationContact);
  CopyString(j, "externalReferenceId", s.mutable_external_reference_id());
}

void FillApplication(const JsonValue& j, v1::Application& a) {
  CopyString(j, "id", a.mutable_id());
  CopyObject(
      j, "applicationSummary", [&] { return a.mutable_application_summary(); },
      FillApplicationSummary);
  CopyStruct(j, "coreBusinessInfo",
             [&] { return a.mutable_core_business_info(); });
}

// ---------------------------------------------------------------------------
// Choosing Event.data.

enum class DataKind {
  kCustomer,
  kRefund,
  kPaymentRequest,
  kSetupRequest,
  kPaymentMethod,
  kApplication,
  kOther,
};

DataKind DataKindFromName(absl::string_view name) {
  if (name == "customer") return DataKind::kCustomer;
  if (name == "refund") return DataKind::kRefund;
  if (name == "payment_request") return DataKind::kPaymentRequest;
  if (name == "setup_request") return DataKind::kSetupRequest;
  if (name == "payment_method") return DataKind::kPaymentMethod;
  // GETTRX names application objects after the event (`application.created`).
  if (name == "application" || absl::StartsWith(name, "application.")) {
    return DataKind::kApplication;
  }
  return DataKind::kOther;
}

void FillData(const JsonValue& object, absl::string_view object_kind,
              absl::string_view type, v1::Event& event) {
  const absl::string_view name =
      !object_kind.empty() ? object_kind : type.substr(0, type.find('.'));
  switch (DataKindFromName(name)) {
    case DataKind::kCustomer:
      FillCustomer(object, *event.mutable_customer());
      return;
    case DataKind::kRefund:
      FillRefund(object, *event.mutable_refund());
      return;
    case DataKind::kPaymentRequest:
      FillPaymentRequest(object, *event.mutable_payment_request());
      return;
    case DataKind::kSetupRequest:
      FillSetupRequest(object, *event.mutable_setup_request());
      return;
    case DataKind::kPaymentMethod:
      FillPaymentMethod(object, *event.mutable_payment_method());
      return;
    case DataKind::kApplication:
      FillApplication(object, *event.mutable_application());
      return;
    case DataKind::kOther:
      ToProtoStruct(object, event.mutable_other());
      return;
  }
}

// `id` and `type` are what the ring deduplicates and subscribers filter on:
// without them the delivery cannot be stored, so they are not tolerated.
absl::StatusOr<absl::string_view> RequiredString(const JsonValue& root,
                                                 absl::string_view key) {
  const JsonValue* value = root.Find(key);
  if (value == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("event field \"", key, "\" is missing"));
  }
  if (value->is_null()) {
    return absl::FailedPreconditionError(
        absl::StrCat("event field \"", key, "\" is null"));
  }
  if (value->kind() != JsonValue::Kind::kString) {
    return absl::FailedPreconditionError(
        absl::StrCat("event field \"", key, "\" must be a string, got ",
                     JsonValue::KindName(value->kind())));
  }
  if (value->text().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("event field \"", key, "\" is empty"));
  }
  return value->text();
}

absl::StatusOr<v1::Event> Convert(absl::string_view body,
                                  absl::Time received_at) {
  ASSIGN_OR_RETURN(const JsonDocument document, ParseJsonObject(body));
  const JsonValue& root = document.root();
  ASSIGN_OR_RETURN(const absl::string_view id, RequiredString(root, "id"));
  ASSIGN_OR_RETURN(const absl::string_view type, RequiredString(root, "type"));

  v1::Event event;
  event.set_source(std::string(kGettrxSource));
  event.set_id(std::string(id));
  event.set_type(std::string(type));
  CopyString(root, "account", event.mutable_account());
  CopyString(root, "attemptId", event.mutable_attempt_id());
  CopyTime(root, "created", [&] { return event.mutable_created(); });
  if (received_at != absl::InfiniteFuture() &&
      received_at != absl::InfinitePast()) {
    *event.mutable_received_at() = ToProtoTimestamp(received_at);
  }
  if (const JsonValue* request = ReadObject(root.Find("request"))) {
    CopyString(*request, "idempotencyKey", event.mutable_idempotency_key());
  }
  if (const JsonValue* data = ReadObject(root.Find("data"))) {
    CopyStruct(*data, "previousAttributes",
               [&] { return event.mutable_previous_attributes(); });
    if (const JsonValue* object = ReadObject(data->Find("object"))) {
      const absl::string_view object_kind = ReadObjectKind(*object);
      event.set_object_type(std::string(object_kind));
      FillData(*object, object_kind, type, event);
    }
  }
  event.set_raw_json(body.data(), body.size());
  return event;
}

}  // namespace

absl::StatusOr<v1::Event> ConvertGettrxEvent(absl::string_view body,
                                             absl::Time received_at) {
  // Parsing reports errors as values; this only guards against allocation
  // failure (or anything unforeseen) so no exception leaves the module.
  try {
    return Convert(body, received_at);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory converting event");
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("unexpected error converting event: ", e.what()));
  }
}

}  // namespace hookstream
