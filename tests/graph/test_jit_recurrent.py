"""Numba kernels for the fused recurrent sequences (``graph/jit/recurrent.py``).

Each LSTM and GRU case runs compiled with kernels off (the NumPy primitives) and on,
forward and gradient, with and without masks, for every activation family, and the
two must agree; eager execution is the third witness. Skipped without Numba.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.config import settings
from neuroflow.graph import jit
from neuroflow.ops import recurrent

if not jit.numba_installed():
    pytest.skip("Numba is not installed", allow_module_level=True)

TOLERANCE = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}
ACTIVATIONS = [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("linear", "relu"),
               ("tanh", "hard_sigmoid")]


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "jit_cache_dir", tmp_path / "jit")


def _sequence_case(kind: str, masked: bool, cell_gradient: bool, dtype: str,
                   activation: str, recurrent_activation: str, seed: int = 0):
    """A function of (x_proj, h0, c0, kernel, bias) returning the states and every
    gradient of a weighted sum of them, and its arguments."""
    rng = np.random.default_rng(seed)
    batch, steps, units = 5, 6, 3
    gates = 4 if kind == "lstm" else 3
    arrays = [rng.standard_normal((batch, steps, gates * units)),
              rng.standard_normal((batch, units)), rng.standard_normal((batch, units)),
              rng.standard_normal((units, gates * units)) * 0.5,
              rng.standard_normal(gates * units)]
    arguments = [tf.constant(a.astype(dtype)) for a in arrays]
    mask = None
    if masked:
        mask = rng.random((batch, steps)) > 0.3
        mask[0, 0] = mask[1, -1] = False  # the first and last steps both masked somewhere
    weights = [tf.constant(rng.standard_normal((batch, steps, units)).astype(dtype))
               for _ in range(2)]
    kw = dict(activation=activation, recurrent_activation=recurrent_activation)

    def f(x, h0, c0, kernel, bias):
        with tf.GradientTape() as tape:
            tape.watch([x, h0, c0, kernel, bias])
            if kind == "lstm":
                hs, cs = recurrent.lstm_sequence(x, h0, c0, kernel, mask=mask, **kw)
            else:
                hs = recurrent.gru_sequence(x, h0, kernel, bias, mask=mask, **kw)
                cs = hs
            loss = tf.reduce_sum(hs * weights[0])
            if cell_gradient:
                loss += tf.reduce_sum(cs * weights[1])
        grads = tape.gradient(loss, [x, h0, c0, kernel, bias])
        return [hs, cs, *(g for g in grads if g is not None)]

    return f, arguments


def _compiled(f, arguments, jit_on: bool, monkeypatch):
    monkeypatch.setattr(settings, "jit", jit_on)
    compiled = tf.function(f)
    return [np.asarray(r) for r in compiled(*arguments)], compiled.source


def _kernel_calls(source: str) -> set[str]:
    """The recurrent ops whose generated line calls a driver of ``recurrent.py``."""
    ops = set()
    for line in source.splitlines():
        code, _, comment = line.partition("  # ")
        op = comment.split(" @")[0]
        if op.endswith(("_sequence", "_sequence_grad")) and " = R" in code:
            ops.add(op)
    return ops


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("activation, recurrent_activation", ACTIVATIONS)
def test_sequences_and_gradients_agree_with_the_numpy_path(
        kind, masked, activation, recurrent_activation, cache_dir, monkeypatch):
    f, arguments = _sequence_case(kind, masked, kind == "lstm", "float32", activation,
                                  recurrent_activation)
    numpy_path, _ = _compiled(f, arguments, False, monkeypatch)
    jit_path, source = _compiled(f, arguments, True, monkeypatch)
    eager = [np.asarray(r) for r in f(*arguments)]
    assert len(jit_path) == len(numpy_path) == len(eager)
    for want, got, seen in zip(numpy_path, jit_path, eager):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOLERANCE["float32"])
        np.testing.assert_allclose(got, seen, **TOLERANCE["float32"])
    # Which steps run as kernels: gradients always; the forward pass where its
    # activations need no exp or tanh from Numba, or are Keras's default pair.
    arithmetic = {activation, recurrent_activation} <= {"relu", "linear", "hard_sigmoid"}
    default = (activation, recurrent_activation) == ("tanh", "sigmoid")
    expected = {f"{kind}_sequence_grad"}
    if arithmetic or default:
        expected.add(f"{kind}_sequence")
    assert _kernel_calls(source) == expected


@pytest.mark.parametrize("kind, masked, cell_gradient", [
    ("lstm", False, False), ("lstm", True, False), ("lstm", False, True), ("gru", True, False)])
def test_float64_and_the_cell_gradient(kind, masked, cell_gradient, cache_dir, monkeypatch):
    f, arguments = _sequence_case(kind, masked, cell_gradient, "float64", "tanh", "sigmoid",
                                  seed=1)
    numpy_path, _ = _compiled(f, arguments, False, monkeypatch)
    jit_path, source = _compiled(f, arguments, True, monkeypatch)
    assert f"{kind}_sequence_grad" in _kernel_calls(source)
    for want, got in zip(numpy_path, jit_path):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, **TOLERANCE["float64"])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_the_default_forward_equals_the_numpy_primitive_bitwise(kind, cache_dir, monkeypatch):
    """Same operations in the same order (NumPy's exp and tanh, the same scaled kernel):
    nothing for rounding to change."""
    f, arguments = _sequence_case(kind, True, kind == "lstm", "float32", "tanh", "sigmoid",
                                  seed=2)

    def forward(*args):
        return f(*args)[:2]

    numpy_path, _ = _compiled(forward, arguments, False, monkeypatch)
    jit_path, source = _compiled(forward, arguments, True, monkeypatch)
    assert _kernel_calls(source) == {f"{kind}_sequence"}
    for want, got in zip(numpy_path, jit_path):
        assert got.tobytes() == want.tobytes()


def test_reset_before_gru_stays_with_numpy(cache_dir, monkeypatch):
    layer = keras.layers.GRU(3, reset_after=False, activation="relu",
                             recurrent_activation="hard_sigmoid", return_sequences=True)
    x = tf.constant(np.random.default_rng(3).standard_normal((2, 4, 5)).astype(np.float32))
    layer(x)

    def f(x):
        with tf.GradientTape() as tape:
            y = layer(x)
        return [y, *tape.gradient(y, layer.trainable_variables)]

    numpy_path, _ = _compiled(f, [x], False, monkeypatch)
    jit_path, source = _compiled(f, [x], True, monkeypatch)
    assert _kernel_calls(source) == set()
    for want, got in zip(numpy_path, jit_path):
        assert got.tobytes() == want.tobytes()


def _train(kind: str, jit_on: bool, monkeypatch, threads: int = 1):
    monkeypatch.setattr(settings, "jit", jit_on)
    monkeypatch.setattr(settings, "jit_threads", threads)
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 7, 5)).astype(np.float32)
    x[:8, 5:] = 0.0  # masked steps, through a Masking layer
    y = rng.integers(0, 3, 64)
    layer = keras.layers.LSTM(8) if kind == "lstm" else keras.layers.GRU(8)
    model = keras.Sequential([keras.Input((7, 5)), keras.layers.Masking(0.0), layer,
                              keras.layers.Dense(3)])
    model.compile(optimizer="adam",
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    return history.history["loss"], [w.copy() for w in model.get_weights()]


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keras_training_agrees_with_the_numpy_path(kind, cache_dir, monkeypatch):
    numpy_loss, numpy_weights = _train(kind, False, monkeypatch)
    jit_loss, jit_weights = _train(kind, True, monkeypatch)
    np.testing.assert_allclose(jit_loss, numpy_loss, rtol=1e-5)
    for want, got in zip(numpy_weights, jit_weights):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_thread_count_does_not_change_results(kind, cache_dir, monkeypatch):
    one = _train(kind, True, monkeypatch, threads=1)
    two = _train(kind, True, monkeypatch, threads=2)
    assert one[0] == two[0]
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one[1], two[1]))


def test_one_compiled_sequence_from_several_threads(cache_dir, monkeypatch):
    """The drivers keep no state between calls; pooled workspaces go to one caller."""
    monkeypatch.setattr(settings, "jit", True)
    cases = [_sequence_case("lstm", seed % 2 == 1, True, "float32", "tanh", "sigmoid",
                            seed=seed) for seed in range(4)]
    wanted = [[np.asarray(r) for r in f(*arguments)] for f, arguments in cases]
    compiled = [(tf.function(f), arguments) for f, arguments in cases]
    for fn, arguments in compiled:
        fn(*arguments)  # compile (and load the kernels) before the race
    failures = []

    def run(index):
        fn, arguments = compiled[index]
        for _ in range(20):
            got = [np.asarray(r) for r in fn(*arguments)]
            for want, value in zip(wanted[index], got):
                if not np.allclose(value, want, **TOLERANCE["float32"]):
                    failures.append(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
