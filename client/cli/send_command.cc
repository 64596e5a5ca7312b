// `hookstream send FILE…`: placeholder until common/signature lands.
#include <iostream>

#include "client/cli/cli_common.h"
#include "client/cli/commands.h"

namespace hookstream::cli {

int RunSend(const std::vector<std::string>& args) {
  std::cerr << "hookstream send: not built yet\n";
  return kExitFailure;
}

}  // namespace hookstream::cli
