#include "common/base/clock.h"

namespace hookstream {

Clock& RealClock() {
  // Stateless, so destroying it at exit is harmless.
  static SystemClock clock;
  return clock;
}

}  // namespace hookstream
