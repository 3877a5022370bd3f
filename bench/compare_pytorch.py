#!/usr/bin/python3
"""Times the style-transfer objective in PyTorch and in nst, in one run.

    /usr/bin/python3 bench/compare_pytorch.py [--sizes 256 512 1024] [--threads 1 2]
                                              [--repeat 3] [--json out.json]

Objective (both sides): VGG-19 up to relu5_1; content loss (MSE) at relu4_2;
style losses (MSE of Gram matrices) at relu1_1..relu5_1; total variation;
value and gradient with respect to the image only (weights frozen). PyTorch
uses random weights of the VGG-19 shapes (only speed matters here); nst runs
`build/nst_bench --json --filter vgg_objective_<size>` with its real weights.
Prints seconds per evaluation (best of --repeat) and nst / PyTorch per size
and thread count; --json writes the rows for bench/plot.py.
"""
import argparse
import json
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

# (name, in channels, out channels) up to conv5_1; "pool" after each block.
LAYERS = [("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool",
          ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool",
          ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256),
          ("conv3_4", 256, 256), "pool",
          ("conv4_1", 256, 512), ("conv4_2", 512, 512), ("conv4_3", 512, 512),
          ("conv4_4", 512, 512), "pool",
          ("conv5_1", 512, 512)]
CONTENT = "relu4_2"
STYLE = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]


def make_weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    weights = {}
    for layer in LAYERS:
        if layer == "pool":
            continue
        name, cin, cout = layer
        std = (2.0 / (9 * cin)) ** 0.5
        weights[name] = (torch.randn(cout, cin, 3, 3, generator=g) * std,
                         torch.randn(cout, generator=g) * 0.01)
    return weights


def features(x, weights):
    out = {}
    for layer in LAYERS:
        if layer == "pool":
            x = F.max_pool2d(x, 2, 2)
            continue
        name = layer[0]
        w, b = weights[name]
        x = F.relu(F.conv2d(x, w, b, padding=1))
        out["relu" + name[4:]] = x
    return out


def gram(f):
    c = f.shape[1]
    m = f.reshape(c, -1)
    return m @ m.t() / m.shape[1]


def objective(x, weights, content_target, style_targets):
    feats = features(x, weights)
    loss = 5.0 * F.mse_loss(feats[CONTENT], content_target)
    for name in STYLE:
        loss = loss + 100.0 * F.mse_loss(gram(feats[name]), style_targets[name])
    tv = ((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum()
    return loss + 1e-3 * tv


def time_torch(size, threads, repeat):
    torch.set_num_threads(threads)
    weights = make_weights()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        content = features(torch.rand(1, 3, size, size, generator=g) * 240 - 120, weights)
        style = features(torch.rand(1, 3, size, size, generator=g) * 240 - 120, weights)
        content_target = content[CONTENT]
        style_targets = {n: gram(style[n]) for n in STYLE}
        del content, style
    x = (torch.rand(1, 3, size, size, generator=g) * 240 - 120).requires_grad_(True)
    best = float("inf")
    for r in range(repeat + 1):  # the first run warms up
        x.grad = None
        t0 = time.perf_counter()
        loss = objective(x, weights, content_target, style_targets)
        loss.backward()
        seconds = time.perf_counter() - t0
        if r > 0:
            best = min(best, seconds)
    return best


def time_nst(bench, size, threads, repeat):
    cmd = [bench, "--json", "--filter", f"vgg_objective_{size}", "--threads", str(threads),
           "--repeat", str(repeat)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    return row["best_ms"] / 1e3, row.get("peak_rss_mb")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bench", default="build/nst_bench")
    parser.add_argument("--json", help="write the rows here (input of bench/plot.py)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}; seconds per evaluation (value + image gradient), "
          f"best of {args.repeat}")
    print(f"{'size':>6} {'threads':>7} {'nst s':>9} {'torch s':>9} {'nst/torch':>9} {'nst RSS MB':>10}")
    rows = []
    for size in args.sizes:
        for threads in args.threads:
            ours, rss = time_nst(args.bench, size, threads, args.repeat)
            theirs = time_torch(size, threads, args.repeat)
            rows.append({"size": size, "threads": threads, "nst_s": ours, "torch_s": theirs,
                         "ratio": ours / theirs, "nst_max_rss_mb": rss})
            print(f"{size:>6} {threads:>7} {ours:>9.3f} {theirs:>9.3f} {ours / theirs:>9.2f} "
                  f"{rss if rss is not None else float('nan'):>10.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
