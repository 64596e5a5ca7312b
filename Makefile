# Thin wrappers: the real work is in scripts/ and CMake (see CMakePresets.json).
BUILD_DIR ?= build
RELEASE_DIR ?= build-release
TSAN_DIR ?= build-tsan
JOBS ?= $(shell nproc)

ASAN_DIR ?= build-asan
FUZZ_SECONDS ?= 600
# Seconds per fuzz target in `make fuzz-smoke` (6 targets; a smoke run that
# also replays every regression input: `make fuzz` runs them for longer).
FUZZ_SMOKE_SECONDS ?= 10

.PHONY: deps build test test-tsan test-sanitizers fuzz fuzz-smoke run bench format clean

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test: the whole suite, then the ring's concurrency tests again under
# ThreadSanitizer.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-tsan

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer
# (scripts/lsan-suppressions.txt: Debian's uninstrumented gRPC only).
test-sanitizers: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DHOOKSTREAM_SANITIZE=address,undefined -DHOOKSTREAM_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (tests/fuzz, clang-14): FUZZ_SECONDS each.
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) ./scripts/fuzz.sh

fuzz-smoke: deps
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) JOBS=$(JOBS) ./scripts/fuzz.sh

test-tsan: deps
	cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DHOOKSTREAM_SANITIZE=thread -DHOOKSTREAM_BUILD_BENCH=OFF
	cmake --build $(TSAN_DIR) -j $(JOBS) --target tsan_tests
	cd $(TSAN_DIR) && ctest --output-on-failure -L tsan

# `make run ARGS="--backend=journal --journal_dir=var/journal"` passes flags on.
run: deps
	cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release \
	  -DHOOKSTREAM_BUILD_TESTS=OFF -DHOOKSTREAM_BUILD_BENCH=OFF
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target hookstream-server hookstream_cli hookstream-journal
	BUILD_DIR=$(RELEASE_DIR) ./scripts/run-dev.sh $(ARGS)

# Side by side with nginx and NATS JetStream (bench/run.sh; results go in
# docs/benchmarks.md). Installs the peers first; `make test` never does.
BENCH_DIR ?= build-bench
bench: deps
	./scripts/install-bench-deps.sh
	cmake -S . -B $(BENCH_DIR) -DCMAKE_BUILD_TYPE=Release \
	  -DHOOKSTREAM_BUILD_TESTS=OFF -DHOOKSTREAM_BUILD_BENCH=ON
	cmake --build $(BENCH_DIR) -j $(JOBS)
	cmake --build $(BENCH_DIR) -j $(JOBS) --target bench_tools
	BENCH_BUILD_DIR=$(BENCH_DIR) ./bench/run.sh

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(RELEASE_DIR) $(TSAN_DIR) $(ASAN_DIR) build-fuzz
