"""The Keras "simple MNIST convnet" on Fashion-MNIST: neuroflow and TensorFlow side by side.

    python bench/cnn.py                        # 3 seeds x 3 epochs each, both frameworks
    python bench/cnn.py --seeds 0 --epochs 1   # a quick look
    python bench/cnn.py --neuroflow-only       # leave TensorFlow out
    python bench/cnn.py --profile 20           # where neuroflow's training step spends time

The network: Conv2D(32, 3, relu), MaxPooling2D(2), Conv2D(64, 3, relu), MaxPooling2D(2),
Flatten, Dropout(0.5), Dense(10, softmax); Adam, batch 128; trained on the first 55,000
training images, validated on the last 5,000, tested on the 10,000 test images. Each run is
its own process (one after the other, so they do not compete for the cores); TensorFlow and
PyTorch (an eager loop of the same network) run under the Python named by
NEUROFLOW_PEER_PYTHON (each skipped when it is not installed there). Prints
seconds per epoch (first epoch, which includes compiling, and the rest), the accuracies, their
means over the seeds and the ratios. ``--profile STEPS`` trains neuroflow in this process for
that many batches of 128 under cProfile and prints the CPU time per step and the functions
taking the most (the compiled step's primitives appear as their forward functions).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fashion-mnist"


def build_convnet(keras, seed: int):
    """The network, compiled, seeded with ``keras.utils.set_random_seed(seed)``."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _scaled(images):
    return (images[..., None] / 255.0).astype("float32")


def worker(framework: str, seed: int, epochs: int, data: str) -> dict:
    if framework == "pytorch":
        return torch_worker(seed, epochs, data)
    if framework == "tensorflow":
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
    else:
        from neuroflow import keras

    (x_full, y_full), (x_test, y_test) = _read_idx(data)
    x_full, x_test = _scaled(x_full), _scaled(x_test)
    x_train, y_train = x_full[:55000], y_full[:55000]
    x_valid, y_valid = x_full[55000:], y_full[55000:]
    data_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # framework + data
    model = build_convnet(keras, seed)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    history = model.fit(x_train, y_train, batch_size=128, epochs=epochs,
                        validation_data=(x_valid, y_valid), callbacks=[Timer()], verbose=0)
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {"epoch_seconds": times, "val_accuracy": history.history["val_accuracy"][-1],
            "test_accuracy": float(test_accuracy),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "data_peak_rss_mb": data_peak}


def torch_worker(seed: int, epochs: int, data: str) -> dict:
    """The same network as a PyTorch eager loop: Keras's initializers are not copied (each
    framework its own defaults), Adam with Keras's defaults, batches of 128 reshuffled
    every epoch, channels first as PyTorch wants."""
    import numpy as np
    import torch
    from torch import nn

    torch.manual_seed(seed)
    (x_full, y_full), (x_test, y_test) = _read_idx(data)
    x_full = torch.from_numpy(_scaled(x_full).transpose(0, 3, 1, 2).copy())
    x_test = torch.from_numpy(_scaled(x_test).transpose(0, 3, 1, 2).copy())
    y_full, y_test = torch.from_numpy(y_full.astype(np.int64)), torch.from_numpy(
        y_test.astype(np.int64))
    x_train, y_train, x_valid, y_valid = x_full[:55000], y_full[:55000], x_full[55000:], \
        y_full[55000:]
    data_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Dropout(0.5), nn.Linear(1600, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()

    def accuracy(x, y):
        model.eval()
        with torch.no_grad():
            return float((model(x).argmax(1) == y).float().mean())

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), 128):
            index = order[i:i + 128]
            optimizer.zero_grad()
            loss_fn(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
        accuracy(x_valid, y_valid)  # Keras's fit validates inside the epoch too
        times.append(time.perf_counter() - start)
    return {"epoch_seconds": times, "val_accuracy": accuracy(x_valid, y_valid),
            "test_accuracy": accuracy(x_test, y_test),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "data_peak_rss_mb": data_peak}


def profile(steps: int) -> None:
    """neuroflow's training steps under cProfile, in this process (after one compiling fit)."""
    import cProfile
    import pstats

    from neuroflow import keras

    (x_full, y_full), _ = _read_idx(_load_data_path())
    x, y = _scaled(x_full[:128 * steps]), y_full[:128 * steps]
    model = build_convnet(keras, 0)
    model.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)  # traces and compiles
    start = time.process_time()
    model.fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)
    print(f"{(time.process_time() - start) / steps * 1e3:.1f} ms CPU per step of 128 "
          f"(one fit of {steps} steps, without profiling)")
    profiler = cProfile.Profile()
    profiler.runcall(model.fit, x, y, batch_size=128, epochs=1, verbose=0, shuffle=False)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def _read_idx(folder: str):
    """The four official files, read the same way for both frameworks."""
    import gzip

    import numpy as np

    def read(name: str, offset: int):
        with gzip.open(Path(folder) / name, "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    images = [read(f"{kind}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
              for kind in ("train", "t10k")]
    labels = [read(f"{kind}-labels-idx1-ubyte.gz", 8).astype(np.int64)
              for kind in ("train", "t10k")]
    return (images[0], labels[0]), (images[1], labels[1])


