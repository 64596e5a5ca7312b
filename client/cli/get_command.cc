// `hookstream get --seq N | --id evt_…`: prints one event (with raw_json) as
// JSON.
#include <cstdint>
#include <iostream>

#include "absl/flags/flag.h"
#include "client/cli/cli_common.h"
#include "client/cli/commands.h"
#include "client/grpc_status.h"
#include "grpcpp/client_context.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

ABSL_FLAG(uint64_t, seq, 0, "get: the event's sequence");
ABSL_FLAG(std::string, id, "", "get: the event's provider id (evt_…)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10),
          "get, info: how long to wait for the answer");

namespace hookstream::cli {

int RunGet(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::cerr << "hookstream get: unexpected argument '" << args[0] << "'\n";
    return kExitUsage;
  }
  const uint64_t seq = absl::GetFlag(FLAGS_seq);
  const std::string id = absl::GetFlag(FLAGS_id);
  if ((seq == 0) == id.empty()) {
    std::cerr << "hookstream get: give exactly one of --seq N or --id evt_…\n";
    return kExitUsage;
  }
  v1::GetEventRequest request;
  if (seq != 0) {
    request.set_sequence(seq);
  } else {
    request.set_event_id(id);
  }
  std::unique_ptr<v1::EventStream::Stub> stub =
      v1::EventStream::NewStub(MakeChannel());
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
  v1::GetEventResponse response;
  const absl::Status status =
      FromGrpcStatus(stub->GetEvent(&context, request, &response));
  if (!status.ok()) {
    PrintError("get", status);
    return kExitFailure;
  }
  std::cout << ToJson(response.event()) << std::endl;
  return kExitOk;
}

}  // namespace hookstream::cli
