"""Unknown sizes (Dim) and abstract arrays: arithmetic, comparisons, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from neuroflow.abstract import (
    AbstractArray,
    Dim,
    InconclusiveDimension,
    SymbolicValueError,
    contains_dim,
    dims_equal,
    evaluate_shape,
    public_shape,
    substitute,
)


def test_dims_compute_like_sizes():
    b, c = Dim.fresh("b"), Dim.fresh("c")
    assert (b * 784) // 784 == b
    assert b * 784 // b == 784
    assert b - b == 0 and isinstance(b - b, int)
    assert (b + c) - c == b
    assert (b * c * 6) // (b * 2) == c * 3
    assert (b * 3 + 1).evaluate({b.symbol.name: 5}) == 16


def test_questions_that_depend_on_the_size_raise_instead_of_guessing():
    b = Dim.fresh("b")
    for question in (lambda: b == 1, lambda: b != 7, lambda: bool(b), lambda: b > 2,
                     lambda: b % 3, lambda: b // 5):
        with pytest.raises(InconclusiveDimension):
            question()
    assert b >= 0 and b * 2 >= b  # true for every size
    assert not dims_equal(b, 1) and dims_equal(b, b)


def test_a_dim_is_not_an_integer_for_python():
    b = Dim.fresh("b")
    with pytest.raises(SymbolicValueError, match="tf.shape"):
        range(b)
    with pytest.raises(SymbolicValueError):
        int(b)


def test_broadcast_dims_are_resolved_when_sizes_are_known():
    b, c = Dim.fresh("b"), Dim.fresh("c")
    assert Dim.broadcast(b, 1) is b and Dim.broadcast(1, b) is b and Dim.broadcast(b, b) is b
    m = Dim.broadcast(b, c)
    assert m.evaluate({b.symbol.name: 1, c.symbol.name: 5}) == 5
    assert m.evaluate({b.symbol.name: 4, c.symbol.name: 4}) == 4
    with pytest.raises(ValueError, match="do not broadcast"):
        m.evaluate({b.symbol.name: 2, c.symbol.name: 3})
    with pytest.raises(ValueError, match="do not broadcast"):
        Dim.broadcast(2, 3)


def test_substitution_and_shapes():
    b, c = Dim.fresh("b"), Dim.fresh("c")
    env = {b.symbol.name: 3}
    assert substitute({"shape": (b, c, [b * 2])}, env) == {"shape": (3, c, [6])}
    assert contains_dim((1, (2, c))) and not contains_dim((1, [2], {"a": 3}))
    assert evaluate_shape((b, 4), env) == (3, 4)
    assert public_shape((b, 4)) == (None, 4)


@pytest.mark.parametrize("read", [np.asarray, float, int, bool, len, list,
                                  lambda a: a.tolist(), lambda a: a[0], lambda a: a + 1])
def test_an_abstract_array_has_no_values(read):
    array = AbstractArray((2, 3), np.float32)
    with pytest.raises((SymbolicValueError, TypeError)):
        read(array)
    assert array.shape == (2, 3) and array.ndim == 2 and array.size == 6
