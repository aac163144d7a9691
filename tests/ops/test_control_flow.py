"""tf.cond and tf.while_loop: eager, traced and compiled, interpreted, from threads, and
their gradients (against the eager run, which is plain Python, and finite differences).

The control-flow primitives exist only in traces, so their forward and gradient cases
live here rather than in the FORWARD/GRADIENTS tables (see COVERED_ELSEWHERE).
"""

from __future__ import annotations

import gc
import linecache
import threading

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.errors import InvalidArgumentError, UnimplementedError

FORWARD: dict = {}
GRADIENTS: dict = {}


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# --- tf.cond ----------------------------------------------------------------------------


def _piecewise(x, t):
    return tf.cond(tf.reduce_mean(x) > t, lambda: x * x + t, lambda: tf.sin(x) * t)


def test_cond_eager_calls_the_branch_python_picks():
    assert tf.cond(True, lambda: "yes", lambda: "no") == "yes"
    assert tf.cond(tf.constant(False), lambda: "yes", lambda: "no") == "no"
    assert tf.cond(tf.constant(2), lambda: "yes", lambda: "no") == "yes"  # truth value


@pytest.mark.parametrize("t", [-5.0, 5.0])
def test_cond_compiled_follows_the_predicate_of_each_call(t):
    f = tf.function(_piecewise)
    rng = np.random.default_rng(0)
    for n in (3, 3, 5):
        x = tf.constant(rng.normal(size=(n, 2)).astype(np.float32))
        _close(f(x, tf.constant(t)), _piecewise(x, tf.constant(t)))
    assert f.experimental_get_tracing_count() == 2  # one per input shape, both branches each
    assert "cond" in f.source


def test_cond_takes_each_branch_in_one_trace():
    f = tf.function(lambda x: tf.cond(x > 0, lambda: x * 2.0, lambda: -x))
    assert float(f(tf.constant(3.0))) == 6.0
    assert float(f(tf.constant(-4.0))) == 4.0
    assert f.experimental_get_tracing_count() == 1


def test_cond_structures_numbers_and_shapes_that_differ():
    @tf.function
    def f(x):
        return tf.cond(x[0] > 0,
                       lambda: {"a": tf.reduce_sum(x, keepdims=True), "b": (x, 1.0)},
                       lambda: {"a": x[:2], "b": (-x, 2.0)})

    pos, neg = f(tf.constant([1.0, 2.0, 3.0])), f(tf.constant([-1.0, 2.0, 3.0]))
    _close(pos["a"], [6.0])
    _close(neg["a"], [-1.0, 2.0])
    _close(pos["b"][0], [1.0, 2.0, 3.0])
    _close(neg["b"][0], [1.0, -2.0, -3.0])
    assert float(pos["b"][1]) == 1.0 and float(neg["b"][1]) == 2.0
    assert pos["b"][1].dtype == tf.float32


def test_cond_one_element_predicate():
    f = tf.function(lambda x: tf.cond(x > 0, lambda: 1.0, lambda: 2.0))
    assert float(f(tf.constant([1.0]))) == 1.0
    assert float(f(tf.constant([-1.0]))) == 2.0


@pytest.mark.parametrize("fn, error, match", [
    (lambda x: tf.cond(x > 0, lambda: x, lambda: tf.cast(x, tf.int32)), TypeError, "dtypes"),
    (lambda x: tf.cond(x > 0, lambda: (x, x), lambda: x), ValueError, "structure"),
    (lambda x: tf.cond(tf.cast(x, tf.int32), lambda: x, lambda: x), InvalidArgumentError,
     "bool"),
    (lambda x: tf.cond(tf.stack([x, x]) > 0, lambda: x, lambda: x), ValueError, "scalar"),
    (lambda x: tf.cond(x > 0, lambda: x, None), TypeError, "false_fn"),
    (lambda x: tf.cond(x > 0, lambda: x, "not callable"), TypeError, "callable"),
    (lambda x: tf.cond(x > 0, lambda: (x, None), lambda: (x, None)), ValueError, "None"),
    (lambda x: tf.cond(x > 0, lambda: x, lambda: tf.stack([x])), ValueError, "ranks"),
])
def test_cond_errors(fn, error, match):
    with pytest.raises(error, match=match):
        tf.function(fn)(tf.constant(1.0))


