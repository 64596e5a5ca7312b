#include "common/journal/record_format.h"

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/journal/crc32c.h"

namespace hookstream::journal {
namespace {

// Little-endian fields, whatever the host's byte order.
template <typename T>
void PutLe(char* p, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
}
template <typename T>
T GetLe(const char* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<T>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}
void PutU16(char* p, uint16_t v) { PutLe(p, v); }
void PutU32(char* p, uint32_t v) { PutLe(p, v); }
void PutU64(char* p, uint64_t v) { PutLe(p, v); }
uint16_t GetU16(const char* p) { return GetLe<uint16_t>(p); }
uint32_t GetU32(const char* p) { return GetLe<uint32_t>(p); }
uint64_t GetU64(const char* p) { return GetLe<uint64_t>(p); }

int64_t ToNanos(absl::Time t) { return absl::ToUnixNanos(t); }
absl::Time FromNanos(uint64_t n) {
  return absl::FromUnixNanos(static_cast<int64_t>(n));
}

// The checksum of a record: its length field, then sequence, time, payload.
uint32_t RecordCrc(absl::string_view record_bytes) {
  uint32_t crc = Crc32c(record_bytes.substr(0, 4));
  return Crc32cExtend(crc, record_bytes.substr(8));
}

// Whether [begin, end) of `bytes` holds a whole page-aligned page of zeros.
bool HasZeroPage(absl::string_view bytes, size_t begin, size_t end) {
  size_t page = (begin + kTornPageSize - 1) / kTornPageSize * kTornPageSize;
  for (; page + kTornPageSize <= end; page += kTornPageSize) {
    const absl::string_view chunk = bytes.substr(page, kTornPageSize);
    if (std::all_of(chunk.begin(), chunk.end(),
                    [](char c) { return c == 0; })) {
      return true;
    }
  }
  return false;
}

// Just past the last non-zero byte of `bytes` (0 when all are zero). Reads
// backwards a word at a time: a preallocated tail can be megabytes long.
size_t EndOfNonZero(absl::string_view bytes) {
  size_t end = bytes.size();
  while (end % sizeof(uint64_t) != 0 && bytes[end - 1] == 0) --end;
  if (end % sizeof(uint64_t) == 0) {
    while (end >= sizeof(uint64_t)) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + end - sizeof(word), sizeof(word));
      if (word != 0) break;
      end -= sizeof(word);
    }
  }
  while (end > 0 && bytes[end - 1] == 0) --end;
  return end;
}

}  // namespace

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentHeaderSize, '\0');
  char* p = out.data();
  std::memcpy(p, kSegmentMagic.data(), kSegmentMagic.size());
  PutU32(p + 8, kFormatVersion);
  PutU32(p + 12, static_cast<uint32_t>(kSegmentHeaderSize));
  PutU64(p + 16, header.first_sequence);
  PutU64(p + 24, static_cast<uint64_t>(ToNanos(header.created)));
  PutU64(p + 32, static_cast<uint64_t>(ToNanos(header.epoch_start)));
  const size_t epoch_size = std::min(header.epoch.size(), kMaxEpochSize);
  PutU16(p + 40, static_cast<uint16_t>(epoch_size));
  std::memcpy(p + 42, header.epoch.data(), epoch_size);
  PutU32(p + 124, Crc32c(absl::string_view(p, 124)));
  return out;
}

absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes) {
  if (bytes.size() < kSegmentHeaderSize) {
    return absl::DataLossError(absl::StrCat(
        "segment header: ", bytes.size(), " bytes, want ", kSegmentHeaderSize));
  }
  const char* p = bytes.data();
  if (bytes.substr(0, 8) != kSegmentMagic) {
    return absl::DataLossError("segment header: bad magic");
  }
  if (GetU32(p + 124) != Crc32c(bytes.substr(0, 124))) {
    return absl::DataLossError("segment header: checksum mismatch");
  }
  if (const uint32_t version = GetU32(p + 8); version != kFormatVersion) {
    return absl::UnimplementedError(absl::StrCat("segment format version ",
                                                 version, " (this build reads ",
                                                 kFormatVersion, ")"));
  }
  if (GetU32(p + 12) != kSegmentHeaderSize) {
    return absl::DataLossError("segment header: unexpected header size");
  }
  const uint16_t epoch_size = GetU16(p + 40);
  if (epoch_size > kMaxEpochSize) {
    return absl::DataLossError("segment header: epoch too long");
  }
  SegmentHeader header;
  header.first_sequence = GetU64(p + 16);
  header.created = FromNanos(GetU64(p + 24));
  header.epoch_start = FromNanos(GetU64(p + 32));
  header.epoch.assign(p + 42, epoch_size);
  return header;
}