def _load_data_path() -> str:
    if (DATA / "train-images-idx3-ubyte.gz").is_file():
        return str(DATA)
    return "/usr/share/datasets/fashion-mnist"


def run(python: str, framework: str, seed: int, epochs: int) -> dict | None:
    proc = subprocess.run([python, __file__, "worker", framework, str(seed), str(epochs),
                           _load_data_path()], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  ! {framework} seed {seed} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        framework, seed, epochs, data = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
            sys.argv[5]
        print(json.dumps(worker(framework, seed, epochs, data)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--neuroflow-only", action="store_true",
                        help="run neuroflow alone, even if NEUROFLOW_PEER_PYTHON is set")
    parser.add_argument("--profile", type=int, metavar="STEPS",
                        help="profile this many training steps of neuroflow instead")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile)
        return
    peer = os.environ.get("NEUROFLOW_PEER_PYTHON")
    pythons = {"neuroflow": sys.executable}
    for name, module in (("tensorflow", "tensorflow"), ("pytorch", "torch")):
        if args.neuroflow_only:
            continue
        if peer and subprocess.run([peer, "-c", f"import {module}"],
                                   capture_output=True).returncode == 0:
            pythons[name] = peer
        else:
            print(f"{name} skipped: set NEUROFLOW_PEER_PYTHON to a Python that has it.")
    results: dict[str, list[dict]] = {name: [] for name in pythons}
    for seed in args.seeds:  # round robin: both frameworks see the same machine load
        for name, python in pythons.items():
            result = run(python, name, seed, args.epochs)
            if result is not None:
                results[name].append(result)
                later = result["epoch_seconds"][1:] or result["epoch_seconds"]
                epochs = ", ".join(f"{t:.1f}" for t in result["epoch_seconds"])
                print(f"{name:10s} seed {seed}: epochs {epochs} s (later "
                      f"{statistics.mean(later):.1f}), val {result['val_accuracy']:.4f}, "
                      f"test {result['test_accuracy']:.4f}, peak {result['peak_rss_mb']:.0f} MB "
                      f"({result['peak_rss_mb'] - result['data_peak_rss_mb']:.0f} MB above the "
                      f"framework and the loaded data)")
    summary = {}
    for name, runs in results.items():
        if runs:
            later = [t for r in runs for t in (r["epoch_seconds"][1:] or r["epoch_seconds"])]
            summary[name] = (statistics.mean(later),
                             statistics.mean(r["val_accuracy"] for r in runs),
                             statistics.mean(r["test_accuracy"] for r in runs))
            print(f"{name:10s} mean: {summary[name][0]:.2f} s/epoch, val {summary[name][1]:.4f},"
                  f" test {summary[name][2]:.4f}")
    for peer_name in ("tensorflow", "pytorch"):
        if "neuroflow" in summary and peer_name in summary:
            ours, theirs = summary["neuroflow"], summary[peer_name]
            print(f"neuroflow / {peer_name}: {ours[0] / theirs[0]:.2f}x time per epoch; "
                  f"accuracy difference val {ours[1] - theirs[1]:+.4f}, "
                  f"test {ours[2] - theirs[2]:+.4f}")

if __name__ == "__main__":
    main()
