// -----------------------------------------------------------------------------
// File: grpc_tls.h
// -----------------------------------------------------------------------------
// GrpcTls holds the gRPC listener's certificate, key and client CA so that
// SIGHUP can replace them without a restart. gRPC 1.51 takes reloadable
// certificates only from a CertificateProvider, and the one it ships that
// can change (FileWatcherCertificateProvider) re-reads its files on a
// timer. So the provider watches private copies (a 0700 directory of our
// own), and Reload is what changes them: it checks the operator's files
// completely first (read, parsed, the key matching the certificate, through
// the `check` the composition root supplies, since OpenSSL lives in the
// ingress) and only then writes a new generation of copies and switches a
// symlink to it. A bad reload therefore
// never reaches gRPC and the pair in force stays; a good one reaches new
// handshakes within kRefreshSeconds. Connections already open keep theirs.
// The copies are removed with the object, and a later server removes those
// of a process that was killed (`hookstream-grpc-tls-<pid>-…`).
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<GrpcTls> tls,
//                    GrpcTls::Create(files, CheckPairWithOpenSsl));
//   options.credentials = tls->credentials();
//   ...
//   absl::Status s = tls->Reload();  // on SIGHUP
//
// Thread-safety: Reload from one thread at a time (the reload registry
// serializes it); credentials() from any.
#pragma once

#include <time.h>

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"

namespace hookstream::distribution {

class GrpcTls {
 public:
  // How soon gRPC's file watcher sees what Reload renamed in.
  static constexpr unsigned kRefreshSeconds = 1;

  struct Files {
    std::string cert_file;
    std::string key_file;
    // Empty: no client certificates asked for. Otherwise peers must present
    // one this CA signed (mutual TLS).
    std::string client_ca_file;
  };
  // OK when the files hold a usable pair (the key matching the
  // certificate); else why, naming the file. (Write new files by rename:
  // what is installed is read right after this check.)
  using CheckFn = absl::AnyInvocable<absl::Status(const Files& files) const>;

  static absl::StatusOr<std::unique_ptr<GrpcTls>> Create(Files files,
                                                         CheckFn check);
  ~GrpcTls();

  std::shared_ptr<grpc::ServerCredentials> credentials() const {
    return credentials_;
  }

  // Re-reads the files named at Create; on any error the pair in force
  // stays and the status says why.
  absl::Status Reload();

 private:
  GrpcTls(Files files, CheckFn check, std::string dir);
  // Reads and checks the operator's files, then renames copies into dir_.
  absl::Status Install();

  const Files files_;
  const CheckFn check_;
  // The private copies: gen-N/{key,cert,ca}.pem and `current` -> gen-N.
  const std::string dir_;
  int generation_ = 0;
  time_t mtime_ = 0;  // of the files of generation_
  std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
};

}  // namespace hookstream::distribution
