#!/usr/bin/env python3
"""Imports networks that are not in this repository: timm models exported to ONNX here by
PyTorch, then imported by `cgpredict graph from-onnx` and scored by `cgpredict predict`.

The vendored torchvision zoo is what the tests import; this script checks that the importer
generalizes past it, to architectures and exporter habits it was never developed against
(attention variants, re-parameterized blocks, weight standardization, hard activations, ...).
Models are built with random weights (`pretrained=False`: nothing is downloaded, and the
weights are perturbed so that no bias is exactly zero, as in trained ones), in eval mode, at the input size of their pretrained configuration, and exported with the legacy
TorchScript exporter (opset 17) and, with `--dynamo`, also the torch.export one (opset 18).

The truth each import is compared against comes from PyTorch, not from ONNX: the
multiply-accumulates of one forward pass, as `torch.utils.flop_counter.FlopCounterMode`
counts them (convolutions, matrix products and attention; its FLOPs / 2). cgpredict counts
the same ops (README, "Counts"). Parameters are given beside torch's count for reference
only: exporters fold a BatchNorm that follows a convolution into it, so the ONNX file (and
the computation graph) has C bias values where torch has 2C BatchNorm parameters.

Output: a Markdown table on stdout (and `--json FILE`): per model and exporter, ONNX nodes,
CG nodes, the ONNX op types that became `unknown`, MACs of the CG against torch's, and the
predicted score; a failed export is reported as such (an exporter's limit, not cgpredict's).

Usage (needs `pip install torch timm onnx onnxscript` and a release build of cgpredict,
`cargo build --release`, or the binary `CGPREDICT` names; ONNX Runtime from
`scripts/fetch-onnxruntime.sh` for the scores):
    python3 scripts/check_foreign_onnx.py [--dynamo] [--json FILE] [MODEL ...]
"""

import argparse
import contextlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import warnings

import onnx
import timm
import torch
from torch.utils.flop_counter import FlopCounterMode

ROOT = pathlib.Path(__file__).resolve().parents[1]
CGPREDICT = pathlib.Path(os.environ.get("CGPREDICT", ROOT / "target" / "release" / "cgpredict"))

# Families the vendored zoo does not have (or has only in another form), chosen for variety
# of ops and exporter habits rather than for how well they import.
MODELS = [
    "mobilevit_s",
    "deit_tiny_patch16_224",
    "levit_128",
    "ghostnet_100",
    "rexnet_100",
    "dla34",
    "dpn68",
    "cspdarknet53",
    "hrnet_w18_small",
    "repvgg_a2",
    "mixnet_s",
    "tf_efficientnet_lite0",
    "poolformer_s12",
    "pit_ti_224",
    "coat_lite_tiny",
    "cait_xxs24_224",
    "xcit_nano_12_p16_224",
    "efficientformer_l1",
    "fastvit_t8",
    "mobilenetv4_conv_small",
    "edgenext_x_small",
    "nf_resnet26",
    "res2net50_14w_8s",
    "selecsls42b",
    "inception_v4",
    "xception41",
    "resnest14d",
    "ecaresnet26t",
    "seresnext26d_32x4d",
    "visformer_tiny",
    "crossvit_9_240",
    "gcvit_xxtiny",
    "twins_pcpvt_small",
    "pvt_v2_b0",
    "hgnetv2_b0",
    "ese_vovnet19b_dw",
    "lcnet_050",
    "mobileone_s0",
    "efficientvit_b0",
    "fbnetc_100",
    "semnasnet_050",
    "tinynet_a",
    "convmixer_768_32",
    "sequencer2d_s",
    "mixer_b16_224",
    "resmlp_12_224",
    "gmlp_ti16_224",
    "nest_tiny",
    "tnt_s_patch16_224",
    "coatnet_0_rw_224",
]


def torch_counts(model, size):
    """MACs of one forward pass at batch 1 and the parameter count, from PyTorch."""
    x = torch.randn(1, *size)
    counter = FlopCounterMode(display=False)
    # Some models' hooks need autograd, so count with it on.
    with counter:
        model(x)
    params = sum(p.numel() for p in model.parameters())
    return counter.get_total_flops() // 2, params, x


def export(model, x, path, dynamo):
    # The exporters print their progress on stdout, which carries the table.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=18,
                              external_data=False)
        else:
            torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17,
                              input_names=["input"], output_names=["logits"])


