#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14 + ASan + UBSan in
# build-fuzz and runs each for FUZZ_SECONDS (default 30) from its committed
# seed corpus (tests/fuzz/corpus/<target>: the seed events of
# tests/testdata/gettrx and the CLI samples, in each target's input form)
# plus what earlier runs found (build-fuzz/corpus/<target>). The inputs in
# tests/fuzz/regressions/<target>/ (every crash found so far) are run first,
# once each. A crash, a leak, a UBSan report or a failed check fails the
# script; the input is kept in build-fuzz/artifacts/<target>/ — copy it to
# tests/fuzz/regressions/<target>/ with the fix.
#
#   scripts/fuzz.sh                      # every target, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh     # longer (make fuzz)
#   scripts/fuzz.sh http_request_fuzzer  # one target
#   scripts/fuzz.sh --write-seeds        # regenerate tests/fuzz/corpus
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${FUZZ_SECONDS:-30}
jobs=${JOBS:-$(nproc)}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DHOOKSTREAM_BUILD_FUZZ=ON -DHOOKSTREAM_BUILD_TESTS=OFF \
  -DHOOKSTREAM_BUILD_BENCH=OFF -DHOOKSTREAM_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=undefined" >/dev/null
cmake --build "$build" -j "$jobs" --target fuzzers

write_seeds=0
if [ "${1:-}" = "--write-seeds" ]; then
  write_seeds=1
  shift
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(gettrx_conversion_fuzzer stored_event_fuzzer signature_fuzzer
           http_request_fuzzer subscribe_request_fuzzer journal_record_fuzzer)
fi
# Leaks are findings too; the uninstrumented system libraries are not ours
# (none has shown one here).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/sanitizer-suppressions/lsan.txt}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/$t"
  seeds="tests/fuzz/corpus/$t"
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  if [ $write_seeds = 1 ]; then
    rm -rf "$seeds"
    HOOKSTREAM_FUZZ_WRITE_SEEDS="$seeds" "$bin" || status=1
    continue
  fi
  mkdir -p "$corpus" "$artifacts"
  if [ -z "$(ls -A "$seeds" 2>/dev/null)" ]; then
    echo "fuzz: $t has no seeds in $seeds (scripts/fuzz.sh --write-seeds)"
    status=1
    continue
  fi
  regressions="tests/fuzz/regressions/$t"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$bin" "$regressions"/* >"$artifacts/regressions.log" 2>&1; then
      echo "fuzz: $t fails a regression input (see $artifacts/regressions.log)"
      tail -40 "$artifacts/regressions.log"
      status=1
      continue
    fi
  fi
  echo "fuzz: $t for ${seconds}s"
  # The first corpus folder takes what the run finds; the seeds stay as
  # committed.
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -max_len=262144 -artifact_prefix="$artifacts/" -print_final_stats=1 \
       "$corpus" "$seeds" >"$artifacts/run.log" 2>&1; then
    echo "fuzz: $t FOUND A PROBLEM; input in $artifacts/, log:"
    tail -40 "$artifacts/run.log"
    status=1
  else
    grep -E "^stat::number_of_executed_units|^#[0-9]+.*DONE" \
      "$artifacts/run.log" | tail -1 | sed "s/^/fuzz: $t: /"
  fi
done
exit $status
