"""Numba kernels on and off, side by side in one run: ``python bench/jit.py``.

    python bench/jit.py                       # the lab: NumPy path, JIT path, NumPy loop
    python bench/jit.py --rounds 5 --epochs 3
    python bench/jit.py --startup             # first epoch with a cold and a warm cache
    python bench/jit.py --startup --no-lab --cnn --lstm --rounds 1   # the same, long epochs
    python bench/jit.py --cnn --lstm          # also the convnet and the LSTM (slow)
    python bench/jit.py --no-lab --lstm       # the LSTM alone
    python bench/jit.py --kernels 200         # time per kernel in a lab training step
    python bench/jit.py --recurrent 15        # the LSTM sequence op, kernels off and on
    python bench/jit.py --convolution 15      # the convnet's col2im and pooling gradients
    python bench/jit.py --updates 200         # one optimizer update, as one kernel or many

Every measurement is a fresh process (``workers.py``, ``cnn.py``, ``lstm.py``), one
after the other, round robin over the settings, so that they see the same machine
load: neuroflow with ``NEUROFLOW_JIT=0`` (the NumPy path), with ``NEUROFLOW_JIT=1``
(Numba kernels), the hand-written NumPy loop (``numpy_loop.py``, with NumPy's default
BLAS threads and with one, as run.py runs it), and TensorFlow under
``$NEUROFLOW_PEER_PYTHON`` for the convnet and the LSTM (PyTorch too for the LSTM).
Each row prints the median seconds per epoch over the rounds and the spread (min-max)
of the rounds' medians; ratios are of medians. The JIT runs share one kernel cache (a temporary
``NEUROFLOW_HOME``) warmed before the first round, so that they time running kernels,
not compiling them; ``--startup`` times compiling.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "fashion-mnist"


LOOP_ONE_THREAD = "numpy loop, 1 thread"


def _data() -> str:
    if (DATA / "train-images-idx3-ubyte.gz").is_file():
        return str(DATA)
    return "/usr/share/datasets/fashion-mnist"


def _run(command: list[str], env: dict[str, str]) -> dict | None:
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    if proc.returncode != 0:
        print(f"  ! {' '.join(command[1:3])} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def lab(setting: str, epochs: int, warmup: int, home: str) -> list[float] | None:
    framework = "numpy" if setting.startswith("numpy loop") else "neuroflow"
    env = {"NEUROFLOW_JIT": "1" if setting == "jit" else "0", "NEUROFLOW_HOME": home}
    if setting == LOOP_ONE_THREAD:
        env["OPENBLAS_NUM_THREADS"] = "1"  # the loop's fastest setting on a 2-core machine
    result = _run([sys.executable, str(HERE / "workers.py"), "lab", framework, "--data",
                   _data(), "--epochs", str(epochs), "--warmup", str(warmup)], env)
    return None if result is None else result["epoch_seconds"]


def convnet(setting: str, epochs: int, home: str, model: str,
            keep_first: bool = False) -> list[float] | None:
    """Epoch seconds after the first (which compiles) of cnn.py's or lstm.py's worker;
    ``keep_first``: ``epochs`` epochs, the first included."""
    peer = setting in ("tensorflow", "pytorch")
    python = os.environ.get("NEUROFLOW_PEER_PYTHON", "") if peer else sys.executable
    if not python:
        return None
    framework = setting if peer else "neuroflow"
    runs = epochs if keep_first else epochs + 1
    script = [str(HERE / "cnn.py"), "worker", framework, "0", str(runs), _data()]
    if model == "lstm":
        script = [str(HERE / "lstm.py"), "worker", framework, "0", str(runs), _data(),
                  "lstm", "28"]
    env = {"NEUROFLOW_JIT": "1" if setting == "jit" else "0", "NEUROFLOW_HOME": home}
    result = _run([python, *script], env)
    if result is None:
        return None
    return result["epoch_seconds"] if keep_first else result["epoch_seconds"][1:]


def _row(name: str, rounds: list[float]) -> str:
    if not rounds:
        return f"  {name:<22} (no result)"
    spread = f"{min(rounds):.3f}-{max(rounds):.3f}"
    return f"  {name:<22} {statistics.median(rounds):8.3f} s/epoch   rounds {spread}"


def compare(title: str, settings: list[str], measure, rounds: int) -> dict[str, float]:
    """Round robin over ``settings``; prints and returns the median of round medians."""
    medians: dict[str, list[float]] = {s: [] for s in settings}
    for _ in range(rounds):
        for setting in settings:
            epochs = measure(setting)
            if epochs:
                medians[setting].append(statistics.median(epochs))
                print(f"    {setting}: {', '.join(f'{e:.3f}' for e in epochs)} s", flush=True)
    print(title)
    for setting in settings:
        print(_row(setting, medians[setting]))
    return {s: statistics.median(v) for s, v in medians.items() if v}


def startup(rounds: int, lab_too: bool, models: list[str]) -> None:
    """First epoch (compiling included) and the next, with an empty and a warm cache:
    the lab, and the convnet or the LSTM (``models``) whose epochs are 40 times longer."""
    workloads = (["lab"] if lab_too else []) + models
    for workload in workloads:
        print(f"start-up: the {workload}'s first epoch against its second, NEUROFLOW_JIT=1")
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as home:
                for cache in ("cold", "warm"):
                    start = time.perf_counter()
                    epochs = _first_epochs(workload, "jit", home)
                    wall = time.perf_counter() - start
                    if epochs:
                        print(f"  {cache} cache: first epoch {epochs[0]:.3f} s, second "
                              f"{epochs[1]:.3f} s ({epochs[0] / epochs[1]:.2f}x), process "
                              f"{wall:.1f} s", flush=True)
            with tempfile.TemporaryDirectory() as home:
                epochs = _first_epochs(workload, "numpy", home)
                if epochs:
                    print(f"  NumPy path: first epoch {epochs[0]:.3f} s, second "
                          f"{epochs[1]:.3f} s ({epochs[0] / epochs[1]:.2f}x)", flush=True)


def _first_epochs(workload: str, setting: str, home: str) -> list[float] | None:
    """The first two epochs' seconds of a fresh process, the first one included."""
    if workload == "lab":
        return lab(setting, 2, 0, home)
    return convnet(setting, 2, home, workload, keep_first=True)


