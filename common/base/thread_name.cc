#include "common/base/thread_name.h"

#include <pthread.h>

#include <string>

namespace hookstream {

void NameCurrentThread(absl::string_view name) {
  const std::string cut(name.substr(0, kMaxThreadNameBytes));
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace hookstream
