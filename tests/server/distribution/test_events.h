// Events for distribution tests (appended through tests/testing/memory_store.h:
// a real EventRing filled by the real memory backend, at small sizes).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/base/proto_time.h"
#include "gtest/gtest.h"
#include "hookstream/v1/event.pb.h"
#include "tests/testing/memory_store.h"

namespace hookstream::distribution::testing {

using ::hookstream::testing::AppendOrDie;
using ::hookstream::testing::MemoryStore;

// A fully populated customer event `evt_<n>` (every envelope field set, a
// typed payload, previous attributes and a raw body), as the ingress would
// append it.
inline v1::Event MakeEvent(
    int n, const std::string& type = "customer.created",
    const std::string& account = "acm_1",
    absl::Time received_at = absl::FromUnixSeconds(1'733'267'345)) {
  v1::Event event;
  event.set_id(absl::StrCat("evt_", n));
  event.set_type(type);
  event.set_account(account);
  event.set_attempt_id(absl::StrCat("wha_", n));
  *event.mutable_created() =
      ToProtoTimestamp(absl::FromUnixSeconds(1'733'267'300));
  *event.mutable_received_at() = ToProtoTimestamp(received_at);
  event.set_idempotency_key(absl::StrCat("idem-", n));
  (*event.mutable_previous_attributes()->mutable_fields())["email"]
      .set_string_value("old@example.com");
  event.set_source("gettrx");
  event.set_object_type("customer");
  v1::Customer& customer = *event.mutable_customer();
  customer.set_id(absl::StrCat("cus_", n));
  customer.set_email(absl::StrCat("c", n, "@example.com"));
  customer.set_name(absl::StrCat("Customer ", n));
  *customer.mutable_created() =
      ToProtoTimestamp(absl::FromUnixSeconds(1'733'267'000));
  event.set_raw_json(absl::StrCat(R"({"id":"evt_)", n, R"(","type":")", type,
                                  R"(","data":{"object":{"id":"cus_)", n,
                                  R"("}}})"));
  return event;
}

// What a subscriber should receive for `event` appended at `sequence`.
inline v1::Event Expected(v1::Event event, uint64_t sequence,
                          const std::string& epoch, bool include_raw_json) {
  event.set_sequence(sequence);
  event.set_stream_epoch(epoch);
  if (!include_raw_json) event.clear_raw_json();
  return event;
}

}  // namespace hookstream::distribution::testing