# Compiled ops of the lab's step that are BLAS products.
_PRODUCTS = frozenset({"dense", "matmul", "assign_sub_matmul"})


def kernel_times(steps: int) -> None:
    """Seconds per op of the lab's compiled training step, kernels off then on (the
    profiler times each generated line; a kernel's line is its fused node's)."""
    sys.path.insert(0, str(HERE))
    import numpy as np
    from workers import _keras_model, lab_data

    import neuroflow as tf
    from neuroflow.config import settings

    x, y, *_ = lab_data(_data())
    x, y = x[:32 * steps].astype(np.float32), y[:32 * steps]
    for on in (False, True):
        settings.jit = on
        tf.keras.utils.set_random_seed(0)
        model = _keras_model(tf.keras)
        model.fit(x[:3200], y[:3200], epochs=1, verbose=0)  # compiles (and loads kernels)
        tf.profiler.experimental.start(tempfile.mkdtemp())
        model.fit(x, y, epochs=1, verbose=0, shuffle=False)
        tf.profiler.experimental.stop()
        trace = tf.profiler.last_trace_file()
        print(f"NEUROFLOW_JIT={int(on)}: microseconds per step, by op")
        ops = tf.profiler.top_ops(trace, n=1000, categories=("compiled op",))
        for name, calls, seconds, share in ops[:12]:
            print(f"  {name:<32} {seconds / steps * 1e6:8.1f}   {calls // steps:3d} calls "
                  f"{share:6.1%}")
        # The floor: the ops that are matrix products (dense's includes its bias epilogue).
        total = sum(seconds for _, _, seconds, _ in ops) / steps * 1e6
        floor = sum(seconds for name, _, seconds, _ in ops if name in _PRODUCTS) / steps * 1e6
        print(f"  matrix products {floor:.1f} us of {total:.1f} us of compiled ops per step: "
              f"{total / floor:.2f}x the floor (target 1.3x)")


def _timed(name: str, run, repeats: int) -> None:
    """Best and median milliseconds of ``repeats`` calls of ``run`` after one untimed."""
    run()  # compiles or loads the kernels
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    print(f"  {name:<44} {min(seconds) * 1e3:7.2f} ms best "
          f"{statistics.median(seconds) * 1e3:7.2f} ms median")


