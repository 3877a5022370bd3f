#!/usr/bin/python3
"""End-to-end time to quality in optimisation mode (Gatys et al.): nst against PyTorch.

    /usr/bin/python3 bench/time_to_quality.py [--content C] [--style S] [--size 512]
        [--threads 2] [--torch-iterations 200] [--nst build/nst] [--weights build/vgg19.nstw]
        [--work DIR] [--nst-args "--iterations 300 ..."] [--skip-torch]
        [--torch-from earlier.json [--torch-timing-from short.json]] [--skip-nst]
        [--torch-checkpoint FILE [--torch-stop-after K]] [--json out.json] [--plot out.png]

What it measures, on one content and one style image at one size:

1. nst: `nst stylize --content C --style S --size SIZE --output DIR/nst.png
   --record DIR/nst.json --print-every 1 --threads T` plus --nst-args. Per iteration:
   the loss (the record's result.scales[].loss_trace) and nst's own clock (the seconds
   since stylize began, which `--print-every 1` prints to 0.1 s; refined to ~0.01 s
   with the time each line arrived, see refine_clock). The record's final_loss and
   saved_loss, and `nst loss --content C --style S --image DIR/nst.png --json`.
2. PyTorch, the classic recipe: the same VGG-19 (WEIGHTS read with weights/nstw.py), the
   same images and objective (bench/pytorch_gatys.py), content init, one
   torch.optim.LBFGS(history_size=100, lr=1, max_iter=ITER, tolerance_grad=-1,
   tolerance_change=-1, line_search_fn=None).step(closure), with (seconds, loss) at every
   closure call. The clock starts, as nst's does, before the photos are resized and
   the targets computed, and stops when step() returns (ITER evaluations: step() never
   evaluates its last iterate; its "final loss" is evaluated after the clock). The
   picture (clipped, rounded, DIR/torch.png) is evaluated with `nst loss` too.
   PyTorch's optimisation is unconstrained: its picture is clipped after; nst's
   default --bounds on optimises the picture it writes.
3. The time to quality: the first time in nst's trace (last scale) at which nst's loss
   is at or below the `nst loss` of PyTorch's written picture, and the speed-up =
   PyTorch's total seconds / that time.

Before timing, a check that the two objectives are one: at 128 px, PyTorch's objective
at the content photo must equal `nst loss --content C --style S --image C --size 128
--json` within 1e-3 relative (it does to ~1e-6). Both sides read the photos through
nst's own decoder (`decode_with_nst`): JPEG decoders differ (stb_image in nst,
libjpeg-turbo in PIL) by about 0.07 levels on average, which moves the style loss by
~0.1 %, the size of the tolerance.

At 1024 px PyTorch's 200 iterations take hours (34 s each on 2 AVX-512 cores). Then:
its losses from a long run that may stop and continue (--skip-nst --threads 1
--torch-checkpoint F, pinned to one core with taskset, the other core left free), its
clock from a short quiet run at the compared thread count (--skip-nst
--torch-iterations 6 --json short.json), and both joined to a quiet nst run with
--torch-from long.json --torch-timing-from short.json (evaluation k of the long run
placed at the short run's setup + k seconds per iteration).

Run it on a quiet machine: Debian's torch uses OpenMP, whose threads slow down many
times over when other processes hold the cores (nst's pool suffers much less).

Needs: build/nst and build/vgg19.nstw (make; make weights), Debian's python3-torch,
python3-numpy, python3-pil and, for --plot, python3-matplotlib. Objective options in
--nst-args (weights, layers, --style-scale, ...) are passed to `nst loss` as well, but
the PyTorch side always uses the default objective: with them the losses do not compare.
"""
import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_gatys as pg  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK_SIZE = 128
CHECK_TOLERANCE = 1e-3
# nst options that change the objective: mirrored into `nst loss`.
OBJECTIVE_FLAGS = {"--content-weight", "--style-weight", "--tv-weight", "--content-layers",
                   "--style-layers", "--style-layer-weights", "--content-layer-weights",
                   "--pooling", "--style-scale", "--style-blend", "--style-loss"}
