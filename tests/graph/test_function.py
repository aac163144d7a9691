"""``tf.function``: tracing, the per-signature cache, state, and what the user sees."""

from __future__ import annotations

import gc
import os
import sys
import traceback
import warnings
import weakref

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.errors import InvalidArgumentError
from neuroflow.graph import SymbolicValueError

HERE = os.path.basename(__file__)


def _lineno_of(fn, text: str) -> int:
    """The line number of the first line of ``fn``'s source containing ``text``."""
    import inspect

    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# --- decorator, wrapper, cache ------------------------------------------------------------------


def test_decorator_and_wrapper_forms_compute_the_same():
    def affine(x, w):
        return tf.matmul(x, w) + 1.0

    x, w = tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]])
    decorated = tf.function()(affine)
    wrapped = tf.function(affine)
    signed = tf.function(input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([2, 1])])(
        affine)
    for fn in (decorated, wrapped, signed, tf.function(affine, jit_compile=True)):
        for _ in range(2):
            np.testing.assert_array_equal(fn(x, w).numpy(), [[12.0]])
    assert wrapped.__name__ == "affine"


def test_cache_is_per_shape_dtype_and_python_value():
    traces = []

    @tf.function
    def f(x, n):
        traces.append(1)
        return x * n

    f(tf.ones([2]), 2)
    f(tf.zeros([2]), 2)  # same signature: compiled
    assert f.experimental_get_tracing_count() == 1
    f(tf.ones([3]), 2)  # new shape
    f(tf.ones([3], tf.float64), 2)  # new dtype
    f(tf.ones([3]), 3)  # new Python value
    with pytest.warns(UserWarning, match="traced 5 times"):
        f(tf.ones([3]), 3.0)  # a float is not the int 3
    assert f.experimental_get_tracing_count() == len(traces) == 5
    np.testing.assert_array_equal(f(tf.ones([3]), 3.0).numpy(), [3.0, 3.0, 3.0])


def test_keyword_arguments_bind_to_their_parameters():
    @tf.function
    def f(y, x, scale=1.0):
        return (y - x) * scale

    a, b = tf.constant(1.0), tf.constant(5.0)
    assert f(a, b).numpy() == -4.0
    assert f(x=b, y=a).numpy() == -4.0  # the same signature, bound by name
    assert f(a, x=b, scale=2.0).numpy() == -8.0
    assert f.experimental_get_tracing_count() == 2


def test_input_signature_accepts_any_size_in_a_free_dimension():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def row_sums(x):
        return tf.reduce_sum(x, axis=1) * 2.0

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sizes the signature allows never warn
        for rows in (1, 4, 2, 7, 5, 3, 6):
            x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
            np.testing.assert_allclose(row_sums(tf.constant(x)).numpy(), x.sum(1) * 2)
            np.testing.assert_allclose(row_sums(x).numpy(), x.sum(1) * 2)
    np.testing.assert_allclose(row_sums([[1, 2, 3]]).numpy(), [12.0])  # converted to float32


@pytest.mark.parametrize("bad", [tf.ones([2, 4]), tf.ones([2, 3], tf.float64), tf.ones([3])])
def test_input_signature_mismatch_is_a_type_error_naming_the_argument(bad):
    @tf.function(input_signature=[tf.TensorSpec([None, 3]), tf.TensorSpec([])])
    def f(features, scale):
        return features * scale

    with pytest.raises(TypeError, match="argument 'features'.*TensorSpec"):
        f(bad, tf.constant(2.0))
    with pytest.raises(TypeError, match="2 arguments"):
        f(tf.ones([1, 3]))


def test_retracing_warns_naming_the_argument():
    @tf.function
    def f(x, steps):
        return x * steps

    with pytest.warns(UserWarning, match="argument 'steps' .*Python int 3 -> Python int 4") \
            as record:
        for steps in range(5):
            f(tf.ones([2]), steps)
    assert {os.path.basename(w.filename) for w in record} == {HERE}


def test_repr_and_introspection_before_a_call():
    @tf.function
    def f(x):
        return x

    with pytest.raises(ValueError, match="call it first"):
        _ = f.graph
    assert "0 trace" in repr(f)


# --- arguments and results of any structure -----------------------------------------------------


