// -----------------------------------------------------------------------------
// File: ids_file.h
// -----------------------------------------------------------------------------
// A carried-over ids file: the event ids of a deleted segment that were
// still inside the dedup window when it was deleted, with their sequences
// and log times, so that a GETTRX retry days later is still answered
// `duplicate` after a restart although the event itself is gone.
//
// Format: the 16-byte header "HSJIDS01", format version (u32), reserved
// (u32), then one record per id in the segment record format
// (record_format.h) with the id as its payload. Written once, atomically
// (a temporary file, fsync, rename), named after the segment it replaces
// (`<first sequence>.ids`), and deleted when its newest id left the window.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookstream::journal {

inline constexpr absl::string_view kIdsMagic = "HSJIDS01";
inline constexpr size_t kIdsHeaderSize = 16;

struct CarriedId {
  std::string id;
  uint64_t sequence = 0;
  absl::Time log_time = absl::UnixEpoch();
};

// `ids` in increasing sequence order.
std::string EncodeIdsFile(const std::vector<CarriedId>& ids);

// DATA_LOSS naming the offset of the first bad record.
absl::StatusOr<std::vector<CarriedId>> DecodeIdsFile(absl::string_view bytes);

}  // namespace hookstream::journal