def recurrent_parts(repeats: int) -> None:
    """An LSTM(128) over 28 steps of a batch of 128 (the LSTM workload's sequence op):
    milliseconds of the NumPy primitives and of the kernel drivers, forward and
    gradient, best and median of ``repeats`` calls, beside their BLAS floor."""
    import numpy as np

    from neuroflow.backend import blas
    from neuroflow.graph.jit import cache, kernels, recurrent
    from neuroflow.ops import recurrent as primitives

    batch, steps, units = 128, 28, 128
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, steps, 4 * units)).astype(np.float32)
    h0 = c0 = np.zeros((batch, units), np.float32)
    kernel = (rng.standard_normal((units, 4 * units)) * 0.1).astype(np.float32)
    d_hs = rng.standard_normal((batch, steps, units)).astype(np.float32)
    act = dict(activation="tanh", recurrent_activation="sigmoid")
    step_kernels = [cache.load(k) for k in (
        kernels.scaled_inputs("float32", False), kernels.lstm_gates_from_exp("float32", False),
        kernels.lstm_output(False, "float32", False))]
    grad_kernel = cache.load(kernels.lstm_step_grad("tanh", "sigmoid", False, False, "float32",
                                                    False))
    saved = primitives._lstm_sequence.forward(np, x, h0, c0, kernel, **act)

    timed = functools.partial(_timed, repeats=repeats)
    product, states = np.empty((batch, 4 * units), np.float32), np.ones((batch, units), np.float32)
    gates_t, flat_states = kernel.T.copy(), np.ones((steps * batch, units), np.float32)
    flat_gates = np.ones((steps * batch, 4 * units), np.float32)
    print(f"LSTM({units}) over {steps} steps, batch {batch}, float32, one BLAS thread")
    with blas.threads(1):
        timed("forward, NumPy primitive", lambda: primitives._lstm_sequence.forward(
            np, x, h0, c0, kernel, **act))
        timed("forward, kernels", lambda: recurrent.lstm_by_exp(*step_kernels, x, h0, c0, kernel))
        timed("  its BLAS floor: 28 products h @ kernel", lambda: [
            np.matmul(states, kernel, out=product) for _ in range(steps)])
        timed("gradient, NumPy primitive", lambda: primitives._lstm_sequence_grad.forward(
            np, h0, c0, kernel, *saved, d_hs, cell_gradient=False, **act))
        timed("gradient, kernels", lambda: recurrent.lstm_grad(
            grad_kernel, h0, c0, kernel, *saved, d_hs, cell_gradient=False))
        timed("  its BLAS floor: 28 products d @ kernel.T", lambda: [
            np.matmul(product, gates_t, out=states) for _ in range(steps)])
        timed("  and the kernel's gradient, one product", lambda: flat_states.T @ flat_gates)


def convolution_parts(repeats: int) -> None:
    """The convnet's second layer (batch 128, 13x13x32 inputs, 64 filters of 3x3): the
    input gradient (col2im) and the 2x2 pooling gradients, NumPy primitives against
    kernels, best and median of ``repeats`` calls, beside the input gradient's BLAS
    product."""
    import numpy as np

    from neuroflow.backend import blas
    from neuroflow.graph.jit import cache, convolution, kernels
    from neuroflow.ops import convolution as primitives

    rng = np.random.default_rng(0)
    g = rng.standard_normal((128, 11, 11, 64)).astype(np.float32)
    w = rng.standard_normal((3, 3, 32, 64)).astype(np.float32)
    dx, dx_kernel = np.empty((128, 13, 13, 32), np.float32), np.empty((128, 13, 13, 32),
                                                                      np.float32)
    col2im = cache.load(kernels.col2im("float32", False))
    pool_grad = cache.load(kernels.max_pool_grad_tiled("float32", False))
    pool = cache.load(kernels.max_pool("float32", False))
    pool_saving = cache.load(kernels.max_pool_with_index("float32", False))
    pool_grad_saved = cache.load(kernels.max_pool_grad_from_index("float32", False, True))
    no_pads = ((0, 0), (0, 0))

    timed = functools.partial(_timed, repeats=repeats)
    print("convnet pieces, float32, one BLAS thread")
    with blas.threads(1):
        timed("conv input gradient, NumPy primitive", lambda: primitives._conv_input_grad.forward(
            np, g, w, dx, spatial=(13, 13), strides=(1, 1), dilations=(1, 1), pads=no_pads))
        timed("conv input gradient, col2im kernel", lambda: convolution.input_grad(
            col2im, g, w, dx_kernel, (1, 1), (1, 1), no_pads))
        flat_g, flat_w_t = g.reshape(-1, 64), w.reshape(-1, 64).T.copy()
        columns = np.empty((flat_g.shape[0], flat_w_t.shape[1]), np.float32)
        timed("  its BLAS product g @ w.T", lambda: np.matmul(flat_g, flat_w_t, out=columns))
        for shape in ((128, 26, 26, 32), (128, 11, 11, 64)):
            x = rng.standard_normal(shape).astype(np.float32)
            rows, cols = shape[1] // 2, shape[2] // 2
            y = x[:, :rows * 2, :cols * 2].reshape(shape[0], rows, 2, cols, 2, shape[3]) \
                .max(axis=(2, 4))
            dy, out = rng.standard_normal(y.shape).astype(np.float32), np.empty_like(x)
            arrays = (x, y, dy, out)
            timed(f"max pool gradient {shape[1:]}, NumPy", lambda a=arrays: primitives
                  ._max_pool_grad.forward(np, *a, kernel=(2, 2), strides=(2, 2), pads=no_pads))
            timed(f"max pool gradient {shape[1:]}, kernel", lambda a=arrays: pool_grad(
                *a, 2, 2, 2, 2, 0, 0))
            at = np.empty(y.shape, np.int32)
            timed("  the same from saved positions", lambda a=(at, dy, out): pool_grad_saved(
                *a, 2, 2, 2, 2, 0, 0))
            timed("  pooling, kernel", lambda a=(x, y): pool(*a, 2, 2, 2, 2, 0, 0))
            timed("  pooling saving positions", lambda a=(x, y, at): pool_saving(
                *a, 2, 2, 2, 2, 0, 0))


