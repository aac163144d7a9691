"""Python operators of Tensor (``+``, ``@``, ``[]``, ``<`` ...), bound to ops.

Variables reuse the same table, so ``v * 2`` reads the variable and records
the read on any tape that watches it.
"""

from __future__ import annotations

from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg, shape_ops


def _elementwise_or_false(fn, fallback):
    """``==``/``!=`` compare elementwise; against None or a non-number they are plain bools."""

    def compare(self, other):
        if other is None or isinstance(other, (str, bytes)):
            return fallback
        return fn(self, other)

    return compare


def _swap(fn):
    return lambda self, other: fn(other, self)


OPERATORS = {
    "__add__": ew.add, "__radd__": _swap(ew.add),
    "__sub__": ew.subtract, "__rsub__": _swap(ew.subtract),
    "__mul__": ew.multiply, "__rmul__": _swap(ew.multiply),
    "__truediv__": ew.truediv, "__rtruediv__": _swap(ew.truediv),
    "__floordiv__": ew.floordiv, "__rfloordiv__": _swap(ew.floordiv),
    "__mod__": ew.floormod, "__rmod__": _swap(ew.floormod),
    "__pow__": ew.pow, "__rpow__": _swap(ew.pow),
    "__matmul__": linalg.matmul, "__rmatmul__": _swap(linalg.matmul),
    "__lt__": ew.less, "__le__": ew.less_equal,
    "__gt__": ew.greater, "__ge__": ew.greater_equal,
    # As in TensorFlow 2, == and != are elementwise; tensors hash by identity.
    "__eq__": _elementwise_or_false(ew.equal, False),
    "__ne__": _elementwise_or_false(ew.not_equal, True),
    "__and__": ew.logical_and, "__rand__": _swap(ew.logical_and),
    "__or__": ew.logical_or, "__ror__": _swap(ew.logical_or),
    "__xor__": ew.logical_xor, "__rxor__": _swap(ew.logical_xor),
    "__invert__": ew.logical_not,
    "__neg__": ew.negative,
    "__abs__": ew.abs,
    "__pos__": lambda self: self,
    "__getitem__": shape_ops.getitem,
}


def install(cls) -> None:
    """Give ``cls`` the tensor operators."""
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
