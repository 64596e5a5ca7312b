#include "server/fd_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/base/log.h"

namespace hookstream {

absl::StatusOr<uint64_t> EnsureFdLimit(size_t ingress_connections,
                                       size_t grpc_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("getrlimit(RLIMIT_NOFILE): ", std::strerror(errno)));
  }
  const rlim_t before = limit.rlim_cur;
  if (limit.rlim_cur != limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      limit.rlim_cur = before;  // keep going with what we have
    }
  }
  const uint64_t soft = limit.rlim_cur;
  const uint64_t needed =
      uint64_t{ingress_connections} + grpc_connections + kFdReserve;
  if (soft < needed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the file-descriptor limit (RLIMIT_NOFILE, hard ", limit.rlim_max,
        ") is below --max_connections=", ingress_connections,
        " plus --grpc_max_connections=", grpc_connections, " plus ", kFdReserve,
        " kept for listeners and files; lower the caps or raise the "
        "limit (ulimit -n, LimitNOFILE=)"));
  }
  LogRecord(LogLevel::kInfo, "file descriptors")
      .Add("soft_limit_before", static_cast<uint64_t>(before))
      .Add("soft_limit", soft)
      .Add("ingress_max_connections", ingress_connections);
  return soft;
}

}  // namespace hookstream
