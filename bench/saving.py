"""Saving and loading ``.keras`` files: neuroflow and Keras 3 side by side.

    python bench/saving.py                  # 15 rounds, both frameworks
    python bench/saving.py --repeats 5      # a quick look
    python bench/saving.py --neuroflow-only

Two models, each as it stands after a first training step (so the file holds the optimizer
state too): the lab's MLP (``neuroflow/lab.py`` ``build_model``, compiled as the lab
compiles it: SGD) and the convnet of ``bench/cnn.py`` (``build_convnet``: Adam). For each,
``model.save("m.keras")`` and ``keras.models.load_model("m.keras")`` are timed, round after
round, after one untimed round that pays for the first imports (h5py, the layer tables). Keras
runs under the Python named by NEUROFLOW_PEER_PYTHON (skipped when Keras is not installed
there). Each framework runs in its own process, one after the other. Prints the median and
the spread (fastest to slowest round) in milliseconds, the file size, and the ratios; with
``--markdown``, the table as README shows it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = ("lab MLP", "CNN")


def build(framework: str, name: str):
    """The model ``name``, compiled and trained one step on random data (seeded)."""
    import numpy as np

    if framework == "keras":
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import tensorflow as tf
    else:
        import neuroflow as tf
    keras = tf.keras
    rng = np.random.default_rng(0)
    if name == "lab MLP":
        from neuroflow.lab import build_model

        keras.utils.set_random_seed(0)
        model = build_model(tf)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                      metrics=["accuracy"])
        x = rng.random((32, 28, 28), dtype=np.float32)
    else:
        sys.path.insert(0, str(HERE))
        from cnn import build_convnet

        model = build_convnet(keras, 0)
        x = rng.random((32, 28, 28, 1), dtype=np.float32)
    model.fit(x, rng.integers(0, 10, 32), batch_size=32, epochs=1, verbose=0)
    return keras, model


def worker(framework: str, repeats: int) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in MODELS:
            keras, model = build(framework, name)
            path = os.path.join(folder, f"{name.replace(' ', '_')}.keras")
            saves, loads = [], []
            for round_ in range(repeats + 1):
                start = time.perf_counter()
                model.save(path)
                middle = time.perf_counter()
                keras.models.load_model(path)
                end = time.perf_counter()
                if round_:  # the first round pays for imports and first-use tables
                    saves.append(middle - start)
                    loads.append(end - middle)
            results[name] = {"save": saves, "load": loads, "bytes": os.path.getsize(path),
                             "params": model.count_params()}
    return results


def run(python: str, framework: str, repeats: int) -> dict | None:
    proc = subprocess.run([python, __file__, "worker", framework, str(repeats)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  ! {framework} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ms(seconds: list[float]) -> str:
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    return f"{mid * 1e3:.1f} ({low * 1e3:.1f}-{high * 1e3:.1f})"


def report(results: dict[str, dict], repeats: int, markdown: bool) -> None:
    print(f"\nmilliseconds: median (fastest-slowest) of {repeats} rounds\n")
    print("| model | framework | save ms | load ms | file size |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name in MODELS:
        for framework, runs in results.items():
            one = runs[name]
            print(f"| {name} ({one['params']:,} params) | {framework} | {_ms(one['save'])} | "
                  f"{_ms(one['load'])} | {one['bytes'] / 1024:,.1f} KiB |")
    if "neuroflow" in results and "keras" in results and not markdown:
        print()
        for name in MODELS:
            ours, theirs = results["neuroflow"][name], results["keras"][name]
            ratios = [statistics.median(ours[k]) / statistics.median(theirs[k])
                      for k in ("save", "load")]
            print(f"{name}: neuroflow / Keras {ratios[0]:.2f}x save time, {ratios[1]:.2f}x "
                  f"load time, {ours['bytes'] / theirs['bytes']:.2f}x file size")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--neuroflow-only", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="the table only")
    args = parser.parse_args()
    pythons = {"neuroflow": sys.executable}
    peer = os.environ.get("NEUROFLOW_PEER_PYTHON")
    if args.neuroflow_only:
        pass
    elif peer and subprocess.run([peer, "-c", "import keras, tensorflow, h5py"],
                                 capture_output=True).returncode == 0:
        pythons["keras"] = peer
    else:
        print("Keras skipped: set NEUROFLOW_PEER_PYTHON to a Python that has TensorFlow.")
    results = {}
    for framework, python in pythons.items():
        outcome = run(python, framework, args.repeats)
        if outcome is not None:
            results[framework] = outcome
    if results:
        report(results, args.repeats, args.markdown)


if __name__ == "__main__":
    main()
