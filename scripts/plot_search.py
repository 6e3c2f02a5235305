#!/usr/bin/env python3
"""Plots the convergence of `cgpredict search --json` reports: for each report (one panel per
search space), the best accuracy found so far against the number of oracle queries, mean over
runs per method with the range of the runs shaded.

Usage: python3 scripts/plot_search.py OUT.png REPORT.json [REPORT.json ...]
Needs matplotlib (pip install matplotlib). Not used by the tests.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TITLES = {
    "nb201": "NAS-Bench-201 (CIFAR-10 test, 15,625 cells)",
    "nb101": "NAS-Bench-101 (CIFAR-10 valid., 20,001 labeled cells)",
    "ofa": "OFA-MBv3 (OFA accuracy predictor as oracle)",
}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, paths = sys.argv[1], sys.argv[2:]
    reports = [json.load(open(path)) for path in paths]
    fig, axes = plt.subplots(1, len(reports), figsize=(5.2 * len(reports), 4.2), squeeze=False)
    for ax, report in zip(axes[0], reports):
        for method in report["methods"]:
            curves = np.array([run["best_so_far"] for run in method["runs"]])
            queries = np.arange(1, curves.shape[1] + 1)
            label = method["name"]
            if method["config"]["method"] == "guided" and report.get("model"):
                label += f" (model {report['model'].split('/')[-1]})"
            line = ax.plot(queries, curves.mean(axis=0), label=label)[0]
            ax.fill_between(
                queries, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15
            )
        table = report.get("table")
        if table:
            ax.axhline(table["best"], color="black", linestyle=":", linewidth=1, label="table best")
        # The interesting part is near the top: start at the median of the first curves.
        tops = [np.array([r["best_so_far"] for r in m["runs"]]) for m in report["methods"]]
        low = min(np.median(t[:, min(9, t.shape[1] - 1)]) for t in tops)
        high = max(t.max() for t in tops)
        if table:
            high = max(high, table["best"])
        ax.set_ylim(low, high + 0.05 * (high - low))
        ax.set_title(TITLES.get(report["space"], report["space"]), fontsize=10)
        ax.set_xlabel("oracle queries (#Q)")
        ax.set_ylabel("best accuracy so far (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