def test_nested_arguments_and_results():
    @tf.function
    def f(batch, pair, scale=2.0):
        total = batch["a"] + batch["b"]
        return {"total": total, "scaled": (pair[0] * scale, None), "count": 3, "tag": "ok"}

    for k in range(3):
        batch = {"b": tf.fill([2], float(k)), "a": tf.ones([2])}
        out = f(batch, (tf.constant([1.0, 2.0]), 7))
        np.testing.assert_array_equal(out["total"].numpy(), [1.0 + k, 1.0 + k])
        np.testing.assert_array_equal(out["scaled"][0].numpy(), [2.0, 4.0])
        assert out["scaled"][1] is None and out["count"] == 3 and out["tag"] == "ok"
    assert f.experimental_get_tracing_count() == 1


def test_functions_without_tensor_arguments_or_results():
    v = tf.Variable(1.0)

    @tf.function
    def bump():
        v.assign_add(1.0)

    @tf.function
    def doubled():
        return v * 2.0

    for expected in (2.0, 3.0, 4.0):
        assert bump() is None
        assert v.numpy() == expected
        assert doubled().numpy() == 2 * expected


def test_numpy_arguments_are_copied():
    @tf.function
    def same(x):
        return tf.identity(x)

    array = np.ones(3, np.float32)
    same(array)
    out = same(array)
    array[:] = 5.0
    np.testing.assert_array_equal(out.numpy(), [1.0, 1.0, 1.0])


# --- state --------------------------------------------------------------------------------------


def test_variables_are_captured_and_updated_in_place():
    w = tf.Variable(np.ones((2, 2), np.float32))

    @tf.function
    def step(x):
        w.assign_sub(x * 0.5)
        return tf.reduce_sum(w)

    assert step(tf.ones([2, 2])).numpy() == 2.0  # traces
    assert step(tf.ones([2, 2])).numpy() == 0.0  # compiled (copies the array the trace shared)
    buffer = w._value
    for expected in (-2.0, -4.0, -6.0):
        assert step(tf.ones([2, 2])).numpy() == expected
    assert w._value is buffer  # compiled calls updated the same array
    assert "out=V0.current_array()" in step.source


def test_returned_variable_values_are_not_changed_by_later_updates():
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def read():
        return tf.identity(v)

    @tf.function
    def update(d):
        v.assign_add(d)

    read()
    update(tf.ones([2]))
    update(tf.ones([2]))  # compiled: updates v's array in place
    before = read()  # compiled: returns v's array itself
    update(tf.ones([2]))
    np.testing.assert_array_equal(before.numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(v.numpy(), [4.0, 5.0])


def test_gradient_tape_inside_gives_one_graph_with_forward_and_backward():
    w = tf.Variable(np.full((3, 2), 0.5, np.float32))

    @tf.function
    def grads(x):
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.tanh(tf.matmul(x, w)))
        return tape.gradient(y, w)

    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    for scale in (1.0, 2.0, 3.0):
        t = np.tanh(x * scale @ w.numpy())
        np.testing.assert_allclose(grads(x * scale).numpy(), (x * scale).T @ (1 - t * t),
                                   rtol=1e-5)
    assert grads.experimental_get_tracing_count() == 1
    ops = [node.op for node in grads.get_concrete_function(x).graph.nodes]
    assert ops.count("matmul") == 2 and "tanh" in ops and "transpose" in ops


