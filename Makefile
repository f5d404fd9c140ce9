# Two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build, run the gateway on embedded Kafka
#   make test   install what is missing, build, run every test
BUILD   ?= build
ASAN_BUILD ?= build-asan
CCACHE  := $(shell command -v ccache)
JOBS    ?= $(shell nproc)
CONFIG  ?= config/gateway.yaml
XOEVGATE = $(BUILD)/xoevgate

# Debian packages the build, the tests and the interop peers need.
DEB_PACKAGES = cmake g++ make pkg-config curl \
  librdkafka-dev libboost-dev libssl-dev libxml2-dev \
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libcli11-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libxml2-utils kcat python3-jwcrypto python3-confluent-kafka docker-compose \
  clang llvm libclang-rt-14-dev systemd prometheus

SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test test-asan mutation fuzz bench keys install clean

# Idempotent and quiet when nothing is missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Unity builds: the sources of one library compiled as one, so the Boost, nlohmann and
# spdlog headers are parsed once per library instead of once per file (the sources
# that cannot be batched are XOEVGATE_UNITY_ALONE in CMakeLists.txt). Measured without
# ccache: the libraries in 56% of the CPU time, the unit tests in 40%. `make test
# UNITY_BUILD=OFF` builds file by file (each source must still compile on its own: a
# batch can hide a missing #include).
UNITY_BUILD ?= ON
UNITY = -DCMAKE_UNITY_BUILD=$(UNITY_BUILD)

# build/ is the Dockerfile's Release configuration: what runs, what is benchmarked and
# what the integration tests test is the binary that ships.
$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(UNITY) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS) --target xoevgate

# Demo keys for the default config (var/ is not in git: private keys never are).
keys: build
	@$(XOEVGATE) dev-keys --config $(CONFIG)

run: build keys
	@$(XOEVGATE) serve --config $(CONFIG)

# Warnings are errors for developers and CI (not for users' builds: a newer compiler's
# new warning must not stop them). Two builds, each source compiled once per build:
#   build/       Release (the Dockerfile's), the product, its test tools and the
#                benchmarks; runs the integration, interop and fuzz tests against the
#                real binary (CTest labels integration, fuzz);
#   build-asan/  the product and the unit tests under the sanitizers (test-asan).
# The integration tests run one at a time and mostly wait (on processes, the embedded
# cluster, timeouts), so build-asan is compiled meanwhile, niced: it takes the CPU they
# leave. A fresh clone's 1,641 s: this build ran 19 minutes, about 9 of them beside the
# 528 s of integration and fuzz tests (see the README's figure).
ASAN_BUILD_LOG = $(CURDIR)/$(ASAN_BUILD)/unit_tests.build.log
test: deps $(BUILD)/CMakeCache.txt $(ASAN_BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DXOEVGATE_WERROR=ON $(UNITY) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target integration_binaries benchmarks
	@cmake -S . -B $(ASAN_BUILD) -DXOEVGATE_WERROR=ON $(UNITY) >/dev/null
	@echo "building $(ASAN_BUILD) (unit tests) in the background, log: $(ASAN_BUILD_LOG)"
	@( nice -n 10 cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests >$(ASAN_BUILD_LOG) 2>&1; \
	   echo $$? >$(ASAN_BUILD_LOG).rc ) & bg=$$!; \
	 ( cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900 -L '^(integration|fuzz)$$' ); rc=$$?; \
	 wait $$bg; \
	 if [ "$$(cat $(ASAN_BUILD_LOG).rc)" != 0 ]; then \
	   grep -E -B2 -A12 'error|warning' $(ASAN_BUILD_LOG) | head -200; tail -20 $(ASAN_BUILD_LOG); \
	   echo "the $(ASAN_BUILD) build failed (whole log: $(ASAN_BUILD_LOG))"; exit 1; fi; \
	 exit $$rc
	@$(MAKE) --no-print-directory test-asan

# The unit tests, once, under AddressSanitizer + UndefinedBehaviorSanitizer, at -O1
# without debug info so that build stays cheap, one per core (they mostly wait on the
# embedded cluster: 131 s instead of 253 s). Warnings are errors there too, but for
# -Wmaybe-uninitialized (see XOEVGATE_SANITIZE in CMakeLists.txt). One aggregate target
# each (unit_tests, integration_binaries, benchmarks): CMake's top-level Makefile is
# .NOTPARALLEL, so targets named one by one on the command line build one after another.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(ASAN_BUILD)/CMakeCache.txt:
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O1 -DXOEVGATE_SANITIZE=ON -DXOEVGATE_WERROR=ON \
	  $(UNITY) $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE)) >/dev/null

test-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	@cmake -S . -B $(ASAN_BUILD) -DXOEVGATE_WERROR=ON $(UNITY) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target unit_tests
	@cd $(ASAN_BUILD) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900 -L '^unit$$'

# libFuzzer targets (tests/fuzz, built with clang): five minutes each. `make test`
# runs each for a few seconds (ctest fuzz.smoke).
fuzz: deps
	@tests/fuzz/run.sh long

# Plants each mutant of tests/mutation/mutants.py in a scratch copy, runs the tests
# meant to catch it, prints the table and `N/M mutants caught`.
mutation: deps
	@/usr/bin/python3 tests/mutation/run.py

# Google Benchmark stages, then the load generator against `serve` on embedded Kafka,
# then issue 13's report (ceiling, end to end at full and half rate, 1 vs 2 cores).
bench: build
	@cmake --build $(BUILD) -j $(JOBS) --target benchmarks
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b --benchmark_min_time=0.5; done
	@/usr/bin/python3 bench/loadgen.py --spawn --binary $(XOEVGATE) --messages 5000 --concurrency 16
	@/usr/bin/python3 bench/report.py --binary $(XOEVGATE)
	@/usr/bin/python3 bench/large.py --binary $(XOEVGATE) --size-mb 500
	@/usr/bin/python3 bench/large.py --binary $(XOEVGATE) --size-mb 1024

# The binary, schemas, example configs and systemd units under PREFIX (default
# /usr/local); DESTDIR=/tmp/stage make install stages them for a package.
PREFIX ?= /usr/local
install: deps $(BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target xoevgate
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-mutation
