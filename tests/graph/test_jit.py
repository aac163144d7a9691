"""Numba kernels for fused nodes (``graph/jit``): same answers, the switch, the disk cache.

Values are compared with the NumPy path (the same function compiled with kernels
off) and with eager execution; tests needing Numba skip without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.config import settings
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import jit
from neuroflow.graph.jit import cache, kernels, lowering

needs_numba = pytest.mark.skipif(not jit.numba_installed(), reason="Numba is not installed")
TOLERANCE = {"float32": dict(rtol=2e-6, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}


@pytest.fixture
def jit_on(monkeypatch, tmp_path):
    """Kernels on, cached in a fresh folder."""
    monkeypatch.setattr(settings, "jit", True)
    monkeypatch.setattr(settings, "jit_cache_dir", tmp_path / "jit")
    return tmp_path / "jit"


def _python(code: str, **env) -> str:
    environment = {**os.environ, **env}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environment, timeout=120, check=True)
    return done.stdout.strip().splitlines()[-1]


def _run_both(fn, *args, monkeypatch):
    """``fn``'s results compiled with kernels off and on, and its source with them on."""
    results = {}
    for on in (False, True):
        monkeypatch.setattr(settings, "jit", on)
        compiled = tf.function(fn)
        results[on] = [np.asarray(r) for r in tf.nest.flatten(compiled(*args))]
        if on:
            source = compiled.source
    return results[False], results[True], source


def _assert_close(numpy_path, jit_path, dtype="float32"):
    assert len(numpy_path) == len(jit_path)
    for want, got in zip(numpy_path, jit_path):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


# --- the switch ------------------------------------------------------------------------------


def test_importing_neuroflow_does_not_import_numba():
    assert _python("import sys, neuroflow; print('numba' in sys.modules)") == "False"


def test_neuroflow_jit_0_switches_kernels_off():
    code = ("from neuroflow.config import settings; from neuroflow.graph import jit; "
            "print(settings.jit, jit.new_lowering())")
    assert _python(code, NEUROFLOW_JIT="0") == "False None"
    on = _python(code, NEUROFLOW_JIT="1")
    assert on.startswith("True <neuroflow.graph.jit.lowering.JitLowering" if
                         jit.numba_installed() else "True None"), on


def test_without_numba_nothing_changes(monkeypatch):
    monkeypatch.setattr(settings, "jit", False)

    @tf.function
    def f(x):
        return tf.exp(x) * 2.0 + 1.0

    f(tf.ones([4, 3]))
    assert "J0(" not in f.source and "numba" not in f.source


# --- same answers ------------------------------------------------------------------------------


def _chains(x, row, col, s, z):
    return [tf.exp(x) * 2.0 - row, tf.nn.relu(x * col + s) / (tf.abs(row) + 1.0),
            tf.tanh(tf.sqrt(tf.abs(x)) - s * s), tf.maximum(x, z) * tf.minimum(row, 0.5) + 1.0,
            tf.pow(tf.abs(x) + 1.0, s) - tf.math.log1p(tf.abs(col)),
            -tf.sin(x) * tf.cos(row) + tf.square(x)]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_chains_with_broadcasting_agree(jit_on, monkeypatch, dtype):
    rng = np.random.default_rng(0)
    x, row, col, z = (rng.standard_normal(shape).astype(dtype)
                      for shape in [(6, 5), (5,), (6, 1), (6, 5)])
    # A scalar computed in the graph: compiled code holds it as a NumPy scalar.
    s = tf.reduce_mean(tf.constant(rng.standard_normal(3).astype(dtype)))
    args = [tf.constant(a) for a in (x, row, col)] + [s, tf.constant(z)]
    numpy_path, jit_path, source = _run_both(_chains, *args, monkeypatch=monkeypatch)
    _assert_close(numpy_path, jit_path, dtype)
    eager = [np.asarray(r) for r in _chains(*args)]
    _assert_close(eager, jit_path, dtype)
    assert "# fused_elementwise" in source and "J0(" in source
    assert "def k_" in source and "for i0 in range(out.shape[0]):" in source


