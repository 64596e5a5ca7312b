// -----------------------------------------------------------------------------
// File: test_certs.h
// -----------------------------------------------------------------------------
// A self-signed TLS certificate generated at test time (never checked in):
// an EC P-256 key and a certificate for localhost / 127.0.0.1 / ::1, written
// as PEM files into a fresh temporary directory that is removed on
// destruction. Clients trust it by using `cert_file` as their CA file.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(auto cert, TestCertificate::Create());
//   options.cert_file = cert->cert_file();
//   options.key_file = cert->key_file();
//
// Thread-safety: Create is thread-safe; the object is immutable.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace hookstream::testing {

class TestCertificate {
 public:
  static absl::StatusOr<std::unique_ptr<TestCertificate>> Create();
  ~TestCertificate();

  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  explicit TestCertificate(std::string dir);

  std::string dir_;
  std::string cert_file_;
  std::string key_file_;
};

}  // namespace hookstream::testing
