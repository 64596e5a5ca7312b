// -----------------------------------------------------------------------------
// File: journal_state.h
// -----------------------------------------------------------------------------
// The journal's STATE file: the stream identity it serves, and whether the
// last process stopped cleanly, under which sync mode, on which boot. It is
// how a restart knows whether it may keep the epoch:
//
//   last stop | sync mode | boot id  | epoch on restart
//   ----------+-----------+----------+----------------------------------------
//   clean     | any       | any      | kept
//   unclean   | fsync     | any      | kept (everything acknowledged was
//             |           |          | fsynced; only an unacknowledged tail
//             |           |          | can be torn)
//   unclean   | none      | same     | kept (a process crash: the page cache
//             |           |          | still had every write)
//   unclean   | none      | changed  | NEW: the OS went down with writes that
//             |           |          | were acknowledged but not on disk; the
//             |           |          | tail may be gone and its sequences
//             |           |          | reused, so old positions must not match
//
// A small text file (key value lines and a CRC-32C line), written atomically
// (file_util.h): `cat` shows it.
//
// Thread-safety: pure functions, except CurrentBootId (reads /proc).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace hookstream::journal {

inline constexpr char kStateFileName[] = "STATE";

struct JournalState {
  std::string epoch;
  absl::Time epoch_start = absl::UnixEpoch();
  std::string boot_id;
  // "fsync" or "none": the mode the process that wrote it ran with.
  std::string sync;
  // True once that process closed the journal (everything written, synced).
  bool clean = false;
};

std::string EncodeJournalState(const JournalState& state);

// DATA_LOSS when the file is damaged (checksum, missing keys).
absl::StatusOr<JournalState> DecodeJournalState(absl::string_view text);

// Whether a restart must start a new epoch (see the table above).
bool NeedsNewEpoch(const JournalState& last, absl::string_view boot_id);

// This boot's id (/proc/sys/kernel/random/boot_id), or "unknown".
std::string CurrentBootId();

}  // namespace hookstream::journal