@needs_numba
def test_nan_and_infinity_propagate_as_in_numpy(jit_on, monkeypatch):
    x = tf.constant(np.array([[np.nan, 1.0, -np.inf], [np.inf, -2.0, 0.0]], np.float32))
    y = tf.constant(np.array([[0.0, np.nan, 3.0], [-np.inf, 5.0, -0.0]], np.float32))

    def f(x, y):
        return tf.maximum(x * 2.0, y) + 1.0, tf.minimum(x, y) / (y - 3.0), tf.nn.relu(x - y) * 2.0

    numpy_path, jit_path, _ = _run_both(f, x, y, monkeypatch=monkeypatch)
    # NaN where NumPy has NaN. (The sign of a zero from maximum(0.0, -0.0) is not
    # specified, by NumPy nor by TensorFlow, so it is not compared.)
    for want, got in zip(numpy_path, jit_path):
        np.testing.assert_array_equal(got, want)


def _mlp_step(seed: int = 0):
    rng = np.random.default_rng(seed)
    w1 = tf.Variable(rng.standard_normal((12, 16)).astype(np.float32) * 0.3)
    b1 = tf.Variable(np.zeros(16, np.float32))
    w2 = tf.Variable(rng.standard_normal((16, 5)).astype(np.float32) * 0.3)
    b2 = tf.Variable(np.zeros(5, np.float32))
    variables = [w1, b1, w2, b2]

    def step(x, labels):
        with tf.GradientTape() as tape:
            hidden = tf.nn.relu(tf.matmul(x, w1) + b1)
            logits = tf.matmul(hidden, w2) + b2
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=labels, logits=logits))
        for v, g in zip(variables, tape.gradient(loss, variables)):
            v.assign_sub(0.1 * g)
        return loss

    return step, variables


def _batches(count: int = 4):
    rng = np.random.default_rng(1)
    return [(tf.constant(rng.standard_normal((8, 12)).astype(np.float32)),
             tf.constant(rng.integers(0, 5, 8))) for _ in range(count)]


@needs_numba
def test_training_step_kernels_agree_with_numpy_and_eager(jit_on, monkeypatch):
    """dense (bias + ReLU), softmax cross-entropy with its gradient, ReLU's gradient."""
    finals = {}
    for mode in ("eager", "numpy", "jit"):
        monkeypatch.setattr(settings, "jit", mode == "jit")
        step, variables = _mlp_step()
        run = step if mode == "eager" else tf.function(step)
        losses = [float(run(*batch)) for batch in _batches()]
        finals[mode] = (losses, [v.numpy() for v in variables])
        if mode == "jit":
            source = run.source
    for mode in ("eager", "numpy"):
        np.testing.assert_allclose(finals["jit"][0], finals[mode][0], rtol=1e-5)
        for got, want in zip(finals["jit"][1], finals[mode][1]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for op in ("# dense", "# sparse_softmax_xent_with_grad", "# relu_grad"):
        line = next(line for line in source.splitlines() if op in line)
        assert "J" in line.split("#")[0], line


@needs_numba
def test_a_label_out_of_range_raises_the_ops_error(jit_on):
    step, _ = _mlp_step()
    run = tf.function(step)
    x, labels = _batches(1)[0]
    run(x, labels)
    bad = tf.constant(np.array([0, 1, 2, 3, 4, 5, 0, 1]))
    with pytest.raises(InvalidArgumentError, match="label value of 5"):
        run(x, bad)


@needs_numba
def test_seeded_runs_are_bitwise_reproducible(jit_on):
    finals = []
    for _ in range(2):
        step, variables = _mlp_step()
        run = tf.function(step)
        losses = [float(run(*batch)) for batch in _batches()]
        finals.append((losses, [v.numpy().tobytes() for v in variables]))
    assert finals[0] == finals[1]


# --- kernel source and the disk cache ----------------------------------------------------------


def test_kernel_source_depends_on_ranks_and_broadcasting_not_sizes():
    steps = (("multiply", (0, 1)), ("add", (-1, 2)))
    one = kernels.elementwise_chain(steps, [(8, 3), (3,), ()], (8, 3), "float32", False)
    same = kernels.elementwise_chain(steps, [(8, 3), (3,), ()], (8, 3), "float32", False)
    column = kernels.elementwise_chain(steps, [(8, 3), (8, 1), ()], (8, 3), "float32", False)
    assert one == same and one.name != column.name
    assert "x1 = a1[i1]" in one.text and "x1 = a1[i0, 0]" in column.text
    parallel = kernels.elementwise_chain(steps, [(8, 3), (3,), ()], (8, 3), "float32", True)
    assert "prange(out.shape[0])" in parallel.text and parallel.name != one.name


@needs_numba
def test_kernels_are_cached_on_disk_by_source(jit_on, monkeypatch):
    monkeypatch.setattr(cache, "_loaded", {})  # forget kernels this process loaded
    kernel = kernels.relu_grad(2, "float32", False)
    cache.load(kernel)(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32),
                       np.empty((2, 2), np.float32))
    path = jit_on / f"{kernel.name}.py"
    assert path.read_text() == cache.file_text(kernel)
    assert any(p.suffix == ".nbi" for p in (jit_on / "__pycache__").iterdir())