def update_parts(repeats: int) -> None:
    """One optimizer update over the LSTM workload's variables (LSTM(128), Dense(10)):
    milliseconds of ``apply_gradients`` compiled on the NumPy path, with a kernel per
    variable's chain, and with the whole run of updates as one kernel."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    from lstm import build_model

    import neuroflow as tf
    from neuroflow.config import settings
    from neuroflow.graph.jit import updates

    planned = updates.plan
    print("apply_gradients over LSTM(128) + Dense(10)'s variables, compiled")
    for optimizer in ("adam", "sgd"):
        for label, on, runs in (("NumPy path", False, False), ("a kernel per chain", True, False),
                                ("one kernel for the run", True, True)):
            settings.jit = on
            updates.plan = planned if runs else (lambda *_: [])
            model = build_model(tf.keras, 0)
            opt = tf.keras.optimizers.get(optimizer)
            weights = model.trainable_variables
            rng = np.random.default_rng(0)
            grads = [tf.constant(rng.standard_normal(w.shape).astype(np.float32) * 1e-3)
                     for w in weights]
            apply = tf.function(lambda *g, opt=opt, weights=weights: opt.apply_gradients(
                zip(g, weights)))
            _timed(f"{optimizer}, {label}", lambda apply=apply, grads=grads: apply(*grads),
                   repeats)
    updates.plan = planned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per run")
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs per lab run")
    parser.add_argument("--startup", action="store_true", help="cold and warm cache times")
    parser.add_argument("--cnn", action="store_true", help="also the convnet (cnn.py)")
    parser.add_argument("--lstm", action="store_true", help="also the LSTM (lstm.py)")
    parser.add_argument("--no-lab", action="store_true", help="skip the lab")
    parser.add_argument("--recurrent", type=int, metavar="REPEATS",
                        help="time the LSTM sequence op and its gradient, kernels off and on")
    parser.add_argument("--convolution", type=int, metavar="REPEATS",
                        help="time the convnet's col2im and pooling gradients, off and on")
    parser.add_argument("--updates", type=int, metavar="REPEATS",
                        help="time one optimizer update: NumPy path, kernels, one kernel")
    parser.add_argument("--kernels", type=int, metavar="STEPS",
                        help="profile this many lab training steps, kernels on")
    args = parser.parse_args()
    if args.kernels:
        kernel_times(args.kernels)
        return
    if args.updates:
        update_parts(args.updates)
        return
    if args.recurrent or args.convolution:
        if args.recurrent:
            recurrent_parts(args.recurrent)
        if args.convolution:
            convolution_parts(args.convolution)
        return
    if args.startup:
        models = [m for m, wanted in (("cnn", args.cnn), ("lstm", args.lstm)) if wanted]
        startup(args.rounds, not args.no_lab, models)
        return
    with tempfile.TemporaryDirectory() as home:
        lab("jit", 1, 0, home)  # fills the kernel cache
        found = {}
        if not args.no_lab:
            found = compare(f"lab (784-100-75-10 MLP, batch 32): {args.rounds} rounds x "
                            f"{args.epochs} epochs after {args.warmup}",
                            ["numpy", "jit", "numpy loop", LOOP_ONE_THREAD],
                            lambda s: lab(s, args.epochs, args.warmup, home), args.rounds)
        loops = [found[s] for s in ("numpy loop", LOOP_ONE_THREAD) if s in found]
        if "jit" in found and loops:
            print(f"  JIT / faster NumPy loop: {found['jit'] / min(loops):.2f}x (target 0.8x)"
                  f";  JIT / NumPy path: {found['jit'] / found['numpy']:.2f}x")
        for model, wanted in (("cnn", args.cnn), ("lstm", args.lstm)):
            if not wanted:
                continue
            peers = ["tensorflow", "pytorch"] if model == "lstm" else ["tensorflow"]
            found = compare(f"{model}: {args.rounds} rounds x {args.epochs} epochs after one",
                            ["numpy", "jit", *peers],
                            lambda s, m=model: convnet(s, args.epochs, home, m), args.rounds)
            for peer, target in (("tensorflow", "1.0x"), ("pytorch", "1.5x")):
                if {"jit", peer} <= found.keys():
                    print(f"  JIT / {peer}: {found['jit'] / found[peer]:.2f}x (target "
                          f"{target}); NumPy path / {peer}: "
                          f"{found['numpy'] / found[peer]:.2f}x")


if __name__ == "__main__":
    main()
