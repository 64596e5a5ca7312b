#include "common/base/thread_deferral.h"

namespace hookstream {
namespace {
thread_local ThreadDeferrer* current_deferrer = nullptr;
}  // namespace

ThreadDeferrer* CurrentThreadDeferrer() { return current_deferrer; }

ScopedThreadDeferrer::ScopedThreadDeferrer(ThreadDeferrer* deferrer)
    : previous_(current_deferrer) {
  current_deferrer = deferrer;
}

ScopedThreadDeferrer::~ScopedThreadDeferrer() { current_deferrer = previous_; }

}  // namespace hookstream
