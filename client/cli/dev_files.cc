#include "client/cli/dev_files.h"

#include <unistd.h>

#include <cstdlib>

namespace hookstream::cli {

std::string DevDir() {
  // getenv: the CLI reads the environment before starting threads.
  if (const char* dir = std::getenv("HOOKSTREAM_DEV_DIR"); dir && *dir) {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/hookstream/dev";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.config/hookstream/dev";
  }
  return "";
}

std::string DevFile(const std::string& name) {
  const std::string dir = DevDir();
  if (dir.empty()) return "";
  const std::string path = dir + "/" + name;
  return access(path.c_str(), R_OK) == 0 ? path : "";
}

}  // namespace hookstream::cli
