#include "common/journal/crc32c.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace hookstream::journal {
namespace {

// Verifies the published check values of CRC-32C (RFC 3720 B.4 and the
// "123456789" check value of the Castagnoli polynomial).
TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

// Verifies that the hardware path (where the CPU has it) and the portable
// one agree on random data of every length up to 300 bytes, and that
// extending in pieces equals the CRC of the whole.
TEST(Crc32cTest, HardwareAndPortableAgreeAndExtend) {
  std::mt19937 rng(7);
  for (size_t n = 0; n <= 300; ++n) {
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    ASSERT_EQ(Crc32c(data), Crc32cPortable(0, data)) << n;
    const size_t cut = n / 3;
    EXPECT_EQ(Crc32cExtend(Crc32c(data.substr(0, cut)), data.substr(cut)),
              Crc32c(data));
    EXPECT_EQ(Crc32cPortable(Crc32cPortable(0, data.substr(0, cut)),
                             data.substr(cut)),
              Crc32c(data));
  }
}

}  // namespace
}  // namespace hookstream::journal
