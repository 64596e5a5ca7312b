// -----------------------------------------------------------------------------
// File: crc32c.h
// -----------------------------------------------------------------------------
// CRC-32C (Castagnoli, iSCSI; RFC 3720), the checksum of every journal
// record and segment header. Computed with the SSE4.2 crc32 instruction when
// the CPU has it (~8 GB/s, so recovery of a gigabyte of records spends
// ~0.15 s on checksums), else with Boost.CRC's table-driven crc_optimal
// (the reference the tests compare against).
//
// Example:
//   uint32_t crc = Crc32c("123456789");  // 0xE3069283
//   crc = Crc32cExtend(crc, more);       // == Crc32c(all bytes)
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace hookstream::journal {

// The CRC-32C of `data`.
uint32_t Crc32c(absl::string_view data);

// The CRC-32C of the bytes whose CRC-32C is `crc`, followed by `data`.
uint32_t Crc32cExtend(uint32_t crc, absl::string_view data);

// The portable (Boost.CRC) computation, whatever the CPU: for tests.
uint32_t Crc32cPortable(uint32_t crc, absl::string_view data);

}  // namespace hookstream::journal
