#include "common/signature/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstdint>
#include <memory>

namespace hookstream {

// The keyed EVP_MAC_CTX; nullptr when OpenSSL could not build it.
struct HmacSha256Key::Context {
  ~Context() { EVP_MAC_CTX_free(keyed); }
  EVP_MAC_CTX* keyed = nullptr;
};

HmacSha256Key::HmacSha256Key(absl::string_view key)
    : context_(std::make_unique<Context>()) {
  EVP_MAC* const hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (hmac == nullptr) return;
  EVP_MAC_CTX* const ctx = EVP_MAC_CTX_new(hmac);
  EVP_MAC_free(hmac);  // the context holds its own reference
  if (ctx == nullptr) return;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string("digest", digest, 0),
      OSSL_PARAM_construct_end()};
  // An empty key is a valid HMAC key; pass a valid pointer regardless.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_ptr =
      key.empty() ? &kEmpty
                  : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(ctx, key_ptr, key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return;
  }
  context_->keyed = ctx;
}

HmacSha256Key::~HmacSha256Key() = default;
HmacSha256Key::HmacSha256Key(HmacSha256Key&& other) noexcept = default;
HmacSha256Key& HmacSha256Key::operator=(HmacSha256Key&& other) noexcept =
    default;

std::string HmacSha256Key::Mac(absl::string_view data) const {
  if (context_ == nullptr || context_->keyed == nullptr) return std::string();
  // Duplicating copies the state with the key already absorbed.
  EVP_MAC_CTX* const ctx = EVP_MAC_CTX_dup(context_->keyed);
  if (ctx == nullptr) return std::string();
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t out_len = 0;
  const bool ok =
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) == 1 &&
      EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1 &&
      out_len == kSha256Bytes;
  EVP_MAC_CTX_free(ctx);
  if (!ok) return std::string();
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

std::string Sha256(absl::string_view data) {
  std::string digest(kSha256Bytes, '\0');
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(),
             reinterpret_cast<unsigned char*>(digest.data()), &size,
             EVP_sha256(), nullptr);
  return digest;
}

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  return HmacSha256Key(key).Mac(data);
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

std::optional<std::string> DecodeHex(absl::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = HexValue(hex[i]);
    const int lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

std::optional<std::string> DecodeBase64(absl::string_view text) {
  size_t padding = 0;
  if (!text.empty() && text.size() % 4 == 0) {
    if (text.back() == '=') ++padding;
    if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  }
  const absl::string_view data = text.substr(0, text.size() - padding);
  // Unpadded input of length 4n+1 cannot encode whole bytes.
  if (data.size() % 4 == 1) return std::nullopt;
  if (padding > 0 && (data.size() + padding) % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(data.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : data) {
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so that each byte string has exactly one
  // accepted encoding per alphabet.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string EncodeHex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xF]);
  }
  return out;
}

std::string EncodeBase64(absl::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace hookstream
