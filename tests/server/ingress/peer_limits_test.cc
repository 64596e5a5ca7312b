#include "server/ingress/peer_limits.h"

#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace hookstream::ingress {
namespace {

using ::hookstream::testing::FakeClock;
using ::hookstream::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Optional;

boost::asio::ip::address Ip(const std::string& text) {
  return boost::asio::ip::make_address(text);
}

TEST(ParseCidrListTest, ParsesV4V6AndBareAddresses) {
  // Verifies each form of an entry and what it contains, including a
  // v4-mapped v6 peer (a dual-stack listener) matching a v4 range.
  absl::StatusOr<std::vector<Cidr>> list =
      ParseCidrList(" 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,0.0.0.0/0");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 4u);
  EXPECT_TRUE((*list)[0].Contains(Ip("10.255.1.2")));
  EXPECT_FALSE((*list)[0].Contains(Ip("11.0.0.1")));
  EXPECT_TRUE((*list)[0].Contains(Ip("::ffff:10.1.2.3")));
  EXPECT_TRUE((*list)[1].Contains(Ip("192.168.1.7")));
  EXPECT_FALSE((*list)[1].Contains(Ip("192.168.1.8")));
  EXPECT_TRUE((*list)[2].Contains(Ip("2001:db8:1::5")));
  EXPECT_FALSE((*list)[2].Contains(Ip("2001:db9::5")));
  EXPECT_FALSE((*list)[2].Contains(Ip("10.0.0.1")));
  EXPECT_TRUE((*list)[3].Contains(Ip("8.8.8.8")));
  // A prefix that is not a byte boundary.
  absl::StatusOr<std::vector<Cidr>> odd = ParseCidrList("172.16.0.0/12");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE((*odd)[0].Contains(Ip("172.31.255.255")));
  EXPECT_FALSE((*odd)[0].Contains(Ip("172.32.0.0")));
  EXPECT_TRUE(ParseCidrList("")->empty());
}

TEST(ParseCidrListTest, RefusesWhatIsNotARange) {
  // Verifies the error names the bad entry.
  for (const char* bad :
       {"10.0.0.0/33", "example.com", "10.0.0.0/x", "::/129", "1.2.3.4/-1"}) {
    EXPECT_THAT(ParseCidrList(absl::StrCat("10.0.0.0/8,", bad)).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)))
        << bad;
  }
}

TEST(PeerLimitsTest, AllowlistEmptyMeansEveryone) {
  FakeClock clock;
  PeerLimits open({}, clock);
  EXPECT_TRUE(open.Allowed(Ip("203.0.113.9")));
  PeerLimits closed({.allow = *ParseCidrList("127.0.0.0/8")}, clock);
  EXPECT_TRUE(closed.Allowed(Ip("127.0.0.1")));
  EXPECT_FALSE(closed.Allowed(Ip("203.0.113.9")));
}

TEST(PeerLimitsTest, ConnectionCapIsPerPeerAndReleased) {
  // Verifies that one peer at its cap does not stop another, that closing
  // frees the slot, and that the table forgets peers with nothing open.
  FakeClock clock;
  PeerLimits limits({.max_connections_per_peer = 2}, clock);
  const auto a = Ip("10.0.0.1");
  const auto b = Ip("10.0.0.2");
  EXPECT_TRUE(limits.TryOpenConnection(a));
  EXPECT_TRUE(limits.TryOpenConnection(a));
  EXPECT_FALSE(limits.TryOpenConnection(a));
  EXPECT_TRUE(limits.TryOpenConnection(b));
  limits.CloseConnection(a);
  EXPECT_TRUE(limits.TryOpenConnection(a));
  limits.CloseConnection(a);
  limits.CloseConnection(a);
  limits.CloseConnection(b);
  EXPECT_EQ(limits.tracked_peers(), 0u);
}

TEST(PeerLimitsTest, TokenBucketAnswersHowLongToWait) {
  // Verifies the burst, the sustained rate and the wait until the next
  // token, on a fake clock.
  FakeClock clock;
  PeerLimits limits({.rate_per_second = 2, .burst = 3}, clock);
  const auto a = Ip("10.0.0.1");
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(limits.TakeRequestToken(a), std::nullopt);
  EXPECT_THAT(limits.TakeRequestToken(a), Optional(absl::Milliseconds(500)));
  EXPECT_EQ(limits.TakeRequestToken(Ip("10.0.0.2")), std::nullopt);
  clock.Advance(absl::Milliseconds(250));
  EXPECT_THAT(limits.TakeRequestToken(a), Optional(absl::Milliseconds(250)));
  clock.Advance(absl::Milliseconds(250));
  EXPECT_EQ(limits.TakeRequestToken(a), std::nullopt);
  EXPECT_TRUE(limits.TakeRequestToken(a).has_value());
  // Refilled but never above the burst.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(limits.TakeRequestToken(a), std::nullopt);
  EXPECT_TRUE(limits.TakeRequestToken(a).has_value());
}

TEST(PeerLimitsTest, TableOfBucketsStaysBounded) {
  // Verifies that peers seen once are swept once their bucket is full
  // again: a scan from many addresses cannot grow the table for ever.
  FakeClock clock;
  PeerLimits limits({.rate_per_second = 100, .burst = 1}, clock);
  for (uint32_t i = 0; i < 100'000; ++i) {
    limits.TakeRequestToken(boost::asio::ip::address_v4(0x0a000000 + i));
    if (i % 1000 == 999) clock.Advance(absl::Seconds(1));
    ASSERT_LE(limits.tracked_peers(), 4096u) << i;
  }
}

}  // namespace
}  // namespace hookstream::ingress