def run(*args):
    done = subprocess.run([str(CGPREDICT), *args], capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def import_with_cgpredict(path):
    code, out, err = run("graph", "from-onnx", str(path))
    if code != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {code}"}
    macs = int(re.search(r"^MACs\s+(\d+)", out, re.M).group(1))
    params = int(re.search(r"^params\s+(\d+)", out, re.M).group(1))
    cg_nodes = int(re.search(r"^nodes\s+(\d+)", out, re.M).group(1))
    cg_edges = int(re.search(r"^edges\s+(\d+)", out, re.M).group(1))
    _, report, _ = run("graph", "from-onnx", "--report", "--json", str(path))
    report = json.loads(report)
    unknown = sorted(op for op, counts in report["ops"].items() if counts["unknown"])
    code, out, err = run("predict", "--json", str(path))
    score = json.loads(out)["predictions"][0]["score"] if code == 0 else None
    return {
        "onnx_nodes": report["onnx_nodes"],
        "cg_nodes": cg_nodes,
        "cg_edges": cg_edges,
        "macs": macs,
        "params": params,
        "unknown": unknown,
        "score": score,
        "predict_error": None if code == 0 else err.strip()[-200:],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=MODELS)
    parser.add_argument("--dynamo", action="store_true", help="also export with torch.export")
    parser.add_argument("--json", type=pathlib.Path, help="write the rows as JSON here")
    args = parser.parse_args()
    if not CGPREDICT.exists():
        sys.exit(f"{CGPREDICT} is missing: run `cargo build --release` first")
    torch.manual_seed(0)
    rows = []
    exporters = ["legacy", "dynamo"] if args.dynamo else ["legacy"]
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.models:
            try:
                model = timm.create_model(name, pretrained=False).eval()
            except Exception as failure:  # a model this timm version does not have
                print(f"{name}: not built: {failure}", file=sys.stderr)
                continue
            # Random initial weights have exact zeros and copies (biases, LayerScale) that
            # exporters fold or merge away; trained weights do not, so perturb them.
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(torch.randn_like(p) * 0.01)
            size = model.pretrained_cfg["input_size"]
            try:
                macs, params, x = torch_counts(model, size)
            except Exception as failure:  # PyTorch could not run or count it
                print(f"{name}: not counted: {failure}", file=sys.stderr)
                continue
            for exporter in exporters:
                row = {"model": name, "exporter": exporter, "input": "x".join(map(str, size)),
                       "torch_macs": macs, "torch_params": params}
                path = pathlib.Path(scratch) / f"{name}.{exporter}.onnx"
                try:
                    export(model, x, path, exporter == "dynamo")
                except Exception as failure:  # an exporter's limit, reported as such
                    # First line, without the terminal colours some exporter messages carry.
                    text = re.sub(r"\x1b\[[0-9;]*m", "", str(failure)).strip().splitlines()
                    row["export_error"] = f"{type(failure).__name__}: {text[0][:160] if text else ''}"
                    rows.append(row)
                    print(f"{name} ({exporter}): export failed", file=sys.stderr)
                    continue
                row.update(import_with_cgpredict(path))
                path.unlink()
                rows.append(row)
                print(f"{name} ({exporter}): {row.get('error') or 'imported'}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"Command: `python3 scripts/check_foreign_onnx.py{' --dynamo' if args.dynamo else ''}` "
          f"(torch {torch.__version__.split('+')[0]}, timm {timm.__version__}, "
          f"onnx {onnx.__version__}). MACs and parameters: the computation graph's against "
          "PyTorch's count of the same model; score: `cgpredict predict` with the bundled "
          "model.\n")
    print("| model | exporter | input | ONNX nodes | CG nodes | unknown ONNX ops | "
          "MACs CG / torch | params CG / torch | score |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        head = f"| {row['model']} | {row['exporter']} | {row['input']} |"
        if "export_error" in row:
            print(f"{head} export failed: {row['export_error']} | | | | | |")
        elif "error" in row:
            print(f"{head} import error: {row['error']} | | | | | |")
        else:
            macs = row["macs"] / row["torch_macs"] if row["torch_macs"] else float("nan")
            params = row["params"] / row["torch_params"]
            score = "–" if row["score"] is None else f"{row['score']:.3f}"
            print(f"{head} {row['onnx_nodes']} | {row['cg_nodes']} | "
                  f"{', '.join(row['unknown']) or '–'} | {macs:.3f} | {params:.3f} | {score} |")
    imported = [r for r in rows if "onnx_nodes" in r]
    within = [r for r in imported if r["torch_macs"] and abs(r["macs"] / r["torch_macs"] - 1) <= 0.02]
    # The same architecture through both exporters: the same graph size and the same score
    # (the predictor does not depend on node numbering) mean the same computation graph.
    pairs = {}
    for row in imported:
        pairs.setdefault(row["model"], {})[row["exporter"]] = row
    both = [p for p in pairs.values() if len(p) == 2]
    agree = [p for p in both
             if all(p["legacy"][k] == p["dynamo"][k] for k in ("cg_nodes", "cg_edges", "macs"))
             and abs(p["legacy"]["score"] - p["dynamo"]["score"]) < 1e-5]
    disagree = sorted(p["legacy"]["model"] for p in both if p not in agree)
    print(f"\n{len(rows)} exports, {len(imported)} imported, "
          f"{sum('error' in r for r in rows)} import errors, "
          f"{sum('export_error' in r for r in rows)} export failures; "
          f"MACs within 2% of torch's: {len(within)} of {len(imported)}")
    if both:
        print(f"Both exporters give the same graph (size, MACs and score) for {len(agree)} of "
              f"{len(both)} models; not for: {', '.join(disagree) or 'none'}")


if __name__ == "__main__":
    main()
