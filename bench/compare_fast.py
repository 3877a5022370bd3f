#!/usr/bin/python3
"""Times the fast style network in PyTorch, ONNX Runtime and nst, in one run.

    (cd bench/ort && npm ci --ignore-scripts)      # once: onnxruntime-node
    /usr/bin/python3 bench/compare_fast.py [--sizes 512 1024] [--threads 1 2] [--repeat 3]
                     [--nst build/nst] [--model build/models/la_muse.nstw] [--json out.json]

Network (all three): the Johnson et al. transformer of ml5.js with the la_muse
weights from ../shared/models/fast-style/la_muse (random weights of the same
shapes if that folder is missing), written in PyTorch by
tests/fixtures/make_fast_style_fixture.py, on tubingen.jpg resized to size x size.
- PyTorch: float32, torch.no_grad, torch.set_num_threads(t), F.instance_norm.
- ONNX Runtime: the same module exported with torch.onnx.export (opset 13, static
  shape) and run by bench/ort/run_onnx.js in node (CPU; intra-op threads t, inter-op
  1, graph optimisation "all").
- nst: `nst fast --threads t --json` on the same picture as a PNG, reading
  "network_seconds" (skipped, with the reason, when nst has no `fast` command or
  the model file is missing).
Each: one warm-up run, then the best of --repeat. Prints seconds per picture, the
ratios to nst and the largest differences between the outputs (0..255 scale);
--json writes the rows.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/fixtures"))
import make_fast_style_fixture as fast  # noqa: E402 (the network, shared with the fixture)


class FastStyleNet(torch.nn.Module):
    """[1, 3, H, W] RGB 0..255 -> the painted picture, cropped and clipped to 0..255."""

    def __init__(self, params):
        super().__init__()
        self.names = list(params)
        for name, tensor in params.items():
            self.register_buffer(name, tensor)

    def forward(self, x):
        p = {name: getattr(self, name) for name in self.names}
        raw = fast.transformer_raw(p, x, norm=fast.instance_norm_torch)
        return fast.stylize(raw, x.shape[2], x.shape[3])


def load_params(folder):
    if os.path.isfile(os.path.join(folder, "manifest.json")):
        return fast.to_torch(fast.load_ml5(folder), torch.float32), os.path.basename(folder.rstrip("/"))
    print(f"note: no {folder}/manifest.json, using random weights of the same shapes")
    return fast.to_torch(fast.random_params(width=32, seed=0), torch.float32), "random"


def make_photo(shared, size, work):
    """tubingen.jpg resized to size x size (bicubic): PNG path and [1, 3, size, size] float32."""
    path = os.path.join(work, f"photo_{size}.png")
    source = os.path.join(shared, "images/tubingen.jpg")
    if os.path.isfile(source):
        image = Image.open(source).convert("RGB").resize((size, size), Image.BICUBIC)
    else:
        rng = np.random.default_rng(size)
        image = Image.fromarray(rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8))
    image.save(path)
    rgb = np.asarray(image, dtype=np.float32).transpose(2, 0, 1)
    return path, torch.from_numpy(np.ascontiguousarray(rgb))[None]


def best_of(run, repeat):
    run()  # warm-up
    seconds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - t0)
    return min(seconds)


def time_torch(net, x, threads, repeat):
    torch.set_num_threads(threads)
    with torch.no_grad():
        seconds = best_of(lambda: net(x), repeat)
        return seconds, net(x)


def export_onnx(net, x, work):
    path = os.path.join(work, f"fast_style_{x.shape[2]}x{x.shape[3]}.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on the static shape arithmetic
        torch.onnx.export(net, x, path, opset_version=13, input_names=["photo"],
                          output_names=["painted"], do_constant_folding=True)
    return path


def time_ort(node, onnx_path, x, threads, repeat, work):
    """Returns (best seconds, output [1, 3, H, W], onnxruntime-node version)."""
    x_path, y_path = os.path.join(work, "ort_in.f32"), os.path.join(work, "ort_out.f32")
    x.numpy().astype("<f4").tofile(x_path)
    cmd = [node, os.path.join(HERE, "ort/run_onnx.js"), "--model", onnx_path, "--input", x_path,
           "--shape", ",".join(str(d) for d in x.shape), "--threads", str(threads),
           "--repeat", str(repeat), "--output", y_path]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    y = np.fromfile(y_path, dtype="<f4").reshape(record["output_shape"])
    return record["best_seconds"], torch.from_numpy(y), record["ort"]


def nst_skip_reason(nst, model):
    """None when `nst fast` can run, else why not."""
    if not os.access(nst, os.X_OK):
        return f"{nst} is missing (build it first)"
    done = subprocess.run([nst, "fast", "--help"], capture_output=True, text=True)
    if done.returncode != 0 or "nst fast" not in done.stdout + done.stderr:
        return f"{nst} has no `fast` command"
    if not os.path.isfile(model):
        return f"the model {model} is missing (make models, or nst convert --from ml5)"
    return None


def time_nst(nst, model, photo, threads, repeat, work):
    """Runs one `nst fast` on repeat + 1 copies of the photo (the first warms up).
    Returns (best network_seconds, the painted picture as [1, 3, H, W] float32)."""
    inputs = os.path.join(work, "nst_in")
    outputs = os.path.join(work, "nst_out")
    for d in (inputs, outputs):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    cmd = [nst, "fast", "--model", model, "--output-dir", outputs, "--threads", str(threads), "--json"]
    for r in range(repeat + 1):
        copy = os.path.join(inputs, f"photo_{r}.png")
        shutil.copyfile(photo, copy)
        cmd += ["--input", copy]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    images = record["images"]
    seconds = min(image["network_seconds"] for image in images[1:])
    rgb = np.asarray(Image.open(images[-1]["output"]).convert("RGB"), dtype=np.float32)
    return seconds, torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]


def fmt(value, spec):
    return format(value, spec) if value is not None else format("-", spec.split(".")[0].rstrip("f"))


def main():
    repo = os.path.dirname(HERE)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nst", default=os.path.join(repo, "build/nst"), help="the nst binary")
    parser.add_argument("--model", default=os.path.join(repo, "build/models/la_muse.nstw"),
                        help="nst's model file")
    parser.add_argument("--shared", default=os.environ.get("NST_SHARED", os.path.join(repo, "../shared")))
    parser.add_argument("--style", default="la_muse", help="folder under shared/models/fast-style")
    parser.add_argument("--node", default="node")
    parser.add_argument("--work", help="folder for the ONNX files and pictures (default: a temporary one)")
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()

    work = args.work or tempfile.mkdtemp(prefix="compare_fast_")
    os.makedirs(work, exist_ok=True)
    params, weights = load_params(os.path.join(args.shared, "models/fast-style", args.style))
    net = FastStyleNet(params).eval()
    if not os.path.isfile(os.path.join(HERE, "ort/node_modules/onnxruntime-node/package.json")):
        sys.exit("bench/ort/node_modules is missing: run `npm ci --ignore-scripts` in bench/ort")
    skip = nst_skip_reason(args.nst, args.model)
    if skip:
        print(f"nst skipped: {skip}")

    print(f"torch {torch.__version__}; weights {weights}; seconds per picture, best of {args.repeat} "
          f"after a warm-up; |d| = largest difference from PyTorch on the 0..255 scale")
    header = (f"{'size':>6} {'threads':>7} {'PyTorch s':>9} {'ORT s':>9} {'nst s':>9} {'ORT/nst':>8} "
              f"{'PyTorch/nst':>11} {'ORT |d|':>8} {'nst |d|':>8}")
    rows, ort_version = [], None
    for size in args.sizes:
        photo, x = make_photo(args.shared, size, work)
        onnx_path = export_onnx(net, x, work)
        for threads in args.threads:
            torch_s, torch_y = time_torch(net, x, threads, args.repeat)
            ort_s, ort_y, ort_version = time_ort(args.node, onnx_path, x, threads, args.repeat, work)
            nst_s = nst_d = None
            if not skip:
                nst_s, nst_y = time_nst(args.nst, args.model, photo, threads, args.repeat, work)
                nst_d = (nst_y - torch_y.round()).abs().max().item()
            ort_d = (ort_y - torch_y).abs().max().item()
            row = {"size": size, "threads": threads, "torch_s": torch_s, "ort_s": ort_s, "nst_s": nst_s,
                   "ort_over_nst": ort_s / nst_s if nst_s else None,
                   "torch_over_nst": torch_s / nst_s if nst_s else None,
                   "ort_torch_max_abs_diff": ort_d, "nst_torch_max_abs_diff": nst_d}
            if not rows:
                print(f"onnxruntime-node {ort_version}")
                print(header)
            rows.append(row)
            print(f"{size:>6} {threads:>7} {torch_s:>9.3f} {ort_s:>9.3f} {fmt(nst_s, '>9.3f')} "
                  f"{fmt(row['ort_over_nst'], '>8.2f')} {fmt(row['torch_over_nst'], '>11.2f')} "
                  f"{ort_d:>8.3f} {fmt(nst_d, '>8.0f')}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "onnxruntime_node": ort_version, "weights": weights,
                       "nst_skipped": skip, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
