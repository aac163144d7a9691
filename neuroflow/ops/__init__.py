"""Ops: primitives (forward, saved values, gradient rule) and composites built on them.

Modules by family: ``elementwise``, ``reductions``, ``shape_ops``, ``linalg``,
``creation``, ``random_ops``, ``nn_ops``, ``broadcasting`` (the tape's ``sum_to``).
``registry`` holds the primitive table and the single entry point that runs and
records them; ``shape_rules`` the shape rules many primitives share.
"""

from neuroflow import tensor
from neuroflow.ops import (  # noqa: F401 - importing registers the primitives
    broadcasting,
    creation,
    elementwise,
    linalg,
    nn_ops,
    operators,
    printing,
    random_ops,
    reductions,
    shape_ops,
)
from neuroflow.ops.registry import REGISTRY, Primitive

operators.install(tensor.Tensor)
tensor.OPS.update(cast=elementwise.cast, stack=shape_ops.stack, unstack=shape_ops.unstack)

__all__ = ["REGISTRY", "Primitive"]
