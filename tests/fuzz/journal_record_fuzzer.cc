// The journal record decoder (common/journal/record_format.h): any bytes as
// a segment file and as one record, as recovery reads them, and each good
// record's payload through the stored-event decoder as recovery does. Never
// crashes; the scan's offsets stay within the input and tile it: good
// records and damaged stretches in order, then the torn tail.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/conversion/gettrx_converter.h"
#include "common/journal/record_format.h"
#include "common/store/stored_event.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

namespace j = hookstream::journal;

std::vector<std::string> Seeds() {
  std::string segment = j::EncodeSegmentHeader(
      {.first_sequence = 1,
       .created = absl::FromUnixSeconds(1733267345),
       .epoch = "20261202T000000Z-fuzz",
       .epoch_start = absl::FromUnixSeconds(1733267000)});
  uint64_t sequence = 0;
  for (const std::string& body : hookstream::fuzz::SeedBodies()) {
    absl::StatusOr<hookstream::v1::Event> event =
        hookstream::ConvertGettrxEvent(body, absl::FromUnixSeconds(1733267345));
    if (!event.ok()) continue;
    absl::StatusOr<hookstream::EncodedEvent> encoded =
        hookstream::EncodeForAppend(*event, "20261202T000000Z-fuzz",
                                    absl::FromUnixSeconds(1733267345));
    if (!encoded.ok()) continue;
    j::AppendRecord(++sequence, absl::FromUnixSeconds(1733267345 + sequence),
                    encoded->event->RawJsonField(), encoded->event->Fields(),
                    segment);
  }
  std::vector<std::string> seeds = {segment};
  // A torn tail and a damaged middle.
  seeds.push_back(segment.substr(0, segment.size() - 7));
  std::string damaged = segment;
  damaged[j::kSegmentHeaderSize + 30] ^= 0x5a;
  seeds.push_back(damaged);
  seeds.push_back(segment.substr(j::kSegmentHeaderSize));
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hookstream::fuzz::MaybeWriteSeeds(Seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  j::Record one;
  if (j::DecodeRecord(bytes, one) == j::DecodeResult::kOk) {
    HOOKSTREAM_FUZZ_CHECK(one.size >= j::kRecordHeaderSize);
    HOOKSTREAM_FUZZ_CHECK(one.size <= size);
    HOOKSTREAM_FUZZ_CHECK(one.payload.size() + j::kRecordHeaderSize ==
                          one.size);
  }
  absl::StatusOr<j::SegmentScan> scan = j::ScanSegment(bytes);
  if (!scan.ok()) return 0;
  HOOKSTREAM_FUZZ_CHECK(scan->valid_end <= size);
  HOOKSTREAM_FUZZ_CHECK(scan->valid_end + scan->torn_bytes <= size);
  size_t previous_end = j::kSegmentHeaderSize;
  for (const j::Record& r : scan->records) {
    HOOKSTREAM_FUZZ_CHECK(r.offset >= previous_end);
    HOOKSTREAM_FUZZ_CHECK(r.offset + r.size <= scan->valid_end);
    previous_end = r.offset + r.size;
    absl::StatusOr<hookstream::StoredEvent> stored =
        hookstream::StoredEvent::FromLogged(r.payload, scan->header.epoch,
                                            r.sequence, r.log_time);
    if (stored.ok()) HOOKSTREAM_FUZZ_CHECK(stored->sequence == r.sequence);
  }
  for (const j::SegmentScan::Damage& d : scan->damage) {
    HOOKSTREAM_FUZZ_CHECK(d.offset < d.resume_offset);
    HOOKSTREAM_FUZZ_CHECK(d.resume_offset <= size);
  }
  return 0;
}
