#!/usr/bin/env bash
# Prepares the GPU check for a CUDA machine that has no Rust toolchain (see scripts/gpu-check.sh
# and the README's runtime section). Run here, on x86-64 Linux with Rust, pip and zstd:
#
#   scripts/gpu-bundle.sh OUTDIR
#
# OUTDIR/p0/ gets the check program (examples/gpu_check.rs built with the `cuda` feature,
# stripped), the model when this build bundles none (tests/fixtures/runtime/kgnn_speed.onnx:
# the trainer's architecture with random weights), scripts/gpu-check.sh and
# scripts/ort-unpack.py, and from the onnxruntime-gpu wheel on PyPI: libonnxruntime (zstd),
# libonnxruntime_providers_shared.so and the checksum of the CUDA provider. The CUDA provider
# (284 MB) is zstd-compressed and split into OUTDIR/part.aa.d/, part.ab.d/, ... of at most
# 47 MB each, so that every folder fits one transfer (64 MiB).
# Carry p0 first, then each part.*.d, copying all their files into one folder there; then run
#   bash DIR/gpu-check.sh DIR
set -euo pipefail

OUT="${1:?usage: scripts/gpu-bundle.sh OUTDIR}"
VERSION="${ORT_GPU_VERSION:-1.31.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "gpu-bundle.sh: build on x86-64 Linux" >&2; exit 1; }
command -v zstd >/dev/null || { echo "gpu-bundle.sh: needs the zstd command" >&2; exit 1; }
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/p0" "$OUT"/part.*.d
mkdir -p "$OUT/p0"

(cd "$ROOT" && cargo build --release --features cuda --example gpu_check)
cp "$ROOT/target/release/examples/gpu_check" "$OUT/p0/"
strip "$OUT/p0/gpu_check" 2>/dev/null || true
if [ ! -f "$ROOT/models/cgpredict-default.onnx" ]; then
  cp "$ROOT/tests/fixtures/runtime/kgnn_speed.onnx" "$OUT/p0/model.onnx"
fi
cp "$ROOT/scripts/gpu-check.sh" "$ROOT/scripts/ort-unpack.py" "$OUT/p0/"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
PIP=(python3 -m pip)
"${PIP[@]}" --version >/dev/null 2>&1 || PIP=(pip)
"${PIP[@]}" download --quiet --no-deps --only-binary=:all: --dest "$WORK" "onnxruntime-gpu==$VERSION"
python3 -m zipfile -e "$WORK"/onnxruntime_gpu-"$VERSION"-*.whl "$WORK/x" >/dev/null
CAPI="$WORK/x/onnxruntime/capi"
cp "$CAPI/libonnxruntime_providers_shared.so" "$OUT/p0/"
zstd -q -f -T0 -10 "$CAPI/libonnxruntime.so.$VERSION" -o "$OUT/p0/libonnxruntime.so.$VERSION.zst"
zstd -q -f -T0 -10 "$CAPI/libonnxruntime_providers_cuda.so" -o "$WORK/cuda.zst"
(cd "$WORK" && sha256sum cuda.zst >"$OUT/p0/cuda.zst.sha256")
(cd "$OUT" && split -b 47m "$WORK/cuda.zst" part. && for f in part.??; do mkdir "$f.d" && mv "$f" "$f.d/"; done)
du -sh "$OUT"/p0 "$OUT"/part.*.d
