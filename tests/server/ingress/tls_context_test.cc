#include "server/ingress/tls_context.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_certs.h"

namespace hookstream::ingress {
namespace {

using ::hookstream::testing::IsOk;
using ::hookstream::testing::StatusIs;
using ::hookstream::testing::TestCertificate;
using ::testing::HasSubstr;

// Verifies a generated certificate and key load.
TEST(TlsContextTest, LoadsCertificateAndKey) {
  auto cert = TestCertificate::Create();
  ASSERT_THAT(cert, IsOk());
  EXPECT_THAT(MakeServerTlsContext({.cert_file = (*cert)->cert_file(),
                                    .key_file = (*cert)->key_file()}),
              IsOk());
}

// Verifies each failure names the file at fault.
TEST(TlsContextTest, ClearErrors) {
  auto a = TestCertificate::Create();
  auto b = TestCertificate::Create();
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(MakeServerTlsContext({}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeServerTlsContext({.cert_file = "/nonexistent/cert.pem",
                                    .key_file = (*a)->key_file()}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/cert.pem")));
  EXPECT_THAT(MakeServerTlsContext({.cert_file = (*a)->cert_file(),
                                    .key_file = "/nonexistent/key.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/nonexistent/key.pem")));
  EXPECT_THAT(
      MakeServerTlsContext(
          {.cert_file = (*a)->cert_file(), .key_file = (*b)->key_file()}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mismatch")));
  const std::string garbage = (*a)->dir() + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";
  EXPECT_THAT(MakeServerTlsContext(
                  {.cert_file = garbage, .key_file = (*a)->key_file()}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(garbage)));
}

}  // namespace
}  // namespace hookstream::ingress
