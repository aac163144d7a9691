"""The reference lab, neuroflow against TensorFlow: accuracy, time per epoch, peak memory.

    python bench/lab_vs_tensorflow.py                       # 3 seeds x 30 epochs, both frameworks
    python bench/lab_vs_tensorflow.py --seeds 1 --epochs 5 --only neuroflow

Each run is a fresh child process running ``neuroflow.lab.run`` (the same code for both
frameworks: ``framework="tensorflow"`` swaps the ``tf`` module, nothing else), so its peak
memory (``ru_maxrss``, from ``wait4``) is its own. neuroflow runs in this Python; TensorFlow
in ``$NEUROFLOW_PEER_PYTHON`` (default /work/peers/bin/python), skipped with a note when that
interpreter is missing or cannot import tensorflow. Runs are sequential, never parallel,
and alternate between frameworks seed by seed so that a change in machine load hits both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PEER = "/work/peers/bin/python"
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
CHECKPOINTS = (1, 5, 10, 20, 30)
FRAMEWORKS = ("neuroflow", "tensorflow")


# --- the child: one lab run ---------------------------------------------------------------
def child(framework: str, seed: int, epochs: int, data: str | None, result: str) -> int:
    """Run the lab once and write what it measured as JSON."""
    from neuroflow.lab import run

    outcome = run(epochs=epochs, seed=seed, out=None, data_path=data, verbose=2, quiet=True,
                  framework=framework)
    summary = {key: outcome[key] for key in ("test_accuracy", "test_loss", "seconds",
                                              "epoch_seconds")}
    summary["val_accuracy"] = [float(v) for v in outcome["history"]["val_accuracy"]]
    Path(result).write_text(json.dumps(summary))
    return 0


# --- the parent: spawn, measure, tabulate -------------------------------------------------
def peer_python() -> tuple[str | None, str]:
    """The TensorFlow interpreter, or None and the reason it cannot be used."""
    python = os.environ.get("NEUROFLOW_PEER_PYTHON", DEFAULT_PEER)
    if not Path(python).exists():
        return None, f"{python} does not exist (set NEUROFLOW_PEER_PYTHON)"
    probe = subprocess.run([python, "-c", "import tensorflow"], capture_output=True,
                           env=_child_env())
    if probe.returncode != 0:
        return None, f"{python} cannot import tensorflow"
    return python, ""


def _child_env() -> dict:
    env = dict(os.environ)
    # The peer interpreter need not have neuroflow installed: the repo on the path is enough.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def spawn(python: str, framework: str, seed: int, epochs: int, data: str | None) -> dict:
    """One lab run in a child process; its results plus its peak resident memory in MB."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        command = [python, str(Path(__file__).resolve()), "--child", framework,
                   "--seed", str(seed), "--epochs", str(epochs), "--result", str(result)]
        if data:
            command += ["--data", data]
        # The child's progress goes to our stderr: the table alone goes to stdout.
        process = subprocess.Popen(command, stdout=sys.stderr, env=_child_env())
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise RuntimeError(f"{framework} seed {seed} failed (exit {process.returncode}).")
        outcome = json.loads(result.read_text())
    # Linux reports ru_maxrss in kilobytes.
    outcome["peak_mb"] = usage.ru_maxrss / 1024
    return outcome


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def table(runs: dict, epochs: int) -> str:
    """A Markdown table: one row per run, a mean row per framework, TF/neuroflow ratios."""
    marks = [e for e in CHECKPOINTS if e <= epochs] + ([epochs] if epochs not in CHECKPOINTS
                                                       else [])
    head = (["framework", "seed"] + [f"val@{e}" for e in marks]
            + ["test", "s/epoch", "peak MB"])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def row(name, seed, outcome):
        cells = [name, seed] + [f"{outcome['val_accuracy'][e - 1]:.4f}" for e in marks]
        cells += [f"{outcome['test_accuracy']:.4f}", f"{_mean(outcome['epoch_seconds']):.2f}",
                  f"{outcome['peak_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")

    means = {}
    for framework, by_seed in runs.items():
        for seed, outcome in by_seed.items():
            row(framework, str(seed), outcome)
        outcomes = list(by_seed.values())
        means[framework] = {
            "val_accuracy": [_mean([o["val_accuracy"][e - 1] for o in outcomes])
                             for e in range(1, epochs + 1)],
            "test_accuracy": _mean([o["test_accuracy"] for o in outcomes]),
            "epoch_seconds": [_mean([_mean(o["epoch_seconds"]) for o in outcomes])],
            "peak_mb": _mean([o["peak_mb"] for o in outcomes]),
        }
        row(f"**{framework}**", "mean", means[framework])
    if len(means) == 2:
        nf, tf = means["neuroflow"], means["tensorflow"]
        ratio = ["TF / neuroflow", ""] + [""] * len(marks) + [
            "", f"{tf['epoch_seconds'][0] / nf['epoch_seconds'][0]:.2f}x",
            f"{tf['peak_mb'] / nf['peak_mb']:.2f}x"]
        lines.append("| " + " | ".join(ratio) + " |")
        gap_val = nf["val_accuracy"][-1] - tf["val_accuracy"][-1]
        gap_test = nf["test_accuracy"] - tf["test_accuracy"]
        verdict = "within" if max(abs(gap_val), abs(gap_test)) <= 0.005 else "NOT within"
        lines.append(f"\nneuroflow - TensorFlow, means: val@{epochs} {gap_val:+.4f}, "
                     f"test {gap_test:+.4f} ({verdict} the 0.005 target).")
    return "\n".join(lines)


def _seeds(text: str) -> list[int]:
    """``3`` means seeds 0, 1, 2; ``4,7`` means exactly those."""
    if "," in text:
        return [int(s) for s in text.split(",") if s]
    return list(range(int(text)))


def _default_data() -> str | None:
    return next((str(p) for p in DATA_CANDIDATES if p.is_dir()), None)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="3", help="a count (3: seeds 0,1,2) or a list (4,7)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", choices=FRAMEWORKS, help="run one framework only")
    parser.add_argument("--data", default=_default_data(),
                        help="folder holding the four Fashion-MNIST .gz files")
    parser.add_argument("--json", help="also write every run's numbers to this file")
    parser.add_argument("--child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.seed, args.epochs, args.data, args.result)

    pythons = {"neuroflow": sys.executable}
    notes = []
    if args.only != "neuroflow":
        peer, why = peer_python()
        if peer is None:
            notes.append(f"TensorFlow rows skipped: {why}.")
        else:
            pythons["tensorflow"] = peer
    frameworks = [f for f in FRAMEWORKS if f in pythons and args.only in (None, f)]
    load_before = os.getloadavg()
    runs: dict = {f: {} for f in frameworks}
    for seed in _seeds(args.seeds):
        for framework in frameworks:
            print(f"--- {framework}, seed {seed}, {args.epochs} epochs", file=sys.stderr,
                  flush=True)
            runs[framework][seed] = spawn(pythons[framework], framework, seed, args.epochs,
                                          args.data)
    load_after = os.getloadavg()
    print(table(runs, args.epochs))
    print(f"\nload average (1/5/15 min): before {_load(load_before)}, after {_load(load_after)}; "
          f"{os.cpu_count()} CPUs.")
    for note in notes:
        print(note)
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    return 0


def _load(values) -> str:
    return "/".join(f"{v:.2f}" for v in values)


if __name__ == "__main__":
    sys.exit(main())
