"""One measurement in a fresh process: ``python bench/workers.py TASK FRAMEWORK [options]``.

Prints one JSON object on the last line of stdout. Each task runs in its own
process so that import time and peak memory (``ru_maxrss``) are its own.
TensorFlow and PyTorch workers run under the peers' Python (see run.py); they
read Fashion-MNIST with the small IDX reader below, not with neuroflow.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


# --- data ------------------------------------------------------------------------------


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    if int.from_bytes(data[:4], "big") == 2051:
        count, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def lab_data(folder: str):
    """The lab's split, scaled to [0, 1] in float64 as the handout does."""
    root = Path(folder)
    x = _idx(root / "train-images-idx3-ubyte.gz")
    y = _idx(root / "train-labels-idx1-ubyte.gz")
    x_test = _idx(root / "t10k-images-idx3-ubyte.gz")
    x, x_test = x / 255.0, x_test / 255.0
    return x[:-5000], y[:-5000], x[-5000:], y[-5000:], x_test


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_time(fn, repeat: int, inner: int) -> float:
    """Median over ``repeat`` runs of the mean time of ``inner`` calls, in seconds."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return statistics.median(samples)


# --- micro-benchmarks ------------------------------------------------------------------------


def eager_op(framework: str) -> dict:
    """One elementwise add of two 32x100 float32 tensors."""
    a_np = np.random.default_rng(0).standard_normal((32, 100)).astype(np.float32)
    b_np = a_np[::-1].copy()
    if framework == "numpy":
        return {"seconds": median_time(lambda: np.add(a_np, b_np), 7, 20000)}
    if framework == "neuroflow":
        import neuroflow as tf
    elif framework == "tensorflow":
        import tensorflow as tf
    else:
        import torch

        a, b = torch.from_numpy(a_np), torch.from_numpy(b_np)
        return {"seconds": median_time(lambda: a + b, 7, 20000)}
    a, b = tf.constant(a_np), tf.constant(b_np)
    return {"seconds": median_time(lambda: a + b, 7, 20000)}


def tape_step(framework: str) -> dict:
    """Forward and gradient of a dense layer (32x100 -> 10) with a mean-squared loss."""
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((32, 100)).astype(np.float32)
    y_np = rng.standard_normal((32, 10)).astype(np.float32)
    w_np = (rng.standard_normal((100, 10)) * 0.1).astype(np.float32)
    if framework == "torch":
        import torch

        x, y = torch.from_numpy(x_np), torch.from_numpy(y_np)
        w = torch.from_numpy(w_np.copy()).requires_grad_()
        b = torch.zeros(10, requires_grad=True)

        def step():
            loss = torch.mean((torch.relu(x @ w + b) - y) ** 2)
            return torch.autograd.grad(loss, [w, b])

        return {"seconds": median_time(step, 7, 1000)}
    if framework == "neuroflow":
        import neuroflow as tf
    else:
        import tensorflow as tf
    x, y = tf.constant(x_np), tf.constant(y_np)
    w, b = tf.Variable(w_np), tf.Variable(np.zeros(10, np.float32))

    def tf_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x, w) + b) - y))
        return tape.gradient(loss, [w, b])

    return {"seconds": median_time(tf_step, 7, 1000)}


# --- the lab workload --------------------------------------------------------------------------


def _keras_model(keras):
    model = keras.Sequential([
        keras.layers.Input(shape=(28, 28)), keras.layers.Flatten(),
        keras.layers.Dense(100, activation="relu"), keras.layers.Dense(75, activation="relu"),
        keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    return model


def lab(framework: str, data: str, epochs: int, warmup: int, verbose: int = 0) -> dict:
    """Seconds per epoch (validation included) after ``warmup`` epochs, and peak memory.

    ``verbose`` is passed to Keras ``fit``: 1 prints the progress bar as the lab does
    (to a pipe here, so each epoch's line is printed once it ends, as Keras does when
    stdout is not a terminal); 0 prints nothing.
    """
    x, y, x_val, y_val, x_test = lab_data(data)
    data_peak = peak_mb()  # the data alone, loaded and scaled, before any framework
    times = []
    if framework in ("neuroflow", "tensorflow"):
        if framework == "neuroflow":
            import neuroflow as tf
        else:
            import tensorflow as tf
        tf.keras.utils.set_random_seed(0)
        model = _keras_model(tf.keras)

        class Timer(tf.keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.start)

        history = model.fit(x, y, epochs=warmup + epochs, validation_data=(x_val, y_val),
                            verbose=verbose, callbacks=[Timer()])
        final = {k: float(v[-1]) for k, v in history.history.items()}
        one = model.predict(x_test[:1], verbose=0)
        predict_one = median_time(lambda: model.predict(x_test[:1], verbose=0), 5, 20)
        predict_many = median_time(lambda: model.predict(x_test, verbose=0), 3, 1)
        del one
    elif framework == "numpy":
        sys.path.insert(0, str(HERE))
        import numpy_loop

        seconds, metrics = numpy_loop.run(x, y, x_val, y_val, epochs=warmup + epochs)
        times = seconds
        final = dict(zip(("loss", "accuracy", "val_loss", "val_accuracy"), map(float, metrics)))
        params = numpy_loop.init_params(0)
        predict_one = median_time(lambda: numpy_loop.forward(params, x_test[:1].reshape(1, -1)
                                                             .astype(np.float32)), 5, 200)
        predict_many = median_time(lambda: numpy_loop.evaluate_probabilities(params, x_test),
                                   3, 1)
    elif framework == "floor":
        sys.path.insert(0, str(HERE))
        import numpy_loop

        times = numpy_loop.matmul_floor(len(x), len(x_val), epochs=warmup + epochs)
        final, predict_one, predict_many = {}, float("nan"), float("nan")
    else:
        times, final, predict_one, predict_many = _torch_lab(x, y, x_val, y_val, x_test,
                                                            warmup + epochs)
    timed = times[warmup:]
    return {"seconds_per_epoch": statistics.median(timed), "epoch_seconds": timed,
            "final": final, "peak_mb": peak_mb(), "data_peak_mb": data_peak,
            "predict_one": predict_one,
            "predict_10000": predict_many}


def _torch_lab(x, y, x_val, y_val, x_test, epochs):
    """The same model and training in an idiomatic PyTorch eager loop."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                torch.nn.Linear(100, 75), torch.nn.ReLU(),
                                torch.nn.Linear(75, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x.astype(np.float32))
    yt = torch.from_numpy(y.astype(np.int64))
    xv = torch.from_numpy(x_val.astype(np.float32))
    yv = torch.from_numpy(y_val.astype(np.int64))
    times, final = [], {}
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(xt))
        total = correct = 0.0
        for i in range(0, len(xt), 32):
            index = order[i:i + 32]
            xb, yb = xt[index], yt[index]
            logits = model(xb)
            loss = loss_fn(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(index)
            correct += float((logits.argmax(1) == yb).sum())
        model.eval()
        with torch.no_grad():
            val_correct = sum(float((model(xv[i:i + 32]).argmax(1) == yv[i:i + 32]).sum())
                              for i in range(0, len(xv), 32))
        times.append(time.perf_counter() - start)
        final = {"loss": total / len(xt), "accuracy": correct / len(xt),
                 "val_accuracy": val_correct / len(xv)}
    sample = torch.from_numpy(x_test[:1].astype(np.float32))
    everything = torch.from_numpy(x_test.astype(np.float32))

    def predict_one():
        with torch.no_grad():
            return torch.softmax(model(sample), 1).numpy()

    def predict_many():
        with torch.no_grad():
            return torch.cat([torch.softmax(model(everything[i:i + 32]), 1)
                              for i in range(0, len(everything), 32)]).numpy()

    return times, final, median_time(predict_one, 5, 200), median_time(predict_many, 3, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["eager_op", "tape_step", "lab"])
    parser.add_argument("framework",
                        choices=["neuroflow", "numpy", "torch", "tensorflow", "floor"])
    parser.add_argument("--data", default=str(HERE.parent.parent / "shared/data/fashion-mnist"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0, help="Keras fit's verbose")
    args = parser.parse_args()
    if args.task == "lab":
        result = lab(args.framework, args.data, args.epochs, args.warmup, args.verbose)
    else:
        result = globals()[args.task](args.framework)
    print("\n" + json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
