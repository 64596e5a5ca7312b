#include "bench/loadgen/many_streams.h"

#include <google/protobuf/arena.h>

#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bench/loadgen/latency_stats.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/proto_buffer_reader.h"

namespace hookstream::bench {
namespace {

constexpr char kSubscribeMethod[] = "/hookstream.v1.EventStream/Subscribe";

// The low bits of a tag name the operation; Stream is 8-byte aligned.
enum Op : uintptr_t { kStart = 0, kWrite = 1, kRead = 2, kFinish = 3 };

}  // namespace

struct ManyStreams::Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
  grpc::ByteBuffer in;
  grpc::Status status;
  int index = 0;

  void* Tag(Op op) {
    return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(this) | op);
  }
};

ManyStreams::ManyStreams(Options options, OnMessage on_message)
    : options_(std::move(options)), on_message_(std::move(on_message)) {
  const std::string bytes = options_.request.SerializeAsString();
  grpc::Slice slice(bytes);
  request_ = grpc::ByteBuffer(&slice, 1);
  for (int i = 0; i < options_.channels; ++i) {
    grpc::ChannelArguments args;
    // Channels with equal arguments may share one connection.
    args.SetInt("hookstream.bench.channel_index", i);
    args.SetMaxReceiveMessageSize(64 << 20);
    channels_.push_back(grpc::CreateCustomChannel(
        options_.target, grpc::InsecureChannelCredentials(), args));
    stubs_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
  }
  for (int t = 0; t < options_.threads; ++t) {
    queues_.push_back(std::make_unique<grpc::CompletionQueue>());
  }
  for (int i = 0; i < options_.streams; ++i) {
    streams_.push_back(std::make_unique<Stream>());
    streams_.back()->index = i;
  }
}

ManyStreams::~ManyStreams() { CancelAndJoin(); }

void ManyStreams::Start() {
  for (int t = 0; t < options_.threads; ++t) {
    threads_.emplace_back([this, t] { Run(t); });
  }
  for (auto& stream : streams_) {
    Stream* s = stream.get();
    const int channel = s->index % options_.channels;
    grpc::CompletionQueue& cq = *queues_[channel % options_.threads];
    s->call = stubs_[channel]->PrepareCall(&s->context, kSubscribeMethod, &cq);
    s->call->StartCall(s->Tag(kStart));
  }
}

void ManyStreams::Run(int thread) {
  // Each message is decoded on this arena, which is reset afterwards: the
  // initial block is reused, so decoding does not allocate.
  static thread_local std::array<char, 256 << 10> block;
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = block.data();
  arena_options.initial_block_size = block.size();
  google::protobuf::Arena arena(arena_options);

  grpc::CompletionQueue& cq = *queues_[thread];
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
    const auto bits = reinterpret_cast<uintptr_t>(tag);
    Stream& s = *reinterpret_cast<Stream*>(bits & ~uintptr_t{7});
    switch (static_cast<Op>(bits & 7)) {
      case kStart:
        if (!ok) {
          s.call->Finish(&s.status, s.Tag(kFinish));
          break;
        }
        // One message and the half-close in one operation; then read.
        s.call->WriteLast(request_, grpc::WriteOptions(), s.Tag(kWrite));
        s.call->Read(&s.in, s.Tag(kRead));
        break;
      case kWrite:
        break;  // a failed write shows up as a failed Read
      case kRead: {
        if (!ok) {
          s.call->Finish(&s.status, s.Tag(kFinish));
          break;
        }
        const int64_t now = MonotonicNowNs();
        auto* response = google::protobuf::Arena::CreateMessage<
            hookstream::v1::SubscribeResponse>(&arena);
        grpc::ProtoBufferReader reader(&s.in);
        if (!response->ParseFromZeroCopyStream(&reader)) {
          response->Clear();  // handed on empty: counted as nothing
        }
        s.in.Clear();
        on_message_(s.index, *response, now);
        arena.Reset();
        s.call->Read(&s.in, s.Tag(kRead));
        break;
      }
      case kFinish:
        ended_.fetch_add(1, std::memory_order_acq_rel);
        break;
    }
  }
}

void ManyStreams::CancelAndJoin() {
  if (joined_) return;
  joined_ = true;
  if (threads_.empty()) return;
  for (auto& s : streams_) s->context.TryCancel();
  // Every stream ends with its Finish; then nothing is outstanding and the
  // queues can drain.
  while (ended() < options_.streams) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& cq : queues_) cq->Shutdown();
  for (auto& t : threads_) t.join();
}

std::string ManyStreams::StatusSummary() const {
  std::map<std::string, int> codes;
  for (const auto& s : streams_) {
    ++codes[s->status.ok() ? std::string("OK")
                           : absl::StrCat(s->status.error_code(), " ",
                                          s->status.error_message())];
  }
  std::string out;
  for (const auto& [code, n] : codes) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", code, " x", n);
  }
  return out;
}

}  // namespace hookstream::bench
