"""Benchmarks: neuroflow side by side with NumPy, PyTorch and TensorFlow, with ratios.

    python bench/run.py                  # everything (about 9 minutes)
    python bench/run.py --only micro     # import time, one eager op, one tape step
    python bench/run.py --only lab       # the lab workload: epoch time, predict, memory

Every measurement runs in its own process (one process tree), one after the other
so they do not compete for the two cores. TensorFlow and PyTorch run under the
Python named by NEUROFLOW_PEER_PYTHON (a separate virtual environment where
``pip install tensorflow-cpu==2.21.0 torch==2.13.0`` was run); a peer that is not
installed there is skipped with a note. The NumPy baseline is the hand-written
loop in numpy_loop.py, run twice: as written (NumPy's default BLAS threads) and
with OPENBLAS_NUM_THREADS=1 (its fastest setting on this 2-core machine). A last
row times the lab's matrix products alone (``numpy_loop.matmul_floor``): the
floor under any implementation that runs them on one core. The
Keras frameworks run twice as well: with ``verbose=0``, and with the progress bar
the lab prints (``fit``'s default), whose cost is part of what a student waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "workers.py"


def peer_python() -> str | None:
    path = os.environ.get("NEUROFLOW_PEER_PYTHON", str(HERE.parent.parent / "peers/bin/python"))
    return path if Path(path).exists() else None


def has_module(python: str, module: str) -> bool:
    probe = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
    return probe.returncode == 0


def run_worker(python: str, *args: str, env: dict | None = None) -> dict | None:
    proc = subprocess.run([python, str(WORKER), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        print(f"  ! {' '.join(args)} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def import_seconds(python: str, framework: str) -> float | None:
    """Wall time of ``import X`` in a fresh interpreter (NumPy included where X needs it)."""
    module = {"neuroflow": "neuroflow", "numpy": "numpy", "tensorflow": "tensorflow",
              "torch": "torch"}[framework]
    code = ("import time; t = time.perf_counter(); import " + module +
            "; print(time.perf_counter() - t)")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return float(proc.stdout.split()[-1]) if proc.returncode == 0 else None


def interpreters() -> dict[str, str | None]:
    peer = peer_python()
    found = {"neuroflow": sys.executable, "numpy": sys.executable, "floor": sys.executable}
    for name, module in (("tensorflow", "tensorflow"), ("torch", "torch")):
        found[name] = peer if peer and has_module(peer, module) else None
        if found[name] is None:
            print(f"note: {name} not found (set NEUROFLOW_PEER_PYTHON to a Python that has "
                  f"it); its rows are skipped.")
    return found


def table(title: str, rows: list[tuple], header: tuple) -> None:
    print(f"\n{title}")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths))))


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def micro(pythons: dict) -> None:
    rows = []
    for task, label in (("import_time", "import"), ("eager_op", "add 32x100 f32"),
                        ("tape_step", "GradientTape dense step")):
        results = {}
        for framework in ("numpy", "neuroflow", "tensorflow", "torch"):
            python = pythons.get(framework)
            if python is None or (framework == "numpy" and task == "tape_step"):
                continue
            if task == "import_time":
                samples = [import_seconds(python, framework) for _ in range(5)]
                samples = [s for s in samples if s is not None]
                results[framework] = min(samples) if samples else None
            else:
                result = run_worker(python, task, framework)
                results[framework] = result and result["seconds"]
        mine = results.get("neuroflow")
        for framework, seconds in results.items():
            if seconds is None:
                continue
            ratio = f"{seconds / mine:.2f}x" if mine else "-"
            shown = f"{seconds:.3f} s" if task == "import_time" else us(seconds)
            rows.append((label, framework, shown, ratio))
    table("Micro-benchmarks (time; ratio = framework / neuroflow)", rows,
          ("what", "framework", "time", "vs neuroflow"))


def lab(pythons: dict, epochs: int, warmup: int, rounds: int) -> None:
    rows = []
    samples: dict[str, list[dict]] = {}
    # (label, framework, environment, Keras fit's verbose)
    runs = (("neuroflow", "neuroflow", None, 0), ("numpy", "numpy", None, 0),
            ("numpy 1 thread", "numpy", {"OPENBLAS_NUM_THREADS": "1"}, 0),
            ("torch", "torch", None, 0), ("tensorflow", "tensorflow", None, 0),
            ("neuroflow, progress bar", "neuroflow", None, 1),
            ("tensorflow, progress bar", "tensorflow", None, 1),
            ("matrix products alone, 1 thread", "floor", {"OPENBLAS_NUM_THREADS": "1"}, 0))
    # Round robin: a slow spell of the machine (another job, the host) then hits
    # one run of every framework rather than all runs of one.
    for round_number in range(rounds):
        for label, framework, env, verbose in runs:
            python = pythons.get(framework)
            if python is None:
                continue
            print(f"  round {round_number + 1}/{rounds}: {label}", file=sys.stderr)
            result = run_worker(python, "lab", framework, "--epochs", str(epochs),
                                "--warmup", str(warmup), "--verbose", str(verbose), env=env)
            if result:
                samples.setdefault(label, []).append(result)
    # Each framework's median run (by epoch time) stands for it.
    results = {label: sorted(taken, key=lambda r: r["seconds_per_epoch"])[len(taken) // 2]
               for label, taken in samples.items()}
    mine = results.get("neuroflow")
    for framework, r in results.items():
        epoch = r["seconds_per_epoch"]
        vs = f"{epoch / mine['seconds_per_epoch']:.2f}x" if mine else "-"
        mem = f"{r['peak_mb']:.0f} MB"
        mem_vs = f"{r['peak_mb'] / mine['peak_mb']:.2f}x" if mine else "-"
        added = f"{r['peak_mb'] - r['data_peak_mb']:.0f} MB"
        val = r["final"].get("val_accuracy")
        timed = r["predict_10000"] == r["predict_10000"]  # not NaN
        spread = [run["seconds_per_epoch"] for run in samples[framework]]
        rows.append((framework, f"{epoch:.3f} s", f"{min(spread):.2f}-{max(spread):.2f}", vs,
                     us(r["predict_one"]) if timed else "-",
                     f"{r['predict_10000'] * 1e3:.0f} ms" if timed else "-", mem, mem_vs, added,
                     f"{val:.4f}" if val is not None else "-"))
    table(f"Lab workload: 55,000 x 784, batch 32, 5,000 validation; median of {epochs} epochs "
          f"after {warmup} warm-up, median of {rounds} runs (ratio = framework / neuroflow)",
          rows,
          ("framework", "s/epoch", "runs", "vs nf", "predict 1", "predict 10k", "peak mem",
           "vs nf", "above data", "val acc"))
    if mine:
        targets(results)


def targets(results: dict) -> None:
    """The sound-graph-mode issue's speed targets, checked against this run's figures:
    no loss of speed against the hand-written NumPy loop, one-sample latency."""
    mine = results["neuroflow"]
    epoch = mine["seconds_per_epoch"]
    checks = []
    for label, peer in (("epoch within 5% of the NumPy loop", "numpy"),
                        ("epoch within 5% of the NumPy loop, 1 BLAS thread", "numpy 1 thread")):
        if peer in results:
            ratio = epoch / results[peer]["seconds_per_epoch"]
            checks.append((label, f"{ratio:.2f}x", ratio <= 1.05))
    if "numpy" in results:
        ratio = mine["predict_one"] / results["numpy"]["predict_one"]
        checks.append(("predict 1 sample <= 1.5x a NumPy forward pass", f"{ratio:.2f}x",
                       ratio <= 1.5))
    for label, peer, own in (("TensorFlow fit / neuroflow fit", "tensorflow", "neuroflow"),
                             ("... both with the lab's progress bar", "tensorflow, progress bar",
                              "neuroflow, progress bar"),
                             ("PyTorch loop / neuroflow fit", "torch", "neuroflow")):
        if peer in results and own in results:
            ratio = results[peer]["seconds_per_epoch"] / results[own]["seconds_per_epoch"]
            checks.append((label, f"{ratio:.2f}x", None))
    table("Targets", [(label, value, {True: "met", False: "NOT met", None: ""}[ok])
                      for label, value, ok in checks], ("target", "this run", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["micro", "lab"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each lab configuration, taken round robin")
    args = parser.parse_args()
    pythons = interpreters()
    if args.only in (None, "micro"):
        micro(pythons)
    if args.only in (None, "lab"):
        lab(pythons, args.epochs, args.warmup, args.rounds)


if __name__ == "__main__":
    main()