def test_cond_gradients_match_eager():
    v = tf.Variable([0.5, -1.5])

    def loss(x, t):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cond(tf.reduce_sum(x) > t, lambda: tf.reduce_sum(x * x * v),
                        lambda: tf.reduce_sum(tf.exp(x) + v))
        return y, tape.gradient(y, [x, v])

    compiled = tf.function(loss)
    for t in (-10.0, 10.0):
        x, th = tf.constant([1.0, 2.0]), tf.constant(t)
        got, want = compiled(x, th), loss(x, th)
        _close(got[0], want[0])
        for g, w in zip(got[1], want[1]):
            _close(g, w)


def test_cond_second_derivative():
    def second(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = tf.cond(x > 0, lambda: x ** 3, lambda: tf.sin(x))
            dy = inner.gradient(y, x)
        return outer.gradient(dy, x)

    compiled = tf.function(second)
    for value in (2.0, -1.0):
        x = tf.constant(value)
        _close(compiled(x), second(x))
    _close(compiled(tf.constant(2.0)), 12.0)


def test_nested_control_flow():
    def f(x, n):
        def body(i, y):
            return i + 1, tf.cond(tf.reduce_sum(y) > 1.0, lambda: y * 0.5,
                                  lambda: tf.cond(i > 1, lambda: y + 1.0, lambda: y * 3.0))
        return tf.cond(n > 0, lambda: tf.while_loop(lambda i, y: i < n, body, (0, x))[1],
                       lambda: -x)

    compiled = tf.function(f)
    for n in (0, 1, 4, 7):
        x, k = tf.constant([0.1, 0.2]), tf.constant(n)
        _close(compiled(x, k), f(x, k))


# --- tf.switch_case --------------------------------------------------------------------

_BRANCHES = [lambda: tf.constant(10), lambda: tf.constant(20), lambda: tf.constant(30)]


@pytest.mark.parametrize("index", [-1, 0, 1, 2, 3, 7])
def test_switch_case_eager_and_compiled(index):
    expected = 10 * (index + 1) if 0 <= index < 3 else 30  # the last branch by default
    with_default = expected if 0 <= index < 3 else -1
    f = tf.function(lambda k: tf.switch_case(k, _BRANCHES))
    g = tf.function(lambda k: tf.switch_case(k, _BRANCHES, default=lambda: tf.constant(-1)))
    assert int(tf.switch_case(tf.constant(index), _BRANCHES)) == expected
    assert int(f(tf.constant(index))) == expected
    assert int(g(tf.constant(index, tf.int64))) == with_default


def test_switch_case_branch_forms_and_gradient():
    pairs = [(1, lambda: tf.constant(2)), (0, lambda: tf.constant(1))]
    assert int(tf.switch_case(tf.constant(0), pairs)) == 1
    assert int(tf.switch_case(tf.constant(1), dict(pairs))) == 2

    def grad(x, k):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.switch_case(k, [lambda: x * x, lambda: tf.sin(x), lambda: 3.0 * x])
        return tape.gradient(y, x)

    for k in range(4):
        _close(tf.function(grad)(tf.constant(0.5), tf.constant(k)),
               grad(tf.constant(0.5), tf.constant(k)))


@pytest.mark.parametrize("args, error, match", [
    ((1, _BRANCHES), TypeError, "must be a Tensor"),
    ((tf.constant(1.0), _BRANCHES), TypeError, "integer"),
    ((tf.constant(1), {0: _BRANCHES[0], 2: _BRANCHES[1]}), ValueError, "contiguous"),
    ((tf.constant(1), []), ValueError, "empty"),
    ((tf.constant(1), "branches"), TypeError, "list"),
    ((tf.constant(1), [1, 2]), TypeError, "callables"),
    ((tf.constant(1), _BRANCHES, 5), TypeError, "default"),
])
def test_switch_case_errors(args, error, match):
    with pytest.raises(error, match=match):
        tf.switch_case(*args)


# --- tf.while_loop ----------------------------------------------------------------------


def _power(x, n):
    return tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, y * x), (0, tf.ones_like(x)))


def test_while_loop_eager_is_a_python_loop():
    i, y = _power(tf.constant([2.0, 3.0]), tf.constant(3))
    assert int(i) == 3
    _close(y, [8.0, 27.0])
    assert tf.while_loop(lambda i: i < 3, lambda i: i + 1, 0) == 3
    result = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + i), [0, 0])
    assert isinstance(result, list) and [int(r) for r in result] == [3, 3]


