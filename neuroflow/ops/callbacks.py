"""A Python callable run by a graph: the node behind ``tf.summary`` ops in a ``tf.function``.

``run_callback(*tensors, callback=f)`` calls ``f`` with the tensors' concrete arrays each
time it runs, eagerly or in compiled code, and returns ``bool(f(...))`` as a scalar bool
tensor (what summary ops return). It is stateful and an effect: passes never fold, merge,
drop or reorder it, so a summary written in a compiled training step is written on every
call, with that call's values.
"""

from __future__ import annotations

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.ops.registry import primitive
from neuroflow.tensor import Tensor


def _bool_scalar(*avals, callback):
    return AbstractArray((), np.dtype(np.bool_))


@primitive("run_callback", shape=_bool_scalar, differentiable=False, stateful=True,
           effect=True)
def _run_callback(xp, *arrays, callback):
    return np.asarray(bool(callback(*arrays)))


def run_callback(*tensors: Tensor, callback) -> Tensor:
    """A bool scalar tensor: ``callback``'s answer for the tensors' values, on every run."""
    return _run_callback(*tensors, callback=callback)


__all__ = ["run_callback"]
