#!/usr/bin/env bash
# Tests the installed library and the bindings (`make test-bindings`), against a copy that
# `make install` staged under WORK/prefix:
#   1. a C program built out of tree through pkg-config, linked shared and static;
#   2. the C++ example built through CMake's find_package(cgpredict), shared and static;
#   3. the C++ wrapper's GoogleTest suite (cmake + ctest);
#   4. the Go bindings: gofmt, go vet, go test -race; the Go example.
# The examples import tests/fixtures/onnx/nb201_best.onnx and score it with the test model
# tests/fixtures/runtime/good.onnx, then with the default model bundled into the library
# (models/cgpredict-default.onnx); C++ and Go must print the same scores.
# Usage: scripts/test-bindings.sh WORK
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(cd "${1:?usage: scripts/test-bindings.sh WORK}" && pwd)"
PREFIX="$WORK/prefix"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
GO="${GO:-go}"
CMAKE="${CMAKE:-cmake}"
CTEST="${CTEST:-ctest}"
CC="${CC:-cc}"
JOBS="${JOBS:-2}"
ONNX_MODEL=tests/fixtures/onnx/nb201_best.onnx
TEST_MODEL=tests/fixtures/runtime/good.onnx
# The exporter's counts of nb201_best.onnx (tests/fixtures/onnx/nb201_expected.json).
ONNX_COUNTS="1285498 parameters, 184730240 MACs"

step() { echo "== $*"; }
fail() { echo "test-bindings: $*" >&2; exit 1; }
# expect OUTPUT FRAGMENT: the output must contain the fragment.
expect() { case "$1" in *"$2"*) ;; *) fail "expected \"$2\" in:"$'\n'"$1" ;; esac; }

SONAME="$(readelf -d "$PREFIX/lib/libcgpredict.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')"
[ -e "$PREFIX/lib/$SONAME" ] || fail "the SONAME link $SONAME is missing"

step "C program through pkg-config, shared"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror examples/c/build_graph.c -o "$WORK/build_graph" \
  $(pkg-config --cflags --libs cgpredict) -Wl,-rpath,"$(pkg-config --variable=libdir cgpredict)"
readelf -d "$WORK/build_graph" | grep -q "NEEDED.*\[$SONAME\]" || fail "build_graph does not need $SONAME"
expect "$("$WORK/build_graph")" "7 nodes, 6 edges, 634 parameters, 442528 MACs"

step "C program through pkg-config, static (Libs.private)"
# shellcheck disable=SC2046
"$CC" -std=c11 -Wall -Wextra -pedantic -Werror examples/c/build_graph.c -o "$WORK/build_graph_static" \
  $(pkg-config --cflags cgpredict) $(pkg-config --static --libs cgpredict | sed 's/-lcgpredict/-l:libcgpredict.a/')
if readelf -d "$WORK/build_graph_static" | grep -q libcgpredict; then fail "the static program needs libcgpredict.so"; fi
expect "$("$WORK/build_graph_static")" "7 nodes, 6 edges, 634 parameters, 442528 MACs"

step "C++ example through CMake find_package(cgpredict), shared and static"
"$CMAKE" -S examples/cpp -B "$WORK/example-cpp" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
"$CMAKE" --build "$WORK/example-cpp" -j "$JOBS" >/dev/null
cpp_output="$("$WORK/example-cpp/predict_onnx" "$ONNX_MODEL" "$TEST_MODEL")"
expect "$cpp_output" "$ONNX_COUNTS"
expect "$cpp_output" "score: "
[ "$("$WORK/example-cpp/predict_onnx_static" "$ONNX_MODEL" "$TEST_MODEL")" = "$cpp_output" ] ||
  fail "the statically linked example prints something else"
echo "$cpp_output"

step "C++ wrapper tests (GoogleTest through ctest)"
"$CMAKE" -S bindings/cpp -B "$WORK/cpp" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
"$CMAKE" --build "$WORK/cpp" -j "$JOBS" >/dev/null
"$CTEST" --test-dir "$WORK/cpp" --output-on-failure -j "$JOBS"

step "Go bindings: gofmt, go vet, go test -race"
unformatted="$(gofmt -l bindings/go examples/go)"
[ -z "$unformatted" ] || fail "gofmt would change: $unformatted"
# The test binaries find the staged library through LD_LIBRARY_PATH (pkg-config gives no rpath).
export LD_LIBRARY_PATH="$PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
(cd bindings/go && "$GO" vet ./... && "$GO" test -count=1 -race ./...)

step "Go example"
(cd examples/go && "$GO" vet ./... && "$GO" build -o "$WORK/predict_onnx_go" .)
go_output="$("$WORK/predict_onnx_go" "$ONNX_MODEL" "$TEST_MODEL")"
[ "$go_output" = "$cpp_output" ] || fail "Go and C++ examples differ:"$'\n'"$go_output"$'\n'"$cpp_output"
echo "$go_output"

step "C++ and Go examples with the default model (compiled into the installed library)"
cpp_default="$("$WORK/example-cpp/predict_onnx" "$ONNX_MODEL")"
expect "$cpp_default" "score: "
[ "$cpp_default" != "$cpp_output" ] || fail "the default model scored as the test model"
go_default="$("$WORK/predict_onnx_go" "$ONNX_MODEL")"
[ "$go_default" = "$cpp_default" ] || fail "Go and C++ differ with the default model:"$'\n'"$go_default"$'\n'"$cpp_default"
echo "$cpp_default"
echo "test-bindings: all passed"
