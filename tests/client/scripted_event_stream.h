// ScriptedEventStream: an in-process EventStream server whose Subscribe calls
// each play one script (messages, then a final status, or silence until
// cancelled) and record the request they got. It tests what the Subscriber
// sends and how it reacts to exact server behaviour; the real server's
// behaviour is tested against DistributionServer in subscriber_test.cc.
// It also records each call's `authorization` metadata and, given server
// credentials, serves over TLS (the client's TLS and token options).
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "hookstream/v1/event_stream.grpc.pb.h"

namespace hookstream::testing {

class ScriptedEventStream final : public v1::EventStream::Service {
 public:
  struct Script {
    std::vector<v1::SubscribeResponse> messages;
    grpc::Status status;
    // Send the messages, then send nothing until the client cancels.
    bool then_hang = false;
    // Send the messages, then wait (at most 30 s) until this is notified
    // before ending with `status`. Not owned.
    absl::Notification* release = nullptr;
  };

  explicit ScriptedEventStream(
      std::shared_ptr<grpc::ServerCredentials> credentials =
          grpc::InsecureServerCredentials()) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", std::move(credentials), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~ScriptedEventStream() override {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  }

  int port() const { return port_; }

  void AddScript(Script script) {
    absl::MutexLock lock(&mu_);
    scripts_.push_back(std::move(script));
  }

  // Waits (bounded) until `n` Subscribe calls were received.
  std::vector<v1::SubscribeRequest> WaitForRequests(size_t n) {
    absl::MutexLock lock(&mu_);
    const auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return requests_.size() >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
    return requests_;
  }

  // The `authorization` metadata of each Subscribe call so far ("" when the
  // call had none), in call order.
  std::vector<std::string> Authorizations() {
    absl::MutexLock lock(&mu_);
    return authorizations_;
  }

  grpc::Status Subscribe(
      grpc::ServerContext* context, const v1::SubscribeRequest* request,
      grpc::ServerWriter<v1::SubscribeResponse>* writer) override {
    Script script;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(*request);
      const auto& metadata = context->client_metadata();
      const auto auth = metadata.find("authorization");
      authorizations_.push_back(
          auth == metadata.end()
              ? ""
              : std::string(auth->second.data(), auth->second.size()));
      if (scripts_.empty()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "no script left");
      }
      script = std::move(scripts_.front());
      scripts_.pop_front();
    }
    for (const v1::SubscribeResponse& m : script.messages) writer->Write(m);
    if (script.then_hang) {
      // Polling the cancel flag (the sync API has no wait for it), bounded
      // so a client that never cancels cannot hang the test binary.
      const absl::Time deadline = absl::Now() + absl::Seconds(60);
      while (!context->IsCancelled() && absl::Now() < deadline) {
        absl::SleepFor(absl::Milliseconds(5));
      }
      return grpc::Status::CANCELLED;
    }
    if (script.release != nullptr) {
      script.release->WaitForNotificationWithTimeout(absl::Seconds(30));
    }
    return script.status;
  }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  absl::Mutex mu_;
  std::deque<Script> scripts_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::SubscribeRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
};

// A script that sends `messages` then ends the stream with `status`.
inline ScriptedEventStream::Script EndWith(
    grpc::Status status, std::vector<v1::SubscribeResponse> messages = {}) {
  ScriptedEventStream::Script script;
  script.messages = std::move(messages);
  script.status = std::move(status);
  return script;
}

// A script that sends `messages`, waits for `release`, then ends with
// `status`.
inline ScriptedEventStream::Script EndWhenReleased(
    absl::Notification& release, grpc::Status status,
    std::vector<v1::SubscribeResponse> messages) {
  ScriptedEventStream::Script script = EndWith(std::move(status), messages);
  script.release = &release;
  return script;
}

// A script that sends `messages` then nothing until the client cancels.
inline ScriptedEventStream::Script Hang(
    std::vector<v1::SubscribeResponse> messages) {
  ScriptedEventStream::Script script;
  script.messages = std::move(messages);
  script.then_hang = true;
  return script;
}

// A serialized google.rpc.Status {code, message, details: [Any(gap)]}, as a
// server puts it in grpc-status-details-bin.
inline std::string RpcStatusWithGap(int code, const std::string& message,
                                    const v1::Gap& gap) {
  google::rpc::Status status;
  status.set_code(code);
  status.set_message(message);
  status.add_details()->PackFrom(gap);
  return status.SerializeAsString();
}

inline v1::SubscribeResponse HeartbeatMessage(const std::string& epoch,
                                              uint64_t position) {
  v1::SubscribeResponse r;
  r.mutable_heartbeat()->set_stream_epoch(epoch);
  r.mutable_heartbeat()->set_position(position);
  r.mutable_heartbeat()->set_head_sequence(position);
  r.mutable_heartbeat()->set_oldest_sequence(1);
  return r;
}

inline v1::SubscribeResponse EventsMessage(const std::string& epoch,
                                           std::vector<uint64_t> sequences) {
  v1::SubscribeResponse r;
  for (uint64_t s : sequences) {
    v1::Event* e = r.mutable_events()->add_events();
    e->set_sequence(s);
    e->set_stream_epoch(epoch);
    e->set_id("evt_" + std::to_string(s));
  }
  return r;
}

}  // namespace hookstream::testing
