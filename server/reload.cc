#include "server/reload.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/base/log.h"

namespace hookstream {

void ReloadRegistry::Add(std::string name, ReloadFn reload) {
  absl::MutexLock lock(&mu_);
  parts_.emplace_back(std::move(name), std::move(reload));
}

absl::Status ReloadRegistry::ReloadAll() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> failed;
  for (auto& [name, reload] : parts_) {
    const absl::Status s = reload();
    if (!s.ok()) {
      LogRecord(LogLevel::kError, "reload failed")
          .Add("part", name)
          .Add("error", s.message())
          .Add("detail", "kept the previous configuration");
      failed.push_back(absl::StrCat(name, ": ", s.message()));
    }
  }
  if (failed.empty()) {
    successes_.fetch_add(1);
    last_success_ = absl::Now();
    LogRecord(LogLevel::kInfo, "reloaded").Add("parts", parts_.size());
    return absl::OkStatus();
  }
  failures_.fetch_add(1);
  return absl::FailedPreconditionError(absl::StrJoin(failed, "; "));
}

std::vector<std::string> ReloadRegistry::names() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& part : parts_) out.push_back(part.first);
  return out;
}

absl::Time ReloadRegistry::last_success() const {
  absl::MutexLock lock(&mu_);
  return last_success_;
}

}  // namespace hookstream
