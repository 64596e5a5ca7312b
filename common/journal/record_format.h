// -----------------------------------------------------------------------------
// File: record_format.h
// -----------------------------------------------------------------------------
// The journal's on-disk format, as pure functions over bytes (no I/O), so
// that recovery's decisions are testable and fuzzable. docs/journal.md is
// the reference for operators; this header is the one for code.
//
// A segment file is a header followed by records, all little-endian:
//
//   header (128 bytes)
//     0  magic "HSJOURNL"      8   format version (u32, 1)
//     12 header size (u32)     16  first sequence (u64)
//     24 created (i64 unix ns) 32  epoch start (i64 unix ns)
//     40 epoch length (u16)    42  epoch (80 bytes, zero padded)
//     122 reserved (u16)       124 CRC-32C of bytes 0..123 (u32)
//
//   record (24 bytes + payload)
//     0  payload length (u32)  4   CRC-32C (u32) of bytes 0..3 and 8..end
//     8  sequence (u64)        16  log time (i64 unix ns)
//     24 payload: the event's logged form (StoredEvent: raw_json field and
//        converted fields, without epoch and sequence)
//
// Records in a segment have increasing sequences (contiguous, except where a
// repair dropped some). The checksum covers the length, so a damaged length
// is caught like damaged bytes.
//
// ScanSegment walks a whole segment and tells apart:
//   - a torn tail: a partial or bad record after which no valid record
//     follows (what a crash or power loss mid-write leaves; the writer only
//     ever appends): the segment is good up to `valid_end`;
//   - damage: a bad record (or header) followed by valid records further on
//     (what a flipped byte leaves): `damage` names the first bad offset and
//     where valid records resume;
//   - zero bytes after everything written (`data_end`): space the journal
//     preallocated and has not written yet, neither torn nor damage. The
//     writer only appends, and a preallocated segment starts zero-filled,
//     so the first record header that reads as zeros past every non-zero
//     byte is where the log ends.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookstream::journal {

inline constexpr absl::string_view kSegmentMagic = "HSJOURNL";
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 128;
inline constexpr size_t kMaxEpochSize = 80;
inline constexpr size_t kRecordHeaderSize = 24;
// Larger payloads are damage, never an event (events are bounded far below
// this by the ingress's body limit and the ring's byte budget).
inline constexpr size_t kMaxRecordPayload = size_t{256} << 20;

struct SegmentHeader {
  uint64_t first_sequence = 1;
  absl::Time created = absl::UnixEpoch();
  std::string epoch;
  absl::Time epoch_start = absl::UnixEpoch();
};

// The header's 128 bytes. `epoch` must be at most kMaxEpochSize bytes.
std::string EncodeSegmentHeader(const SegmentHeader& header);

// DATA_LOSS naming what is wrong (short, bad magic or checksum); UNIMPLEMENTED
// for another format version.
absl::StatusOr<SegmentHeader> DecodeSegmentHeader(absl::string_view bytes);

struct Record {
  uint64_t sequence = 0;
  absl::Time log_time = absl::UnixEpoch();
  // Views into the scanned bytes.
  absl::string_view payload;
  // Offset of the record in the segment, and its whole size.
  size_t offset = 0;
  size_t size = 0;
};

// Appends one record (header + payload given in parts) to `out`.
void AppendRecord(uint64_t sequence, absl::Time log_time,
                  absl::string_view payload_part1,
                  absl::string_view payload_part2, std::string& out);

enum class DecodeResult {
  kOk,
  // Fewer bytes than the record claims (or than a header): at the end of a
  // file, a write that did not finish.
  kTruncated,
  // A length beyond kMaxRecordPayload, or a checksum mismatch.
  kBad,
};

// Decodes the record at the start of `bytes`.
DecodeResult DecodeRecord(absl::string_view bytes, Record& record);

struct SegmentScan {
  SegmentHeader header;
  // The good records, in order.
  std::vector<Record> records;
  // The offset just past the last good record (the header's end when none).
  size_t valid_end = 0;
  // Just past the last non-zero byte (at least valid_end): what follows is
  // zero-filled, preallocated space, never written.
  size_t data_end = 0;
  // Bytes from valid_end to data_end when no valid record follows them (a
  // torn tail).
  size_t torn_bytes = 0;
  // Damage: a bad stretch followed by valid records.
  struct Damage {
    size_t offset;         // first bad byte
    size_t resume_offset;  // where valid records start again
    std::string reason;    // "checksum mismatch", "sequence 7 after 9", ...
    // The stretch holds a whole, aligned page of zero bytes: a page of an
    // unfinished write that never reached the disk (a torn write whose later
    // pages did), not a damaged byte.
    bool zero_page = false;
  };
  std::vector<Damage> damage;
};

// The page size torn writes are judged by (4 KiB: the smallest page and
// sector size Linux writes back).
inline constexpr size_t kTornPageSize = 4096;

// Scans a whole segment. `bytes` starts with the header; a header that does
// not decode is an error (DATA_LOSS / UNIMPLEMENTED, naming why). After a
// damaged stretch the scan resynchronizes on the next valid record (one
// whose sequence follows and whose checksum holds), so every good record is
// found.
absl::StatusOr<SegmentScan> ScanSegment(absl::string_view bytes);

}  // namespace hookstream::journal
