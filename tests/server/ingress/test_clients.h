// -----------------------------------------------------------------------------
// File: test_clients.h
// -----------------------------------------------------------------------------
// HTTPS clients for the ingress socket tests:
//   - CurlClient: a real HTTPS client (libcurl), one easy handle, so
//     consecutive requests reuse one keep-alive connection; verifies the
//     server certificate against the test CA file.
//   - RawTlsClient: byte-level control for hostile clients (slowloris,
//     disconnect mid-body, chunked, garbage instead of a handshake). Every
//     operation gives up after a bound so a broken server fails the test
//     instead of hanging it.
//
// Thread-safety: one client per thread. CurlGlobalInit() once per process.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/asio/ssl/stream.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "tests/testing/https_client.h"

namespace hookstream::ingress::testing {

// The libcurl client lives in tests/testing/https_client.h.
using ::hookstream::testing::CurlGlobalInit;
using ::hookstream::testing::HttpResult;
using CurlClient = ::hookstream::testing::HttpsClient;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

class RawTlsClient {
 public:
  // `max_tls_version` (e.g. TLS1_1_VERSION) caps what the client offers and
  // lowers its own security level so that only the server can refuse;
  // 0 = OpenSSL's defaults.
  explicit RawTlsClient(
      uint16_t port,
      std::chrono::milliseconds op_timeout = std::chrono::seconds(10),
      int max_tls_version = 0);
  ~RawTlsClient();

  bool Connect();    // TCP only
  bool Handshake();  // TLS client handshake (no certificate verification)
  bool Send(const std::string& bytes);     // over TLS
  bool SendRaw(const std::string& bytes);  // plain TCP, bypassing TLS
  // Reads one HTTP response; nullopt on error, EOF or timeout.
  std::optional<RawResponse> ReadResponse();
  // True when the server closes the connection (EOF or reset) within the
  // operation timeout, reading and discarding anything before it.
  bool WaitForClose();
  void Close();
  // The negotiated protocol, e.g. "TLSv1.3" (after Handshake).
  std::string TlsVersion();

 private:
  template <typename Start>
  bool Run(Start start);

  const uint16_t port_;
  const std::chrono::milliseconds op_timeout_;
  boost::asio::io_context ioc_;
  boost::asio::ssl::context tls_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace hookstream::ingress::testing
