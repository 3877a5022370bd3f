#!/usr/bin/python3
"""Times one training step of the fast style network in PyTorch and in `nst train`, in one run.

    /usr/bin/python3 bench/compare_train.py [--size 256] [--batch 4] [--threads 1 2] [--repeat 5]
                     [--width 32] [--nst build/nst] [--weights build/vgg19.nstw] [--json out.json]

The step (issue 17; Johnson et al. 2016), the same on both sides:
- transformer: the network of tests/fixtures/make_fast_style_fixture.py at width w
  (channels w / 2w / 4w, instance norm eps 1e-3, TF "SAME" padding), random weights
  (its random_params, --seed); output y = 150 tanh(h) + 127.5, not clipped;
- input x: B random size x size crops of the photos in --images (RGB 0..255), the same
  batch every step;
- loss, with VGG-19 from --weights run up to relu4_1 (bench/pytorch_gatys.py), F_l its
  activations, s the style painting resized to long side --style-size:
      content = mean((F_relu2_2(y) - F_relu2_2(x))²)
      style   = Σ_{relu1_1, relu2_1, relu3_1, relu4_1} mean over [B, C, C] of (G(F_l(y)) - G(F_l(s)))²,
                G = F Fᵀ / (C·H·W) per sample, F the [C, H·W] matrix
      tv      = (Σ squared horizontal + Σ squared vertical neighbour differences of y) / (B·3·H·W)
      loss    = content_weight content + style_weight style + tv_weight tv
- loss.backward() and one Adam step (lr 1e-3) on the transformer's weights.
PyTorch: float32, in a child process (this script with --worker) under /usr/bin/time -v;
2 warm-up steps, then the median wall time of --repeat steps. Debian's torch does the
Gram matrices (bmm) in the system's libblas.so.3 (update-alternatives); with libblas3,
the reference BLAS, they run on one thread and are a large part of the step.
nst: one `nst train` of repeat + 2 steps under /usr/bin/time -v; the step times are the
differences of the cumulative "seconds" of the steps in its --record file, the first two
dropped, and the median is taken (skipped, with the reason, when nst has no `train`
command or it fails).
Prints seconds per step, PyTorch/nst and the peak resident memory of each side;
--json writes the rows.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/fixtures"))
import make_fast_style_fixture as fast  # noqa: E402 (the transformer network)
import pytorch_gatys as gatys  # noqa: E402 (the VGG-19 reader, image loading and resizing)

CONTENT_LAYER = "relu2_2"
STYLE_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
WARM_UP = 2
PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png")


def random_crops(folder, batch, size, rng):
    """[batch, 3, size, size] RGB 0..255: a random crop of each of batch random photos
    (a photo whose short side is below size is first scaled up to it)."""
    photos = sorted(f for f in os.listdir(folder) if f.lower().endswith(PHOTO_EXTENSIONS))
    crops = []
    for name in rng.choice(photos, size=batch, replace=False):
        img = gatys.load_image(os.path.join(folder, name))
        h, w = img.shape[2], img.shape[3]
        if min(h, w) < size:
            scale = size / min(h, w)
            img = gatys.resize_image(img, max(size, round(h * scale)), max(size, round(w * scale)))
            h, w = img.shape[2], img.shape[3]
        top, left = rng.integers(0, h - size + 1), rng.integers(0, w - size + 1)
        crops.append(img[:, :, top:top + size, left:left + size])
    return torch.cat(crops)


def gram(f):
    """[B, C, C]: G = F Fᵀ / (C·H·W) per sample, F the [C, H·W] matrix of f [B, C, H, W]."""
    m = f.flatten(2)
    return m @ m.transpose(1, 2) / m[0].numel()


class TrainingLoss:
    """content_weight content + style_weight style + tv_weight tv of a batch y painted from x."""

    def __init__(self, vgg, style_rgb, content_weight, style_weight, tv_weight):
        self.vgg = vgg
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        with torch.no_grad():
            feats = vgg.features(vgg.to_input(style_rgb), STYLE_LAYERS)
            self.style_grams = {l: gram(feats[l]) for l in STYLE_LAYERS}  # [1, C, C]

    def __call__(self, x, y):
        with torch.no_grad():
            target = self.vgg.features(self.vgg.to_input(x), [CONTENT_LAYER])[CONTENT_LAYER]
        feats = self.vgg.features(self.vgg.to_input(y), [CONTENT_LAYER] + STYLE_LAYERS)
        content = F.mse_loss(feats[CONTENT_LAYER], target)
        style = sum(F.mse_loss(gram(feats[l]), self.style_grams[l].expand(len(y), -1, -1))
                    for l in STYLE_LAYERS)
        tv = gatys.total_variation(y) / y.numel()
        return self.content_weight * content + self.style_weight * style + self.tv_weight * tv


def train_step(params, optimizer, loss_fn, x):
    """Transformer forward, loss, backward and one Adam step; returns the loss."""
    optimizer.zero_grad()
    raw = fast.transformer_raw(params, x, norm=fast.instance_norm_torch)
    y = raw[:, :, :x.shape[2], :x.shape[3]]  # the network's output is rounded up to a multiple of 4
    loss = loss_fn(x, y)
    loss.backward()
    optimizer.step()
    return loss.item()


def torch_worker(args):
    """The PyTorch side (run as a child process): prints one JSON line with the step times."""
    torch.set_num_threads(args.threads[0])
    rng = np.random.default_rng(args.seed)
    x = random_crops(args.images, args.batch, args.size, rng)
    vgg = gatys.Vgg19(args.weights)
    style_rgb = gatys.resize_to_long_side(gatys.load_image(args.style), args.style_size)
    loss_fn = TrainingLoss(vgg, style_rgb, args.content_weight, args.style_weight, args.tv_weight)
    params = {name: t.requires_grad_() for name, t in
              fast.to_torch(fast.random_params(args.width, args.seed), torch.float32).items()}
    optimizer = torch.optim.Adam(params.values(), lr=1e-3)
    seconds, losses = [], []
    for _ in range(WARM_UP + args.repeat):
        t0 = time.perf_counter()
        losses.append(train_step(params, optimizer, loss_fn, x))
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"torch": torch.__version__, "seconds": statistics.median(seconds[WARM_UP:]),
                      "step_seconds": seconds, "losses": losses}))


def run_measured(cmd, work):
    """Runs cmd under /usr/bin/time -v: (the completed process, peak resident set size in MiB)."""
    report = os.path.join(work, "time_v.txt")
    done = subprocess.run(["/usr/bin/time", "-v", "-o", report] + cmd, capture_output=True, text=True)
    with open(report) as f:
        peak = [int(line.split(":")[1]) / 1024 for line in f if "Maximum resident set size" in line]
    return done, peak[0] if peak else None


def shared_flags(args):
    """The flags both sides take, in the same spelling."""
    return ["--weights", args.weights, "--size", str(args.size), "--batch", str(args.batch), "--width", str(args.width),
            "--style", args.style, "--images", args.images, "--style-size", str(args.style_size),
            "--content-weight", str(args.content_weight), "--style-weight", str(args.style_weight),
            "--tv-weight", str(args.tv_weight), "--seed", str(args.seed)]


def time_torch(args, threads, work):
    """(median seconds per step, peak MiB, torch version) from a --worker child."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads),
           "--repeat", str(args.repeat)] + shared_flags(args)
    done, peak = run_measured(cmd, work)
    if done.returncode != 0:
        raise RuntimeError(f"the PyTorch worker failed:\n{done.stderr}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    return record["seconds"], peak, record["torch"]


def nst_skip_reason(nst):
    """None when `nst train` can run, else why not."""
    if not os.access(nst, os.X_OK):
        return f"{nst} is missing (build it first)"
    done = subprocess.run([nst, "train", "--help"], capture_output=True, text=True)
    if done.returncode != 0 or "nst train" not in done.stdout + done.stderr:
        return f"{nst} has no `train` command"
    return None


def time_nst(args, threads, work):
    """(median seconds per step, peak MiB) of one `nst train` of repeat + 2 steps."""
    record_path = os.path.join(work, f"m{threads}.json")
    model = os.path.join(work, f"m{threads}.nstw")
    if os.path.exists(model + ".ckpt"):  # nst train will not replace an earlier run's state
        os.remove(model + ".ckpt")
    cmd = [args.nst, "train", "--output", model,
           "--steps", str(args.repeat + WARM_UP), "--threads", str(threads),
           "--sample-every", "0", "--checkpoint-every", "0", "--record", record_path] + shared_flags(args)
    done, peak = run_measured(cmd, work)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    with open(record_path) as f:
        cumulative = [step["seconds"] for step in json.load(f)["steps"]]
    step_seconds = np.diff([0.0] + cumulative)[WARM_UP:]
    if len(step_seconds) == 0:
        raise RuntimeError(f"{record_path} has only {len(cumulative)} steps")
    return float(np.median(step_seconds)), peak


def fmt(value, spec):
    return format(value, spec) if value is not None else format("-", spec.split(".")[0].rstrip("f"))


def main():
    repo = os.path.dirname(HERE)
    shared = os.environ.get("NST_SHARED", os.path.join(repo, "../shared"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="crop size in pixels")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5, help="timed steps, after 2 warm-up steps")
    parser.add_argument("--width", type=int, default=32, help="the transformer's first channel count")
    parser.add_argument("--style", default=os.path.join(shared, "images/the_scream.jpg"))
    parser.add_argument("--images", default=os.path.join(shared, "images/train"), help="training photos")
    parser.add_argument("--style-size", type=int, default=512, help="the style painting's long side")
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--style-weight", type=float, default=2.0)
    parser.add_argument("--tv-weight", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nst", default=os.path.join(repo, "build/nst"), help="the nst binary")
    parser.add_argument("--weights", default=os.path.join(repo, "build/vgg19.nstw"), help="VGG-19 .nstw file")
    parser.add_argument("--work", help="folder for nst's output and record (default: a temporary one)")
    parser.add_argument("--json", help="write the rows here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        torch_worker(args)
        return 0

    work = args.work or tempfile.mkdtemp(prefix="compare_train_")
    os.makedirs(work, exist_ok=True)
    skip = nst_skip_reason(args.nst)
    if skip:
        print(f"nst skipped: {skip}")
    print(f"{args.size} px, batch {args.batch}, width {args.width}; seconds per step: median of "
          f"{args.repeat} after {WARM_UP} warm-up steps; peak RSS in MiB (/usr/bin/time -v)")
    header = (f"{'threads':>7} {'PyTorch s':>9} {'nst s':>9} {'PyTorch/nst':>11} "
              f"{'PyTorch MiB':>11} {'nst MiB':>9}")
    rows, torch_version = [], None
    for threads in args.threads:
        torch_s, torch_peak, torch_version = time_torch(args, threads, work)
        nst_s = nst_peak = nst_error = None
        if not skip:
            try:
                nst_s, nst_peak = time_nst(args, threads, work)
            except RuntimeError as e:
                nst_error = str(e)
                print(f"nst failed at {threads} threads: {nst_error}")
        row = {"threads": threads, "torch_s": torch_s, "nst_s": nst_s,
               "torch_over_nst": torch_s / nst_s if nst_s else None,
               "torch_peak_mib": torch_peak, "nst_peak_mib": nst_peak, "nst_error": nst_error}
        if not rows:
            print(f"torch {torch_version}")
            print(header)
        rows.append(row)
        print(f"{threads:>7} {torch_s:>9.3f} {fmt(nst_s, '>9.3f')} {fmt(row['torch_over_nst'], '>11.2f')} "
              f"{fmt(torch_peak, '>11.0f')} {fmt(nst_peak, '>9.0f')}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch_version, "size": args.size, "batch": args.batch, "width": args.width,
                       "repeat": args.repeat, "nst_skipped": skip, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
