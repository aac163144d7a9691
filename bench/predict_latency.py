"""One-sample ``predict`` latency against a bare NumPy forward pass, paired in one process.

The lab MLP's ``model.predict(x)`` for one sample, its compiled forward pass called
directly, and the same forward pass written in NumPy, timed in turn (round robin)
so that the machine's drift hits all three alike; the table shows the best and the
median of the rounds, and the ratios to NumPy.

    python bench/predict_latency.py                # 15 rounds of 2,000 calls each
    python bench/predict_latency.py --rounds 30 --calls 1000
    python bench/predict_latency.py --model cnn --calls 300   # the convnet of bench/cnn.py

For the convnet, the NumPy forward pass convolves through a strided window view and
``tensordot`` (one matrix product per layer) and pools through a reshape.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    args = parser.parse_args()

    if args.model == "cnn":
        from cnn import build_convnet

        from neuroflow import keras

        model = build_convnet(keras, 0)
        forward = numpy_convnet_forward(model)
        x = np.random.default_rng(0).random((1, 28, 28, 1), dtype=np.float32)
    else:
        from threads import build_model, numpy_forward

        model = build_model()
        forward = numpy_forward(model)
        x = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    model.predict(x, verbose=0)  # trace and compile outside the timings
    run = model._compiled_steps()._predict_code[2]
    np.testing.assert_allclose(model.predict(x, verbose=0), forward(x), rtol=1e-5)
    candidates = {"NumPy forward pass": lambda: forward(x),
                  "compiled forward (runner)": lambda: run([x]),
                  "model.predict(x, verbose=0)": lambda: model.predict(x, verbose=0)}
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(args.rounds):
        for name, fn in candidates.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                fn()
            times[name].append((time.perf_counter() - start) / args.calls * 1e6)
    base_best = min(times["NumPy forward pass"])
    base_median = statistics.median(times["NumPy forward pass"])
    what = "the convnet" if args.model == "cnn" else "the lab MLP"
    print(f"{args.rounds} rounds of {args.calls} calls, one sample of {what}")
    print("| what | best us | median us | best vs NumPy | median vs NumPy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(f"| {name} | {best:.1f} | {median:.1f} | {best / base_best:.2f}x | "
              f"{median / base_median:.2f}x |")


def numpy_convnet_forward(model):
    """bench/cnn.py's convnet (inference: no dropout) in plain NumPy, from the model's weights."""
    k1, b1, k2, b2, w, b = [v.numpy() for v in model.weights]

    def conv_relu(x, kernel, bias):
        windows = np.lib.stride_tricks.sliding_window_view(x, kernel.shape[:2], axis=(1, 2))
        # windows: (n, h, w, c, kh, kw); kernel: (kh, kw, c, out)
        return np.maximum(np.tensordot(windows, kernel, axes=([4, 5, 3], [0, 1, 2])) + bias, 0)

    def pool(x):
        n, h, w_, c = x.shape
        return x[:, :h // 2 * 2, :w_ // 2 * 2].reshape(n, h // 2, 2, w_ // 2, 2, c).max(axis=(2, 4))

    def forward(x):
        h = pool(conv_relu(pool(conv_relu(x, k1, b1)), k2, b2))
        z = h.reshape(len(h), -1) @ w + b
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return forward


if __name__ == "__main__":
    main()
