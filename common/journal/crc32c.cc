#include "common/journal/crc32c.h"

#include <cstring>

#include "boost/crc.hpp"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace hookstream::journal {
namespace {

// Reflected CRC-32C: polynomial 0x1EDC6F41, init and final XOR 0xFFFFFFFF.
using BoostCrc32c =
    boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

// Bit-reversal of a 32-bit value.
uint32_t Reflect(uint32_t v) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i) {
    if ((v >> i) & 1u) r |= 1u << (31 - i);
  }
  return r;
}

#if defined(__x86_64__)
// Compiled for SSE4.2 alone; called only when the CPU has it.
__attribute__((target("sse4.2"))) uint32_t HardwareExtend(
    uint32_t crc, absl::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p++));
  return ~c32;
}

bool HasSse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t Crc32cPortable(uint32_t crc, absl::string_view data) {
  // crc_optimal takes its initial remainder unreflected; a finished
  // (reflected, final-XORed) CRC continues from the reflection of its
  // complement.
  BoostCrc32c boost_crc(Reflect(~crc));
  boost_crc.process_bytes(data.data(), data.size());
  return boost_crc.checksum();
}

uint32_t Crc32cExtend(uint32_t crc, absl::string_view data) {
#if defined(__x86_64__)
  if (HasSse42()) return HardwareExtend(crc, data);
#endif
  return Crc32cPortable(crc, data);
}

uint32_t Crc32c(absl::string_view data) { return Crc32cExtend(0, data); }

}  // namespace hookstream::journal
