"""Graph mode never gives a silently wrong answer: values are never frozen at trace time,
unknown sizes trace once, compiled code is re-entrant, caches are bounded, and no
outside text becomes code."""

from __future__ import annotations

import ast
import gc
import linecache
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.abstract import Dim, SymbolicValueError
from neuroflow.config import settings
from neuroflow.ops.registry import Primitive

# --- values are never frozen ----------------------------------------------------------------


def test_range_of_a_tensor_follows_the_tensor():
    f = tf.function(lambda n: tf.range(n))
    assert f(tf.constant(3)).numpy().tolist() == [0, 1, 2]
    assert f(tf.constant(5)).numpy().tolist() == [0, 1, 2, 3, 4]
    assert f.experimental_get_tracing_count() == 1


def test_fill_linspace_and_real_follow_their_tensor_arguments():
    fill = tf.function(lambda x: tf.fill([2], x))
    assert fill(tf.constant(1.5)).numpy().tolist() == [1.5, 1.5]
    assert fill(tf.constant(-2.0)).numpy().tolist() == [-2.0, -2.0]
    space = tf.function(lambda a, b: tf.linspace(a, b, 3))
    assert space(tf.constant(0.0), tf.constant(1.0)).numpy().tolist() == [0.0, 0.5, 1.0]
    assert space(tf.constant(2.0), tf.constant(4.0)).numpy().tolist() == [2.0, 3.0, 4.0]
    real = tf.function(lambda z: tf.math.real(z))
    assert real(tf.constant([1 + 2j])).numpy().tolist() == [1.0]
    assert real(tf.constant([3 - 1j])).numpy().tolist() == [3.0]


def _uses_numpy(x):
    return tf.constant(np.asarray(x) * 2)  # the line the error must name


@pytest.mark.parametrize("read", [np.asarray, float, int, bool, lambda x: x.numpy(),
                                  lambda x: x.__array__(), lambda x: f"{x:.2f}"])
def test_reading_a_traced_value_raises_naming_the_users_line(read):
    f = tf.function(lambda x: read(x))
    with pytest.raises(SymbolicValueError, match=r"test_soundness\.py:\d+"):
        f(tf.constant([1.0]))


def test_len_of_an_unknown_size_raises_and_iteration_over_a_known_one_works():
    unknown = tf.function(lambda x: len(x), input_signature=[tf.TensorSpec([None])])
    with pytest.raises(SymbolicValueError, match="tf.shape"):
        unknown(tf.ones([3]))
    rows = tf.function(lambda x: [row * 2.0 for row in x])
    assert [r.numpy().tolist() for r in rows(tf.ones([2, 1]))] == [[2.0], [2.0]]


def test_numpy_on_a_traced_tensor_says_what_to_do_instead():
    with pytest.raises(SymbolicValueError, match="NumPy cannot see inside"):
        tf.function(_uses_numpy)(tf.constant([1.0]))


def test_executing_eagerly_and_inside_function():
    seen = []

    @tf.function
    def f(x):
        seen.append((tf.executing_eagerly(), tf.inside_function()))
        return x + 1.0

    f(tf.constant(1.0))
    assert seen == [(False, True)]
    assert tf.executing_eagerly() and not tf.inside_function()


# --- unknown sizes trace once -----------------------------------------------------------------


def test_input_signature_with_none_runs_the_python_body_once():
    runs = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def f(x):
        runs.append(1)
        return tf.reduce_sum(x * 2.0, axis=1)

    for rows in (1, 2, 7, 2, 30):
        x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        np.testing.assert_allclose(f(x).numpy(), (x * 2).sum(axis=1))
    assert len(runs) == 1 and f.experimental_get_tracing_count() == 1
    graph = f.get_concrete_function(tf.ones([4, 3])).graph
    assert isinstance(graph.inputs[0].shape[0], Dim)
    assert "f32[d" in str(graph)  # the unknown size prints by its name


def test_a_traced_tensor_shows_none_for_an_unknown_size():
    shapes = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def f(x):
        shapes.append(x.shape)
        return x

    f(tf.ones([2, 3]))
    assert shapes[0].as_list() == [None, 3]


def test_gradients_with_an_unknown_batch_match_eager():
    w = tf.Variable(np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2))
    b = tf.Variable(np.array([0.5, -0.5], np.float32))

    def loss_and_grads(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b))
        return loss, tape.gradient(loss, [w, b])

    compiled = tf.function(loss_and_grads, input_signature=[tf.TensorSpec([None, 3])])
    rng = np.random.default_rng(0)
    for rows in (1, 5, 2):
        x = rng.normal(size=(rows, 3)).astype(np.float32)
        want_loss, want = loss_and_grads(tf.constant(x))
        got_loss, got = compiled(x)
        np.testing.assert_allclose(got_loss.numpy(), want_loss.numpy(), rtol=1e-6)
        for g, e in zip(got, want):
            np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-5, atol=1e-7)
    assert compiled.experimental_get_tracing_count() == 1


def test_broadcast_of_two_unknown_sizes_is_decided_per_call():
    @tf.function(input_signature=[tf.TensorSpec([None]), tf.TensorSpec([None])])
    def f(x, y):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = tf.reduce_sum(x * y)
        return z, tape.gradient(z, x)

    z, g = f(np.array([2.0], np.float32), np.array([1.0, 2.0, 3.0], np.float32))
    assert float(z) == 12.0 and g.numpy().tolist() == [6.0]  # x was broadcast: summed back
    z, g = f(np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32))
    assert float(z) == 11.0 and g.numpy().tolist() == [3.0, 4.0]
    with pytest.raises(ValueError, match="broadcast"):
        f(np.ones(2, np.float32), np.ones(3, np.float32))


