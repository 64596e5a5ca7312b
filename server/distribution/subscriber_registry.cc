#include "server/distribution/subscriber_registry.h"

#include "absl/strings/str_cat.h"

namespace hookstream::distribution {

absl::Status SubscriberRegistry::Add(ShutdownTarget* stream) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) {
    return absl::UnavailableError("server is shutting down; reconnect");
  }
  if (streams_.size() >= max_streams_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server serves at most ", max_streams_,
                     " Subscribe streams (--grpc_max_streams); retry later"));
  }
  streams_.insert(stream);
  return absl::OkStatus();
}

void SubscriberRegistry::Remove(ShutdownTarget* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

size_t SubscriberRegistry::count() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
}

std::vector<SubscriberSnapshot> SubscriberRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<SubscriberSnapshot> out;
  out.reserve(streams_.size());
  // Under the lock, as Shutdown: no stream is deleted while it is asked.
  for (const ShutdownTarget* stream : streams_) {
    out.push_back(stream->Snapshot());
  }
  return out;
}

void SubscriberRegistry::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return;
  shutting_down_ = true;
  // Under the lock: a stream's OnDone must Remove it before deleting it, so
  // none is deleted while it is being asked.
  for (ShutdownTarget* stream : streams_) stream->RequestShutdown();
}

bool SubscriberRegistry::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

bool SubscriberRegistry::WaitUntilEmpty(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(
      absl::Condition(
          +[](const absl::flat_hash_set<ShutdownTarget*>* streams) {
            return streams->empty();
          },
          &streams_),
      deadline);
}

}  // namespace hookstream::distribution
