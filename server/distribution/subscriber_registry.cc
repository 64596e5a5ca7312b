#include "server/distribution/subscriber_registry.h"

namespace hookstream::distribution {

bool SubscriberRegistry::Add(ShutdownTarget* stream) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  streams_.insert(stream);
  return true;
}

void SubscriberRegistry::Remove(ShutdownTarget* stream) {
  absl::MutexLock lock(&mu_);
  streams_.erase(stream);
}

size_t SubscriberRegistry::count() const {
  absl::MutexLock lock(&mu_);
  return streams_.size();
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
