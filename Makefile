# Thin wrapper over CMake. The builds live in build/ (Release), build-asan/
# (ASan+UBSan), build-tsan/ (TSan) and build-chaos/ (Release with schedule
# perturbation, src/chaos.c); build-aarch64/ for its own target.
#
#   make            build the library, tests, examples and benchmarks (Release)
#   make test       run every test in build/, build-asan/, build-tsan/ and build-chaos/
#   make test-fast  run the tests of the Release build only
#   make race       run the tests under ThreadSanitizer only
#   make test-aarch64  the AArch64 build's tests, cross-compiled, under qemu-user
#   make test-chaos  the tests of build-chaos/ (schedule perturbation, src/chaos.c)
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
BUILD_CHAOS := build-chaos

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
CHAOS_ARGS := -DCMAKE_BUILD_TYPE=Release,-DGOC_CHAOS=ON

.PHONY: all test test-fast test-aarch64 test-chaos race demo bench bench-scale install clean

all:
	@$(call cmake_build,$(BUILD),$(RELEASE_ARGS))

# Each build in turn: configure, build, ctest (its output also in DIR/ctest.log).
# A build is DIR:CMAKE-ARGS[:ENV], both lists comma-separated; ENV is set for
# its ctest only. Stops at the first build that fails; a build that does not
# compile counts as one failure. Ends with the line "N passed, N failed".
define run_tests
passed=0; failed=0; \
for spec in $(1); do \
  dir=$${spec%%:*}; rest=$${spec#*:}; args=$${rest%%:*}; args=$${args//,/ }; \
  env=; [[ $$rest == *:* ]] && env=$${rest#*:} && env=$${env//,/ }; \
  echo "==== $$dir: build ===="; \
  if ! $(call cmake_build,$$dir,$$args); then \
    echo "==== $$dir: build failed ===="; failed=$$((failed + 1)); break; \
  fi; \
  echo "==== $$dir: ctest ===="; \
  (cd $$dir && env $$env $(CTEST) $(CTEST_FLAGS)) 2>&1 | tee $$dir/ctest.log; status=$$?; \
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

# The chaos build runs with 4 workers: more than CI's 2 CPUs, so that the
# kernel preempts them anywhere too.
test:
	@$(call run_tests,$(BUILD):$(RELEASE_ARGS) $(BUILD_ASAN):$(ASAN_ARGS) $(BUILD_TSAN):$(TSAN_ARGS) $(BUILD_CHAOS):$(CHAOS_ARGS):GOC_MAXPROCS=4)

test-fast:
	@$(call run_tests,$(BUILD):$(RELEASE_ARGS))

race:
	@$(call run_tests,$(BUILD_TSAN):$(TSAN_ARGS))

# The AArch64 port, cross-compiled and run under qemu-user (needs
# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user).
test-aarch64:
	@$(call run_tests,$(BUILD_AARCH64):$(AARCH64_ARGS))

# The optimised build with schedule perturbation (src/chaos.c) alone: the
# runtime's race windows held open at random, with more workers than CPUs
# (GOC_MAXPROCS, default 8). GOC_CHAOS=N: a point acts 1 time in N (8).
test-chaos:
	@$(call run_tests,$(BUILD_CHAOS):$(CHAOS_ARGS):GOC_MAXPROCS=$${GOC_MAXPROCS:-8})

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
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_TSAN) $(BUILD_AARCH64) $(BUILD_CHAOS)
