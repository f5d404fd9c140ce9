# Two commands on a fresh Debian 12 machine:
#   make run    install what is missing, build, run the gateway on embedded Kafka
#   make test   install what is missing, build, run every test
BUILD   ?= build
JOBS    ?= $(shell nproc)
CONFIG  ?= config/gateway.yaml
XOEVGATE = $(BUILD)/xoevgate

# Debian packages the build, the tests and the interop peers need.
DEB_PACKAGES = cmake g++ make pkg-config curl \
  librdkafka-dev libboost-dev libssl-dev libxml2-dev \
  libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev libcli11-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  libxml2-utils kcat python3-jwcrypto python3-confluent-kafka docker-compose

SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test bench keys install clean

# Idempotent and quiet when nothing is missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j $(JOBS)

# Demo keys for the default config (var/ is not in git: private keys never are).
keys: build
	@$(XOEVGATE) dev-keys --config $(CONFIG)

run: build keys
	@$(XOEVGATE) serve --config $(CONFIG)

# Warnings are errors for developers and CI (not for users' builds: a newer compiler's
# new warning must not stop them).
test: deps $(BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) -DXOEVGATE_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure -j 1 --timeout 900

# Google Benchmark stages, then the load generator against `serve` on embedded Kafka.
bench: build
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b --benchmark_min_time=0.5; done
	@/usr/bin/python3 bench/loadgen.py --spawn --binary $(XOEVGATE) --messages 5000 --concurrency 16

# The binary, schemas, example configs and systemd units under PREFIX (default
# /usr/local); DESTDIR=/tmp/stage make install stages them for a package.
PREFIX ?= /usr/local
install: deps $(BUILD)/CMakeCache.txt
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target xoevgate
	@cmake --install $(BUILD)

clean:
	rm -rf $(BUILD)
