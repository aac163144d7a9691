"""Shared machinery of the op tests: case tables, a primitive spy and input makers.

(Imported by plain name: pytest puts this test directory on ``sys.path``. The
directory has no ``__init__.py`` on purpose: one would put ``tests/`` itself on
the path, where ``tests/keras`` would shadow the real ``keras`` package.)

Each family's test module holds two tables keyed by primitive name:

* ``FORWARD``: :class:`Fwd` cases, a public op checked against a NumPy reference;
* ``GRADIENTS``: :class:`Grad` cases, checked against central finite differences
  (and, for smooth primitives, second derivatives through nested tapes).

The tests are parametrized from those tables, and each case first asserts that
the primitive it is filed under really runs, so the table cannot claim
coverage it does not give. ``test_registry_coverage`` walks the registry
against the union of the tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.autodiff.gradcheck import check_gradients, check_second_derivatives
from neuroflow.ops import registry

_rng = np.random.default_rng(20240611)


def uniform(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """float64 values in [low, high)."""
    return np.asarray(_rng.uniform(low, high, shape))


def positive(*shape: int) -> np.ndarray:
    return np.asarray(_rng.uniform(0.5, 2.0, shape))


def nonzero(*shape: int) -> np.ndarray:
    """Values with |x| in [0.3, 2]: away from the kinks of abs, relu, sign, ..."""
    return np.asarray(_rng.uniform(0.3, 2.0, shape) * _rng.choice([-1.0, 1.0], shape))


def distinct(*shape: int) -> np.ndarray:
    """Values 0.1 apart (with a random offset per array), so max/min/sort have no ties."""
    size = int(np.prod(shape, dtype=np.int64))
    grid = np.arange(size) * 0.1 - size * 0.05 + _rng.uniform(0.02, 0.08)
    return np.asarray(_rng.permutation(grid).reshape(shape))


def ints(*shape: int, low: int = -5, high: int = 6) -> np.ndarray:
    return np.asarray(_rng.integers(low, high, shape), dtype=np.int32)


@dataclass(frozen=True)
class Fwd:
    """A public op on tensors made from ``args``, checked against ``ref`` on the arrays.

    NumPy arrays and scalars in ``args`` become tensors (keeping their dtype); other values
    (Python numbers, axes) pass through unchanged. ``dtype`` is the TensorFlow
    result dtype; None means the dtype of the first array argument.
    """

    op: Callable
    ref: Callable
    args: tuple
    id: str
    dtype: str | None = None


@dataclass(frozen=True)
class Grad:
    """A function of tensors whose tape gradient is checked against finite differences.

    Floating arrays in ``args`` are differentiated (in float64); integer arrays
    (indices, labels) are passed as tensors and not differentiated.
    """

    fn: Callable
    args: tuple
    id: str
    second: bool = True
    eps: float = 1e-6
    atol: float = 1e-6


def raises_with_message(error, make, *fragments) -> str:
    """``make()`` raises ``error`` whose message contains every fragment (literally)."""
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    return message


@contextlib.contextmanager
def ran_primitives():
    """Collect the names of the primitives run inside the block."""
    names: set[str] = set()
    original = registry.apply

    def spy(prim, inputs, attrs):
        names.add(prim.name)
        return original(prim, inputs, attrs)

    registry.apply = spy
    try:
        yield names
    finally:
        registry.apply = original


def params(table: dict[str, list[Any]]) -> list:
    """pytest parameters ``(primitive name, case)`` from a case table."""
    return [pytest.param(name, case, id=f"{name}-{case.id}")
            for name, cases in table.items() for case in cases]


def _is_array(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic))


def _tensor_args(args: tuple) -> list:
    return [tf.constant(a) if _is_array(a) else a for a in args]


def _first_array_dtype(args: tuple) -> str:
    return next(a.dtype.name for a in args if _is_array(a))


def assert_matches(result: Any, expected: Any, dtype: str | None = None) -> None:
    """``result`` (tensor or list of tensors) equals the NumPy ``expected``, dtype included."""
    if isinstance(expected, (list, tuple)):
        assert len(result) == len(expected)
        for r, e in zip(result, expected):
            assert_matches(r, e, dtype)
        return
    expected = np.asarray(expected)
    got = np.asarray(result)
    if dtype is not None:
        assert result.dtype.name == dtype, f"dtype {result.dtype.name}, TF gives {dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    if got.dtype.kind in "fc":
        tight = got.dtype.itemsize >= 8
        np.testing.assert_allclose(got, expected, rtol=1e-12 if tight else 2e-6,
                                   atol=1e-12 if tight else 1e-6)
    else:
        np.testing.assert_array_equal(got, expected)


def run_forward(name: str, case: Fwd) -> None:
    with ran_primitives() as ran:
        result = case.op(*_tensor_args(case.args))
    assert name in ran, f"{case.id} does not run the primitive {name!r} (ran {sorted(ran)})"
    assert_matches(result, case.ref(*case.args), case.dtype or _first_array_dtype(case.args))


def run_gradient(name: str, case: Grad) -> None:
    with ran_primitives() as ran:
        case.fn(*_tensor_args(case.args))
    assert name in ran, f"{case.id} does not run the primitive {name!r} (ran {sorted(ran)})"
    check_gradients(case.fn, case.args, eps=case.eps, atol=case.atol)


def run_second_derivative(case: Grad) -> None:
    check_second_derivatives(case.fn, case.args)


def smooth_params(table: dict[str, list[Grad]]) -> list:
    """The cases of smooth primitives whose second derivative is checked."""
    return [p for p in params(table)
            if _is_smooth(p.values[0]) and p.values[1].second]


def _is_smooth(name: str) -> bool:
    prim = registry.REGISTRY.get(name)
    return prim.smooth if prim is not None else True  # composites: the case decides
