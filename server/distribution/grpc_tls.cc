#include "server/distribution/grpc_tls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace hookstream::distribution {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::Status WriteFile(const std::string& path, const std::string& text,
                       time_t mtime) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
  }
  ::chmod(path.c_str(), 0600);
  const timespec times[2] = {{.tv_sec = mtime, .tv_nsec = 0},
                             {.tv_sec = mtime, .tv_nsec = 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    return absl::InternalError(absl::StrCat("cannot set the time of ", path));
  }
  return absl::OkStatus();
}

constexpr absl::string_view kDirPrefix = "hookstream-grpc-tls-";

// A server killed with SIGKILL cannot remove its copies (of a private
// key): the next one removes those whose process is gone. Directories are
// named hookstream-grpc-tls-<pid>-XXXXXX.
void RemoveCopiesOfDeadProcesses() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::temp_directory_path(), ec)) {
    // A copy: filename() is a temporary path.
    const std::string filename = entry.path().filename().native();
    absl::string_view name = filename;
    if (!absl::ConsumePrefix(&name, kDirPrefix)) continue;
    pid_t pid = 0;
    if (!absl::SimpleAtoi(name.substr(0, name.find('-')), &pid) || pid <= 0) {
      continue;
    }
    if (::kill(pid, 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<GrpcTls>> GrpcTls::Create(Files files,
                                                         CheckFn check) {
  RemoveCopiesOfDeadProcesses();
  std::string dir = (std::filesystem::temp_directory_path() /
                     absl::StrCat(kDirPrefix, ::getpid(), "-XXXXXX"))
                        .string();
  if (::mkdtemp(dir.data()) == nullptr) {  // mode 0700
    return absl::InternalError(
        absl::StrCat("cannot create a private directory for the gRPC "
                     "certificate in ",
                     std::filesystem::temp_directory_path().string()));
  }
  std::unique_ptr<GrpcTls> tls(
      new GrpcTls(std::move(files), std::move(check), std::move(dir)));
  if (absl::Status s = tls->Install(); !s.ok()) return s;
  const bool mutual = !tls->files_.client_ca_file.empty();
  tls->provider_ =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          tls->dir_ + "/current/key.pem", tls->dir_ + "/current/cert.pem",
          mutual ? tls->dir_ + "/current/ca.pem" : "", kRefreshSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(tls->provider_);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  tls->credentials_ = grpc::experimental::TlsServerCredentials(options);
  return tls;
}

GrpcTls::GrpcTls(Files files, CheckFn check, std::string dir)
    : files_(std::move(files)),
      check_(std::move(check)),
      dir_(std::move(dir)) {}

GrpcTls::~GrpcTls() {
  // The credentials (and gRPC's watcher thread) may outlive us through the
  // server; the copies go with us, which leaves gRPC the pair it read last.
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::Status GrpcTls::Install() {
  if (absl::Status s = check_(files_); !s.ok()) return s;
  absl::StatusOr<std::string> cert = ReadFile(files_.cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(files_.key_file);
  if (!key.ok()) return key.status();
  std::string ca;
  if (!files_.client_ca_file.empty()) {
    absl::StatusOr<std::string> read = ReadFile(files_.client_ca_file);
    if (!read.ok()) return read.status();
    ca = *std::move(read);
  }

  // A new generation directory, then one rename of the `current` symlink:
  // gRPC's watcher reads current/key.pem and current/cert.pem and retries
  // when a file's modification time (in seconds) changed while it read, so
  // every generation gets a later second than the one before and a read
  // across the switch is retried rather than pairing an old key with a new
  // certificate.
  const std::string gen = absl::StrCat(dir_, "/gen-", generation_ + 1);
  std::error_code ec;
  std::filesystem::create_directory(gen, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", gen));
  mtime_ = std::max<time_t>(::time(nullptr), mtime_ + 1);
  for (const auto& [name, text] :
       {std::pair<const char*, const std::string*>{"key.pem", &*key},
        {"cert.pem", &*cert},
        {"ca.pem", &ca}}) {
    if (absl::Status s = WriteFile(absl::StrCat(gen, "/", name), *text, mtime_);
        !s.ok()) {
      return s;
    }
  }
  const std::string link = dir_ + "/current.tmp";
  ::unlink(link.c_str());
  if (::symlink(gen.c_str(), link.c_str()) != 0 ||
      std::rename(link.c_str(), (dir_ + "/current").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot switch to ", gen));
  }
  // The generation before the previous one: nobody reads it any more (a
  // read of the previous one may still be under way).
  std::filesystem::remove_all(absl::StrCat(dir_, "/gen-", generation_ - 1), ec);
  ++generation_;
  return absl::OkStatus();
}

absl::Status GrpcTls::Reload() { return Install(); }

}  // namespace hookstream::distribution
