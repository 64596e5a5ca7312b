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

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  const absl::string_view line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    (*headers)[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * n;
}

}  // namespace

CurlClient::CurlClient(std::string ca_file, uint16_t port)
    : curl_(curl_easy_init()), ca_file_(std::move(ca_file)), port_(port) {
  CurlGlobalInit();
}

CurlClient::~CurlClient() { curl_easy_cleanup(curl_); }

HttpResult CurlClient::Request(const std::string& method,
                               const std::string& path, const std::string& body,
                               const std::vector<std::string>& headers) {
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {0};
  const std::string url = absl::StrCat("https://127.0.0.1:", port_, path);
  curl_slist* list = nullptr;
  bool has_type = false;
  bool has_expect = false;
  for (const std::string& h : headers) {
    list = curl_slist_append(list, h.c_str());
    has_type |= absl::StartsWithIgnoreCase(h, "content-type:");
    has_expect |= absl::StartsWithIgnoreCase(h, "expect:");
  }
  if (!has_type)
    list = curl_slist_append(list, "Content-Type: application/json");
  if (!has_expect) list = curl_slist_append(list, "Expect:");

  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &result.headers);
  if (method == "POST") {
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST,
                     method == "GET" ? nullptr : method.c_str());
  }
  result.code = curl_easy_perform(curl_);
  if (result.code != CURLE_OK) result.error = error;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &result.new_connections);
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(list);
  return result;
}

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
