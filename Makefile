# Thin wrapper over CMake. The builds live in build/ (Release), build-asan/
# (ASan+UBSan) and build-tsan/ (TSan).
#
#   make            build the library, tests, examples and benchmarks (Release)
#   make test       run every test in build/, build-asan/ and build-tsan/
#   make test-fast  run the tests of the Release build only
#   make race       run the tests under ThreadSanitizer only
#   make test-aarch64  the AArch64 build's tests, cross-compiled, under qemu-user
#   make demo       run the examples, each after a heading saying what it shows
#   make bench      run the benchmarks against their Go twins (bench/run.sh)
#   make bench-scale  the scaling table: rows at 1, 2, 4, 8, 16 workers, beside Go
#   make install    install into $(PREFIX) (default /usr/local); honours DESTDIR
#   make clean      remove every build directory

SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
.SHELLFLAGS := -o pipefail -c

PREFIX ?= /usr/local
CMAKE ?= cmake
CTEST ?= ctest
NPROC := $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j2

BUILD := build
BUILD_ASAN := build-asan
BUILD_TSAN := build-tsan
BUILD_AARCH64 := build-aarch64

# $(call cmake_configure,DIR,CMAKE-ARGS): configure DIR unless it already is.
# A change of CMakeLists.txt or of the file set is picked up by the build.
# Configured means the build tool's file exists: a configure that failed
# (a cross compiler not installed yet) leaves CMakeCache.txt behind, and is
# tried again.
cmake_configure = { [ -f $(1)/Makefile ] || [ -f $(1)/build.ninja ] || $(CMAKE) -S . -B $(1) $(2); }
# $(call cmake_build,DIR,CMAKE-ARGS)
cmake_build = { $(call cmake_configure,$(1),$(2)) && $(CMAKE) --build $(1) -j$(NPROC); }

RELEASE_ARGS := -DCMAKE_BUILD_TYPE=Release
ASAN_ARGS := -DGOC_SANITIZE=address
TSAN_ARGS := -DGOC_SANITIZE=thread
AARCH64_ARGS := -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake,-DCMAKE_BUILD_TYPE=Release

.PHONY: all test test-fast test-aarch64 race demo bench bench-scale install clean

all:
	@$(call cmake_build,$(BUILD),$(RELEASE_ARGS))

# Each build in turn: configure, build, ctest (its output also in DIR/ctest.log).
# Stops at the first build that fails; a build that does not compile counts as
# one failure. Ends with the line "N passed, N failed".
define run_tests
passed=0; failed=0; \
for spec in $(1); do \
  dir=$${spec%%:*}; args=$${spec#*:}; args=$${args//,/ }; \
  echo "==== $$dir: build ===="; \
  if ! $(call cmake_build,$$dir,$$args); then \
    echo "==== $$dir: build failed ===="; failed=$$((failed + 1)); break; \
  fi; \
  echo "==== $$dir: ctest ===="; \
  (cd $$dir && $(CTEST) $(CTEST_FLAGS)) 2>&1 | tee $$dir/ctest.log; status=$$?; \
  line=$$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' $$dir/ctest.log | tail -n 1); \
  if [[ $$line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then \
    f=$${BASH_REMATCH[1]}; t=$${BASH_REMATCH[2]}; \
    passed=$$((passed + t - f)); failed=$$((failed + f)); \
  elif [ $$status -ne 0 ]; then \
    failed=$$((failed + 1)); \
  fi; \
  if [ $$status -ne 0 ]; then echo "==== $$dir: tests failed ===="; break; fi; \
done; \
echo "$$passed passed, $$failed failed"; \
[ $$failed -eq 0 ]
endef

test:
	@$(call run_tests,$(BUILD):$(RELEASE_ARGS) $(BUILD_ASAN):$(ASAN_ARGS) $(BUILD_TSAN):$(TSAN_ARGS))

test-fast:
	@$(call run_tests,$(BUILD):$(RELEASE_ARGS))

race:
	@$(call run_tests,$(BUILD_TSAN):$(TSAN_ARGS))

# The AArch64 port, cross-compiled and run under qemu-user (needs
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user).
test-aarch64:
	@$(call run_tests,$(BUILD_AARCH64):$(AARCH64_ARGS))

demo: all
	@bash examples/demo.sh $(BUILD)

bench: all
	@bash bench/run.sh $(BUILD)

# The scheduler's scaling: the rows of SCALE_ROWS at each worker count of
# SCALE_PROCS, goc beside Go (docs/benchmarks.md, "Scaling").
SCALE_PROCS ?= 1 2 4 8 16
SCALE_ROWS ?= ^(spawn|yield|parked_create|skynet|ChanProdCons0|ChanProdCons100|ChanContended|SelectSyncContended|pingpong|net_echo|config_mutex|config_rwmutex|config_atomic|mutex_8|mutex_1000|rwmutex_read|waitgroup|pool|map_load|timer_churn|CancelBroadcast|Singleflight|ErrgroupFanout)$$
bench-scale: all
	@BENCH_ROUNDS=$${BENCH_ROUNDS:-3} BENCH_SCALE="$(SCALE_PROCS)" BENCH_FILTER='$(SCALE_ROWS)' bash bench/run.sh $(BUILD)

# The install prefix is fixed at configure time (goc.pc records it), so
# build/ is reconfigured with PREFIX first.
install:
	@$(call cmake_configure,$(BUILD),$(RELEASE_ARGS))
	$(CMAKE) -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	$(CMAKE) --build $(BUILD) -j$(NPROC)
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_AARCH64)
