// -----------------------------------------------------------------------------
// File: many_streams.h
// -----------------------------------------------------------------------------
// ManyStreams reads thousands of Subscribe streams with gRPC's async API, as
// cheaply per message as this gRPC build allows, for the many-subscribers
// workload (bench_grpc_subscribers --mode=many) and its floor
// (bench_grpc_fanout_floor).
//
// Why not the callback API: Debian builds gRPC without NDEBUG, so every
// completion is checked against a linear list of its completion queue's
// outstanding operations, and the callback API of a client shares one queue
// across all channels (10,000 streams: ~20,000 entries scanned per message).
// Here each thread has its own CompletionQueue and serves a slice of the
// channels; an idle stream has exactly one operation outstanding (its Read:
// the status is requested only once a Read fails).
//
// Every message is parsed into a v1::SubscribeResponse (on a per-thread arena
// that is reset after each message, so decoding allocates nothing) and handed
// to `on_message` on the thread that read it.
//
// Example:
//   ManyStreams streams({.target = "127.0.0.1:50051", .streams = 10000,
//                        .channels = 100, .threads = 2, .request = request},
//                       [&](int stream, const v1::SubscribeResponse& r,
//                           int64_t now_ns) { ... });
//   streams.Start();
//   ...
//   streams.CancelAndJoin();   // every stream ended, threads joined
//
// Thread-safety: Start and CancelAndJoin from one thread; `on_message` runs
// on the client threads, for one stream always on the same thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "hookstream/v1/event_stream.pb.h"

namespace hookstream::bench {

class ManyStreams {
 public:
  struct Options {
    std::string target;
    int streams = 1;
    // Streams are spread round-robin over this many channels, each with its
    // own connection.
    int channels = 1;
    // Client threads, each with its own completion queue; a channel's streams
    // all belong to one thread.
    int threads = 2;
    hookstream::v1::SubscribeRequest request;
  };
  using OnMessage = std::function<void(
      int stream, const hookstream::v1::SubscribeResponse& response,
      int64_t now_ns)>;

  ManyStreams(Options options, OnMessage on_message);
  ManyStreams(const ManyStreams&) = delete;
  ManyStreams& operator=(const ManyStreams&) = delete;
  ~ManyStreams();

  // Opens every stream (returns at once).
  void Start();

  // Streams whose call has ended (their status is known).
  int ended() const { return ended_.load(std::memory_order_acquire); }

  // Cancels every stream, waits until all ended, joins the threads.
  void CancelAndJoin();

  // "OK xN; 1 CANCELLED xM" over all streams; call after CancelAndJoin.
  std::string StatusSummary() const;

 private:
  struct Stream;
  void Run(int thread);
  void Handle(Stream& stream, int op, bool ok, int thread);

  const Options options_;
  const OnMessage on_message_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues_;
  std::vector<std::unique_ptr<Stream>> streams_;
  grpc::ByteBuffer request_;
  std::vector<std::thread> threads_;
  std::atomic<int> ended_{0};
  bool joined_ = false;
};

}  // namespace hookstream::bench
