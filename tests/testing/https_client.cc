#include "tests/testing/https_client.h"

#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace hookstream::testing {

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

HttpsClient::HttpsClient(std::string ca_file, uint16_t port)
    : curl_(curl_easy_init()), ca_file_(std::move(ca_file)), port_(port) {
  CurlGlobalInit();
}

HttpsClient::~HttpsClient() { curl_easy_cleanup(curl_); }

HttpResult HttpsClient::Request(const std::string& method,
                                const std::string& path,
                                const std::string& body,
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

HttpResult HttpRequest(const std::string& method, const std::string& url,
                       const std::string& ca_file,
                       const std::vector<std::string>& headers,
                       const std::string& body) {
  CurlGlobalInit();
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                     static_cast<long>(body.size()));
  }
  if (!ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  }
  curl_slist* header_list = nullptr;
  for (const std::string& h : headers) {
    header_list = curl_slist_append(header_list, h.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  result.code = curl_easy_perform(curl);
  if (result.code != CURLE_OK) result.error = error;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_easy_cleanup(curl);
  curl_slist_free_all(header_list);
  return result;
}

}  // namespace hookstream::testing
