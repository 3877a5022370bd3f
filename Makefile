# Thin wrapper around CMake. `make` builds a release into build/.
SHELL := /bin/bash
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: check-aarch64 check-install package all nst deps test-deps test test-slow asan tsan fuzz bench bench-serve weights models demo clean format

all: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

# The nst program alone (what demo, weights and models need; `all` also builds
# the test suite and the benchmarks).
nst: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS) --target nst

$(BUILD)/Makefile: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# Install the Debian packages the build needs (no-op when present); test-deps
# adds the browser test's chromium, node and playwright-core.
deps:
	@bash tools/install-deps.sh
test-deps:
	@bash tools/install-deps.sh --browser

# The default suite (everything not tagged [slow]). The end-to-end tests need the
# weights, the browser test the style networks: made first when the shared data is
# there (they skip loudly otherwise).
test: test-deps all
	@test -f $(BUILD)/vgg19.nstw || ! test -d "$${NST_SHARED:-../shared}/weights" || \
	  $(MAKE) --no-print-directory weights
	@test -f $(BUILD)/models/udnie.nstw || ! test -d "$${NST_SHARED:-../shared}/models/fast-style" || \
	  $(MAKE) --no-print-directory models
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# The library as an installed package: headers, find_package(nst), examples/
# (also one of the tests), then the Debian package of it all (cpack; the models
# made first when the shared data is there, the weights when `make weights` made them).
check-install: all
	bash tools/check-install.sh $(BUILD) $(BUILD)/check-install

package: all models
	cd $(BUILD) && cpack -G DEB
	dpkg-deb --info $(BUILD)/nst_*.deb | grep -E "Package|Version|Depends"
	dpkg-deb --contents $(BUILD)/nst_*.deb | grep -E "bin/nst$$|libnstlib.a|nstConfig.cmake|share/nst/"

test-slow: all
	cd $(BUILD) && ctest --output-on-failure -L slow

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNST_SANITIZE=address,undefined -DNST_BUILD_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer over the threaded code: the tests tagged [threads] and [serve], every
# "1 and 2 threads" bit-identity test of the ops and optimisers, and the GEMM
# tests (split-K, GEMM inside parallel_for). The stylize driver tests are left
# out (they need build/vgg19.nstw and take minutes under TSan).
TSAN_TESTS ?= [threads]~[stylize],*1 and 2 threads give*,[gemm],[serve]
# nst serve's job tests run the VGG: the release build's weights when made
# (converting them again under TSan would take minutes).
TSAN_WEIGHTS = $(if $(wildcard $(BUILD)/vgg19.nstw),NST_WEIGHTS=$(CURDIR)/$(BUILD)/vgg19.nstw)
tsan:
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNST_SANITIZE=thread -DNST_BUILD_BENCH=OFF
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && $(TSAN_WEIGHTS) TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ./nst_tests "$(TSAN_TESTS)"

# Each libFuzzer target (fuzz/fuzz_<name>.cpp) for FUZZ_SECONDS (default 60)
# from its seed corpus in fuzz/corpus/<name>; new inputs go to
# build-fuzz/corpus/<name>, crashes to build-fuzz/crash-* (fix them, then add a
# regression test). One target: make fuzz FUZZ_TARGETS=weights. A long run:
# make fuzz FUZZ_SECONDS=600. CI sets FUZZ_RUNS: that many inputs from a fixed
# seed, so that its result does not depend on the machine's speed or on luck.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ_BUDGET = $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS) -seed=1 -max_total_time=600,-max_total_time=$(FUZZ_SECONDS))
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.cpp,%,$(wildcard fuzz/fuzz_*.cpp))
fuzz:
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DNST_FUZZ=ON -DNST_BUILD_TESTS=OFF -DNST_BUILD_BENCH=OFF
	cmake --build build-fuzz -j $(JOBS)
	@set -e; for name in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$name; \
	  echo "== fuzzing $$name ($(FUZZ_BUDGET))"; \
	  build-fuzz/fuzz_$$name $(FUZZ_BUDGET) -rss_limit_mb=2048 -timeout=30 \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/ \
	    build-fuzz/corpus/$$name fuzz/corpus/$$name 2>&1 | tail -4; \
	  test $${PIPESTATUS[0]} -eq 0; \
	done

bench: all
	$(BUILD)/nst_bench

# nst serve under load (bench/load_serve.py, docs/serve.md): 8 clients x 50
# POST /api/fast of a small photo on loopback; requests/s, p50/p99 latency,
# failures and the server's RSS (the style networks first: make models).
# Pinned to one core: taskset -c 0 make bench-serve.
LOAD_FLAGS ?=
bench-serve: nst
	/usr/bin/python3 bench/load_serve.py --nst $(BUILD)/nst --models $(BUILD)/models $(LOAD_FLAGS)

# The default VGG-19 weight file, build/vgg19.nstw: from $VGG19_SOURCE, else
# $NST_SHARED/weights/vgg19-imagenet-uint8 (NST_SHARED=../shared), else a download.
weights: nst
	bash weights/make_weights.sh $(BUILD)

# The five feed-forward style networks, $(BUILD)/models/<style>.nstw, converted
# from $NST_SHARED/models/fast-style (skipped, loudly, when that folder is missing).
FAST_STYLES ?= la_muse rain_princess scream udnie wave
models: nst
	@src="$(NST_SHARED)/models/fast-style"; \
	if [ ! -d "$$src" ]; then \
	  echo "make models: SKIPPED: no folder $$src (set NST_SHARED to the shared data)"; exit 0; \
	fi; \
	mkdir -p $(BUILD)/models; \
	for s in $(FAST_STYLES); do \
	  $(BUILD)/nst convert --from ml5 --input "$$src/$$s" --output $(BUILD)/models/$$s.nstw || exit 1; \
	done

# The main job: Tubingen in the style of The Starry Night at 512 px, with the
# default schedule (coarse to fine from 128 px, at most 50 iterations a scale).
NST_SHARED ?= ../shared
DEMO_FLAGS ?= --print-every 25
demo: nst
	@test -f $(BUILD)/vgg19.nstw || $(MAKE) --no-print-directory weights
	@mkdir -p out
	$(BUILD)/nst stylize --content $(NST_SHARED)/images/tubingen.jpg \
	  --style $(NST_SHARED)/images/starry_night.jpg --output out/demo.png $(DEMO_FLAGS)

# The NEON build of every source, with Debian's aarch64 cross compiler.
check-aarch64:
	bash tools/check-aarch64.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')
