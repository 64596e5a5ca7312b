// A callback-API client stream (ClientReadReactor) that checks, as events
// arrive, that every event is delivered once and in order: sequence
// `after + 1`, `after + 2`, ... with no gap. Thousands fit in one process
// without a thread each.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream::testing {

class CheckingReader final
    : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  // Subscribes after `after_sequence` (no filter) and cancels the stream once
  // `stop_at` was received. The whole call is bounded by `timeout`.
  CheckingReader(v1::EventStream::Stub& stub, uint64_t after_sequence,
                 uint64_t stop_at, absl::Duration timeout = absl::Seconds(60))
      : last_(after_sequence), stop_at_(stop_at) {
    request_.set_after_sequence(after_sequence);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    stub.async()->Subscribe(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    bool stop = false;
    {
      absl::MutexLock lock(&mu_);
      last_was_heartbeat_ = response_.has_heartbeat();
      if (response_.has_gap()) {
        Fail(absl::StrCat("unexpected gap ", response_.ShortDebugString()));
      }
      for (const v1::Event& event : response_.events().events()) {
        if (event.sequence() != last_ + 1) {
          Fail(absl::StrCat("got sequence ", event.sequence(), " after ",
                            last_));
        }
        last_ = event.sequence();
        ++received_;
      }
      stop = last_ >= stop_at_ || !error_.empty();
    }
    if (stop) {
      context_.TryCancel();
    } else {
      StartRead(&response_);
    }
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // Waits until `sequence` was received (true) or the stream ended/`timeout`.
  bool AwaitSequence(uint64_t sequence, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return last_ >= sequence || done_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
    return last_ >= sequence;
  }

  // Waits for OnDone (bounded by the call's deadline) and returns the status.
  grpc::Status AwaitDone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

  uint64_t last() {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  uint64_t received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  std::string error() {
    absl::MutexLock lock(&mu_);
    return error_;
  }
  // Whether the last message received was a heartbeat.
  bool last_message_was_heartbeat() {
    absl::MutexLock lock(&mu_);
    return last_was_heartbeat_;
  }

 private:
  void Fail(std::string error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (error_.empty()) error_ = std::move(error);
  }

  v1::SubscribeRequest request_;
  grpc::ClientContext context_;
  v1::SubscribeResponse response_;

  absl::Mutex mu_;
  uint64_t last_ ABSL_GUARDED_BY(mu_);
  const uint64_t stop_at_;
  uint64_t received_ ABSL_GUARDED_BY(mu_) = 0;
  std::string error_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool last_was_heartbeat_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hookstream::testing
