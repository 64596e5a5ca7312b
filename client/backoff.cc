#include "client/backoff.h"

#include <algorithm>
#include <memory>

#include "absl/random/random.h"
#include "absl/random/uniform_real_distribution.h"

namespace hookstream {

Backoff::Backoff(Options options, const Clock& clock, RandomSource random)
    : options_(options), clock_(clock), random_(std::move(random)) {
  if (!random_) {
    // shared_ptr because std::function needs a copyable target.
    auto gen = std::make_shared<absl::BitGen>();
    random_ = [gen] { return absl::Uniform<double>(*gen, 0.0, 1.0); };
  }
}

absl::Duration Backoff::CurrentCeiling() const {
  const double multiplier = std::max(1.0, options_.multiplier);
  absl::Duration ceiling = options_.initial_delay;
  // Iterating (rather than pow) stops at the cap and cannot overflow.
  for (int i = 0; i < attempts_ && ceiling < options_.max_delay; ++i) {
    ceiling = ceiling * multiplier;
  }
  return std::min(ceiling, options_.max_delay);
}

absl::Duration Backoff::NextDelay() {
  const absl::Duration ceiling = CurrentCeiling();
  ++attempts_;
  const double r = std::clamp(random_(), 0.0, 1.0);
  return ceiling * r;
}

absl::Time Backoff::NextAttemptTime() { return clock_.Now() + NextDelay(); }

}  // namespace hookstream
