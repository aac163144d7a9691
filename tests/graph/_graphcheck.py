"""The three-way check of graph mode: eager, interpreted IR and compiled code agree.

A test case is a ``build()`` returning ``(python_function, variables)`` made
fresh on each call, so each mode runs on its own copy of the state and side
effects (variable updates, random streams) compare too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import neuroflow as tf
from neuroflow.util import nest


def leaves(result: Any) -> list:
    """The leaves of a result: arrays for tensors, the value for anything else."""
    return [np.array(leaf) if tf.is_tensor(leaf) else leaf for leaf in nest.flatten(result)]


def assert_same(got: Any, want: Any, what: str, rtol: float, atol: float) -> None:
    got_leaves, want_leaves = leaves(got), leaves(want)
    assert len(got_leaves) == len(want_leaves), f"{what}: different number of outputs"
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        if isinstance(w, np.ndarray):
            assert isinstance(g, np.ndarray), f"{what}[{k}]: {type(g).__name__}, not a tensor"
            assert g.dtype == w.dtype, f"{what}[{k}]: dtype {g.dtype}, eager gives {w.dtype}"
            assert g.shape == w.shape, f"{what}[{k}]: shape {g.shape}, eager gives {w.shape}"
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{what}[{k}]")
        else:
            assert g == w, f"{what}[{k}]: {g!r}, eager gives {w!r}"


Build = Callable[[], tuple[Callable, Sequence[tf.Variable]]]
Call = tuple[tuple, dict]


def _run_eager(build: Build, calls: Sequence[Call], seed: int | None):
    fn, variables = build()
    tf.random.set_seed(seed)
    return [(leaves(fn(*args, **kwargs)), [v.numpy() for v in variables])
            for args, kwargs in calls]


def _traced(build: Build, calls: Sequence[Call], seed: int | None):
    """A tf.function traced on the first call, its state then reset (tracing runs it)."""
    fn, variables = build()
    initial = [v.numpy() for v in variables]
    function = tf.function(fn)
    tf.random.set_seed(seed)
    concrete = function.get_concrete_function(*calls[0][0], **calls[0][1])
    for variable, value in zip(variables, initial):
        variable.assign(value)
    tf.random.set_seed(seed)
    return function, concrete, variables


def check_agreement(build: Build, calls: Sequence[Call], seed: int | None = None,
                    rtol: float = 1e-5, atol: float = 1e-6) -> tf.function:
    """Run ``calls`` eagerly, through the IR interpreter and compiled; all must agree.

    Every call is checked, outputs and variables after it; outputs of compiled calls are
    checked again after the last call, so a later call must not overwrite an earlier
    output. Returns the compiled ``Function`` for further checks.
    """
    eager = _run_eager(build, calls, seed)

    function, concrete, variables = _traced(build, calls, seed)
    kept = []
    for i, ((args, kwargs), (want, want_vars)) in enumerate(zip(calls, eager)):
        result = function(*args, **kwargs)
        kept.append(result)
        assert_same(result, want, f"compiled call {i}", rtol, atol)
        for k, (v, w) in enumerate(zip(variables, want_vars)):
            assert_same(v, w, f"compiled call {i} variable {k}", rtol, atol)
    assert function.experimental_get_tracing_count() == 1, "the calls retraced"
    for i, (result, (want, _)) in enumerate(zip(kept, eager)):
        assert_same(result, want, f"compiled call {i}, after later calls", rtol, atol)

    _, concrete, variables = _traced(build, calls, seed)
    for i, ((args, kwargs), (want, want_vars)) in enumerate(zip(calls, eager)):
        assert_same(concrete.interpret(*args, **kwargs), want, f"interpreted call {i}", rtol,
                    atol)
        for k, (v, w) in enumerate(zip(variables, want_vars)):
            assert_same(v, w, f"interpreted call {i} variable {k}", rtol, atol)
    return function


def calls_of(make_args: Callable[[np.random.Generator], tuple], count: int = 3,
             seed: int = 0) -> list[Call]:
    """``count`` calls with fresh values of the same shapes (positional arguments)."""
    rng = np.random.default_rng(seed)
    return [(make_args(rng), {}) for _ in range(count)]


def floats(rng: np.random.Generator, *shape: int) -> tf.Tensor:
    return tf.constant(rng.standard_normal(shape).astype(np.float32))
