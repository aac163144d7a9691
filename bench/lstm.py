"""Recurrent networks on sequences: neuroflow, TensorFlow and PyTorch side by side.

    python bench/lstm.py                        # LSTM on image rows, 3 seeds x 3 epochs
    python bench/lstm.py --seeds 0 --epochs 1   # a quick look
    python bench/lstm.py --model gru            # the same with a GRU
    python bench/lstm.py --steps 1000           # a synthetic task of 1,000-step sequences
    python bench/lstm.py --neuroflow-only       # leave the peers out
    python bench/lstm.py --profile 20           # where neuroflow's training step spends time

The network: each Fashion-MNIST image read as a sequence of 28 rows of 28 pixels,
LSTM(128) (or GRU(128)), Dense(10, softmax); Adam, batch 128; trained on the first 55,000
training images, validated on the last 5,000, tested on the 10,000 test images.

``--steps N`` trains on a synthetic task instead: sequences of N steps of 16 features,
LSTM(64) (or GRU(64)), Dense(4, softmax), Adam, batch 32, 3,200 training sequences (100
steps an epoch), 640 for validation and 640 for testing. A sequence's class says which
of its first four features has a raised mean: every feature is noise of standard
deviation 1 around 0, and the class's feature has 0.25 added at every step, so no window
of a few steps tells the class: the network has to accumulate over many steps. The
data are the same for every seed (drawn from a fixed generator).

Each run is its own process (one after the other, round robin over the seeds, so all
frameworks see the same machine load); TensorFlow (Keras ``fit``) and PyTorch (an eager
loop with ``nn.LSTM``/``nn.GRU``, on one thread) run under the Python named by
NEUROFLOW_PEER_PYTHON (each skipped when it is not installed there). Prints seconds per
epoch (the first epoch, which includes compiling, and the rest), the accuracies, the peak
memory above the framework and the loaded data, means over the seeds and the ratios.
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
IMAGE_ROWS = 28
SYNTHETIC = {"features": 16, "classes": 4, "units": 64, "batch": 32, "train": 3200,
             "valid": 640, "test": 640, "shift": 0.25}


def build_model(keras, seed: int, model: str = "lstm", steps: int = IMAGE_ROWS):
    """The network, compiled, seeded with ``keras.utils.set_random_seed(seed)``.

    ``steps == 28`` is the image-row network (28 rows of 28 pixels, 128 units, 10 classes);
    any other length the synthetic task's (16 features, 64 units, 4 classes)."""
    keras.utils.set_random_seed(seed)
    layer = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}[model]
    if steps == IMAGE_ROWS:
        shape, units, classes = (IMAGE_ROWS, 28), 128, 10
    else:
        shape, units, classes = (steps, SYNTHETIC["features"]), SYNTHETIC["units"], \
            SYNTHETIC["classes"]
    network = keras.Sequential([keras.Input(shape), layer(units),
                                keras.layers.Dense(classes, activation="softmax")])
    network.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
    return network


def load(steps: int, data: str):
    """(train, validation, test) pairs of float32 sequences and int64 labels."""
    if steps == IMAGE_ROWS:
        (x_full, y_full), (x_test, y_test) = _read_idx(data)
        x_full, x_test = _scaled(x_full), _scaled(x_test)
        return ((x_full[:55000], y_full[:55000]), (x_full[55000:], y_full[55000:]),
                (x_test, y_test))
    return synthetic(steps)


def synthetic(steps: int, seed: int = 1234):
    """The synthetic task's three splits (see the module docstring), from a fixed seed."""
    import numpy as np

    s = SYNTHETIC
    total = s["train"] + s["valid"] + s["test"]
    rng = np.random.default_rng(seed)
    y = rng.integers(0, s["classes"], total)
    x = rng.standard_normal((total, steps, s["features"]), dtype=np.float32)
    x[np.arange(total), :, y] += np.float32(s["shift"])
    cut = (s["train"], s["train"] + s["valid"])
    return ((x[:cut[0]], y[:cut[0]]), (x[cut[0]:cut[1]], y[cut[0]:cut[1]]),
            (x[cut[1]:], y[cut[1]:]))


