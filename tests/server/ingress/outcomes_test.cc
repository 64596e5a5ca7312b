#include "server/ingress/outcomes.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace hookstream::ingress {
namespace {

// Verifies the table follows the status policy: no 3xx or 410, every
// answered error carries a short code, labels are unique.
TEST(OutcomesTest, TableFollowsTheStatusPolicy) {
  std::set<std::string> labels;
  for (const OutcomeInfo& row : AllOutcomes()) {
    EXPECT_FALSE(row.http_status >= 300 && row.http_status < 400) << row.label;
    EXPECT_NE(row.http_status, 410) << row.label;
    if (row.http_status >= 400) {
      EXPECT_FALSE(row.error_code.empty()) << row.label;
    }
    if (row.http_status == 200) {
      EXPECT_TRUE(row.error_code.empty()) << row.label;
    }
    EXPECT_TRUE(labels.insert(std::string(row.label)).second) << row.label;
  }
}

// Verifies the rows issue 3 names, and that every 401 has the same code (the
// body's `reason` and the log tell them apart).
TEST(OutcomesTest, IssueRows) {
  EXPECT_EQ(GetOutcomeInfo(Outcome::kAccepted).http_status, 200);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kDuplicate).http_status, 200);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kMalformedJson).http_status, 400);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kMissingFields).http_status, 422);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kUnknownPath).http_status, 404);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kMethodNotAllowed).http_status, 405);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kLengthRequired).http_status, 411);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kPayloadTooLarge).http_status, 413);
  EXPECT_TRUE(GetOutcomeInfo(Outcome::kPayloadTooLarge).close_connection);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kUnsupportedMediaType).http_status, 415);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kHeadersTooLarge).http_status, 431);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kRequestTimeout).http_status, 408);
  EXPECT_TRUE(GetOutcomeInfo(Outcome::kRequestTimeout).close_connection);
  EXPECT_EQ(GetOutcomeInfo(Outcome::kDraining).http_status, 503);
  for (Outcome o : {Outcome::kMissingSignature, Outcome::kBadSignature,
                    Outcome::kStaleTimestamp}) {
    EXPECT_EQ(GetOutcomeInfo(o).http_status, 401);
    EXPECT_EQ(GetOutcomeInfo(o).error_code, "unauthenticated");
  }
}

// Verifies every error reason put in a body is a short machine-readable
// token (the label), so no request content or secret can reach it.
TEST(OutcomesTest, ReasonsAreMachineReadableTokens) {
  for (const OutcomeInfo& row : AllOutcomes()) {
    for (char c : row.label) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << row.label;
    }
  }
}

}  // namespace
}  // namespace hookstream::ingress
