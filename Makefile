# Entry points for people and CI. `make test` is the whole test suite (README's test command).

CARGO ?= cargo

.PHONY: all build test lint header

all: build

build:
	$(CARGO) build --release

# Every test: Rust unit and integration tests, the C programs under tests/c and examples/c
# (compiled by tests/c_api.rs), and the header check (tests/header.rs). The runtime tests need
# ONNX Runtime's shared library, which the fetch script puts in the cache (once).
# Benchmarks are type-checked by `make lint` and run by `cargo bench`, not here.
test:
	scripts/fetch-onnxruntime.sh
	$(CARGO) test --lib --bins --tests --examples
	$(CARGO) test --doc

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

# Regenerates include/cgpredict.h after a change to the C ABI.
header:
	CGP_UPDATE_HEADER=1 $(CARGO) build
