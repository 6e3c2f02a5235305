#!/usr/bin/env bash
# The concurrency test (tests/concurrency.rs: 16 threads sharing one predictor and many
# graphs) under ThreadSanitizer. Needs a nightly toolchain with rust-src: the standard library
# is rebuilt instrumented (-Zbuild-std), else TSan reports false races inside std; the first
# build takes about half an hour on two cores. ONNX Runtime is dlopened and not instrumented;
# the suppressions in scripts/sanitize/tsan.supp cover only its exit-time findings (see there).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/fetch-onnxruntime.sh >/dev/null
target=$(rustc -vV | sed -n 's/^host: //p')
export RUSTFLAGS="-Zsanitizer=thread"
export RUSTDOCFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS="suppressions=$PWD/scripts/sanitize/tsan.supp halt_on_error=1 second_deadlock_stack=1"
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} nice -n 10 cargo +nightly test -Zbuild-std \
    --target "$target" --target-dir target/tsan --test concurrency "$@"
