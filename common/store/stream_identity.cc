#include "common/store/stream_identity.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"

namespace hookstream {

StreamIdentity NewStreamIdentity(absl::Time now) {
  absl::BitGen gen;
  return StreamIdentity{
      .epoch = absl::StrCat(
          absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()), "-",
          absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16)),
      .start_time = now};
}

}  // namespace hookstream