def test_an_outer_tape_sees_a_compiled_function():
    @tf.function
    def cube(x):
        return x * x * x

    x = tf.constant(2.0)
    cube(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = cube(x)
    assert tape.gradient(y, x).numpy() == 12.0


# --- Python semantics ---------------------------------------------------------------------------


def test_python_control_flow_is_unrolled_at_trace_time():
    @tf.function
    def power(x, n):
        for _ in range(n):
            x = x * 1.5
        if n > 2:
            x = -x
        return x

    x = tf.ones([4])
    np.testing.assert_allclose(power(x, 3).numpy(), -(1.5 ** 3))
    np.testing.assert_allclose(power(x, 2).numpy(), 1.5 ** 2)
    ops = [node.op for node in power.get_concrete_function(x, 3).graph.nodes]
    assert ops == ["multiply"] * 3 + ["negative"]


def test_symbolic_tensor_as_python_bool_points_at_the_users_line():
    @tf.function
    def relu_if(x):
        if tf.reduce_sum(x) > 0:
            return x
        return -x

    line = _lineno_of(relu_if, "if tf.reduce_sum")
    with pytest.raises(SymbolicValueError, match=f"At {HERE}:{line}.*tf.where") as info:
        relu_if(tf.ones([2]))
    assert isinstance(info.value, TypeError)


@pytest.mark.parametrize("use", [lambda x: x.numpy(), float, int])
def test_other_concrete_uses_of_symbolic_tensors_raise(use):
    @tf.function
    def f(x):
        return use(tf.reduce_sum(x))

    with pytest.raises(SymbolicValueError, match="tf.function"):
        f(tf.ones([2]))


def test_python_side_effects_run_at_trace_time_only():
    seen = []

    @tf.function
    def f(x):
        seen.append(x.shape)
        return x + 1.0

    for _ in range(3):
        f(tf.ones([2]))
    assert len(seen) == 1


def test_run_functions_eagerly_runs_the_python_body():
    calls = []

    @tf.function
    def f(x):
        calls.append(float(x.numpy()))  # only allowed eagerly
        return x * 2.0

    tf.config.run_functions_eagerly(True)
    for value in (1.0, 2.0, 3.0):
        assert f(tf.constant(value)).numpy() == 2 * value
    assert calls == [1.0, 2.0, 3.0]
    assert f.experimental_get_tracing_count() == 0


def test_methods_are_compiled_per_instance():
    class Scaler:
        def __init__(self, k):
            self.k = k

        @tf.function
        def __call__(self, x):
            return x * self.k

    a, b = Scaler(2.0), Scaler(3.0)
    x = tf.ones([2])
    for _ in range(2):
        np.testing.assert_array_equal(a(x).numpy(), [2.0, 2.0])
        np.testing.assert_array_equal(b(x).numpy(), [3.0, 3.0])
    assert a.__call__.experimental_get_tracing_count() == 1
    assert Scaler.__call__.experimental_get_tracing_count() == 0
    collected = weakref.ref(a)
    del a
    gc.collect()
    assert collected() is None  # the per-instance cache does not keep it alive


def test_a_function_calling_another_is_inlined():
    @tf.function
    def inner(x):
        return tf.tanh(x) * 3.0

    @tf.function
    def outer(x):
        return inner(x) + 1.0

    x = tf.constant([0.5, -0.5])
    for _ in range(2):
        np.testing.assert_allclose(outer(x).numpy(), np.tanh([0.5, -0.5]) * 3 + 1, rtol=1e-6)
    assert inner.experimental_get_tracing_count() == 0
    assert "tanh" in outer.source


# --- randomness -----------------------------------------------------------------------------


def _sequence(seed):
    tf.random.set_seed(seed)

    @tf.function
    def draw(x):
        return x + tf.random.normal([3])

    return [draw(tf.zeros([3])).numpy() for _ in range(3)]


def test_random_ops_draw_anew_each_call_and_repeat_after_set_seed():
    first = _sequence(5)
    assert not np.array_equal(first[1], first[2])
    for a, b in zip(first, _sequence(5)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], _sequence(6)[1])


def test_dropout_inside_a_function():
    @tf.function
    def drop(x):
        return tf.nn.dropout(x, rate=0.25)

    x = tf.ones([4000])
    masks = [drop(x).numpy() for _ in range(3)]
    for mask in masks:
        assert set(np.unique(mask)) <= {0.0, np.float32(1 / 0.75)}
        assert abs((mask == 0).mean() - 0.25) < 0.04
    assert not np.array_equal(masks[1], masks[2])


# --- data-dependent shapes ----------------------------------------------------------------------


def test_boolean_mask_works_for_any_mask_contents():
    @tf.function
    def masked(x, mask):
        kept = tf.boolean_mask(x, mask)
        return tf.reduce_mean(kept), tf.reduce_sum(kept * 2.0)

    x = np.arange(6, dtype=np.float32)
    masks = [[1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 1, 0], [0, 1, 1, 1, 1, 1]]
    for mask in masks * 2:
        m = np.array(mask, bool)
        mean, total = masked(x, m)
        assert mean.numpy() == pytest.approx(x[m].mean())
        assert total.numpy() == pytest.approx(2 * x[m].sum())
    assert masked.experimental_get_tracing_count() == 1  # the kept count is an unknown size


def test_boolean_mask_gradient_and_updates_after_it():
    w = tf.Variable(np.ones(6, np.float32))

    @tf.function
    def step(mask):
        tf.print("step", output_stream=sys.stdout)  # a side effect before the mask
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.boolean_mask(w * 2.0, mask))
        w.assign_sub(tape.gradient(loss, w))
        return loss

    expected = np.ones(6, np.float32)
    for mask in ([1, 1, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]) * 2:
        m = np.array(mask, bool)
        loss = step(m)
        assert loss.numpy() == pytest.approx((2 * expected[m]).mean())
        expected = expected - np.where(m, 2.0 / m.sum(), 0.0).astype(np.float32)
        np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)


