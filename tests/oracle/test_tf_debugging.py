"""tf.debugging against TensorFlow: the same errors, classes and messages.

TensorFlow's eager messages end with ``[Op:...]`` and may start with a
``{{function_node ...}}`` prefix naming its kernel; the comparisons drop both.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow


def _outcome(lib, call):
    """(error class name, message without TensorFlow's kernel prefix and op suffix), or the
    result as an array."""
    try:
        result = call(lib)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        text = str(error)
        text = re.sub(r"^\{\{function_node [^}]*\}\} ", "", text)
        text = re.sub(r" \[Op:[A-Za-z0-9_]+\]( name: .*)?$", "", text)
        text = text.split("\n\t; NodeDef")[0]  # the kernel's signature, TensorFlow's own
        return type(error).__name__, text
    return None if result is None else np.asarray(result)


def _same(call):
    theirs, ours = _outcome(T, call), _outcome(N, call)
    if isinstance(theirs, tuple) or isinstance(ours, tuple):
        assert ours == theirs
    elif theirs is None:
        assert ours is None
    else:
        np.testing.assert_array_equal(ours, theirs)


def _c(lib, value, dtype=None):
    return lib.constant(value, dtype=dtype)


COMPARISONS = ["assert_equal", "assert_none_equal", "assert_less", "assert_less_equal",
               "assert_greater", "assert_greater_equal"]


@pytest.mark.parametrize("assertion", COMPARISONS)
@pytest.mark.parametrize("x, y, options", [
    ([1, 2, 3], [1, 5, 3], {}),
    ([1, 5], [2, 3], {}),
    ([[1, 2], [3, 4]], [[1, 0], [0, 4]], {}),
    ([[1, 2], [3, 4]], [1, 3], {}),
    ([1.5, 2.0], [1.5, 2.5], {}),
    (3.0, 2.0, {}),
    (list(range(10)), [0] * 10, {}),
    (list(range(10)), [0] * 10, {"summarize": 5}),
    ([1, 2, 3], [1, 5, 3], {"message": "custom", "summarize": 1}),
    ([True, False], [True, True], {}),
    ([float("nan")], [1.0], {}),
    ([], [], {}),
])
def test_comparison_assertions_match(assertion, x, y, options):
    dtype = "float32" if x == [] else None
    _same(lambda lib: getattr(lib.debugging, assertion)(_c(lib, x, dtype), _c(lib, y, dtype),
                                                        **options))


def test_comparison_of_other_dtypes_is_refused_alike():
    theirs = _outcome(T, lambda lib: lib.debugging.assert_equal(_c(lib, [1, 2]),
                                                                _c(lib, [1.0, 2.0])))
    ours = _outcome(N, lambda lib: lib.debugging.assert_equal(_c(lib, [1, 2]),
                                                              _c(lib, [1.0, 2.0])))
    assert ours[0] == theirs[0] == "InvalidArgumentError"
    assert "int32" in ours[1] and "float" in ours[1]


@pytest.mark.parametrize("values", [[1.0, float("nan"), float("inf")], [1.0, -float("inf")],
                                    [float("nan")], [1.0, 2.0]])
@pytest.mark.parametrize("function", ["check_numerics", "assert_all_finite"])
def test_check_numerics_matches(function, values):
    _same(lambda lib: getattr(lib.debugging, function)(_c(lib, values), "bad values"))


def test_check_numerics_refuses_integers_alike():
    theirs = _outcome(T, lambda lib: lib.debugging.check_numerics(_c(lib, [1, 2]), "m"))
    ours = _outcome(N, lambda lib: lib.debugging.check_numerics(_c(lib, [1, 2]), "m"))
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1].split("\n")[0]


def test_check_numerics_gradient_matches():
    messages = []
    for lib in (T, N):
        x = lib.Variable([1.0, 2.0])
        with lib.GradientTape() as tape:
            y = lib.debugging.check_numerics(x * 2.0, "fwd")
        messages.append(_outcome(lib, lambda lib, tape=tape, y=y, x=x: tape.gradient(
            y, x, output_gradients=lib.constant([float("nan"), 1.0]))))
    assert messages[1] == messages[0]


@pytest.mark.parametrize("x, rank, message", [
    ([1, 2], 2, None), ([1, 2], 1, None), ([1, 2], 2, "mine"), ([[1.0]], 0, None),
    ([1, 2], -1, None)])
def test_assert_rank_matches(x, rank, message):
    _same(lambda lib: lib.debugging.assert_rank(_c(lib, x), rank, message=message))


def test_assert_rank_of_a_tensor_and_bad_ranks_match():
    _same(lambda lib: lib.debugging.assert_rank(_c(lib, [1, 2]), lib.constant(2)))
    _same(lambda lib: lib.debugging.assert_rank(_c(lib, [1, 2]), [1]))
    _same(lambda lib: lib.debugging.assert_rank(_c(lib, [1, 2]), 1.0))


def _ones(lib, *shape):
    return lib.ones(shape)


@pytest.mark.parametrize("specs", [
    [((2, 3), ("N", "D")), ((2,), ("N",))],
    [((2, 3), ("N", "D")), ((4,), ("N",))],
    [((2, 3), ("N",))],
    [((2, 3), (2, 4))],
    [((2, 3), ())],
    [((), ()), ((1,), ())],
    [((3,), ("N",)), ((1,), ("N",))],
    [((2, 3, 4), (..., "D")), ((5,), ("D",))],
    [((2, 3, 4), ("*", "D")), ((4,), ("D",))],
    [((2, 3), ("N", "D", "E"))],
    [((2, 3), ("N", None)), ((2, 7), ("N", "."))],
    [((2, 3), ("N", "D")), ((4,), ("N",))],
    [((2, 3), ("D", ..., "N"))],
    [((2, 3), 5)],
])
@pytest.mark.parametrize("message", [None, "mine"])
def test_assert_shapes_matches(specs, message):
    _same(lambda lib: lib.debugging.assert_shapes(
        [(_ones(lib, *shape), spec) for shape, spec in specs], message=message))


@pytest.mark.parametrize("condition, data, summarize", [
    (False, ["values", 3.5], None),
    ("tensor-false", [[1, 2], "text", 3.5], None),
    (False, [list(range(10))], 2),
    (False, [list(range(10))], 5),
    (False, [list(range(10))], -1),
    (False, [[[1.5, 2.25], [3.0, 4.0]], True, "s"], None),
    (False, [[0.1, 1e10, 1e-7]], None),
    ("tensor-int", [1], None),
    (True, [[1, 2]], None),
])
def test_assert_matches(condition, data, summarize):
    def call(lib):
        cond = {"tensor-false": lib.constant(False),
                "tensor-int": lib.constant(0)}.get(condition, condition)
        items = [lib.constant(d, dtype="float32" if isinstance(d[0] if isinstance(d, list)
                                                                 else d, list) else None)
                 if isinstance(d, list) else d for d in data]
        return lib.debugging.Assert(cond, items, summarize=summarize)

    _same(call)


def test_enable_check_numerics_reports_the_op_as_tensorflow_does():
    """The first lines (op, output, dtype, shape, counts) and the last are TensorFlow's."""
    reports = []
    for lib in (T, N):
        lib.debugging.enable_check_numerics()
        try:
            x = lib.constant([1.0, 0.0, -1.0])
            reports.append(_outcome(
                lib, lambda lib, x=x: lib.constant([2.0, 1.0, 1.0]) * (x / 0.0)))
        finally:
            lib.debugging.disable_check_numerics()
    (their_class, theirs), (our_class, ours) = reports
    assert our_class == their_class == "InvalidArgumentError"
    their_lines, our_lines = theirs.strip().splitlines(), ours.strip().splitlines()
    # TensorFlow's first op making the infinity is RealDiv; its head names it so.
    assert our_lines[0].replace('"divide"', '"RealDiv"') == their_lines[0]
    assert our_lines[1:6] == their_lines[1:6]
    assert our_lines[-1] == their_lines[-1]
