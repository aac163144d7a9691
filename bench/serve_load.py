"""Load on ``neuroflow serve`` over loopback: good and bad requests while versions swap.

Starts the server as a process on 127.0.0.1 (a free port), serving a small MLP
(16 -> 32 -> 10) from a temporary folder, and sends requests from client threads, each
with its own keep-alive connection: mostly good predicts (row and columnar, 1 to 4
samples) and a mix of bad ones (malformed JSON, wrong shapes and dtypes, unknown models,
versions and labels), each of which must get its own 4xx status. Meanwhile a new version
is written every ``--swap-every`` requests; the server must fail none of the good
requests during the swaps. Ends after ``--requests`` requests or ``--max-seconds``.

Reports throughput, latency percentiles of the good requests, the count of answers with
an unexpected status, and the server process's resident memory (VmRSS, Linux) after
warm-up and at the end.

    python bench/serve_load.py                        # 5,000 requests
    python bench/serve_load.py --requests 100000 --concurrency 8
    python bench/serve_load.py --batching             # with --enable_batching
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

# (name, path suffix, body, expected status); "{good}" is a good row-format body.
BAD = [
    ("malformed JSON", ":predict", b'{"instances": [[1, 2', 400),
    ("empty body", ":predict", b"", 400),
    ("wrong shape", ":predict", b'{"instances": [[1, 2, 3]]}', 400),
    ("strings", ":predict", json.dumps({"instances": [["a"] * 16]}).encode(), 400),
    ("ragged", ":predict", json.dumps({"instances": [[1] * 16, [1] * 15]}).encode(), 400),
    ("no instances", ":predict", b'{"signature_name": "serving_default"}', 400),
    ("unknown label", "/labels/nope:predict", b'{"instances": [[0]]}', 400),
    ("unknown version", "/versions/999999:predict", b'{"instances": [[0]]}', 404),
    ("unknown model", None, b'{"instances": [[0]]}', 404),
]
FEATURES = 16


def build_model(seed: int):
    import neuroflow as tf

    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential([tf.keras.Input((FEATURES,)),
                                tf.keras.layers.Dense(32, activation="relu"),
                                tf.keras.layers.Dense(10, activation="softmax")])


def write_version(base: Path, version: int) -> None:
    staging = base.parent / f"staging-{version}"
    staging.mkdir()
    build_model(version).save(staging / "model.keras")
    os.rename(staging, base / str(version))  # atomic: the server never sees half a folder


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, port: int):
        self.port = port
        self.connection = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.connect()
        # As load generators do: no Nagle delay on the client's own writes either.
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self.connection.request("POST", path, body,
                                        {"Content-Type": "application/json"})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = self._connect()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bad-every", type=int, default=10, help="one bad request in N")
    parser.add_argument("--swap-every", type=int, default=2000)
    parser.add_argument("--batching", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="serve-load-"))
    base = folder / "mlp"
    base.mkdir()
    write_version(base, 1)
    command = [sys.executable, "-m", "neuroflow", "serve", "--rest_api_port=0",
               "--rest_api_host=127.0.0.1", "--model_name=mlp", f"--model_base_path={base}",
               "--file_system_poll_wait_seconds=0.2"]
    if args.batching:
        params = folder / "batching.config"
        params.write_text("max_batch_size { value: 32 } batch_timeout_micros { value: 1000 } "
                          "num_batch_threads { value: 2 } max_enqueued_batches { value: 1000 }")
        command += ["--enable_batching", f"--batching_parameters_file={params}"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        line = server.stdout.readline()
        if "Exporting HTTP/REST API at:" not in line:
            raise SystemExit(f"the server did not start: {line!r}")
        port = int(line.split("at:")[1].split()[0].rsplit(":", 1)[1])
        run(args, port, server.pid, base)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


def run(args, port: int, pid: int, base: Path) -> None:
    rng = np.random.default_rng(0)
    goods = []
    for n in range(1, 5):
        x = rng.standard_normal((n, FEATURES)).round(4).tolist()
        goods.append(("row", json.dumps({"instances": x}).encode()))
        goods.append(("columnar", json.dumps({"inputs": x}).encode()))
    warm = Client(port)
    for _ in range(200):
        assert warm.post("/v1/models/mlp:predict", goods[0][1])[0] == 200
    rss_start = rss_mib(pid)

    lock = threading.Lock()
    counter = {"next": 0, "done": 0}
    latencies: list[float] = []
    unexpected: dict[str, int] = {}
    answered: dict[int, int] = {}
    deadline = time.monotonic() + args.max_seconds

    def worker() -> None:
        client = Client(port)
        while time.monotonic() < deadline:
            with lock:
                index = counter["next"]
                counter["next"] += 1
            if index >= args.requests:
                return
            if index % args.bad_every == args.bad_every - 1:
                name, suffix, body, want = BAD[(index // args.bad_every) % len(BAD)]
                path = "/v1/models/nobody:predict" if suffix is None else \
                    f"/v1/models/mlp{suffix}"
            else:
                name, body = goods[index % len(goods)]
                path, want = "/v1/models/mlp:predict", 200
            start = time.perf_counter()
            status, _ = client.post(path, body)
            elapsed = time.perf_counter() - start
            with lock:
                counter["done"] += 1
                answered[status] = answered.get(status, 0) + 1
                if status != want:
                    key = f"{name}: {status} (expected {want})"
                    unexpected[key] = unexpected.get(key, 0) + 1
                elif want == 200:
                    latencies.append(elapsed)

    stop_swaps = threading.Event()
    swaps = []

    def swapper() -> None:
        version = 1
        while not stop_swaps.wait(0.05):
            if counter["done"] >= (version) * args.swap_every:
                version += 1
                write_version(base, version)
                swaps.append(version)
                if version > 3:  # keep the folder small: drop versions long unloaded
                    shutil.rmtree(base / str(version - 3), ignore_errors=True)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    swap_thread = threading.Thread(target=swapper)
    swap_thread.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    stop_swaps.set()
    swap_thread.join()
    rss_end = rss_mib(pid)

    done = counter["done"]
    ms = np.array(latencies) * 1000
    print(f"requests: {done} in {seconds:.1f} s ({done / seconds:.0f} requests/s), "
          f"{args.concurrency} clients, batching {'on' if args.batching else 'off'}")
    print("status counts: " + ", ".join(f"{k}: {v}" for k, v in sorted(answered.items())))
    if len(ms):
        print(f"good-request latency ms: p50 {np.percentile(ms, 50):.2f}  "
              f"p90 {np.percentile(ms, 90):.2f}  p99 {np.percentile(ms, 99):.2f}  "
              f"max {ms.max():.2f}")
    print(f"version swaps during the run: {len(swaps)} (to versions {swaps[:3]}"
          f"{' ...' if len(swaps) > 3 else ''})")
    print(f"unexpected statuses: {sum(unexpected.values())}" +
          "".join(f"\n  {k}: {v}" for k, v in sorted(unexpected.items())))
    print(f"server RSS: {rss_start:.1f} MiB after warm-up, {rss_end:.1f} MiB at the end "
          f"({rss_end - rss_start:+.1f} MiB)")
    if unexpected:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
