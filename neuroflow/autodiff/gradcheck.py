"""Numerical gradient checks: compare tape gradients with central finite differences.

Everything is evaluated in float64, where a central difference with step
``1e-6`` is accurate to about ``1e-9`` for smooth functions, so disagreements
larger than the tolerances point at a wrong gradient rule, not at round-off.

A non-scalar output is reduced with fixed random weights ``w`` (a
vector-Jacobian product ``w . f(x)``) rather than with a plain sum: a sum
hides errors in functions whose outputs add up to a constant, such as softmax.

>>> import numpy as np
>>> import neuroflow as tf
>>> from neuroflow.autodiff.gradcheck import check_gradients
>>> _ = check_gradients(lambda x: tf.sin(x) * x, [np.linspace(-1.0, 1.0, 5)])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from neuroflow.autodiff.tape import GradientTape
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.tensor import Tensor

Inputs = Sequence[Any]


def _as_inputs(inputs: Inputs) -> list[np.ndarray]:
    """Floating inputs become float64 arrays (the precision the checks need)."""
    arrays = []
    for value in inputs:
        array = np.array(value._value if isinstance(value, Tensor) else value)
        if array.dtype.kind == "f":
            array = array.astype(np.float64)
        arrays.append(array)
    return arrays


def _default_wrt(arrays: list[np.ndarray]) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def _output_weights(fn: Callable, arrays: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """One fixed random weight array per output of ``fn``."""
    outputs = _outputs(fn(*[Tensor(a) for a in arrays]))
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, np.shape(o)) * rng.choice([-1.0, 1.0], np.shape(o))
            for o in outputs]


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _weighted_sum(result: Any, weights: list[np.ndarray]) -> float:
    outputs = _outputs(result)
    return float(sum(np.sum(np.asarray(o, dtype=np.float64) * w)
                     for o, w in zip(outputs, weights)))


def numerical_gradients(fn: Callable, inputs: Inputs, weights: list[np.ndarray] | None = None,
                        wrt: Sequence[int] | None = None, eps: float = 1e-6,
                        seed: int = 0) -> list[np.ndarray]:
    """Central finite differences of ``sum(weights * fn(*inputs))`` for each input in ``wrt``.

    ``fn`` takes tensors and returns a tensor (or a tuple of tensors); it must
    depend smoothly on the inputs near the given point.
    """
    arrays = _as_inputs(inputs)
    wrt = _default_wrt(arrays) if wrt is None else tuple(wrt)
    if weights is None:
        weights = _output_weights(fn, arrays, seed)
    grads = []
    for index in wrt:
        base = arrays[index]
        grad = np.zeros_like(base)
        for flat in range(base.size):
            values = []
            for step in (eps, -eps):
                moved = base.copy()
                moved.reshape(-1)[flat] += step
                args = [Tensor(moved if i == index else a) for i, a in enumerate(arrays)]
                values.append(_weighted_sum(fn(*args), weights))
            grad.reshape(-1)[flat] = (values[0] - values[1]) / (2 * eps)
        grads.append(grad)
    return grads


def tape_gradients(fn: Callable, inputs: Inputs, weights: list[np.ndarray],
                   wrt: Sequence[int] | None = None) -> list[Tensor | None]:
    """Gradients of ``sum(weights * fn(*inputs))`` by a GradientTape, one per input in ``wrt``.

    Tensors among ``inputs`` are used as they are, so an outer tape that
    watches them records this backward pass too.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(a)
               for x, a in zip(inputs, _as_inputs(inputs))]
    wrt = _default_wrt([t._value for t in tensors]) if wrt is None else tuple(wrt)
    sources = [tensors[i] for i in wrt]
    with GradientTape() as tape:
        tape.watch(sources)
        outputs = _outputs(fn(*tensors))
    seeds = [Tensor(np.asarray(w, dtype=np.asarray(o).dtype)) for o, w in zip(outputs, weights)]
    return tape.gradient(outputs, sources, output_gradients=seeds)


def _compare(label: str, analytic: list, numeric: list[np.ndarray], shapes: list[tuple],
             wrt: Sequence[int], atol: float, rtol: float) -> None:
    for index, got, want, shape in zip(wrt, analytic, numeric, shapes):
        # The tape gives every gradient its input's shape (see tape.unbroadcast).
        got_array = np.zeros(shape) if got is None else np.asarray(got)
        if not np.allclose(got_array, want, atol=atol, rtol=rtol, equal_nan=False):
            worst = np.max(np.abs(got_array - want)) if want.size else 0.0
            raise AssertionError(
                f"{label} of input {index} disagrees with finite differences "
                f"(max abs error {worst:.3g}, atol={atol}, rtol={rtol}).\n"
                f"tape:\n{got_array}\nnumerical:\n{want}")


def check_gradients(fn: Callable, inputs: Inputs, *, wrt: Sequence[int] | None = None,
                    eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5,
                    seed: int = 0) -> list[Tensor | None]:
    """Assert that the tape's gradients of ``fn`` match central finite differences.

    Floating inputs are converted to float64; integer inputs (indices,
    labels) are passed through and not differentiated. ``wrt`` picks which
    inputs to check (default: every floating one). A gradient of None counts
    as zeros (the input does not affect the output). Returns the tape's
    gradients. Raises AssertionError naming the input and the largest error.
    """
    arrays = _as_inputs(inputs)
    wrt = _default_wrt(arrays) if wrt is None else tuple(wrt)
    weights = _output_weights(fn, arrays, seed)
    analytic = tape_gradients(fn, arrays, weights, wrt)
    numeric = numerical_gradients(fn, arrays, weights, wrt, eps)
    _compare("gradient", analytic, numeric, [arrays[i].shape for i in wrt], wrt, atol, rtol)
    return analytic


def check_second_derivatives(fn: Callable, inputs: Inputs, *,
                             wrt: Sequence[int] | None = None, eps: float = 1e-6,
                             atol: float = 1e-5, rtol: float = 1e-4,
                             seed: int = 0) -> list[Tensor | None]:
    """Assert that gradients of gradients (nested GradientTapes) match finite differences.

    With ``h(x) = w . fn(x)`` and random ``v``, the scalar ``s(x) = v . grad h(x)``
    is differentiated twice: by an outer tape around the inner tape's
    backward pass, and by central differences of the inner tape's
    (already checked) first gradient. This exercises each gradient rule's own
    gradient: the rule must be written in differentiable neuroflow ops.
    """
    arrays = _as_inputs(inputs)
    wrt = _default_wrt(arrays) if wrt is None else tuple(wrt)
    weights = _output_weights(fn, arrays, seed)
    rng = np.random.default_rng(seed + 1)
    directions = [rng.uniform(-1.0, 1.0, arrays[i].shape) for i in wrt]

    def directional(*tensors: Tensor) -> Tensor:
        grads = tape_gradients(fn, tensors, weights, wrt)
        total = Tensor(np.zeros((), np.float64))
        for g, v in zip(grads, directions):
            if g is not None:
                total = ew.add(total, red.reduce_sum(ew.multiply(g, Tensor(v))))
        return total

    tensors = [Tensor(a) for a in arrays]
    sources = [tensors[i] for i in wrt]
    with GradientTape() as outer:
        outer.watch(sources)
        value = directional(*tensors)
    analytic = outer.gradient(value, sources)
    numeric = numerical_gradients(directional, arrays, [np.ones(())], wrt, eps)
    _compare("second derivative", analytic, numeric, [arrays[i].shape for i in wrt], wrt,
             atol, rtol)
    return analytic

