// GETTRX conversion (common/conversion): any bytes as a delivery body. Never
// crashes; an accepted event has an id and a type and keeps the body
// byte for byte as raw_json.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/conversion/gettrx_converter.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(hookstream::fuzz::SeedBodies);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<hookstream::v1::Event> event =
      hookstream::ConvertGettrxEvent(body, absl::FromUnixSeconds(1733267345));
  if (event.ok()) {
    HOOKSTREAM_FUZZ_CHECK(!event->id().empty());
    HOOKSTREAM_FUZZ_CHECK(!event->type().empty());
    HOOKSTREAM_FUZZ_CHECK(event->raw_json() == body);
    std::string bytes;
    HOOKSTREAM_FUZZ_CHECK(event->SerializeToString(&bytes));
  }
  return 0;
}
