#include "server/ingress/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace hookstream::ingress {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are
// OpenSSL's defaults, which are all AEAD.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The most recent OpenSSL error as text, clearing the queue.
std::string LastOpenSslError() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(last, buffer, sizeof(buffer));
  return buffer;
}

int SelectAlpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
               const unsigned char* in, unsigned int inlen, void* /*arg*/) {
  static constexpr unsigned char kHttp11[] = {8,   'h', 't', 't', 'p',
                                              '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof(kHttp11), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    // The client offers only protocols we do not speak (e.g. h2 alone):
    // continue without ALPN rather than failing the handshake.
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ssl::context>> MakeServerTlsContext(
    const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS needs both a certificate file and a key file");
  }
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return absl::InternalError(
        absl::StrCat("TLS: cannot require TLS 1.2: ", LastOpenSslError()));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE |
                               SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return absl::InternalError(
        absl::StrCat("TLS: cipher list rejected: ", LastOpenSslError()));
  }
  SSL_CTX_set_alpn_select_cb(ctx, &SelectAlpn, nullptr);

  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS certificate file ", files.cert_file, ": ", LastOpenSslError()));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(),
                                  SSL_FILETYPE_PEM) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS key file ", files.key_file, ": ", LastOpenSslError()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS key file ", files.key_file, " does not match certificate ",
        files.cert_file, ": ", LastOpenSslError()));
  }
  return context;
}

}  // namespace hookstream::ingress
