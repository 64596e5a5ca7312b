// The stored-event wire decoder (common/store/stored_event.h): any bytes as
// an event's logged form (what a journal record carries). Never crashes;
// what decodes re-reads as an Event whose id matches the index.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/conversion/gettrx_converter.h"
#include "common/store/stored_event.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const std::string& body : hookstream::fuzz::SeedBodies()) {
    absl::StatusOr<hookstream::v1::Event> event =
        hookstream::ConvertGettrxEvent(body, absl::FromUnixSeconds(1733267345));
    if (!event.ok()) continue;
    absl::StatusOr<hookstream::EncodedEvent> encoded =
        hookstream::EncodeForAppend(*event, "20261202T000000Z-fuzz",
                                    absl::FromUnixSeconds(1733267345));
    if (!encoded.ok()) continue;
    seeds.push_back(
        absl::StrCat(encoded->event->RawJsonField(), encoded->event->Fields()));
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view logged(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<hookstream::StoredEvent> stored =
      hookstream::StoredEvent::FromLogged(logged, "epoch-fuzz", 7,
                                          absl::FromUnixSeconds(1));
  if (!stored.ok()) return 0;
  HOOKSTREAM_FUZZ_CHECK(!stored->id.empty());
  HOOKSTREAM_FUZZ_CHECK(stored->sequence == 7);
  const hookstream::v1::Event event = stored->ToEvent(true);
  HOOKSTREAM_FUZZ_CHECK(event.id() == stored->id);
  HOOKSTREAM_FUZZ_CHECK(event.sequence() == 7);
  HOOKSTREAM_FUZZ_CHECK(stored->ByteSize() == stored->WithRawJson().size());
  return 0;
}
