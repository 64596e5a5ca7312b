// -----------------------------------------------------------------------------
// File: tls_context.h
// -----------------------------------------------------------------------------
// Builds the server's TLS context from PEM files: TLS 1.2 minimum (1.3
// preferred, negotiated when the client offers it), ECDHE + AEAD cipher
// suites only for 1.2, no renegotiation, no compression, ALPN http/1.1.
// Errors name the file and OpenSSL's reason, in one line.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<boost::asio::ssl::context> tls,
//                    MakeServerTlsContext({.cert_file = "server.crt",
//                                          .key_file = "server.key"}));
//
// Thread-safety: the returned context is used read-only by all sessions
// (OpenSSL's SSL_CTX is safe to share once configured).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"

namespace hookstream::ingress {

struct TlsFiles {
  // PEM: the certificate, optionally followed by its chain.
  std::string cert_file;
  // PEM: the unencrypted private key matching the certificate.
  std::string key_file;
};

absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const TlsFiles& files);

}  // namespace hookstream::ingress