@needs_numba
@pytest.mark.slow
def test_a_new_process_loads_the_compiled_kernels(tmp_path):
    """The first process compiles (cache misses); the next one loads the machine code."""
    code = """if True:
        import json, numpy as np, neuroflow as tf
        from neuroflow.graph.jit import cache
        @tf.function
        def f(x):
            return tf.nn.relu(x * 2.0 - 1.0) + 0.5
        f(tf.ones([4, 3]))
        stats = [d.stats for d in cache._loaded.values()]
        print(json.dumps([sum(s.cache_hits.values()) for s in stats] +
                         [sum(s.cache_misses.values()) for s in stats]))
    """
    env = {"NEUROFLOW_HOME": str(tmp_path), "NEUROFLOW_JIT": "1"}
    cold = json.loads(_python(code, **env))
    warm = json.loads(_python(code, **env))
    assert cold == [0, 1] and warm == [1, 0]


@needs_numba
@pytest.mark.slow
def test_thread_count_does_not_change_results(jit_on, monkeypatch):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((64, 7)).astype(np.float32)
    labels = rng.integers(0, 7, 64)
    results = []
    for parallel in (False, True):
        kernel = cache.load(kernels.softmax_xent_with_grad("float32", parallel))
        results.append([r.tobytes() for r in
                        lowering.xent_with_grad(kernel, logits, labels)])
        bad = labels.copy()
        bad[[5, 40]] = [7, -1]  # counted across the threads' rows, then the op's error
        with pytest.raises(InvalidArgumentError, match="label value of 7"):
            lowering.xent_with_grad(kernel, logits, bad)
    assert results[0] == results[1]


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_argmax_of_softmax_agrees_with_the_fused_op(jit_on, monkeypatch, dtype):
    """Ties (the first maximum), -inf, and rows spoiled by NaN or +inf (0, TF's rule)."""
    from neuroflow.graph.fused_ops import ARGMAX_OF_SOFTMAX

    z = np.random.default_rng(4).standard_normal((9, 5)).astype(dtype)
    z[1] = [1, 3, 3, 0, 3]
    z[2] = -np.inf
    z[3, 2] = np.nan
    z[4, 4] = np.inf
    z[5, 0] = np.nan
    z[6, :2] = -np.inf
    for parallel in (False, True):
        kernel = cache.load(kernels.argmax_of_softmax(parallel))
        for output_type in (np.int64, np.int32):
            got = np.empty(9, output_type)
            kernel(z, got)
            want = ARGMAX_OF_SOFTMAX.forward(np, z, axis=1, output_type=np.dtype(output_type))
            np.testing.assert_array_equal(got, want)
    assert list(want[1:6]) == [1, 0, 0, 0, 0]

    def accuracy(logits, labels):
        predicted = tf.argmax(tf.nn.softmax(logits), axis=-1)
        return tf.reduce_mean(tf.cast(tf.equal(predicted, labels), tf.float32))

    labels = tf.constant(np.arange(9) % 5)
    numpy_path, jit_path, source = _run_both(accuracy, tf.constant(z), labels,
                                             monkeypatch=monkeypatch)
    _assert_close(numpy_path, jit_path)
    line = next(line for line in source.splitlines() if "# argmax_of_softmax" in line)
    assert "J" in line.split("#")[0], line


@needs_numba
@pytest.mark.parametrize("size, strides, padding", [
    (2, 2, "VALID"), (2, 2, "SAME"), (3, 3, "SAME"), (3, 3, "VALID"), (3, 2, "SAME"),
    (3, 1, "VALID"), ((2, 3), (1, 2), "SAME"), ((2, 3), (2, 3), "VALID")])
