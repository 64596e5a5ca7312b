// -----------------------------------------------------------------------------
// File: fuzz_support.h
// -----------------------------------------------------------------------------
// What the libFuzzer targets share: the seed inputs every target derives its
// corpus from (the GETTRX deliveries in tests/testdata/gettrx and the CLI's
// samples of every documented type), and the seed-writing mode that
// scripts/fuzz.sh uses to build each target's starting corpus:
//   HOOKSTREAM_FUZZ_WRITE_SEEDS=DIR ./x_fuzzer   # writes DIR/seed_N, exits
//
// Thread-safety: called from LLVMFuzzerInitialize only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace hookstream::fuzz {

// The JSON deliveries under the seed folders, sorted by path.
inline std::vector<std::string> SeedBodies() {
  std::vector<std::filesystem::path> paths;
  for (const char* dir : {HOOKSTREAM_SOURCE_DIR "/tests/testdata/gettrx",
                          HOOKSTREAM_SOURCE_DIR "/client/cli/samples"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") paths.push_back(entry.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> bodies;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    bodies.push_back(s.str());
  }
  return bodies;
}

// In seed-writing mode, writes `make()`'s inputs and exits; else nothing.
inline void MaybeWriteSeeds(
    const std::function<std::vector<std::string>()>& make) {
  const char* dir = std::getenv("HOOKSTREAM_FUZZ_WRITE_SEEDS");
  if (dir == nullptr || *dir == '\0') return;
  std::filesystem::create_directories(dir);
  const std::vector<std::string> seeds = make();
  for (size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(
        std::filesystem::path(dir) / ("seed_" + std::to_string(i)),
        std::ios::binary);
    out << seeds[i];
  }
  std::fprintf(stderr, "wrote %zu seeds to %s\n", seeds.size(), dir);
  std::exit(seeds.empty() ? 1 : 0);
}

// Aborts (a finding) when an invariant does not hold.
#define HOOKSTREAM_FUZZ_CHECK(cond)                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                  \
      std::abort();                                                         \
    }                                                                       \
  } while (0)

}  // namespace hookstream::fuzz