def test_while_loop_compiled_counts_from_the_tensor():
    f = tf.function(_power)
    x = tf.constant([2.0, 0.5])
    for n in (0, 1, 5, 2):
        i, y = f(x, tf.constant(n))
        assert int(i) == n
        _close(y, np.asarray([2.0, 0.5]) ** n)
    assert f.experimental_get_tracing_count() == 1
    assert isinstance(f(x, tf.constant(1)), tuple)


def test_while_loop_maximum_iterations_and_unknown_batch():
    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([], tf.int32)])
    def f(x, limit):
        return tf.while_loop(lambda i, y: i < 100, lambda i, y: (i + 1, y + x), (0, x),
                             maximum_iterations=limit)

    for size, limit in ((2, 3), (5, 0), (1, 7)):
        i, y = f(tf.ones([size]), tf.constant(limit))
        assert int(i) == limit
        _close(y, np.full(size, 1.0 + limit))


def test_while_loop_shape_invariants_let_a_size_grow():
    def f(x):
        return tf.while_loop(lambda a: tf.size(a) < 5, lambda a: tf.concat([a, a], 0), [x],
                             shape_invariants=[tf.TensorShape([None])])

    _close(tf.function(f)(tf.constant([1.0]))[0], np.ones(8))
    with pytest.raises(ValueError, match="shape_invariants"):
        tf.function(lambda x: tf.while_loop(lambda a: tf.size(a) < 5,
                                            lambda a: tf.concat([a, a], 0), [x]))(
            tf.constant([1.0]))


@pytest.mark.parametrize("fn, error, match", [
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32), [x]),
     TypeError, "dtype"),
    (lambda x: tf.while_loop(lambda i: i, lambda i: i - 1, [x]), InvalidArgumentError, "bool"),
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: (i, i), [x]), ValueError, "structure"),
    (lambda x: tf.while_loop(lambda: True, lambda: (), []), ValueError, "empty"),
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: i + 1, [x], parallel_iterations=0),
     ValueError, "parallel_iterations"),
    (lambda x: tf.while_loop(lambda i: i < 3, None, [x]), TypeError, "callable"),
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: i + 1, [x], maximum_iterations=2.5),
     ValueError, "maximum_iterations"),
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: i + 1, [x], shape_invariants=[[2]]),
     ValueError, "does not fit"),
    (lambda x: tf.while_loop(lambda i: i < 3, lambda i: i + 1, [x], shape_invariants=[]),
     ValueError, "structure of loop_vars"),
])
def test_while_loop_errors(fn, error, match):
    with pytest.raises(error, match=match):
        tf.function(fn)(tf.constant(0))