def test_reduce_retracing_relaxes_the_sizes_that_changed():
    runs = []

    @tf.function(reduce_retracing=True)
    def f(x):
        runs.append(x.shape.as_list())
        return x * 2.0

    for n in (2, 3, 4, 5):
        assert f(tf.ones([n, 4])).shape == (n, 4)
    assert runs == [[2, 4], [None, 4]]


# --- re-entrant compiled code ---------------------------------------------------------------


def _run_threads(work, count: int) -> list:
    errors: list = []

    def guarded(index):
        try:
            work(index)
        except Exception as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_many_threads_calling_one_function_get_single_threaded_results():
    w = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    @tf.function(input_signature=[tf.TensorSpec([None, 4])])
    def f(x):
        h = tf.nn.relu(tf.matmul(x, w) * 2.0 + 1.0)
        return tf.reduce_sum(h * h, axis=1) - 3.0

    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(n, 4)).astype(np.float32) for n in (1, 3, 8, 32, 5)]
    expected = [f(x).numpy() for x in inputs]
    wrong = []

    def work(index):
        for call in range(200):
            k = (index + call) % len(inputs)
            if not np.array_equal(f(inputs[k]).numpy(), expected[k]):
                wrong.append((index, call))

    assert _run_threads(work, 8) == []
    assert wrong == []


# --- bounded caches ---------------------------------------------------------------------------


def test_trace_cache_is_bounded_and_warns_once(monkeypatch):
    monkeypatch.setattr(settings, "function_cache_size", 8)
    f = tf.function(lambda x: x * 2.0 + 1.0)
    before = len(linecache.cache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 60):
            f(tf.ones([n]))
    assert len(f._concrete) <= 8
    assert len(linecache.cache) - before <= 8
    assert sum("traced" in str(w.message) for w in caught) == 1


def test_memory_stays_flat_over_a_thousand_shapes():
    f = tf.function(lambda x: tf.reduce_sum(tf.exp(x) * 3.0 + x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the retrace warning: this test retraces on purpose
        for n in range(1, 101):
            f(tf.ones([n]))
        gc.collect()
        tracemalloc.start()
        for n in range(101, 1101):
            f(tf.ones([n]))
    gc.collect()
    grown, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert grown < 8_000_000, f"{grown} bytes kept after 1,000 new shapes"


# --- no outside text becomes code --------------------------------------------------------------


@pytest.mark.parametrize("name", ["a\nimport os", "x'); print('pwned", "9 lives", "ünï",
                                  "", "def", "a b\\\n c", "c1", "np", "V0"])
def test_crafted_function_names_never_reach_code(name):
    def fn(x):
        return x + 1.0

    fn.__name__ = name
    f = tf.function(fn)
    assert f(tf.constant(1.0)).numpy() == 2.0
    tree = ast.parse(f.source)  # plain, valid code: one function, one node, one return
    (function,) = tree.body
    assert isinstance(function, ast.FunctionDef) and function.name.isidentifier()
    assert [type(s) for s in function.body] == [ast.Assign, ast.Return]
    assert function.name not in ("c1", "np", "V0")  # never shadows the module's names


def test_a_crafted_file_name_stays_inside_a_comment():
    namespace: dict = {"tf": tf}
    code = compile("def fn(x):\n    return x * 3.0\n", "evil\nimport os\n'''.py", "exec")
    exec(code, namespace)
    f = tf.function(namespace["fn"])
    assert f(tf.constant(2.0)).numpy() == 6.0
    (function,) = ast.parse(f.source).body
    assert [type(s) for s in function.body] == [ast.Assign, ast.Return]
    assert "evil\\nimport os" in f.source  # the file name, escaped, inside the comment


def test_primitive_names_must_be_identifiers():
    with pytest.raises(ValueError, match="identifier"):
        Primitive("bad name; import os", lambda xp, x: x)


# --- sizes only known when the graph runs, through the passes ------------------------------


def _masked_sum_gradient(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(tf.boolean_mask(x, x > 2.0))
    return tape.gradient(y, x)


@pytest.mark.parametrize("fn", [
    _masked_sum_gradient,
    # The same mask twice: CSE merges the two, the size is read from the one kept.
    lambda x: tf.reduce_sum(tf.boolean_mask(x, x > 2.0)) * tf.ones_like(
        tf.boolean_mask(x, x > 2.0)),
    # Only the size of the masked values is used: DCE must keep what gives it.
    lambda x: tf.ones_like(tf.boolean_mask(x, x > 2.0)) * 3.0,
], ids=["gradient-of-sum", "merged-by-cse", "kept-by-dce"])
def test_sizes_known_only_at_run_time_survive_folding_cse_and_dce(fn):
    compiled = tf.function(fn)
    for values in ([1.0, 3.0, 4.0], [5.0, 3.0, 4.0, 0.0, 9.0], [0.0, 1.0]):
        x = tf.constant(values)
        np.testing.assert_array_equal(compiled(x).numpy(), fn(x).numpy())


def test_compiled_code_gives_inf_and_nan_silently_as_eager_code_does():
    def fn(x):
        return tf.math.log(x), tf.sqrt(x), 1.0 / x, tf.exp(x * 1000.0)

    x = tf.constant([0.0, -1.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = tf.function(fn)(x)
        eager = fn(x)
    for got, want in zip(compiled, eager):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