void AppendRecord(uint64_t sequence, absl::Time log_time,
                  absl::string_view payload_part1,
                  absl::string_view payload_part2, std::string& out) {
  const size_t start = out.size();
  const size_t payload_size = payload_part1.size() + payload_part2.size();
  out.resize(start + kRecordHeaderSize + payload_size);
  char* p = out.data() + start;
  PutU32(p, static_cast<uint32_t>(payload_size));
  PutU64(p + 8, sequence);
  PutU64(p + 16, static_cast<uint64_t>(ToNanos(log_time)));
  std::memcpy(p + kRecordHeaderSize, payload_part1.data(),
              payload_part1.size());
  std::memcpy(p + kRecordHeaderSize + payload_part1.size(),
              payload_part2.data(), payload_part2.size());
  PutU32(p + 4,
         RecordCrc(absl::string_view(p, kRecordHeaderSize + payload_size)));
}

DecodeResult DecodeRecord(absl::string_view bytes, Record& record) {
  if (bytes.size() < kRecordHeaderSize) return DecodeResult::kTruncated;
  const char* p = bytes.data();
  const uint32_t length = GetU32(p);
  if (length > kMaxRecordPayload) return DecodeResult::kBad;
  if (bytes.size() - kRecordHeaderSize < length) {
    return DecodeResult::kTruncated;
  }
  const absl::string_view whole = bytes.substr(0, kRecordHeaderSize + length);
  if (GetU32(p + 4) != RecordCrc(whole)) return DecodeResult::kBad;
  record.sequence = GetU64(p + 8);
  record.log_time = FromNanos(GetU64(p + 16));
  record.payload = whole.substr(kRecordHeaderSize);
  record.size = whole.size();
  return DecodeResult::kOk;
}

absl::StatusOr<SegmentScan> ScanSegment(absl::string_view bytes) {
  SegmentScan scan;
  absl::StatusOr<SegmentHeader> header = DecodeSegmentHeader(bytes);
  if (!header.ok()) return header.status();
  scan.header = *std::move(header);
  // The sequence the next record must exceed.
  uint64_t last = scan.header.first_sequence - 1;
  size_t offset = kSegmentHeaderSize;
  scan.valid_end = offset;
  // Zero-filled preallocation after the log: never scanned (every record
  // has a non-zero length or checksum, so none starts in it).
  const size_t data_end = std::max(offset, EndOfNonZero(bytes));
  while (offset < data_end) {
    Record record;
    const DecodeResult result = DecodeRecord(bytes.substr(offset), record);
    std::string reason;
    if (result == DecodeResult::kOk && record.sequence > last) {
      record.offset = offset;
      last = record.sequence;
      offset += record.size;
      scan.valid_end = offset;
      scan.records.push_back(record);
      continue;
    }
    reason = result == DecodeResult::kOk
                 ? absl::StrCat("sequence ", record.sequence, " after ", last)
             : result == DecodeResult::kBad ? "checksum mismatch"
                                            : "record cut short";
    // Resynchronize: the next offset holding a valid record that follows.
    size_t resume = bytes.size();
    for (size_t at = offset + 1;
         at < data_end && at + kRecordHeaderSize <= bytes.size(); ++at) {
      const char* p = bytes.data() + at;
      const uint64_t sequence = GetU64(p + 8);
      // Cheap plausibility first: a following sequence and a length that
      // fits; the checksum decides.
      if (sequence <= last || sequence - last > (uint64_t{1} << 32) ||
          GetU32(p) > bytes.size() - at - kRecordHeaderSize) {
        continue;
      }
      Record candidate;
      if (DecodeRecord(bytes.substr(at), candidate) == DecodeResult::kOk) {
        resume = at;
        break;
      }
    }
    if (resume == bytes.size()) {
      scan.torn_bytes = data_end - offset;
      break;
    }
    scan.damage.push_back({.offset = offset,
                           .resume_offset = resume,
                           .reason = std::move(reason),
                           .zero_page = HasZeroPage(bytes, offset, resume)});
    offset = resume;
  }
  // A last record whose final bytes are zeros ends past the last non-zero
  // byte.
  scan.data_end = std::max(data_end, scan.valid_end);
  return scan;
}

}  // namespace hookstream::journal
