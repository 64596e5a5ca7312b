// `hookstream info`: prints GetStreamInfo as JSON (every field, zeros too).
#include <iostream>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/grpc_status.h"
#include "grpcpp/client_context.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_DECLARE_FLAG(absl::Duration, timeout);

namespace hookstream::cli {

int RunInfo(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "hookstream info: unexpected argument '" << args[0] << "'\n";
    return kExitUsage;
  }
  std::unique_ptr<v1::EventStream::Stub> stub =
      v1::EventStream::NewStub(MakeChannel());
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  v1::GetStreamInfoResponse response;
  const absl::Status status = FromGrpcStatus(
      stub->GetStreamInfo(&context, v1::GetStreamInfoRequest(), &response));
  if (!status.ok()) {
    PrintError("info", status);
    return kExitFailure;
  }
  std::cout << ToJson(response, /*all_fields=*/true) << std::endl;
  return kExitOk;
}

}  // namespace hookstream::cli