def test_a_data_dependent_size_after_a_side_effect_needs_no_retrace():
    v = tf.Variable(np.zeros(4, np.float32))

    @tf.function
    def f(x):
        v.assign(x)
        return tf.reduce_sum(tf.boolean_mask(v, v > 0.0))

    for values, total in (([1, 0, 2, 0], 3.0), ([3, 0, 4, 0], 7.0), ([1, 1, 1, 0], 3.0)):
        assert f(np.array(values, np.float32)).numpy() == total
    assert f.experimental_get_tracing_count() == 1


# --- errors inside compiled code ------------------------------------------------------------


def test_traceback_shows_the_generated_line_and_its_op():
    @tf.function
    def affine(x, w):
        return tf.matmul(x, w) + 1.0

    line = _lineno_of(affine, "tf.matmul")
    concrete = affine.get_concrete_function(tf.ones([2, 3]), tf.ones([3, 4]))
    try:
        concrete(tf.ones([2, 5]), tf.ones([3, 4]))  # a shape the graph was not traced for
    except InvalidArgumentError as error:
        text = traceback.format_exc()
        message = str(error)
    else:
        pytest.fail("the compiled matmul accepted mismatched shapes")
    generated = next(line_ for line_ in concrete.source.splitlines() if "np.matmul" in line_)
    assert generated.strip() in text
    assert f"# matmul @ {HERE}:{line}" in text
    assert f"op matmul, created at {HERE}:{line}" in message


# --- tensor arguments read as values: the trace is keyed by their value ------------------

_X = np.arange(12, dtype=np.float32).reshape(3, 4)

VALUE_ARGUMENTS = {
    "reduce_sum axis": (lambda x, a: tf.reduce_sum(x, a), [0, 1]),
    "argmax axis": (lambda x, a: tf.argmax(x, a), [1, 0]),
    "concat axis": (lambda x, a: tf.concat([x, x], a), [0, 1]),
    "expand_dims axis": (lambda x, a: tf.expand_dims(x, a), [1, -1]),
    "transpose perm": (lambda x, p: tf.transpose(x, p), [[1, 0], [0, 1]]),
    "top_k k": (lambda x, k: tf.math.top_k(x, k).values, [2, 3]),
    "eye size": (lambda x, n: tf.eye(n) + tf.reduce_sum(x), [3, 2]),
    "split count": (lambda x, n: tf.split(x, n, axis=1), [2, 4]),
    "cumsum axis": (lambda x, a: tf.cumsum(x, a), [1, 0]),
}


@pytest.mark.parametrize("name", sorted(VALUE_ARGUMENTS))
def test_a_tensor_argument_read_as_a_value_keys_the_trace(name):
    fn, values = VALUE_ARGUMENTS[name]
    compiled = tf.function(fn)
    for value in values + values[:1]:
        want = fn(tf.constant(_X), value)
        got = compiled(tf.constant(_X), tf.constant(value))
        for g, w in zip(tf.nest.flatten(got), tf.nest.flatten(want)):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # One trace per distinct value; the repeated first value reuses its trace.
    assert compiled.experimental_get_tracing_count() == len(values)


def test_values_that_cannot_key_a_trace_are_refused_clearly():
    x = tf.constant(_X)
    computed = tf.function(lambda t, a: tf.reduce_sum(t, a + 1))  # made inside: no key
    with pytest.raises(tf.errors.OperatorNotAllowedInGraphError, match="only known when"):
        computed(x, tf.constant(0))
    floats = tf.function(lambda t, s: t * float(s))  # only integers and booleans key traces
    with pytest.raises(TypeError, match="Python/NumPy float"):
        floats(x, tf.constant(2.0))
    large = tf.function(lambda t, i: t * float(len(i.numpy())))  # too many values to key
    with pytest.raises(TypeError, match="only known when"):
        large(x, tf.range(100))
    signed = tf.function(lambda t, a: tf.reduce_sum(t, a),
                         input_signature=[tf.TensorSpec([3, 4]), tf.TensorSpec([], tf.int32)])
    with pytest.raises(TypeError, match="only known when"):
        signed(x, tf.constant(1))


def test_a_boolean_argument_chooses_a_branch_per_value():
    f = tf.function(lambda t, training: t * 2.0 if training else t)
    x = tf.constant(_X)
    np.testing.assert_array_equal(f(x, tf.constant(True)).numpy(), _X * 2)
    np.testing.assert_array_equal(f(x, tf.constant(False)).numpy(), _X)
    assert f.experimental_get_tracing_count() == 2
