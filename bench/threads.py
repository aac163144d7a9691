"""Concurrent inference: the same total work done by one thread and by two threads.

A model server calls ``predict`` from many threads; compiled code shares no state
between calls, so two threads must not be slower in total than one (NumPy
releases the GIL inside matrix products, so on two cores they can be faster).
The same forward pass in plain NumPy, run the same way, shows what threads can
gain on the machine at all.

    python bench/threads.py                 # lab-sized MLP, 2,000 predictions of 32 rows
    python bench/threads.py --calls 4000 --rows 1 --repeats 5

Each configuration runs ``--repeats`` times, alternating; the table shows the
median wall time and the spread, and the ratio of two threads to one.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import numpy as np


def build_model():
    import neuroflow as tf
    from neuroflow.keras import Sequential
    from neuroflow.keras.layers import Dense, Flatten, InputLayer

    tf.keras.utils.set_random_seed(0)
    model = Sequential([InputLayer(shape=(28, 28)), Flatten(), Dense(100, activation="relu"),
                        Dense(75, activation="relu"), Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    return model


def numpy_forward(model):
    """The same forward pass in plain NumPy: what threads can gain on this machine at all."""
    w = [v.numpy() for v in model.weights]

    def forward(x):
        h = np.maximum(x.reshape(len(x), -1) @ w[0] + w[1], 0)
        h = np.maximum(h @ w[2] + w[3], 0)
        z = h @ w[4] + w[5]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return forward


def run(predict, x: np.ndarray, calls: int, threads: int) -> float:
    per_thread = calls // threads

    def work():
        for _ in range(per_thread):
            predict(x)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = build_model()
    x = np.random.default_rng(0).random((args.rows, 28, 28), dtype=np.float32)
    model.predict(x, verbose=0)  # trace and compile outside the timings
    rows = {"neuroflow model.predict": lambda batch: model.predict(batch, verbose=0),
            "NumPy forward pass": numpy_forward(model)}
    times = {(name, threads): [] for name in rows for threads in (1, 2)}
    for _ in range(args.repeats):
        for (name, threads), values in times.items():
            values.append(run(rows[name], x, args.calls, threads))
    print(f"{args.calls} calls of {args.rows} rows, {args.repeats} repeats, alternating")
    print("| what | threads | median s | spread | vs one thread |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for (name, threads), values in times.items():
        median = statistics.median(values)
        one = statistics.median(times[(name, 1)])
        print(f"| {name} | {threads} | {median:.3f} | {min(values):.3f}-{max(values):.3f} | "
              f"{median / one:.2f}x |")


if __name__ == "__main__":
    main()
