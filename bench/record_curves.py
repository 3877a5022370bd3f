#!/usr/bin/python3
"""Loss curves of `nst train` runs side by side, read from their records (OUTPUT.json).

    /usr/bin/python3 bench/record_curves.py NAME=RECORD.json[@K] ... [--minutes 1,5,10,20,40]
        [--window 0.5]

For every minute m of training time (the record's per-step "seconds", which continue
across --resume), the mean of the steps within --window minutes of m: the content term
and the style term. With @K the style term is painting K's of a multi-style run
("style_by_painting"[K], over the steps that had a sample in that painting), so a
4-style network's scream can be set beside a 1-style scream network's; without it, the
step's style term. Terms at different crop sizes (a --resume with another --size) are
not comparable with each other: compare runs on the same schedule.
"""
import argparse
import json
import sys


def load(spec):
    name, _, rest = spec.partition("=")
    if not rest:
        sys.exit(f"record_curves: '{spec}' is not NAME=RECORD.json[@K]")
    path, _, k = rest.partition("@")
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"record_curves: cannot read {path}: {e}")
    steps = record.get("steps")
    if not isinstance(steps, list) or not steps:
        sys.exit(f"record_curves: {path} has no steps")
    painting = int(k) if k else None
    if painting is not None:
        styles = record.get("styles", [])
        if not 0 <= painting < len(styles):
            sys.exit(f"record_curves: {path} has {len(styles)} styles, no style {painting}")
        if "style_by_painting" not in steps[0]:
            sys.exit(f"record_curves: {path} has no per-painting style terms")
    return name, steps, painting


def window_means(steps, painting, minute, window):
    lo, hi = (minute - window) * 60, (minute + window) * 60
    content, style, first, last = [], [], None, None
    for s in steps:
        if not lo <= s["seconds"] <= hi:
            continue
        first = s["step"] if first is None else first
        last = s["step"]
        content.append(s["content"])
        if painting is None:
            style.append(s["style"])
        elif s["style_by_painting"][painting] > 0:
            style.append(s["style_by_painting"][painting])
    if not content:
        return None
    mean = lambda v: sum(v) / len(v) if v else float("nan")
    return first, last, mean(content), mean(style)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("records", nargs="+", help="NAME=RECORD.json[@K]")
    ap.add_argument("--minutes", default="1,5,10,15,19,21,30,40,59")
    ap.add_argument("--window", type=float, default=0.5, help="minutes either side")
    args = ap.parse_args()
    runs = [load(spec) for spec in args.records]
    minutes = [float(m) for m in args.minutes.split(",")]
    print("| minutes | " + " | ".join(f"{n} steps | {n} content | {n} style" for n, _, _ in runs) + " |")
    print("|---" * (1 + 3 * len(runs)) + "|")
    for m in minutes:
        cells = []
        for _, steps, painting in runs:
            r = window_means(steps, painting, m, args.window)
            cells += ["-", "-", "-"] if r is None else [f"{r[0]}-{r[1]}", f"{r[2]:.3g}", f"{r[3]:.3g}"]
        print(f"| {m:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
