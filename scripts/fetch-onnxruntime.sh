#!/usr/bin/env bash
# Puts ONNX Runtime's shared library where cgpredict looks for it:
#   ${CGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cgpredict}/onnxruntime/libonnxruntime.so.1.31.1
# It comes from the CPU `onnxruntime` wheel on PyPI (the only thing this needs is pip).
# Idempotent: does nothing when the library is already there. Prints the library's path.
set -euo pipefail

VERSION=1.31.1
CACHE="${CGP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cgpredict}/onnxruntime"
LIB="libonnxruntime.so.$VERSION"

if [ -f "$CACHE/$LIB" ]; then
  echo "$CACHE/$LIB"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64 | Linux-aarch64) ;;
  *) echo "fetch-onnxruntime.sh: only Linux x86-64 and aarch64 wheels are handled; set ORT_DYLIB_PATH to an ONNX Runtime $VERSION library instead" >&2; exit 1 ;;
esac

PIP=(python3 -m pip)
"${PIP[@]}" --version >/dev/null 2>&1 || PIP=(pip)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"${PIP[@]}" download --quiet --no-deps --only-binary=:all: --dest "$WORK" "onnxruntime==$VERSION"
WHEEL="$(ls "$WORK"/onnxruntime-"$VERSION"-*.whl)"
python3 - "$WHEEL" "$WORK" "$LIB" <<'PY'
import sys, zipfile
wheel, dest, lib = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    z.extract(f"onnxruntime/capi/{lib}", dest)
PY
mkdir -p "$CACHE"
# Move into place atomically so that a concurrent run never sees half a library.
mv "$WORK/onnxruntime/capi/$LIB" "$CACHE/$LIB.tmp.$$"
mv "$CACHE/$LIB.tmp.$$" "$CACHE/$LIB"
echo "$CACHE/$LIB"