def test_max_pooling_and_its_gradient_agree(jit_on, monkeypatch, size, strides, padding):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    x[0, 1, 1, 0] = x[0, 1, 2, 0] = 5.0  # a tie: the first position wins
    x[1, 2, 3, 1] = np.nan
    x[0, :2, :3, 2] = -np.inf  # windows of -inf only; with padding before, padding wins
    g = rng.standard_normal((2, *np.shape(tf.nn.max_pool2d(x, size, strides, padding))[1:3],
                             3)).astype(np.float32)

    def f(x, g):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.max_pool2d(x, size, strides, padding)
        return y, tape.gradient(y, x, output_gradients=g)

    numpy_path, jit_path, source = _run_both(f, tf.constant(x), tf.constant(g),
                                             monkeypatch=monkeypatch)
    for want, got in zip(numpy_path, jit_path):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)  # NaN where NumPy's
    calls = {op: "J" in line.split("#")[0] for line in source.splitlines()
             for op in ("max_pool", "max_pool_grad") if f"# {op} @" in line}
    assert calls == {"max_pool": True, "max_pool_grad": True}
    # The gradient reads the positions the pooling saved, not its input and output.
    grad_line = next(line for line in source.splitlines() if "# max_pool_grad @" in line)
    assert "_at, " in grad_line, grad_line


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("size, strides, pads", [
    ((2, 2), (2, 2), ((0, 0), (0, 0))), ((2, 2), (2, 2), ((0, 1), (0, 1))),
    ((3, 3), (3, 3), ((1, 1), (1, 1))), ((3, 3), (2, 2), ((1, 1), (0, 1))),
    ((3, 3), (1, 1), ((0, 0), (0, 0))), ((2, 3), (1, 2), ((1, 0), (1, 1)))])
def test_pooling_with_saved_positions_matches_finding_them_again(jit_on, dtype, parallel,
                                                                 size, strides, pads):
    """The saved-positions kernels give the maxima and gradients of the kernels that find
    each window's maximum again, bit for bit, and the NumPy primitives' values (their bits
    where windows tile the input): ties
    (the first wins), NaN, -inf, signed zeros, and windows whose maximum is padding."""
    from neuroflow.ops import convolution as primitives

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 8, 7, 5)).astype(dtype)
    x[0, 1, 1, 0] = x[0, 1, 2, 0] = x[0, 2, 1, 0] = 4.0  # ties
    x[1, 2, 3, 1] = np.nan
    x[1, 4, 4, 1] = x[1, 4, 5, 1] = np.nan
    x[0, :3, :3, 2] = -np.inf  # maxima of -inf: at padding where a window has some
    x[2, :, :, 3] = np.where(rng.random((8, 7)) < 0.5, 0.0, -0.0)  # only signed zeros
    x[2, 5:, 5:, 4] = np.inf
    attrs = dict(kernel=size, strides=strides, pads=pads)
    y = primitives._max_pool.forward(np, x, **attrs)
    g = rng.standard_normal(y.shape).astype(dtype)
    want = primitives._max_pool_grad.forward(np, x, y, g, **attrs)
    sizes = (*size, *strides, pads[0][0], pads[1][0])
    tiled = strides == size

    pooled, at = np.empty_like(y), np.empty(y.shape, kernels.index_dtype(dtype))
    cache.load(kernels.max_pool_with_index(dtype, parallel))(x, pooled, at, *sizes)
    maxima = np.empty_like(y)
    cache.load(kernels.max_pool(dtype, parallel))(x, maxima, *sizes)
    bits = f"u{x.itemsize}"  # the same signs of zero as the kernel without positions
    np.testing.assert_array_equal(pooled.view(bits), maxima.view(bits))
    np.testing.assert_array_equal(pooled, y)
    from_index = np.full_like(x, 7.0)  # every position must be written
    cache.load(kernels.max_pool_grad_from_index(dtype, parallel, tiled))(
        at, g, from_index, *sizes)
    search = kernels.max_pool_grad_tiled if tiled else kernels.max_pool_grad
    searched = np.full_like(x, 7.0)
    cache.load(search(dtype, parallel))(x, y, g, searched, *sizes)
    np.testing.assert_array_equal(from_index, searched)
    if tiled:
        np.testing.assert_array_equal(from_index, want)
    else:  # overlapping windows: NumPy adds the shares in another order
        np.testing.assert_allclose(from_index, want, **TOLERANCE[dtype])