def _scaled(images):
    # In float32 from the start (the same values as dividing in float64 and rounding, for
    # all 256 pixel values): a float64 copy of the images would set the process's peak
    # memory before any training, hiding what training adds.
    scaled = images.astype("float32")
    scaled /= 255
    return scaled


def _batch(steps: int) -> int:
    return 128 if steps == IMAGE_ROWS else SYNTHETIC["batch"]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(framework: str, seed: int, epochs: int, data: str, model: str, steps: int) -> dict:
    if framework == "pytorch":
        return torch_worker(seed, epochs, data, model, steps)
    if framework == "tensorflow":
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import keras
    else:
        from neuroflow import keras

    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = load(steps, data)
    data_peak = _rss_mb()  # the framework and the data
    network = build_model(keras, seed, model, steps)
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    history = network.fit(x_train, y_train, batch_size=_batch(steps), epochs=epochs,
                          validation_data=(x_valid, y_valid), callbacks=[Timer()], verbose=0)
    _, test_accuracy = network.evaluate(x_test, y_test, verbose=0)
    return {"epoch_seconds": times, "val_accuracy": history.history["val_accuracy"][-1],
            "test_accuracy": float(test_accuracy), "peak_rss_mb": _rss_mb(),
            "data_peak_rss_mb": data_peak}