# "scale 1/1 (128x96) iteration 3/20  total 1.2e+08  content ... ]  tv 1.4e+04  0.3s"
PROGRESS = re.compile(r"^scale (\d+)/(\d+) \((\d+)x(\d+)\) iteration (\d+)/(\d+)\s+total (\S+)"
                      r".*\s(\d+(?:\.\d+)?)s$")


def objective_flags(nst_args):
    """The objective options among --nst-args, as arguments for `nst loss`."""
    out, it = [], iter(nst_args)
    for a in it:
        name = a.split("=", 1)[0]
        if name in OBJECTIVE_FLAGS:
            out.append(a)
            if "=" not in a:
                out.append(next(it, ""))
    return out


def nst_loss(args, image, size=None, extra=()):
    """`nst loss ... --json` at image: the parsed terms."""
    cmd = [args.nst, "loss", "--content", args.content, "--style", args.style, "--image", image,
           "--weights", args.weights, "--threads", str(args.threads), "--json", *extra]
    if size:
        cmd += ["--size", str(size)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def decode_with_nst(args, image, out_png):
    """The photo's pixels as nst decodes them, written losslessly as PNG.

    A 1-iteration run at the photo's own size, one scale (the coarse-to-fine default
    would start from a 128 px copy and write that, upsampled), with a zero objective
    (L-BFGS stops at the zero gradient) writes its starting image, the decoded photo,
    unchanged.
    """
    with pg.Image.open(image) as im:
        long_side = max(pg.ImageOps.exif_transpose(im).size)
    cmd = [args.nst, "stylize", "--content", image, "--style", image, "--size", str(long_side),
           "--scales", str(long_side), "--iterations", "1", "--content-layers", "relu1_1", "--style-layers", "relu1_1",
           "--content-weight", "0", "--style-weight", "0", "--tv-weight", "0",
           "--lbfgs-history", "1", "--print-every", "0", "--threads", str(args.threads),
           "--weights", args.weights, "--output", out_png, "--record", out_png + ".json"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out_png


def refine_clock(printed, arrived):
    """nst's clock at each line, finer than the 0.1 s it prints.

    printed[i] = t_i rounded to 0.1 s; arrived[i] = t_i + c (this script's clock, c the
    offset between the clocks). The median of arrived - printed estimates c; t_i is then
    arrived[i] - c, clamped to the printed value's rounding interval.
    """
    if not printed:
        return []
    d = sorted(a - p for p, a in zip(printed, arrived))
    c = d[len(d) // 2]
    return [min(max(a - c, p - 0.05), p + 0.05) for p, a in zip(printed, arrived)]


def run_nst(args, work):
    out_png, record = os.path.join(work, "nst.png"), os.path.join(work, "nst.json")
    extra = shlex.split(args.nst_args)
    cmd = [args.nst, "stylize", "--content", args.content, "--style", args.style,
           "--size", str(args.size), "--output", out_png, "--record", record,
           "--print-every", "1", "--threads", str(args.threads), "--weights", args.weights, *extra]
    print("nst:", " ".join(shlex.quote(c) for c in cmd), flush=True)
    lines, printed, arrived, scales, last = [], [], [], [], ""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in proc.stderr:
        now = time.perf_counter() - t0
        line = line.rstrip("\n")
        m = PROGRESS.match(line)
        if m:
            lines.append(line)
            scales.append(int(m.group(1)))
            printed.append(float(m.group(8)))
            arrived.append(now)
        elif line.strip():
            last = line
            print("  " + line, flush=True)
    if proc.wait() != 0:
        raise SystemExit(f"nst stylize failed ({proc.returncode}): {last}")
    wall = time.perf_counter() - t0
    with open(record) as f:
        rec = json.load(f)
    losses = [v for s in rec["result"]["scales"] for v in s["loss_trace"]]
    if len(losses) != len(printed):
        raise SystemExit(f"nst: {len(printed)} progress lines but {len(losses)} losses in {record} "
                         "(--print-every must stay 1)")
    seconds = refine_clock(printed, arrived)
    last_scale = len(rec["result"]["scales"])
    trace = [{"seconds": s, "printed_seconds": p, "loss": l, "scale": k}
             for s, p, l, k in zip(seconds, printed, losses, scales)]
    evaluated = nst_loss(args, out_png, extra=objective_flags(extra))
    tail = [t for t in trace if t["scale"] == last_scale]
    per_it = ((tail[-1]["seconds"] - tail[0]["seconds"]) / (len(tail) - 1)) if len(tail) > 1 else None
    return {"command": cmd, "picture": out_png, "record": record, "trace": trace,
            "seconds": rec["result"]["seconds"], "process_seconds": wall,
            "seconds_per_iteration": per_it, "iterations": len(losses),
            "evaluations": sum(s["evaluations"] for s in rec["result"]["scales"]),
            "final_loss": rec["result"]["final_loss"], "saved_loss": rec["result"].get("saved_loss"),
            "nst_loss_of_picture": evaluated["total"], "threads": rec.get("threads"),
            "simd": rec.get("simd"), "last_scale": last_scale}


def check_objective(args, net, content_full, style_full):
    """PyTorch's objective at the content photo against `nst loss` at CHECK_SIZE px."""
    c = pg.resize_to_long_side(content_full, CHECK_SIZE)
    s = pg.resize_to_long_side(style_full, pg.style_long_side(1.0, max(c.shape[2], c.shape[3])))
    with torch.no_grad():
        ours = pg.GatysObjective(net, c, s)(net.to_input(c)).item()
    theirs = nst_loss(args, args.content, size=CHECK_SIZE)["total"]
    rel = abs(ours - theirs) / abs(theirs)
    return {"size": CHECK_SIZE, "torch": ours, "nst_loss": theirs, "relative_difference": rel,
            "tolerance": CHECK_TOLERANCE, "ok": rel <= CHECK_TOLERANCE}


def run_torch(args, work, net, content_full, style_full):
    """The classic recipe: content init, LBFGS(max_iter=ITER) from the content photo.

    Run as ITER calls of step() with max_iter=1, which evaluates the same points as one
    call with max_iter=ITER (each call evaluates its starting point, takes one fixed step
    and leaves the next evaluation to the next call; the history, H_diag and the
    iteration count live in the optimizer's state), so that with --torch-checkpoint a
    long run can be stopped (SIGTERM, or --torch-stop-after) and continued later.
    """
    t0 = time.perf_counter()
    content = pg.resize_to_long_side(content_full, args.size)
    style = pg.resize_to_long_side(
        style_full, pg.style_long_side(1.0, max(content.shape[2], content.shape[3])))
    objective = pg.GatysObjective(net, content, style)
    x = net.to_input(content).requires_grad_(True)
    optimizer = torch.optim.LBFGS([x], history_size=100, lr=1, max_iter=1,
                                  tolerance_grad=-1, tolerance_change=-1, line_search_fn=None)
    trace, done, offset = [], 0, 0.0
    ckpt = args.torch_checkpoint
    if ckpt and os.path.exists(ckpt):
        saved = torch.load(ckpt)
        if saved["size"] != args.size or saved["content"] != args.content or saved["style"] != args.style:
            raise SystemExit(f"--torch-checkpoint {ckpt}: made for another run "
                             f"({saved['size']} px, {saved['content']}, {saved['style']})")
        with torch.no_grad():
            x.copy_(saved["x"])
        optimizer.load_state_dict(saved["optimizer"])
        trace, done, offset = saved["trace"], saved["done"], saved["seconds"]
        print(f"PyTorch: continuing {ckpt} at iteration {done} ({offset:.0f} s so far)", flush=True)
    stop = {"signal": None}

    def on_signal(sig, _frame):
        stop["signal"] = sig
    old_handler = signal.signal(signal.SIGTERM, on_signal) if ckpt else None

    def save():
        tmp = ckpt + ".tmp"
        torch.save({"size": args.size, "content": args.content, "style": args.style, "x": x.detach(),
                    "optimizer": optimizer.state_dict(), "trace": trace, "done": done,
                    "seconds": offset + time.perf_counter() - t0}, tmp)
        os.replace(tmp, ckpt)

    def closure():
        optimizer.zero_grad()
        loss = objective(x)
        loss.backward()
        trace.append({"seconds": offset + time.perf_counter() - t0, "loss": loss.item()})
        progress.write(json.dumps(trace[-1]) + "\n")  # a long run killed early keeps its trace
        progress.flush()
        return loss

    with open(os.path.join(work, "torch_trace.jsonl"), "a" if done else "w") as progress:
        started = done
        while done < args.torch_iterations:
            optimizer.step(closure)
            done += 1
            stopping = stop["signal"] is not None or (
                args.torch_stop_after and done - started >= args.torch_stop_after)
            if ckpt and (done % 10 == 0 or stopping) and done < args.torch_iterations:
                save()
            if stopping and done < args.torch_iterations:
                print(f"PyTorch: stopped at iteration {done} of {args.torch_iterations}; continue with "
                      f"the same command (--torch-checkpoint {ckpt})", flush=True)
                raise SystemExit(0)
    if ckpt:
        signal.signal(signal.SIGTERM, old_handler)
    total = offset + time.perf_counter() - t0
    with torch.no_grad():  # after the clock: the last iterate is never evaluated by step()
        final = objective(x).item()
        rgb = net.from_input(x)
        out_png = os.path.join(work, "torch.png")
        pg.save_png(out_png, rgb)
        saved_loss = objective(net.to_input(pg.load_image(out_png))).item()
    per_it = (trace[-1]["seconds"] - trace[0]["seconds"]) / (len(trace) - 1) if len(trace) > 1 else None
    evaluated = nst_loss(args, out_png)
    return {"picture": out_png, "trace": trace, "seconds": total, "iterations": args.torch_iterations,
            "evaluations": len(trace), "seconds_per_iteration": per_it,
            "seconds_per_iteration_overall": total / args.torch_iterations,
            "final_loss": final, "saved_loss_torch": saved_loss, "nst_loss_of_picture": evaluated["total"],
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "resumed": bool(ckpt and started > 0),
            "picture_check_relative_difference":
                abs(saved_loss - evaluated["total"]) / abs(evaluated["total"])}


def retime(ours, timing, path):
    """PyTorch's losses from a long run (e.g. one thread pinned to one core) on the clock of
    a short quiet run at the threads compared (`--torch-timing-from`): evaluation k at
    setup + k s/it, the end one step after the last evaluation, as in the short run."""
    first, per_it = timing["trace"][0]["seconds"], timing["seconds_per_iteration"]
    tail = timing["seconds"] - timing["trace"][-1]["seconds"]
    out = dict(ours)
    out["trace"] = [{"seconds": first + k * per_it, "loss": t["loss"]} for k, t in enumerate(ours["trace"])]
    out["seconds"] = out["trace"][-1]["seconds"] + tail
    out["seconds_per_iteration"] = per_it
    out["seconds_per_iteration_overall"] = out["seconds"] / ours["iterations"]
    out["threads"], out["losses_from_threads"] = timing["threads"], ours["threads"]
    out["timing_from"] = {"file": path, "iterations": timing["iterations"], "setup_seconds": first,
                          "seconds_per_iteration": per_it}
    return out


def time_to_quality(nst, target):
    """The first nst time (last scale) with loss <= target, or None."""
    for t in nst["trace"]:
        if t["scale"] == nst["last_scale"] and t["loss"] <= target:
            return t
    return None


def plot(path, nst, ours, target, reached):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if nst:
        early = [p for p in nst["trace"] if p["scale"] != nst["last_scale"]]
        if early:  # losses of smaller pictures: not comparable, shown for the time they take
            ax.plot([p["seconds"] for p in early], [p["loss"] for p in early], ".", ms=2,
                    color="C0", alpha=0.25, label="nst, coarser scales (loss at their size)")
        t = [p for p in nst["trace"] if p["scale"] == nst["last_scale"]]
        ax.plot([p["seconds"] for p in t], [p["loss"] for p in t], ".-", ms=3,
                label=f"nst ({nst['threads']} threads, {nst['simd']})")
    if ours:
        ax.plot([p["seconds"] for p in ours["trace"]], [p["loss"] for p in ours["trace"]], ".-", ms=3,
                label=f"PyTorch {ours['torch']} L-BFGS ({ours['threads']} threads)")
        ax.plot([ours["seconds"]], [ours["final_loss"]], "x", color="C1",
                label="PyTorch's last iterate (evaluated after its clock)")
        ax.axhline(target, color="grey", ls="--", lw=1,
                   label=f"PyTorch's written picture: {target:.4g}")
    if reached:
        ax.axvline(reached["seconds"], color="C0", ls=":", lw=1)
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("seconds (from the start of stylize / of the PyTorch setup), log scale")
    ax.set_ylabel("loss (nst's objective)")
    ax.set_title("Time to quality, optimisation mode")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    shared = os.environ.get("NST_SHARED", os.path.join(REPO, "..", "shared"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--content", default=os.path.join(shared, "images", "tubingen.jpg"))
    p.add_argument("--style", default=os.path.join(shared, "images", "starry_night.jpg"))
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--torch-iterations", type=int, default=200)
    p.add_argument("--nst", default=os.path.join(REPO, "build", "nst"))
    p.add_argument("--weights", default=os.path.join(REPO, "build", "vgg19.nstw"))
    p.add_argument("--work", help="folder for the pictures and records (default: a new temporary one)")
    p.add_argument("--nst-args", default="", help="more nst stylize options, one string")
    p.add_argument("--skip-torch", action="store_true", help="run the nst side only")
    p.add_argument("--skip-nst", action="store_true",
                   help="run the PyTorch side only (a long run for --torch-from, e.g. pinned to one core)")
    p.add_argument("--torch-from", help="take the PyTorch side from this earlier --json (same images, "
                   "size and threads) instead of running it again")
    p.add_argument("--torch-timing-from", help="with --torch-from: PyTorch's seconds per iteration from "
                   "this short --json run at --threads on a quiet machine (the losses stay --torch-from's)")
    p.add_argument("--torch-checkpoint", help="PyTorch's state is saved here every 10 iterations and on "
                   "SIGTERM; an existing one is continued (a 1024 px run takes hours)")
    p.add_argument("--torch-stop-after", type=int, default=0,
                   help="with --torch-checkpoint: stop after this many more iterations")
    p.add_argument("--json", help="write everything here")
    p.add_argument("--plot", help="loss (log) against seconds, PNG")
    args = p.parse_args()
    if args.torch_timing_from and not args.torch_from:
        raise SystemExit("--torch-timing-from needs --torch-from (the run whose losses it times)")
    if args.torch_stop_after and not args.torch_checkpoint:
        raise SystemExit("--torch-stop-after needs --torch-checkpoint (where to save the state)")
    work = args.work or tempfile.mkdtemp(prefix="nst_ttq_")
    os.makedirs(work, exist_ok=True)
    print(f"work folder {work}; {args.size} px, {args.threads} threads", flush=True)
    if objective_flags(shlex.split(args.nst_args)) and not args.skip_torch:
        print("warning: --nst-args changes the objective; PyTorch uses the default one", flush=True)

    if args.skip_nst and (args.skip_torch or args.torch_from):
        raise SystemExit("--skip-nst with --skip-torch or --torch-from leaves nothing to run")
    nst = None if args.skip_nst else run_nst(args, work)
    ours = check = None
    if args.torch_from:
        with open(args.torch_from) as f:
            earlier = json.load(f)
        for k in ("size", "content", "style") + (() if args.torch_timing_from else ("threads",)):
            if earlier[k] != getattr(args, k):
                raise SystemExit(f"--torch-from {args.torch_from}: its {k} is {earlier[k]!r}, "
                                 f"this run's {getattr(args, k)!r}")
        if not earlier.get("torch"):
            raise SystemExit(f"--torch-from {args.torch_from}: it has no PyTorch run")
        ours, check = earlier["torch"], earlier["objective_check"]
        print(f"PyTorch side from {args.torch_from}", flush=True)
        if args.torch_timing_from:
            with open(args.torch_timing_from) as f:
                timing = json.load(f)
            for k in ("size", "threads", "content", "style"):
                if timing[k] != getattr(args, k):
                    raise SystemExit(f"--torch-timing-from {args.torch_timing_from}: its {k} is "
                                     f"{timing[k]!r}, this run's {getattr(args, k)!r}")
            ours = retime(ours, timing["torch"], args.torch_timing_from)
            print(f"PyTorch's clock from {args.torch_timing_from}: {ours['seconds_per_iteration']:.3f} "
                  f"s/iteration at {ours['threads']} threads over {timing['torch']['iterations']} "
                  f"iterations (losses from the {ours['losses_from_threads']}-thread run)", flush=True)
    elif not args.skip_torch:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
        net = pg.Vgg19(args.weights)
        content_full = pg.load_image(decode_with_nst(args, args.content, os.path.join(work, "content.png")))
        style_full = pg.load_image(decode_with_nst(args, args.style, os.path.join(work, "style.png")))
        check = check_objective(args, net, content_full, style_full)
        print(f"objective check at {CHECK_SIZE} px, content photo: PyTorch {check['torch']:.9g}, "
              f"nst loss {check['nst_loss']:.9g}, relative difference "
              f"{check['relative_difference']:.2e} ({'ok' if check['ok'] else 'FAILED'}, "
              f"tolerance {CHECK_TOLERANCE:g})", flush=True)
        if not check["ok"]:
            raise SystemExit("the PyTorch objective is not nst's: the losses would not compare")
        ours = run_torch(args, work, net, content_full, style_full)

    if nst:
        print(f"\nnst: {nst['iterations']} iterations ({nst['evaluations']} evaluations), final loss "
              f"{nst['final_loss']:.6g}, written picture {nst['saved_loss']:.6g} "
              f"(nst loss {nst['nst_loss_of_picture']:.6g}), {nst['seconds']:.2f} s "
              f"({nst['seconds_per_iteration'] or float('nan'):.3f} s/iteration)")
    reached = None
    if ours:
        print(f"PyTorch {ours['torch']}: {ours['iterations']} iterations ({ours['evaluations']} "
              f"evaluations), final loss {ours['final_loss']:.6g}, written picture "
              f"{ours['nst_loss_of_picture']:.6g} (nst loss; PyTorch's objective "
              f"{ours['saved_loss_torch']:.6g}, relative difference "
              f"{ours['picture_check_relative_difference']:.1e}), {ours['seconds']:.2f} s "
              f"({ours['seconds_per_iteration'] or float('nan'):.3f} s/iteration, "
              f"{ours['seconds_per_iteration_overall']:.3f} with the setup)")
        target = ours["nst_loss_of_picture"]
        reached = time_to_quality(nst, target) if nst else None
        if not nst:
            speedup = None
        elif reached:
            speedup = ours["seconds"] / reached["seconds"] if reached["seconds"] > 0 else float("inf")
            i = nst["trace"].index(reached) + 1
            print(f"time to quality: nst reaches PyTorch's written-picture loss {target:.6g} at "
                  f"iteration {i}, {reached['seconds']:.2f} s (loss {reached['loss']:.6g}); "
                  f"speed-up {speedup:.2f}x")
        else:
            speedup = None
            print(f"time to quality: nst does not reach PyTorch's written-picture loss {target:.6g} "
                  f"(its best {min(t['loss'] for t in nst['trace']):.6g}): not reached")
    if args.json:
        out = {"size": args.size, "threads": args.threads, "content": args.content, "style": args.style,
               "nst": nst, "torch": ours, "objective_check": check}
        if ours:
            out["time_to_quality"] = {"target": ours["nst_loss_of_picture"],
                                      "nst_seconds": reached["seconds"] if reached else None,
                                      "speedup": speedup}
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    if args.plot:
        plot(args.plot, nst, ours, ours["nst_loss_of_picture"] if ours else None, reached)
    return 0


if __name__ == "__main__":
    sys.exit(main())
