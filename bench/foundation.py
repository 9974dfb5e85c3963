#!/usr/bin/env python3
"""Foundation benchmarks for BENCHMARKS.md.

Measures, against a release build of `dialoog`:
  * start to ready: process spawn until GET /healthz answers 200, empty SQLite;
  * idle memory: resident set size after setup and some requests, then 3 s idle;
  * GET /api/v1/workspaces latency at a fixed request rate from this second
    process over keep-alive loopback connections (open loop: latency counts
    from the moment a request was due, so a slow server cannot hide queueing);
  * the release binary's size.

Usage: bench/foundation.py [--bin target/release/dialoog] [--rate 500]
       [--seconds 20] [--database-url postgres://...]
Prints one JSON line per measurement.
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, db_url=None):
    data = tempfile.mkdtemp(prefix="dialoog-bench-")
    port = free_port()
    env = dict(os.environ, DIALOOG_LOG="warn")
    if db_url:
        env["DIALOOG_DATABASE_URL"] = db_url
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--listen", f"127.0.0.1:{port}", "--data", data], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            pass
        if proc.poll() is not None:
            sys.exit("dialoog exited during start")
        time.sleep(0.001)
    return proc, port, data, time.perf_counter() - t0


def stop(proc, data):
    proc.terminate()
    proc.wait()
    shutil.rmtree(data, ignore_errors=True)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def call(port, method, path, body=None, token=None):
    c = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    c.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def load(port, token, rate, seconds, connections=8):
    """Open-loop load: request i is due at start + i/rate."""
    total = int(rate * seconds)
    latencies, errors = [], [0]
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port)
        headers = {"authorization": f"Bearer {token}"}
        mine = []
        for i in range(k, total, connections):
            due = start_at + i / rate
            now = time.perf_counter()
            if due > now:
                time.sleep(due - now)
            c.request("GET", "/api/v1/workspaces", headers=headers)
            r = c.getresponse()
            r.read()
            done = time.perf_counter()
            if r.status != 200:
                errors[0] += 1
            mine.append((done - due) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start_at
    latencies.sort()
    return total, elapsed, latencies, errors[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/dialoog")
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--database-url", default=None)
    a = ap.parse_args()
    backend = "postgres" if a.database_url else "sqlite"

    if not a.database_url:
        times = []
        for _ in range(a.starts):
            proc, port, data, t = start(a.bin)
            times.append(t * 1000)
            stop(proc, data)
        times.sort()
        print(json.dumps({"what": "start_to_ready", "backend": backend, "runs": len(times),
                          "median_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}))
        print(json.dumps({"what": "binary_size", "bytes": os.path.getsize(a.bin)}))

    proc, port, data, _ = start(a.bin, a.database_url)
    try:
        if a.database_url:
            # A fresh database is expected; reuse its owner if one exists.
            pass
        s, v = call(port, "POST", "/api/v1/setup", {"organisation": "Bakkerij De Vries", "name": "Anna",
                                                    "email": "anna@bakkerij.nl", "password": "paars-fietsje-42"})
        if s != 201:
            sys.exit(f"setup failed: {s} {v}")
        token = v["token"]
        for n in range(4):
            call(port, "POST", "/api/v1/workspaces", {"name": f"Klant {n}"}, token)
        for _ in range(50):
            call(port, "GET", "/api/v1/workspaces", None, token)
        time.sleep(3)
        print(json.dumps({"what": "idle_rss", "backend": backend, "bytes": rss_bytes(proc.pid)}))
        total, elapsed, lat, errors = load(port, token, a.rate, a.seconds)
        print(json.dumps({"what": "get_workspaces", "backend": backend, "items": total, "seconds": round(elapsed, 2),
                          "items_per_second": round(total / elapsed, 1), "errors": errors,
                          "p50_ms": round(pct(lat, 0.50), 3), "p99_ms": round(pct(lat, 0.99), 3),
                          "max_ms": round(lat[-1], 3), "peak_rss_bytes": rss_bytes(proc.pid)}))
    finally:
        stop(proc, data)


if __name__ == "__main__":
    main()