def torch_worker(seed: int, epochs: int, data: str, model: str, steps: int) -> dict:
    """The same network as a PyTorch eager loop: PyTorch's own initializers (Keras's are not
    copied), Adam with Keras's defaults, batches reshuffled every epoch, the last step's
    hidden state into the classifier.

    One thread: with its default two, on this project's busy 2-core machine, a training
    step of the image-row LSTM took 0.56-1.2 s against 43-50 ms on one thread (its
    threads wait for each other at every time step), and a first epoch 115 s."""
    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    splits = load(steps, data)
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = (
        (torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64)))
        for x, y in splits)
    data_peak = _rss_mb()
    features, units, classes = (28, 128, 10) if steps == IMAGE_ROWS else (
        SYNTHETIC["features"], SYNTHETIC["units"], SYNTHETIC["classes"])
    recurrent = {"lstm": nn.LSTM, "gru": nn.GRU}[model](features, units, batch_first=True)
    head = nn.Linear(units, classes)

    def forward(x):
        outputs, _ = recurrent(x)
        return head(outputs[:, -1])

    parameters = [*recurrent.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    batch = _batch(steps)

    def accuracy(x, y):
        with torch.no_grad():
            right = sum(int((forward(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum())
                        for i in range(0, len(x), 1000))
        return right / len(x)

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x_train))
        for i in range(0, len(order), batch):
            index = order[i:i + batch]
            optimizer.zero_grad()
            loss_fn(forward(x_train[index]), y_train[index]).backward()
            optimizer.step()
        accuracy(x_valid, y_valid)  # Keras's fit validates inside the epoch too
        times.append(time.perf_counter() - start)
    return {"epoch_seconds": times, "val_accuracy": accuracy(x_valid, y_valid),
            "test_accuracy": accuracy(x_test, y_test), "peak_rss_mb": _rss_mb(),
            "data_peak_rss_mb": data_peak}


def profile(batches: int, model: str, steps: int) -> None:
    """neuroflow's training steps under cProfile, in this process (after one compiling fit)."""
    import cProfile
    import pstats

    from neuroflow import keras

    (x, y), _, _ = load(steps, _load_data_path())
    batch = _batch(steps)
    x, y = x[:batch * batches], y[:batch * batches]
    network = build_model(keras, 0, model, steps)
    network.fit(x[:2 * batch], y[:2 * batch], batch_size=batch, epochs=1, verbose=0)  # compiles
    start = time.process_time()
    network.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    print(f"{(time.process_time() - start) / batches * 1e3:.1f} ms CPU per step of {batch} "
          f"(one fit of {batches} steps, without profiling)")
    profiler = cProfile.Profile()
    profiler.runcall(network.fit, x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def _read_idx(folder: str):
    """The four official files, read the same way for every framework."""
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


def run(python: str, framework: str, seed: int, epochs: int, model: str,
        steps: int) -> dict | None:
    proc = subprocess.run([python, __file__, "worker", framework, str(seed), str(epochs),
                           _load_data_path(), model, str(steps)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        print(f"  ! {framework} seed {seed} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spread(values: list[float], digits: int = 2) -> str:
    return f"{min(values):.{digits}f}-{max(values):.{digits}f}"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        framework, seed, epochs, data, model, steps = sys.argv[2:8]
        print(json.dumps(worker(framework, int(seed), int(epochs), data, model, int(steps))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--model", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--steps", type=int, default=IMAGE_ROWS,
                        help="sequence length: 28 is Fashion-MNIST's rows, any other a "
                             "synthetic task of that many steps")
    parser.add_argument("--neuroflow-only", action="store_true",
                        help="run neuroflow alone, even if NEUROFLOW_PEER_PYTHON is set")
    parser.add_argument("--profile", type=int, metavar="STEPS",
                        help="profile this many training steps of neuroflow instead")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be a positive sequence length; received {args.steps}")
    if args.profile:
        profile(args.profile, args.model, args.steps)
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
    task = "Fashion-MNIST rows" if args.steps == IMAGE_ROWS else f"{args.steps}-step synthetic"
    print(f"{args.model.upper()} on {task}, seeds {args.seeds}, {args.epochs} epochs")
    results: dict[str, list[dict]] = {name: [] for name in pythons}
    for seed in args.seeds:  # round robin: every framework sees the same machine load
        for name, python in pythons.items():
            result = run(python, name, seed, args.epochs, args.model, args.steps)
            if result is not None:
                results[name].append(result)
                later = result["epoch_seconds"][1:] or result["epoch_seconds"]
                epochs = ", ".join(f"{t:.1f}" for t in result["epoch_seconds"])
                print(f"{name:10s} seed {seed}: epochs {epochs} s (later "
                      f"{statistics.mean(later):.1f}), val {result['val_accuracy']:.4f}, "
                      f"test {result['test_accuracy']:.4f}, peak {result['peak_rss_mb']:.0f} MB "
                      f"({result['peak_rss_mb'] - result['data_peak_rss_mb']:.0f} MB above the "
                      f"framework and the loaded data)", flush=True)
    summary = {}
    for name, runs in results.items():
        if runs:
            later = [t for r in runs for t in (r["epoch_seconds"][1:] or r["epoch_seconds"])]
            val = [r["val_accuracy"] for r in runs]
            test = [r["test_accuracy"] for r in runs]
            summary[name] = (statistics.mean(later), statistics.mean(val),
                             statistics.mean(test))
            above = statistics.mean(r["peak_rss_mb"] - r["data_peak_rss_mb"] for r in runs)
            print(f"{name:10s} mean: {summary[name][0]:.2f} s/epoch ({_spread(later)}), "
                  f"val {summary[name][1]:.4f} ({_spread(val, 4)}), test "
                  f"{summary[name][2]:.4f} ({_spread(test, 4)}), {above:.0f} MB above the "
                  f"framework and the data")
    for peer_name in ("tensorflow", "pytorch"):
        if "neuroflow" in summary and peer_name in summary:
            ours, theirs = summary["neuroflow"], summary[peer_name]
            print(f"neuroflow / {peer_name}: {ours[0] / theirs[0]:.2f}x time per epoch; "
                  f"accuracy difference val {ours[1] - theirs[1]:+.4f}, "
                  f"test {ours[2] - theirs[2]:+.4f}")


if __name__ == "__main__":
    main()
