#!/usr/bin/env bash
# The GPU check, on a CUDA machine (CUDA 13, cuDNN 9, an NVIDIA driver) with no Rust toolchain:
# runs the same predictions on the CPU and on CUDA with the prebuilt check program, checks
# that the scores agree (1e-4, relative beyond |score| 1) and prints each device's throughput
# for 100,000 NAS-Bench-201 graphs. DIR holds everything scripts/gpu-bundle.sh made (p0's
# files and every part.?? file, all in one folder):
#
#   bash DIR/gpu-check.sh DIR [gpu_check options, e.g. --graphs 100000 --threads 8]
#
# Environment: CUDA_LIB_DIRS, extra folders (colon-separated) holding the CUDA and cuDNN
# libraries when they are not in the usual places; GPU_CHECK_DEVICES (default cpu,cuda),
# e.g. cpu,cpu to try the whole sequence on a machine without a GPU.
set -euo pipefail

DIR="$(cd "${1:?usage: gpu-check.sh DIR [gpu_check options]}" && pwd)"
shift
VERSION=1.31.1
DEVICES="${GPU_CHECK_DEVICES:-cpu,cuda}"
CUDA_LIB_DIRS="${CUDA_LIB_DIRS:-}"

if [ ! -f "$DIR/libonnxruntime_providers_cuda.so" ] || [ ! -f "$DIR/libonnxruntime.so.$VERSION" ]; then
  python3 "$DIR/ort-unpack.py" "$DIR"
fi

# The CUDA provider finds CUDA and cuDNN through the loader: the toolkit's folder and the
# folders of NVIDIA's pip packages (nvidia-cudnn-cu13, ...) wherever a Python environment
# has them.
LIBS="$DIR"
for candidate in ${CUDA_LIB_DIRS//:/ } /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib \
    /usr/local/lib/python3*/dist-packages/nvidia/*/lib \
    /usr/lib/python3/dist-packages/nvidia/*/lib; do
  [ -d "$candidate" ] && LIBS="$LIBS:$candidate"
done
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ORT_DYLIB_PATH="$DIR/libonnxruntime.so.$VERSION"

if command -v nvidia-smi >/dev/null; then
  echo "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
else
  echo "GPU: none found (no nvidia-smi)"
fi
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
MISSING="$(ldd "$DIR/libonnxruntime_providers_cuda.so" | grep 'not found' || true)"
if [ -n "$MISSING" ]; then
  echo "libraries the CUDA provider needs but the loader does not find (set CUDA_LIB_DIRS):"
  echo "$MISSING"
  case "$DEVICES" in *cuda*) exit 1 ;; esac
fi

MODEL=()
[ -f "$DIR/model.onnx" ] && MODEL=(--model "$DIR/model.onnx")
chmod +x "$DIR/gpu_check"
exec "$DIR/gpu_check" "${MODEL[@]}" --devices "$DEVICES" "$@"
