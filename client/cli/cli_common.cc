#include "client/cli/cli_common.h"

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051",
          "gRPC address of hookstream-server (host:port)");

namespace hookstream::cli {

std::shared_ptr<grpc::Channel> MakeChannel() {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff starts at 1 s and grows to 120 s; the
  // Subscriber already backs off with jitter, so keep the channel's short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  return grpc::CreateCustomChannel(absl::GetFlag(FLAGS_target),
                                   grpc::InsecureChannelCredentials(), args);
}

std::string ToJson(const google::protobuf::Message& message, bool all_fields) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = all_fields;
  std::string out;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) return "{}";
  return out;
}

void PrintError(absl::string_view command, const absl::Status& status) {
  std::cerr << "hookstream " << command << ": " << StatusCodeName(status)
            << ": " << status.message() << "\n";
}

std::vector<std::string> SplitList(absl::string_view value) {
  return absl::StrSplit(value, ',', absl::SkipWhitespace());
}

std::string StatusCodeName(const absl::Status& status) {
  // absl spells them "NOT_FOUND" too, which is also gRPC's spelling.
  return absl::StatusCodeToString(status.code());
}

}  // namespace hookstream::cli
