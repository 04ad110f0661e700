# mmaplock: top-level driver. The real build is CMake (CMakeLists.txt); this
# file gives the README's commands and installs what they need first.
#
#   make            bootstrap if needed (build packages), build into build/
#   make check      add the test packages, build four trees (build chatter in
#                   build/check-build.log), run the tests through CTest
#   make bench      benchmarks (bench/), ratios against baselines in the same run
#   make demo       the main job: record the built-in contention workload, print the report
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
JOBS      ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all bootstrap bootstrap-test build check bench demo install clean fuzz

all: build

# What building and running need; the tests add the rest (clang's sanitizer
# runtimes, trace-cmd, perf, bpftrace, Prometheus, Chromium: about 400 MB).
bootstrap:
	@sh scripts/bootstrap.sh build
bootstrap-test:
	@sh scripts/bootstrap.sh test

# Build chatter of `make check` goes here; its tail is shown when a build fails.
CHECKLOG = $(BUILD)/check-build.log
quiet = >>$(CHECKLOG) 2>&1 || { tail -n 40 $(CHECKLOG); echo "make: build failed, log in $(CHECKLOG)"; exit 1; }

$(BUILD)/Makefile: CMakeLists.txt | bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null

build: bootstrap $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

# Sanitizer and OFF trees: scripts/check.sh runs the library and tool unit
# tests again under ASan, the library tests under TSan and with tracing OFF.
build-asan/Makefile: CMakeLists.txt | bootstrap-test
	@CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
		-DMMAPLOCK_SANITIZE=address >/dev/null
build-tsan/Makefile: CMakeLists.txt | bootstrap-test
	@CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug \
		-DMMAPLOCK_SANITIZE=thread >/dev/null
build-off/Makefile: CMakeLists.txt | bootstrap
	@cmake -S . -B build-off -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DMMAPLOCK_TRACING=OFF -DMMAPLOCK_MEMCG=OFF >/dev/null

check: bootstrap-test $(BUILD)/Makefile build-asan/Makefile build-tsan/Makefile build-off/Makefile
	@echo "make check: building four trees (log in $(CHECKLOG))"
	@: >$(CHECKLOG)
	@cmake --build $(BUILD) -j $(JOBS) $(quiet)
	@cmake --build build-asan -j $(JOBS) $(quiet)
	@cmake --build build-tsan -j $(JOBS) $(quiet)
	@cmake --build build-off -j $(JOBS) $(quiet)
	@sh scripts/check.sh $(BUILD) build-asan build-tsan build-off

bench: bootstrap-test build build-off/Makefile
	@cmake --build build-off -j $(JOBS)
	@sh bench/run.sh $(BUILD) build-off

# The build's chatter goes to build/build.log here, so the demo shows the report.
demo: bootstrap $(BUILD)/Makefile
	@echo "make demo: building (log in $(BUILD)/build.log)"
	@cmake --build $(BUILD) -j $(JOBS) >$(BUILD)/build.log 2>&1 || \
		{ tail -n 40 $(BUILD)/build.log; exit 1; }
	@sh scripts/demo.sh $(BUILD)

# Configure with PREFIX so that the pkg-config file names the installed paths.
install: build
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) >/dev/null
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

fuzz: bootstrap-test
	@sh fuzz/run.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-off
