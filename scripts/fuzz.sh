#!/usr/bin/env bash
# Runs the fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, AddressSanitizer), one at a time in a
# single process each, for FUZZ_SECONDS seconds each (default 600), on the corpora kept in
# fuzz/corpora.tar.xz (unpacked into fuzz/corpus on the first run; `scripts/fuzz.sh pack`
# stores the grown corpora back). FUZZ_TARGETS picks targets (default: all). A crash stops
# the run with the input under fuzz/artifacts/TARGET/; add it to tests/fuzz_regressions.rs.
# Needs a nightly toolchain (or RUSTC_BOOTSTRAP=1 on stable) and cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS="onnx_import onnx_gz graph_json c_builder nb201_string nb101_spec darts_genotype ofa_spec predictor_model"
targets=${FUZZ_TARGETS:-$ALL_TARGETS}
seconds=${FUZZ_SECONDS:-600}

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi

if [ "${1:-}" = pack ]; then
    # Keeps only inputs that add coverage (libFuzzer's merge), then compresses.
    rm -rf fuzz/corpus.min
    for target in $ALL_TARGETS; do
        mkdir -p "fuzz/corpus.min/$target"
        options=(-merge=1)
        asan=()
        if [ "$target" = predictor_model ]; then
            options+=(-detect_leaks=0 -malloc_limit_mb=1000000000)  # as when fuzzing, below
            asan=(ASAN_OPTIONS=allocator_may_return_null=1)
        fi
        env "${asan[@]}" "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "${options[@]}" \
            "fuzz/corpus.min/$target" "fuzz/corpus/$target" 2>/dev/null
    done
    tar -C fuzz/corpus.min -cJf fuzz/corpora.tar.xz $ALL_TARGETS
    rm -rf fuzz/corpus.min
    exit 0
fi

if [ ! -d fuzz/corpus ]; then
    mkdir -p fuzz/corpus
    tar -C fuzz/corpus -xJf fuzz/corpora.tar.xz
fi
# onnx_gz starts from onnx_import's models, each marked to be gzip-compressed by the target.
if [ -z "$(ls -A fuzz/corpus/onnx_gz 2>/dev/null)" ]; then
    mkdir -p fuzz/corpus/onnx_gz
    for model in fuzz/corpus/onnx_import/*; do
        { printf '\0'; cat "$model"; } >"fuzz/corpus/onnx_gz/$(basename "$model")"
    done
fi
scripts/fetch-onnxruntime.sh >/dev/null
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} nice -n 10 "${fuzz[@]}" build --fuzz-dir fuzz -O
mkdir -p fuzz/logs
for target in $targets; do
    mkdir -p "fuzz/artifacts/$target" "fuzz/corpus/$target"
    # Memory and time blow-ups count as crashes (issue #28): 1 GB of RSS, 10 s per input.
    options=(-max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 -timeout=10
        -artifact_prefix="fuzz/artifacts/$target/")
    asan=()
    if [ "$target" = predictor_model ]; then
        # ONNX Runtime keeps process-wide allocations (its environment, thread pools) alive
        # after the first session: not leaks of one input. A model's shapes may ask ONNX
        # Runtime for any amount of memory (ConstantOfShape of 456 GB): its arena turns a
        # failed allocation into an error, as the library returns it, where ASan would abort
        # and libFuzzer's malloc limit would call any request over 1 GB a crash. RSS stays
        # limited to 1 GB.
        options+=(-detect_leaks=0 -malloc_limit_mb=1000000000)
        asan=(ASAN_OPTIONS=allocator_may_return_null=1)
    fi
    echo "== $target, ${seconds}s" >&2
    log="fuzz/logs/$target.log"
    if ! env "${asan[@]}" nice -n 15 "fuzz/target/x86_64-unknown-linux-gnu/release/$target" "${options[@]}" \
        "fuzz/corpus/$target" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "$target: failed; the input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" >&2
done
