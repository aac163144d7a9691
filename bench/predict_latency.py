"""One-sample ``predict`` latency against a bare NumPy forward pass, paired in one process.

The lab MLP's ``model.predict(x)`` for one sample, its compiled forward pass called
directly, and the same forward pass written in NumPy, timed in turn (round robin)
so that the machine's drift hits all three alike; the table shows the best and the
median of the rounds, and the ratios to NumPy.

    python bench/predict_latency.py                # 15 rounds of 2,000 calls each
    python bench/predict_latency.py --rounds 30 --calls 1000
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
    args = parser.parse_args()

    from threads import build_model, numpy_forward

    model = build_model()
    x = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    model.predict(x, verbose=0)  # trace and compile outside the timings
    run = model._compiled_steps()._predict_code[2]
    forward = numpy_forward(model)
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
    print(f"{args.rounds} rounds of {args.calls} calls, one sample of the lab MLP")
    print("| what | best us | median us | best vs NumPy | median vs NumPy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, values in times.items():
        best, median = min(values), statistics.median(values)
        print(f"| {name} | {best:.1f} | {median:.1f} | {best / base_best:.2f}x | "
              f"{median / base_median:.2f}x |")


if __name__ == "__main__":
    main()