def test_while_loop_gradients_match_eager_and_finite_differences():
    w = tf.Variable(0.7, dtype=tf.float64)

    def loss(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            _, y = tf.while_loop(lambda i, y: i < n, lambda i, y: (i + 1, tf.sin(y) * x + w),
                                 (0, x))
            total = tf.reduce_sum(y * y)
        return total, tape.gradient(total, [x, w])

    compiled = tf.function(loss)
    x0 = np.asarray([0.3, -0.8], np.float64)
    for n in (0, 1, 4):
        x, k = tf.constant(x0), tf.constant(n)
        got, want = compiled(x, k), loss(x, k)
        _close(got[0], want[0], 1e-10)
        for g, e in zip(got[1], want[1]):
            # A loop that never ran leaves w unused: None eagerly, zero in the graph (as TF).
            _close(g, 0.0 if e is None else e, 1e-10)
        eps = 1e-6
        for j in range(2):
            bump = np.zeros(2)
            bump[j] = eps
            numeric = (float(loss(tf.constant(x0 + bump), k)[0])
                       - float(loss(tf.constant(x0 - bump), k)[0])) / (2 * eps)
            _close(got[1][0][j], numeric, 1e-5)


def test_while_loop_without_back_prop_gives_no_gradient():
    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.while_loop(lambda i, y: i < 2, lambda i, y: (i + 1, y * x), (0, x),
                              back_prop=False)[1]
        return tape.gradient(y, x, unconnected_gradients="zero")

    _close(f(tf.constant(3.0)), 0.0)


def test_unsupported_gradients_and_assignments_raise():
    @tf.function
    def second(x):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = _power(x, tf.constant(3))[1]
            dy = inner.gradient(y, x)
        return outer.gradient(dy, x)

    with pytest.raises(UnimplementedError, match="Second derivatives"):
        second(tf.constant(2.0))

    @tf.function
    def noisy(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.cond(x > 0, lambda: x * tf.random.uniform([]), lambda: x)
        return tape.gradient(y, x)

    with pytest.raises(UnimplementedError, match="random"):
        noisy(tf.constant(1.0))

    v = tf.Variable(1.0)
    with pytest.raises(UnimplementedError, match="assign"):
        tf.function(lambda x: tf.cond(x, lambda: v.assign_add(1.0), lambda: v))(
            tf.constant(True))
    assert float(v) == 1.0


# --- every form agrees, from several threads --------------------------------------------


def _mixed(x, n):
    def body(i, y):
        return i + 1, tf.cond(tf.reduce_max(y) > 2.0, lambda: y - 1.0, lambda: y * 1.5 + x)
    return tf.while_loop(lambda i, y: i < n, body, (0, x))[1]


def test_interpreter_agrees():
    f = tf.function(_mixed)
    x, n = tf.constant([0.5, 1.0, -0.2]), tf.constant(6)
    concrete = f.get_concrete_function(x, n)
    _close(concrete.interpret(x, n), _mixed(x, n))
    _close(f(x, n), _mixed(x, n))


def test_threads_get_single_threaded_results():
    f = tf.function(_mixed)
    rng = np.random.default_rng(1)
    calls = [(rng.normal(size=rng.integers(1, 5)).astype(np.float32), int(rng.integers(0, 8)))
             for _ in range(64)]
    expected = [np.asarray(_mixed(tf.constant(x), tf.constant(n))) for x, n in calls]
    wrong = []

    def worker(offset):
        for index in range(offset, len(calls), 8):
            x, n = calls[index]
            got = np.asarray(f(tf.constant(x), tf.constant(n)))
            if not np.allclose(got, expected[index], rtol=1e-6):
                wrong.append(index)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_dropping_a_function_frees_the_branch_sources():
    before = {k for k in linecache.cache if "neuroflow-generated cond_" in k}
    f = tf.function(lambda x: tf.cond(x > 0, lambda: x + 1.0, lambda: x - 1.0))
    f(tf.constant(1.0))
    assert {k for k in linecache.cache if "neuroflow-generated cond_" in k} - before
    del f
    gc.collect()
    assert not {k for k in linecache.cache if "neuroflow-generated cond_" in k} - before


COVERED_ELSEWHERE = {
    "cond": test_cond_compiled_follows_the_predicate_of_each_call,
    "while_loop": test_while_loop_compiled_counts_from_the_tensor,
    "while_loop_grad": test_while_loop_gradients_match_eager_and_finite_differences,
}


# --- TensorFlow as the oracle -----------------------------------------------------------


@pytest.mark.tensorflow
def test_switch_case_matches_tensorflow():
    real = pytest.importorskip("tensorflow")

    def program(lib):
        def f(x, k):
            with lib.GradientTape() as tape:
                tape.watch(x)
                y = lib.switch_case(k, [lambda: x * x, lambda: lib.exp(x)],
                                    default=lambda: -x)
            return y, tape.gradient(y, x)
        return lib.function(f)

    ours, theirs = program(tf), program(real)
    for k in (-2, 0, 1, 2):
        got = ours(tf.constant(0.7), tf.constant(k))
        want = theirs(real.constant(0.7), real.constant(k))
        for g, w in zip(got, want):
            _close(g, w.numpy())


@pytest.mark.tensorflow
def test_values_and_gradients_match_tensorflow():
    real = pytest.importorskip("tensorflow")

    def program(lib):
        def f(x, n):
            with lib.GradientTape() as tape:
                tape.watch(x)
                _, y = lib.while_loop(
                    lambda i, y: i < n,
                    lambda i, y: (i + 1, lib.cond(lib.reduce_sum(y) > 0.0,
                                                  lambda: lib.tanh(y) * x,
                                                  lambda: y * y + 0.5)),
                    (lib.constant(0), x))
                total = lib.reduce_sum(y * lib.constant([1.0, -2.0, 3.0]))
            return y, tape.gradient(total, x)
        return lib.function(f)

    ours, theirs = program(tf), program(real)
    rng = np.random.default_rng(3)
    for n in (0, 1, 3, 6):
        x = rng.normal(size=3).astype(np.float32)
        got = ours(tf.constant(x), tf.constant(n))
        want = theirs(real.constant(x), real.constant(n))
        for g, w in zip(got, want):
            _close(g, w.numpy(), 1e-5)
