// -----------------------------------------------------------------------------
// File: https_client.h
// -----------------------------------------------------------------------------
// HttpsClient: a real HTTPS client (libcurl) for tests that talk to the
// ingress, in-process or the real binary. One easy handle, so consecutive
// requests reuse one keep-alive connection; verifies the server certificate
// against the test CA file.
//
// Thread-safety: one client per thread. CurlGlobalInit() once per process
// (the constructor calls it).
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hookstream::testing {

void CurlGlobalInit();

struct HttpResult {
  CURLcode code = CURLE_OK;
  std::string error;  // curl's message when code != CURLE_OK
  long status = 0;
  std::string body;
  // Lower-case names.
  std::map<std::string, std::string> headers;
  // New connections this request opened (0 when it reused one).
  long new_connections = 0;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A plain-HTTP request with a fresh connection (the admin listener), e.g.
// HttpRequest("GET", "http://127.0.0.1:9090/metrics"). 20 s timeout.
// With `ca_file`, an https:// URL's certificate is verified against it;
// `headers` are "Name: value" lines; `body` is sent with POST.
HttpResult HttpRequest(const std::string& method, const std::string& url,
                       const std::string& ca_file = "",
                       const std::vector<std::string>& headers = {},
                       const std::string& body = "");

class HttpsClient {
 public:
  HttpsClient(std::string ca_file, uint16_t port);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // `headers` are full lines ("Name: value"). A Content-Type of
  // application/json is added unless `headers` sets one; "Expect:" is sent
  // empty (no 100-continue) unless `headers` sets it.
  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body,
                     const std::vector<std::string>& headers = {});
  HttpResult Post(const std::string& path, const std::string& body,
                  const std::vector<std::string>& headers = {}) {
    return Request("POST", path, body, headers);
  }

 private:
  CURL* curl_;
  const std::string ca_file_;
  const uint16_t port_;
};

}  // namespace hookstream::testing
