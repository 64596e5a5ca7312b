#include "bench/loadgen/signed_bodies.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace hookstream::bench {

std::string UniqueEventId(uint32_t run, uint64_t n) {
  return absl::StrFormat("evt_%08x%016x", run, n);
}

std::string TimestampedEventId(int64_t send_ns) {
  // Decimal, so it reads back without ambiguity; 24 digits like a real id.
  return absl::StrFormat("evt_%024d", send_ns);
}

int64_t SendTimeFromEventId(absl::string_view id) {
  if (!absl::ConsumePrefix(&id, "evt_")) return -1;
  int64_t ns = 0;
  if (!absl::SimpleAtoi(id, &ns)) return -1;
  return ns;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string HmacSha256Hex(absl::string_view secret, absl::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac,
       &mac_len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * mac_len, '0');
  for (unsigned int i = 0; i < mac_len; ++i) {
    hex[2 * i] = kHex[mac[i] >> 4];
    hex[2 * i + 1] = kHex[mac[i] & 0xf];
  }
  return hex;
}

absl::StatusOr<SignedRequestFactory> SignedRequestFactory::Create(
    std::string template_body, std::string secret, std::string host,
    std::string path) {
  const size_t open = template_body.find("\"evt_");
  if (open == std::string::npos) {
    return absl::InvalidArgumentError(
        "template body has no \"evt_...\" event id to replace");
  }
  const size_t close = template_body.find('"', open + 1);
  if (close == std::string::npos) {
    return absl::InvalidArgumentError("template body: unterminated event id");
  }
  SignedRequestFactory f;
  f.prefix_ = template_body.substr(0, open + 1);
  f.suffix_ = template_body.substr(close);
  f.secret_ = std::move(secret);
  f.head_ = absl::StrCat("POST ", path,
                         " HTTP/1.1\r\n"
                         "Host: ",
                         host,
                         "\r\n"
                         "Content-Type: application/json\r\n"
                         "Connection: keep-alive\r\n");
  return f;
}

std::string SignedRequestFactory::Body(absl::string_view id) const {
  return absl::StrCat(prefix_, id, suffix_);
}

std::string SignedRequestFactory::Request(absl::string_view id) const {
  const std::string body = Body(id);
  return absl::StrCat(head_, "Content-Length: ", body.size(),
                      "\r\nx-webhook-signature: ", HmacSha256Hex(secret_, body),
                      "\r\n\r\n", body);
}

}  // namespace hookstream::bench
