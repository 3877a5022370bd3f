#!/usr/bin/python3
"""Draws seconds per objective evaluation against image size, nst and PyTorch.

    /usr/bin/python3 bench/plot.py compare.json [more.json ...] [docs/perf.png]

compare.json is what `bench/compare_pytorch.py --json compare.json` writes;
the rows of several such files are drawn together.
Log-log axes: a line of slope 2 is time proportional to the pixel count.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after choosing the backend)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    inputs = [a for a in sys.argv[1:] if a.endswith(".json")]
    outputs = [a for a in sys.argv[1:] if not a.endswith(".json")]
    output = outputs[0] if outputs else "docs/perf.png"
    rows, data = [], {}
    for path in inputs:
        with open(path) as f:
            data = json.load(f)
        rows += data["rows"]
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    for threads, style in ((1, "-"), (2, "--")):
        mine = sorted((r["size"], r["nst_s"]) for r in rows if r["threads"] == threads)
        theirs = sorted((r["size"], r["torch_s"]) for r in rows if r["threads"] == threads)
        if mine:
            ax.plot(*zip(*mine), style, marker="o", color="tab:blue", label=f"nst, {threads} thread(s)")
        if theirs:
            ax.plot(*zip(*theirs), style, marker="s", color="tab:orange",
                    label=f"PyTorch {data.get('torch', '')}, {threads} thread(s)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    sizes = sorted({r["size"] for r in rows})
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_xlabel("image side (px, square)")
    ax.set_ylabel("seconds per evaluation (value + gradient)")
    ax.set_title("Style-transfer objective, VGG-19 to relu5_1,\n2-core AMD EPYC (CPU family 25)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output)
    print("wrote", output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
