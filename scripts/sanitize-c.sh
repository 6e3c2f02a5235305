#!/usr/bin/env bash
# The C test programs (tests/c/*.c) and examples (examples/c/*.c) against the library, under
# AddressSanitizer + UndefinedBehaviorSanitizer (the C side instrumented; the library's heap
# calls go through ASan's allocator, so double frees, bad frees and leaks of library objects
# are caught too), then under valgrind --leak-check=full. Any error or leak fails the run.
# LeakSanitizer needs no suppressions; valgrind's (scripts/sanitize/valgrind.supp) cover
# findings inside ONNX Runtime and glibc's loader only, see there.
# Usage: scripts/sanitize-c.sh [PROGRAM...]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/fetch-onnxruntime.sh >/dev/null
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} nice -n 10 cargo build --lib
out=target/sanitize
# Programs look the library up under its SONAME (libcgpredict.so.0.MINOR), which cargo does
# not write: link it beside the programs.
lib=$out/lib
mkdir -p "$lib"
soname=$(objdump -p target/debug/libcgpredict.so | awk '/SONAME/ { print $2 }')
ln -sf "$PWD/target/debug/libcgpredict.so" "$lib/$soname"
ln -sf "$PWD/target/debug/libcgpredict.so" "$lib/libcgpredict.so"
CC=${CC:-cc}

programs=("$@")
if [ ${#programs[@]} -eq 0 ]; then
    programs=(tests/c/*.c examples/c/*.c)
fi

# examples/c/predict.c scores a network with a model: ResNet-18 from the zoo, the test model.
network="$out/resnet18.onnx"
gzip -dc data/zoo/torchvision/ResNet18_Weights.IMAGENET1K_V1.onnx.gz >"$network"
arguments() {
    case "$1" in
    predict) echo "$network tests/fixtures/runtime/good.onnx" ;;
    esac
}

compile() { # compile SOURCE EXE EXTRA_FLAGS...
    local source=$1 exe=$2
    shift 2
    "$CC" -std=c11 -pthread -g -Wall -Wextra -Werror -Iinclude "$@" "$source" -o "$exe" \
        -L"$lib" -Wl,-rpath,"$PWD/$lib" -lcgpredict
}

failed=0
export LD_LIBRARY_PATH="$PWD/$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
for source in "${programs[@]}"; do
    name=$(basename "$source" .c)
    compile "$source" "$out/$name.asan" -fsanitize=address,undefined -fno-omit-frame-pointer \
        -fno-sanitize-recover=undefined
    # shellcheck disable=SC2046
    if "$out/$name.asan" $(arguments "$name") >"$out/$name.asan.log" 2>&1; then
        echo "asan+ubsan  $name: clean" >&2
    else
        echo "asan+ubsan  $name: FAILED (log: $out/$name.asan.log)" >&2
        tail -n 30 "$out/$name.asan.log" >&2
        failed=1
    fi
done

if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed: skipped" >&2
    exit 1
fi
for source in "${programs[@]}"; do
    name=$(basename "$source" .c)
    compile "$source" "$out/$name"
    # shellcheck disable=SC2046
    if valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect --error-exitcode=3 --num-callers=30 \
        --suppressions=scripts/sanitize/valgrind.supp \
        "$out/$name" $(arguments "$name") >"$out/$name.valgrind.log" 2>&1; then
        echo "valgrind    $name: $(grep -E 'ERROR SUMMARY' "$out/$name.valgrind.log" | sed 's/^==[0-9]*== //')" >&2
    else
        echo "valgrind    $name: FAILED (log: $out/$name.valgrind.log)" >&2
        grep -A 25 -E 'definitely lost in|indirectly lost in|Invalid|uninitialised|ERROR SUMMARY' \
            "$out/$name.valgrind.log" | head -n 60 >&2
        failed=1
    fi
done
exit $failed
