#!/usr/bin/python3
"""Scores style networks on photos they were not trained on: the perceptual
loss terms of each network's paintings, measured by `nst loss`.

    /usr/bin/python3 bench/train_vs_pretrained.py --style ../shared/images/the_scream.jpg \\
        --model ours=scream.nstw --model pretrained=build/models/scream.nstw [--size 512] [--json out.json]

A multi-style network's style K is scored as NAME=PATH@K (nst fast --style-index K).

For each photo (default: tubingen, golden_gate, hoovertowernight and the two
classify/ photos of ../shared/images, none of which is in train/) and each
network: `nst fast --size S` paints it, then `nst loss` scores the painting
against the photo and the painting (both at long side S):
  content = mean((F_relu2_2(painting) - F_relu2_2(photo))^2)
  style   = sum over relu1_1, relu2_1, relu3_1, relu4_1 of mean((G(painting) - G(painting_style))^2)
the terms `nst train` minimises, unweighted. Prints the per-photo figures, the
means, and each network's means relative to the last --model's.
Needs only Python's standard library and the nst binary.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def held_out_photos(shared):
    names = ["tubingen.jpg", "golden_gate.jpg", "hoovertowernight.jpg", "classify/cat1.jpg",
             "classify/dingo.jpg"]
    return [os.path.join(shared, "images", n) for n in names]


def split_style_index(path):
    """PATH@K -> (PATH, K); PATH -> (PATH, None)."""
    head, sep, tail = path.rpartition("@")
    return (head, int(tail)) if sep and tail.isdigit() else (path, None)


def score(nst, model, photo, style, size, work, threads):
    painted = os.path.join(work, "painted.png")
    model, index = split_style_index(model)
    pick = ["--style-index", str(index)] if index is not None else []
    subprocess.run([nst, "fast", "--model", model, "--input", photo, "--output", painted,
                    "--size", str(size), "--threads", str(threads)] + pick, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([nst, "loss", "--content", photo, "--style", style, "--image", painted,
                          "--size", str(size), "--content-layers", "relu2_2",
                          "--style-layers", "relu1_1,relu2_1,relu3_1,relu4_1",
                          "--content-weight", "1", "--style-weight", "1", "--tv-weight", "0",
                          "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    j = json.loads(out)
    return j["content"], j["style_total"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--style", required=True, help="the painting the networks learned")
    ap.add_argument("--model", action="append", required=True, metavar="NAME=PATH",
                    help="a network to score (repeat); the last is the reference")
    ap.add_argument("--photo", action="append", help="a held-out photo (repeat; default: see above)")
    ap.add_argument("--size", type=int, default=512, help="long side of the paintings")
    ap.add_argument("--nst", default=os.path.join(HERE, "../build/nst"))
    ap.add_argument("--shared", default=os.environ.get("NST_SHARED", os.path.join(HERE, "../../shared")))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", help="write the rows here")
    a = ap.parse_args()
    models = [m.split("=", 1) for m in a.model]
    if any(len(m) != 2 for m in models):
        sys.exit("--model takes NAME=PATH")
    photos = a.photo or held_out_photos(a.shared)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        print(f"{'photo':<22} {'network':<12} {'content':>12} {'style':>12}")
        for photo in photos:
            for name, path in models:
                content, style = score(a.nst, path, photo, a.style, a.size, work, a.threads)
                rows.append({"photo": photo, "network": name, "content": content, "style": style})
                print(f"{os.path.basename(photo):<22} {name:<12} {content:12.4g} {style:12.4g}",
                      flush=True)
    means = {}
    for name, _ in models:
        mine = [r for r in rows if r["network"] == name]
        means[name] = (sum(r["content"] for r in mine) / len(mine),
                       sum(r["style"] for r in mine) / len(mine))
    ref = models[-1][0]
    print(f"\n{'mean':<22} {'network':<12} {'content':>12} {'style':>12} {'content/ref':>12} {'style/ref':>10}")
    for name, _ in models:
        c, s = means[name]
        print(f"{'':<22} {name:<12} {c:12.4g} {s:12.4g} {c / means[ref][0]:12.3f} {s / means[ref][1]:10.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"size": a.size, "style": a.style, "rows": rows,
                       "means": {k: {"content": v[0], "style": v[1]} for k, v in means.items()}},
                      f, indent=1)


if __name__ == "__main__":
    main()
