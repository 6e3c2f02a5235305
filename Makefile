# Entry points for people and CI. `make test` is the whole test suite (README's test command).

CARGO ?= cargo

# `make install` destinations (absolute or relative to here); DESTDIR stages a package.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
# The cargo profile installed: release for people; test-bindings stages the test build.
PROFILE ?= release
PROFILE_DIR = target/$(if $(filter dev test,$(PROFILE)),debug,$(PROFILE))
# Where test-bindings stages its install and builds the C++ and Go programs.
BINDINGS_DIR = $(CURDIR)/target/bindings

.PHONY: all build test test-bindings lint header install train-default eval eval-parallel eval-lofo sanitize tsan fuzz harden

all: build

build:
	$(CARGO) build --release

# Every test (the trainer's too, hence `--features train`): Rust unit and integration tests, the C programs under tests/c and examples/c
# (compiled by tests/c_api.rs), the header check (tests/header.rs), the bindings' completeness
# checks (tests/bindings.rs), then the bindings themselves (test-bindings). The runtime tests need
# ONNX Runtime's shared library, which the fetch script puts in the cache (once).
# Benchmarks are type-checked by `make lint` and run by `cargo bench`, not here.
test:
	scripts/fetch-onnxruntime.sh
	$(CARGO) test --features train --lib --bins --tests --examples
	$(CARGO) test --features train --doc
	$(MAKE) test-bindings

# The installed library and the C++ and Go bindings (scripts/test-bindings.sh): installs the
# test build into target/bindings/prefix, then builds and runs a C program (pkg-config), the
# C++ example (CMake), the C++ GoogleTest suite (ctest) and the Go tests and example against
# it. The Julia bindings are checked mechanically by tests/bindings.rs.
test-bindings:
	scripts/fetch-onnxruntime.sh >/dev/null
	rm -rf $(BINDINGS_DIR)/prefix
	$(MAKE) install PREFIX=$(BINDINGS_DIR)/prefix PROFILE=test DESTDIR=
	scripts/test-bindings.sh $(BINDINGS_DIR)

# Installs libcgpredict.so (with its SONAME links), libcgpredict.a, cgpredict.h, the C++
# wrapper cgpredict.hpp, cgpredict.pc and the CMake package (scripts/install.sh).
install:
	$(CARGO) build --lib --profile $(PROFILE)
	PREFIX="$(abspath $(PREFIX))" LIBDIR="$(abspath $(LIBDIR))" \
	  INCLUDEDIR="$(abspath $(INCLUDEDIR))" DESTDIR="$(DESTDIR)" scripts/install.sh $(PROFILE_DIR)

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --features train -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --features train

# Regenerates include/cgpredict.h after a change to the C ABI.
header:
	CGP_UPDATE_HEADER=1 $(CARGO) build

# The default model (README: Training): trains on every labeled family and writes
# models/cgpredict-default.onnx, which build.rs then compiles into the library.
train-default:
	$(CARGO) build --release --features train --bin cgpredict-train
	target/release/cgpredict-train train --config configs/default.json --out-dir runs/default \
	  --model models/cgpredict-default.onnx

# Table 1 (README: Table 1): every target family, method and seed; writes docs/eval/.
eval:
	$(CARGO) build --release --features train --bin cgpredict-train
	target/release/cgpredict-train eval --config configs/eval.json --out-dir docs/eval

# The same with one process per target, as many at once as `make -jN` allows (each uses
# about one core): every target saves its results under docs/eval/targets/, then one run
# gathers them into the table and plots (README: Table 1).
EVAL_TARGETS = nb301 zoo ofa_mbv3 nb101 nb201
eval-parallel:
	$(CARGO) build --release --features train --bin cgpredict-train
	$(MAKE) $(addprefix eval-only-,$(EVAL_TARGETS))
	target/release/cgpredict-train eval --config configs/eval.json --out-dir docs/eval

eval-only-%:
	target/release/cgpredict-train eval --config configs/eval.json --out-dir docs/eval --only $*

# Leave one family out, zero-shot (README: "Against the cheap baselines"): each family ranked by a
# model trained on the other four, beside MACs, params and the least-squares and ridge fits;
# writes docs/lofo/.
eval-lofo:
	$(CARGO) build --release --features train --bin cgpredict-train
	target/release/cgpredict-train lofo --config configs/lofo.json --out-dir docs/lofo

# Hardening checks, too slow for `make test` and needing a nightly toolchain (see SECURITY.md
# and the README's "Hardening"). `make harden` runs all three.
FUZZ_SECONDS ?= 600

# The C test programs and examples under AddressSanitizer + UBSan, then valgrind.
sanitize:
	scripts/sanitize-c.sh

# 16 threads sharing one predictor under ThreadSanitizer (nightly, -Zbuild-std).
tsan:
	scripts/tsan.sh

# Every cargo-fuzz target for FUZZ_SECONDS seconds each, one after the other.
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

harden: sanitize tsan fuzz
