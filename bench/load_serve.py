#!/usr/bin/python3
"""nst serve under load: CLIENTS threads each send REQUESTS POST /api/fast of one
small photo (a GET /healthz every so often) over a kept-alive loopback connection.

Reports requests/s, p50/p99/max latency, the failures (any answer but a 200 PNG of
the expected size, or a broken connection: there must be none below the server's
limits: the default --fast-waiting 8 holds 7 waiting clients besides the one being
painted), the server's own count of answers by status (/metrics), and its resident
memory (VmRSS from /proc/PID/status) idle, after the first REQUESTS requests and at
the end: it should not grow once every thread has painted once.

  /usr/bin/python3 bench/load_serve.py --nst build/nst --models build/models
  /usr/bin/python3 bench/load_serve.py --url http://127.0.0.1:8080 [--pid PID]
  make bench-serve          (taskset -c 0 make bench-serve: server and clients on one core)

Standard library only. The photo is made up (a smooth 128 x 96 colour picture,
PNG) unless --photo names one. Exit status 1 when a request failed.
"""
import argparse
import http.client
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def made_up_png(w, h):
    """A smooth RGB picture as PNG bytes."""
    import math
    rows = bytearray()
    for y in range(h):
        rows.append(0)  # filter: none
        for x in range(w):
            rows += bytes((int(128 + 120 * math.sin(x / 17)), int(128 + 120 * math.sin(y / 11)),
                           int(128 + 120 * math.sin((x + y) / 23))))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")


def png_size(data):
    if len(data) < 24 or data[:8] != PNG_MAGIC:
        return None
    return struct.unpack(">II", data[16:24])


