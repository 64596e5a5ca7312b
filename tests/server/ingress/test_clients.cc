#include "tests/server/ingress/test_clients.h"

#include <openssl/ssl.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"

namespace hookstream::ingress::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;

namespace {

net::ssl::context MakeClientContext(int max_tls_version) {
  net::ssl::context tls(net::ssl::context::tls_client);
  tls.set_verify_mode(net::ssl::verify_none);
  if (max_tls_version != 0) {
    SSL_CTX* ctx = tls.native_handle();
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_tls_version);
  }
  return tls;
}

}  // namespace

RawTlsClient::RawTlsClient(uint16_t port, std::chrono::milliseconds op_timeout,
                           int max_tls_version)
    : port_(port),
      op_timeout_(op_timeout),
      tls_(MakeClientContext(max_tls_version)),
      stream_(ioc_, tls_) {}

std::string RawTlsClient::TlsVersion() {
  return SSL_get_version(stream_.native_handle());
}

RawTlsClient::~RawTlsClient() { Close(); }

template <typename Start>
bool RawTlsClient::Run(Start start) {
  bool done = false;
  bool ok = false;
  start([&](boost::system::error_code ec) {
    done = true;
    ok = !ec;
  });
  ioc_.restart();
  ioc_.run_for(op_timeout_);
  if (!done) {
    boost::system::error_code ignored;
    stream_.lowest_layer().cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return false;
  }
  return ok;
}

bool RawTlsClient::Connect() {
  const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"),
                                        port_);
  return Run([&](auto done) {
    stream_.lowest_layer().async_connect(
        endpoint, [done](boost::system::error_code ec) { done(ec); });
  });
}

bool RawTlsClient::Handshake() {
  return Run([&](auto done) {
    stream_.async_handshake(net::ssl::stream_base::client,
                            [done](boost::system::error_code ec) { done(ec); });
  });
}

bool RawTlsClient::Send(const std::string& bytes) {
  return Run([&](auto done) {
    net::async_write(
        stream_, net::buffer(bytes),
        [done](boost::system::error_code ec, size_t) { done(ec); });
  });
}

bool RawTlsClient::SendRaw(const std::string& bytes) {
  return Run([&](auto done) {
    net::async_write(
        stream_.next_layer(), net::buffer(bytes),
        [done](boost::system::error_code ec, size_t) { done(ec); });
  });
}

std::optional<RawResponse> RawTlsClient::ReadResponse() {
  http::response<http::string_body> response;
  const bool ok = Run([&](auto done) {
    http::async_read(
        stream_, buffer_, response,
        [done](boost::system::error_code ec, size_t) { done(ec); });
  });
  if (!ok) return std::nullopt;
  RawResponse out;
  out.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    out.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
        std::string(field.value());
  }
  out.body = response.body();
  return out;
}

bool RawTlsClient::WaitForClose() {
  const auto deadline = std::chrono::steady_clock::now() + op_timeout_;
  char scratch[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code result;
    bool done = false;
    stream_.async_read_some(net::buffer(scratch),
                            [&](boost::system::error_code ec, size_t) {
                              done = true;
                              result = ec;
                            });
    ioc_.restart();
    ioc_.run_for(op_timeout_);
    if (!done) {
      boost::system::error_code ignored;
      stream_.lowest_layer().cancel(ignored);
      ioc_.restart();
      ioc_.run();
      return false;
    }
    if (result) return true;  // EOF, truncation or reset: closed
  }
  return false;
}

void RawTlsClient::Close() {
  boost::system::error_code ignored;
  stream_.lowest_layer().close(ignored);
}

}  // namespace hookstream::ingress::testing