@needs_numba
def test_an_unwritable_cache_leaves_the_numpy_path(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(settings, "jit", True)
    monkeypatch.setattr(settings, "jit_cache_dir", blocker / "jit")  # under a file
    monkeypatch.setattr(cache, "_loaded", {})

    @tf.function
    def f(x):
        return tf.exp(x) * 3.0 - 1.0

    x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
    with pytest.warns(RuntimeWarning, match="cannot write the kernel cache"):
        result = f(x)
    np.testing.assert_allclose(result.numpy(), np.exp(x.numpy()) * 3.0 - 1.0, rtol=1e-6)
    assert "J0(" not in f.source


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("strides, padding, dilations", [
    (1, "VALID", 1), (1, "SAME", 1), (2, "SAME", 1), ((2, 1), "VALID", 1), (1, "SAME", 2),
    (3, "VALID", 1)])
def test_convolution_input_gradient_agrees(jit_on, monkeypatch, dtype, strides, padding,
                                           dilations):
    """col2im as a kernel: the same shares summed in the same order as the primitive's."""
    rng = np.random.default_rng(5)
    x = tf.constant(rng.standard_normal((3, 9, 8, 12)).astype(dtype))
    w = tf.constant(rng.standard_normal((3, 2, 12, 5)).astype(dtype))

    def f(x, w):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, w, strides, padding, dilations=dilations)
        return tape.gradient(y, x, output_gradients=tf.sin(y))

    numpy_path, jit_path, source = _run_both(f, x, w, monkeypatch=monkeypatch)
    assert any("# conv_input_grad @" in line and "C0(" in line for line in source.splitlines())
    np.testing.assert_allclose(jit_path[0], numpy_path[0], **TOLERANCE[dtype])
    eager = np.asarray(f(x, w))
    np.testing.assert_allclose(jit_path[0], eager, **TOLERANCE[dtype])


@needs_numba
def test_few_channels_keep_the_primitives_col2im(jit_on, monkeypatch):
    x = tf.constant(np.ones((2, 6, 6, 3), np.float32))
    w = tf.constant(np.ones((3, 3, 3, 4), np.float32))

    def f(x, w):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, w, 1, "SAME")
        return tape.gradient(y, x)

    numpy_path, jit_path, source = _run_both(f, x, w, monkeypatch=monkeypatch)
    assert not any("# conv_input_grad @" in line and "C0(" in line
                   for line in source.splitlines())
    np.testing.assert_array_equal(jit_path[0], numpy_path[0])


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_column_sums_in_the_kernel_give_numpys_bits(jit_on, monkeypatch, dtype):
    """A bias gradient (``reduce_sum(g, axis=0)``) of a ReLU gradient, a fused chain and
    one product, summed by their kernels as they write; the sums keep NumPy's bits."""
    rng = np.random.default_rng(5)
    g, a = (tf.constant(rng.standard_normal((33, 7)).astype(dtype)) for _ in range(2))
    scale = tf.constant(np.asarray(0.3, dtype))

    def bias_gradients(g, a, scale):
        relu = tf.where(a > 0, g, tf.zeros_like(g))
        with tf.GradientTape() as tape:
            tape.watch(a)
            y = tf.nn.relu(a)
        (through_relu,) = tape.gradient(y, [a], output_gradients=g)
        chain = (g * scale + a) * a
        product = g * scale
        return [tf.reduce_sum(v, axis=0) for v in (through_relu, chain, product)] + [
            relu, chain]

    numpy_path, jit_path, source = _run_both(bias_gradients, g, a, scale,
                                             monkeypatch=monkeypatch)
    for want, got in zip(numpy_path, jit_path):
        np.testing.assert_array_equal(got, want)
    assert source.count("pass  # reduce_sum") == 3, source
    monkeypatch.setattr(settings, "jit_threads", 2)  # parallel rows: NumPy sums
    _, parallel_path, source = _run_both(bias_gradients, g, a, scale, monkeypatch=monkeypatch)
    assert "pass  # reduce_sum" not in source
    for want, got in zip(numpy_path, parallel_path):
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype])


@needs_numba
def test_a_variable_whose_shape_may_change_stays_with_numpy(jit_on):
    """Declared with an unknown dimension, a variable may be given another shape after
    tracing; kernels sized by the plan would read short of it, where NumPy raises."""
    v = tf.Variable(np.ones(3, np.float32), shape=tf.TensorShape([None]))
    m = tf.Variable(np.ones(3, np.float32), shape=tf.TensorShape([None]))

    @tf.function
    def step(g):
        m.assign_add(g * 2.0)
        v.assign_sub(g * 0.5)
        return tf.exp(v * 2.0 + g)

    step(tf.ones(3))
    assert "J" not in step.source.split("\n\n\n")[0]
    v.assign(np.ones(5, np.float32))
    m.assign(np.ones(5, np.float32))
    with pytest.raises(InvalidArgumentError):
        step(tf.ones(3))
