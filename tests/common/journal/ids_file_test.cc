#include "common/journal/ids_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::journal {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;

TEST(IdsFileTest, RoundTripsAndRefusesDamage) {
  const std::vector<CarriedId> ids = {
      {"evt_a", 3, absl::FromUnixSeconds(100)},
      {"evt_" + std::string(300, 'b'), 9, absl::FromUnixSeconds(200)}};
  const std::string bytes = EncodeIdsFile(ids);
  absl::StatusOr<std::vector<CarriedId>> back = DecodeIdsFile(bytes);
  ASSERT_THAT(back, IsOk());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[1].id, ids[1].id);
  EXPECT_EQ((*back)[1].sequence, 9u);
  EXPECT_EQ((*back)[1].log_time, absl::FromUnixSeconds(200));
  EXPECT_THAT(DecodeIdsFile(EncodeIdsFile({})), IsOk());

  std::string flipped = bytes;
  flipped[kIdsHeaderSize + 30] ^= 1;
  EXPECT_THAT(DecodeIdsFile(flipped), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeIdsFile(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeIdsFile("HSJIDS02"), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace hookstream::journal
