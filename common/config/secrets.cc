#include "common/config/secrets.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/base/log.h"

namespace hookstream {
namespace {

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr size_t kMaxLabelLength = 64;

bool IsLabelChar(char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
}

}  // namespace

absl::StatusOr<std::vector<Secret>> ParseSecrets(absl::string_view text,
                                                 char separator,
                                                 absl::string_view origin) {
  std::vector<Secret> secrets;
  absl::flat_hash_set<std::string> labels;
  int entry_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, separator)) {
    ++entry_number;
    const absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty()) continue;
    if (separator == '\n' && entry.front() == '#') continue;
    // Positions in messages, never the text: an entry may be all secret.
    const std::string where = absl::StrCat(
        origin, separator == '\n' ? " line " : " entry ", entry_number);
    Secret secret;
    const size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      secret.label = absl::StrCat("secret", secrets.size() + 1);
      secret.value = std::string(entry);
    } else {
      const absl::string_view label =
          absl::StripAsciiWhitespace(entry.substr(0, colon));
      if (label.empty() || label.size() > kMaxLabelLength) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": the label before ':' must be 1 to ",
                         kMaxLabelLength, " characters"));
      }
      for (char c : label) {
        if (!IsLabelChar(c)) {
          return absl::InvalidArgumentError(absl::StrCat(
              where, ": the label before ':' may only hold A-Z a-z 0-9 _ - ."));
        }
      }
      secret.label = std::string(label);
      secret.value =
          std::string(absl::StripAsciiWhitespace(entry.substr(colon + 1)));
    }
    // No label in these messages: in `<secret>:` the secret is the label.
    if (secret.value.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the secret is empty (after its label)"));
    }
    if (secret.value.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": the secret is ", secret.value.size(), " bytes; at least ",
          kMinSecretBytes, " are required (e.g. openssl rand -hex 32)"));
    }
    if (!labels.insert(secret.label).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": its label is used more than once"));
    }
    secrets.push_back(std::move(secret));
  }
  if (secrets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, " holds no signing secret"));
  }
  return secrets;
}

absl::StatusOr<bool> IsAccessibleByOthers(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return absl::NotFoundError(
        absl::StrCat("secrets file ", path, ": ", std::strerror(err)));
  }
  return (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
}

absl::StatusOr<std::vector<Secret>> LoadSecretsFromFile(
    const std::string& path, SecretFileOptions options) {
  absl::StatusOr<bool> shared = IsAccessibleByOthers(path);
  if (!shared.ok()) return shared.status();
  if (*shared && !options.allow_shared_mode) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path,
                     " is accessible to group or others: chmod 600 it (or "
                     "--insecure_secret_file_mode for development)"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, " cannot be opened for reading"));
  }
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, " could not be read"));
  }
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxFileBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secrets file ", path, " is larger than ", kMaxFileBytes, " bytes"));
  }
  if (*shared) {
    LogRecord(LogLevel::kWarning,
              "secrets file is accessible to group or others; chmod 600 it")
        .Add("path", path);
  }
  return ParseSecrets(text, '\n', absl::StrCat("secrets file ", path));
}

absl::StatusOr<std::vector<Secret>> LoadSecretsFromEnv(
    const std::string& name) {
  // Read once; nothing else in the process calls setenv.
  const char* value =
      std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment variable ", name, " is not set"));
  }
  const std::string text = value;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): read once, at start.
  unsetenv(name.c_str());
  return ParseSecrets(text, ',', absl::StrCat("environment variable ", name));
}

}  // namespace hookstream
