#!/usr/bin/env python3
"""Import speed of cgpredict's ONNX importer against Python's reference tooling.

For each model (default: ResNet-50 of the vendored torchvision zoo) this measures, on the
same uncompressed .onnx file:

1. in-process, per call: Python `onnx.load(path, load_external_data=False)` followed by
   `onnx.shape_inference.infer_shapes(model)`, against cgpredict's
   `graph_from_onnx_file` (file to shapes to canonical computation graph), timed by the
   bench binary `benches/onnx_import.rs` (`cargo bench --bench onnx_import`);
2. end to end, as a user runs it: a fresh `python3 -c "import onnx; ...load + infer..."`
   process against a fresh `cgpredict graph from-onnx FILE --json` process.

Both sides are measured in alternating rounds, and the minimum over rounds is reported,
since the minimum is the least disturbed by other load on the machine.

With `--inline-weights`, each model is first rewritten as exporters usually write it: every
initializer's data inline (`raw_data`, zeros of the declared size) instead of in an external
file, so that the file is as large as the network's weights (ResNet-50: 102 MB).

Usage (from the repository root; needs `pip install onnx` and a Rust toolchain):
    python3 scripts/bench_onnx_import.py [--inline-weights] [MODEL_NAME_SUBSTRING ...]
"""

import gzip
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import onnx
from onnx import shape_inference

ROOT = pathlib.Path(__file__).resolve().parents[1]
ZOO = ROOT / "data" / "zoo" / "torchvision"
ROUNDS = 3


def python_in_process(path, seconds=1.0):
    times = []
    start = time.perf_counter()
    while len(times) < 20 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        model = onnx.load(str(path), load_external_data=False)
        shape_inference.infer_shapes(model)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def rust_in_process(name, path):
    out = subprocess.run(
        ["cargo", "bench", "--quiet", "--bench", "onnx_import", "--", "--file", str(path)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith(str(path)))
    fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
    return float(fields["wall_min_ms"]) / 1e3, float(fields["wall_median_ms"]) / 1e3


def end_to_end(command, runs=10):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return min(times)


def with_inline_weights(path):
    """The model with every initializer's data inline: zeros of its declared size."""
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        count = 1
        for dim in tensor.dims:
            count *= dim
        width = onnx.helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT
        tensor.raw_data = bytes(count * width)
    inline = path.with_name(path.stem + "-inline.onnx")
    onnx.save(model, str(inline))
    return inline


def main():
    inline_weights = "--inline-weights" in sys.argv[1:]
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or ["ResNet50_Weights.IMAGENET1K_V1"]
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "cgpredict"], cwd=ROOT, check=True)
    subprocess.run(["cargo", "bench", "--quiet", "--no-run", "--bench", "onnx_import"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "cgpredict"
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            source = next(ZOO.glob(f"*{name}*.onnx.gz"))
            model_name = source.name[: -len(".onnx.gz")]
            path = pathlib.Path(scratch) / f"{model_name}.onnx"
            path.write_bytes(gzip.decompress(source.read_bytes()))
            if inline_weights:
                path = with_inline_weights(path)
            py_script = (
                "import onnx; from onnx import shape_inference; "
                f"shape_inference.infer_shapes(onnx.load({str(path)!r}, load_external_data=False))"
            )
            py_min = py_median = rs_min = rs_median = py_e2e = rs_e2e = float("inf")
            for _ in range(ROUNDS):
                a, b = python_in_process(path)
                py_min, py_median = min(py_min, a), min(py_median, b)
                a, b = rust_in_process(model_name, path)
                rs_min, rs_median = min(rs_min, a), min(rs_median, b)
                py_e2e = min(py_e2e, end_to_end([sys.executable, "-c", py_script]))
                rs_e2e = min(rs_e2e, end_to_end([str(binary), "graph", "from-onnx", "--json", str(path)]))
            print(f"{path.name} ({path.stat().st_size} bytes), onnx {onnx.__version__}, {os.cpu_count()} CPUs")
            print(f"  in-process  python load+infer_shapes  min {py_min * 1e3:8.3f} ms  median {py_median * 1e3:8.3f} ms")
            print(f"  in-process  cgpredict import          min {rs_min * 1e3:8.3f} ms  median {rs_median * 1e3:8.3f} ms"
                  f"  -> {py_min / rs_min:.1f}x (min), {py_median / rs_median:.1f}x (median)")
            print(f"  end to end  python3 process           min {py_e2e * 1e3:8.1f} ms")
            print(f"  end to end  cgpredict process         min {rs_e2e * 1e3:8.1f} ms  -> {py_e2e / rs_e2e:.1f}x")


if __name__ == "__main__":
    main()
