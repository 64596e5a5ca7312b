#include "tests/testing/test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"

namespace hookstream::testing {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* f) const { fclose(f); }
};

absl::Status AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) {
    return absl::InternalError(absl::StrCat("bad extension ", value));
  }
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1 ? absl::OkStatus()
                 : absl::InternalError("X509_add_ext failed");
}

}  // namespace

TestCertificate::TestCertificate(std::string dir)
    : dir_(std::move(dir)),
      cert_file_(dir_ + "/cert.pem"),
      key_file_(dir_ + "/key.pem") {}

TestCertificate::~TestCertificate() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<std::unique_ptr<TestCertificate>> TestCertificate::Create() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "hookstream-cert-XXXXXX")
          .string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  std::unique_ptr<TestCertificate> result(new TestCertificate(pattern));

  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (key == nullptr) return absl::InternalError("EVP_EC_gen failed");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (cert == nullptr) return absl::InternalError("X509_new failed");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 7 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
      name, "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  for (const auto& [nid, value] :
       {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
        std::pair{NID_subject_key_identifier, "hash"},
        std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"}}) {
    if (absl::Status s = AddExtension(cert.get(), nid, value); !s.ok()) {
      return s;
    }
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return absl::InternalError("X509_sign failed");
  }

  std::unique_ptr<FILE, FileClose> key_out(
      fopen(result->key_file_.c_str(), "w"));
  std::unique_ptr<FILE, FileClose> cert_out(
      fopen(result->cert_file_.c_str(), "w"));
  if (key_out == nullptr || cert_out == nullptr) {
    return absl::InternalError("cannot write certificate files");
  }
  if (PEM_write_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0,
                           nullptr, nullptr) != 1 ||
      PEM_write_X509(cert_out.get(), cert.get()) != 1) {
    return absl::InternalError("PEM write failed");
  }
  return result;
}

}  // namespace hookstream::testing
