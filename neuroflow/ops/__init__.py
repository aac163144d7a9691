"""Ops: primitives (forward, saved values, gradient rule) and composites built on them.

Modules by family: ``elementwise``, ``reductions``, ``shape_ops``, ``linalg``,
``creation``, ``random_ops``, ``nn_ops``. ``registry`` holds the primitive
table and the single entry point that runs and records them.
"""

from neuroflow.ops import (  # noqa: F401 - importing registers the primitives
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
from neuroflow.tensor import Tensor

operators.install(Tensor)

__all__ = ["REGISTRY", "Primitive"]