def multipart(fields, file_field, file_name, file_bytes):
    boundary = "nstload" + os.urandom(8).hex()
    parts = []
    for k, v in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
                 f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
    parts.append(file_bytes + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def rss_mb(pid):
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def percentile(values, p):
    """Nearest rank: the smallest value with at least p % of them at or below it."""
    s = sorted(values)
    return s[max(0, -(-len(s) * p // 100) - 1)] if s else float("nan")


class Server:
    """nst serve on port 0 (the kernel's free port, read from its start line)."""

    def __init__(self, nst, models, threads, extra):
        cmd = [nst, "serve", "--port", "0", "--models", models, "--quiet", "--threads", str(threads)] + extra
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.log = []
        self.url = None
        give_up = threading.Timer(120, self.proc.kill)  # the networks load first: allow a slow start
        give_up.start()
        for line in self.proc.stderr:
            self.log.append(line)
            m = re.search(r"listening on (http://[^/\s]+)/", line)
            if m:
                self.url = m.group(1)
                break
        give_up.cancel()
        if not self.url:
            self.stop()
            sys.exit("load_serve: nst serve did not start:\n" + "".join(self.log))
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class Load:
    def __init__(self, a, host, port, body, content_type, expected):
        self.a, self.host, self.port = a, host, port
        self.body, self.content_type, self.expected = body, content_type, expected
        self.lock = threading.Lock()
        self.latencies, self.health_latencies, self.failures = [], [], []
        self.done = 0
        self.rss_after_first = None
        self.pid = None

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=300)

    def request(self, conn, method, path, body=None, headers=None):
        t = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r, data, time.perf_counter() - t

    def client(self, k):
        conn = self.connect()
        health_at = {j * self.a.requests // self.a.healthz for j in range(self.a.healthz)}
        for i in range(self.a.requests):
            if i in health_at:
                try:
                    r, data, dt = self.request(conn, "GET", "/healthz")
                    ok = r.status == 200 and json.loads(data).get("status") == "ok"
                    with self.lock:
                        self.health_latencies.append(dt)
                        if not ok:
                            self.failures.append(f"client {k}: GET /healthz: {r.status} {data[:200]!r}")
                except (OSError, http.client.HTTPException, ValueError) as e:
                    with self.lock:
                        self.failures.append(f"client {k}: GET /healthz: {e!r}")
                    conn.close()
                    conn = self.connect()
            try:
                r, data, dt = self.request(conn, "POST", "/api/fast", self.body,
                                           {"Content-Type": self.content_type})
                problem = None
                if r.status != 200:
                    problem = f"{r.status} {data[:200]!r}"
                elif png_size(data) != self.expected:
                    problem = f"not a {self.expected[0]} x {self.expected[1]} PNG: {png_size(data)}"
            except (OSError, http.client.HTTPException) as e:
                problem, dt = repr(e), None
                conn.close()
                conn = self.connect()
            with self.lock:
                if problem:
                    self.failures.append(f"client {k}, request {i}: {problem}")
                else:
                    self.latencies.append(dt)
                self.done += 1
                if self.done == self.a.requests:
                    self.rss_after_first = rss_mb(self.pid)
        conn.close()


def metrics_by_status(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    out = {}
    for m in re.finditer(r'nst_http_requests_total\{method="POST",route="/api/fast",status="(\d+)"\} (\d+)', text):
        out[m.group(1)] = int(m.group(2))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nst", default="build/nst")
    p.add_argument("--models", default="build/models")
    p.add_argument("--weights", help="the server's --weights (default: as nst serve: vgg19.nstw beside it)")
    p.add_argument("--url", help="a running server instead of starting one")
    p.add_argument("--pid", type=int, help="with --url: the server's process id, for its RSS")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=50, help="POST /api/fast per client")
    p.add_argument("--healthz", type=int, default=5, help="GET /healthz per client")
    p.add_argument("--model", default="udnie")
    p.add_argument("--photo", help="default: a made-up 128 x 96 PNG")
    p.add_argument("--size", type=int, help="the 'size' field (default: the photo's own)")
    p.add_argument("--threads", type=int, default=0, help="the server's --threads (0: all cores)")
    p.add_argument("--json", help="also write the figures to this file")
    a = p.parse_args()

    photo = open(a.photo, "rb").read() if a.photo else made_up_png(128, 96)
    fields = {"model": a.model}
    if a.size:
        fields["size"] = a.size
    body, content_type = multipart(fields, "image", os.path.basename(a.photo or "photo.png"), photo)

    server = None
    if a.url:
        url, pid = a.url.rstrip("/"), a.pid
    else:
        server = Server(a.nst, a.models, a.threads, ["--weights", a.weights] if a.weights else [])
        url, pid = server.url, server.proc.pid
    try:
        u = urllib.parse.urlparse(url)
        host, port = u.hostname, u.port or 80
        # One request alone first: the picture's size, and a check that the model is there.
        conn = http.client.HTTPConnection(host, port, timeout=300)
        rss_idle = rss_mb(pid)
        probe = Load(a, host, port, body, content_type, None)
        r, data, first = probe.request(conn, "POST", "/api/fast", body, {"Content-Type": content_type})
        conn.close()
        if r.status != 200 or not png_size(data):
            sys.exit(f"load_serve: the first POST /api/fast answered {r.status}: {data[:300]!r}")
        load = Load(a, host, port, body, content_type, png_size(data))
        load.pid = pid
        before = metrics_by_status(host, port)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=load.client, args=(k,)) for k in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        rss_end = rss_mb(pid)
        after = metrics_by_status(host, port)
    finally:
        exit_code = server.stop() if server else None

    total = a.clients * a.requests
    counted = {s: after.get(s, 0) - before.get(s, 0) for s in sorted(set(after) | set(before))}
    lat = load.latencies
    fig = {
        "clients": a.clients, "requests_per_client": a.requests, "requests": total,
        "picture": f"{load.expected[0]} x {load.expected[1]}", "model": a.model,
        "first_request_s": round(first, 4),
        "answered_200": len(lat), "wall_s": round(wall, 2), "pictures_per_s": round(len(lat) / wall, 2),
        "p50_s": round(percentile(lat, 50), 4), "p99_s": round(percentile(lat, 99), 4),
        "max_s": round(max(lat), 4) if lat else None,
        "healthz": len(load.health_latencies),
        "healthz_p50_s": round(percentile(load.health_latencies, 50), 4),
        "healthz_max_s": round(max(load.health_latencies), 4) if load.health_latencies else None,
        "failures": len(load.failures), "server_counted_by_status": counted,
        "rss_mb_idle": rss_idle, "rss_mb_after_first": load.rss_after_first, "rss_mb_end": rss_end,
        "server_exit": exit_code,
    }
    if server:
        print(server.log[0].strip())
    print(f"nst serve at {url}: {a.clients} clients x {a.requests} POST /api/fast "
          f"({a.model}, {fig['picture']} PNG) + {fig['healthz']} GET /healthz")
    print(f"  first request alone: {first:.3f} s")
    print(f"  {total} requests in {wall:.1f} s, {len(lat)} answered 200: {fig['pictures_per_s']:.2f} per second; "
          f"their latency p50 {fig['p50_s']:.3f} s, p99 {fig['p99_s']:.3f} s, max {fig['max_s']} s")
    print(f"  GET /healthz under load: p50 {fig['healthz_p50_s']:.4f} s, max {fig['healthz_max_s']} s")
    print(f"  failures: {len(load.failures)}; the server counted POST /api/fast by status: {counted}")
    fmt = lambda v: "n/a" if v is None else f"{v:.1f} MB"
    print(f"  server RSS: idle {fmt(rss_idle)}, after the first {a.requests} requests "
          f"{fmt(load.rss_after_first)}, at the end {fmt(rss_end)}")
    if server:
        print(f"  nst serve exited {exit_code} on SIGTERM")
    for f in load.failures[:10]:
        print("  FAILED:", f)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(fig, f, indent=1)
    bad = load.failures or (server and exit_code != 0) or counted.get("200", total) != total
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
