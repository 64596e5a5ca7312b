#include "client/connection.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace hookstream {
namespace {

absl::StatusOr<std::string> ReadPem(absl::string_view what,
                                    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// getenv: clients read the environment once, before starting threads.
std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

absl::StatusOr<ConnectionOptions> ConnectionOptionsFromEnvironment(
    ConnectionOptions defaults) {
  ConnectionOptions o = std::move(defaults);
  if (std::string v = Env("HOOKSTREAM_TARGET"); !v.empty()) o.target = v;
  if (std::string v = absl::AsciiStrToLower(Env("HOOKSTREAM_TLS"));
      !v.empty()) {
    if (v == "1" || v == "true" || v == "yes") {
      o.tls = true;
    } else if (v == "0" || v == "false" || v == "no") {
      o.tls = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "HOOKSTREAM_TLS: want 1/true/yes or 0/false/no, not '", v, "'"));
    }
  }
  if (std::string v = Env("HOOKSTREAM_CACERT"); !v.empty()) o.ca_file = v;
  if (std::string v = Env("HOOKSTREAM_CERT"); !v.empty()) o.cert_file = v;
  if (std::string v = Env("HOOKSTREAM_KEY"); !v.empty()) o.key_file = v;
  if (std::string v = Env("HOOKSTREAM_TOKEN"); !v.empty()) o.token = v;
  return o;
}

std::vector<std::string> SplitTargets(absl::string_view target) {
  // A scheme (dns:///, unix:, ipv4:, ipv6:) means a gRPC URI, whose own
  // syntax may hold commas; a bare "[v6]:port" has none.
  const size_t colon = target.find(':');
  const bool uri =
      !absl::StartsWith(target, "[") && colon != absl::string_view::npos &&
      (absl::StartsWith(target.substr(colon), "://") ||
       absl::StartsWith(target, "ipv4:") || absl::StartsWith(target, "ipv6:") ||
       absl::StartsWith(target, "unix:"));
  if (uri) return {std::string(target)};
  std::vector<std::string> out;
  for (absl::string_view t : absl::StrSplit(target, ',')) {
    out.push_back(std::string(absl::StripAsciiWhitespace(t)));
  }
  return out;
}

std::string TargetHost(absl::string_view target) {
  // gRPC URIs: dns:///host:port, dns://authority/host:port, ipv4:, ipv6:.
  if (const size_t scheme = target.find(':');
      scheme != absl::string_view::npos && !absl::StartsWith(target, "[") &&
      absl::StartsWith(target.substr(scheme), "://")) {
    target = target.substr(scheme + 3);
    target = target.substr(target.find('/') + 1);  // npos + 1 == 0
  } else {
    for (absl::string_view prefix : {"ipv4:", "ipv6:"}) {
      if (absl::ConsumePrefix(&target, prefix)) break;
    }
  }
  if (absl::ConsumePrefix(&target, "[")) {
    return std::string(target.substr(0, target.find(']')));
  }
  const size_t colon = target.rfind(':');
  // More than one colon without brackets: a bare IPv6 address.
  if (colon != absl::string_view::npos && target.find(':') == colon) {
    return std::string(target.substr(0, colon));
  }
  return std::string(target);
}

bool IsLoopbackTarget(absl::string_view target) {
  const std::string host = absl::AsciiStrToLower(TargetHost(target));
  if (host == "::1") return true;
  // IP literals only, as the server decides (docs/security.md): a host name
  // resolves through DNS or /etc/hosts, "localhost" and "127.example.com"
  // too, so it could send a token in clear text anywhere.
  std::vector<absl::string_view> parts = absl::StrSplit(host, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  for (absl::string_view p : parts) {
    int octet = 0;
    if (p.empty() || !absl::c_all_of(p, absl::ascii_isdigit) ||
        !absl::SimpleAtoi(p, &octet) || octet > 255) {
      return false;
    }
  }
  return true;
}

absl::Status Validate(const ConnectionOptions& o) {
  if (o.target.empty()) return absl::InvalidArgumentError("empty target");
  const std::vector<std::string> targets = SplitTargets(o.target);
  for (const std::string& t : targets) {
    if (t.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty target in the list '", o.target,
                       "' (host:port, comma-separated for replicas)"));
    }
  }
  if (o.max_receive_message_bytes < (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a receive limit of ", o.max_receive_message_bytes,
        " bytes is below 1 MiB (one Subscribe batch); give at least 1048576 "
        "(--max_message_bytes)"));
  }
  if (o.cert_file.empty() != o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "a client certificate needs its key: give both --cert and --key "
        "(HOOKSTREAM_CERT and HOOKSTREAM_KEY)");
  }
  for (const std::string& t : targets) {
    if (!o.token.empty() && !o.UsesTls() && !IsLoopbackTarget(t)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refusing to send the bearer token in clear text to ", t,
          ": use --tls (HOOKSTREAM_TLS=1); plaintext is for loopback only"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<grpc::Channel>>> CreateChannels(
    const ConnectionOptions& options, const grpc::ChannelArguments& args) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (std::string& t : SplitTargets(options.target)) {
    ConnectionOptions one = options;
    one.target = std::move(t);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> c = CreateChannel(one, args);
    if (!c.ok()) return c.status();
    channels.push_back(*std::move(c));
  }
  return channels;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(
    const ConnectionOptions& o, const grpc::ChannelArguments& args) {
  if (absl::Status s = Validate(o); !s.ok()) return s;
  if (SplitTargets(o.target).size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a list of targets needs one channel each (CreateChannels): ",
        o.target));
  }
  grpc::ChannelArguments channel_args = args;
  channel_args.SetMaxReceiveMessageSize(o.max_receive_message_bytes);
  if (!o.UsesTls()) {
    return grpc::CreateCustomChannel(
        o.target, grpc::InsecureChannelCredentials(), channel_args);
  }
  grpc::SslCredentialsOptions ssl;
  if (!o.ca_file.empty()) {
    absl::StatusOr<std::string> pem = ReadPem("CA file", o.ca_file);
    if (!pem.ok()) return pem.status();
    ssl.pem_root_certs = *std::move(pem);
  }
  if (!o.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem("certificate", o.cert_file);
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem("key", o.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  if (!o.tls_server_name.empty()) {
    channel_args.SetSslTargetNameOverride(o.tls_server_name);
  }
  return grpc::CreateCustomChannel(o.target, grpc::SslCredentials(ssl),
                                   channel_args);
}

void AddCallCredentials(const ConnectionOptions& o,
                        grpc::ClientContext& context) {
  if (!o.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", o.token));
  }
}

std::string Describe(const ConnectionOptions& o) {
  std::vector<std::string> what;
  what.push_back(o.UsesTls() ? "TLS" : "plaintext");
  if (!o.cert_file.empty()) what.push_back("client certificate");
  if (!o.token.empty()) what.push_back("token");
  return absl::StrCat(o.target, " (", absl::StrJoin(what, ", "), ")");
}

}  // namespace hookstream
