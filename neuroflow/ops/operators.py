"""Python operators of Tensor (``+``, ``@``, ``[]``, ``<`` ...), bound to ops.

Variables reuse the same table, so ``v * 2`` reads the variable and records
the read on any tape that watches it.
"""

from __future__ import annotations

import numpy as np

from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import elementwise as ew
from neuroflow.ops import linalg, shape_ops
from neuroflow.ops.convert import DTypeMismatchError, as_tensor, binary_operands
from neuroflow.ops.shape_rules import broadcast_shapes
from neuroflow.tensor import Tensor


def _equality(fn, if_different: bool):
    """``==``/``!=`` as in TensorFlow 2: elementwise, but a plain bool against None, and
    one bool (not an error) between tensors whose shapes do not broadcast."""

    def compare(self, other):
        if other is None:
            return if_different
        try:
            return fn(self, other)
        except DTypeMismatchError:
            raise
        except InvalidArgumentError:
            try:
                broadcast_shapes(as_tensor(self)._value.shape, as_tensor(other)._value.shape)
            except ValueError:  # certainly not broadcastable (unknown sizes may be)
                return Tensor(np.array(if_different))
            raise

    return compare


def _no_bitwise(symbol: str, example: str):
    def refuse(x, y=None):
        # TensorFlow raises InvalidArgumentError (eagerly) or TypeError for float tensors.
        raise DTypeMismatchError(f"`{symbol}` on {x.dtype.name} tensors is TensorFlow's "
                                 f"bitwise operation, which neuroflow does not implement. For "
                                 f"logic, use bool tensors, e.g. `{example}` or "
                                 f"tf.cast(x, tf.bool).")

    return refuse


def _logical_or_bitwise(logical, bitwise):
    """``&``, ``|``, ``^``: logical on bool tensors, bitwise on integers (as TF dispatches)."""

    def forward(self, other):
        return (logical if self.dtype.is_bool else bitwise)(self, other)

    def reflected(self, other):
        return (logical if self.dtype.is_bool else bitwise)(other, self)

    return forward, reflected


def _invert(self):
    return ew.logical_not(self) if self.dtype.is_bool else _no_bitwise("~", "~(x > 0)")(self)


def _swap(fn):
    return lambda self, other: fn(other, self)


def _matmul(a, b):
    # Convert as the other binary operators do, so a NumPy operand takes the tensor's dtype.
    if type(a) is not Tensor or type(b) is not Tensor:
        a, b = binary_operands(a, b, "matmul")
    return linalg.matmul(a, b)


_and, _rand = _logical_or_bitwise(ew.logical_and, _no_bitwise("&", "(x > 0) & (y > 0)"))
_or, _ror = _logical_or_bitwise(ew.logical_or, _no_bitwise("|", "(x > 0) | (y > 0)"))
_xor, _rxor = _logical_or_bitwise(ew.logical_xor, _no_bitwise("^", "(x > 0) ^ (y > 0)"))

OPERATORS = {
    "__add__": ew.add, "__radd__": _swap(ew.add),
    "__sub__": ew.subtract, "__rsub__": _swap(ew.subtract),
    "__mul__": ew.multiply, "__rmul__": _swap(ew.multiply),
    "__truediv__": ew.truediv, "__rtruediv__": _swap(ew.truediv),
    "__floordiv__": ew.floordiv, "__rfloordiv__": _swap(ew.floordiv),
    "__mod__": ew.floormod, "__rmod__": _swap(ew.floormod),
    "__pow__": ew.pow, "__rpow__": _swap(ew.pow),
    "__matmul__": _matmul, "__rmatmul__": _swap(_matmul),
    "__lt__": ew.less, "__le__": ew.less_equal,
    "__gt__": ew.greater, "__ge__": ew.greater_equal,
    # As in TensorFlow 2, == and != are elementwise; tensors hash by identity.
    "__eq__": _equality(ew.equal, False),
    "__ne__": _equality(ew.not_equal, True),
    "__and__": _and, "__rand__": _rand,
    "__or__": _or, "__ror__": _ror,
    "__xor__": _xor, "__rxor__": _rxor,
    "__invert__": _invert,
    "__neg__": ew.negative,
    "__abs__": ew.abs,
    "__pos__": lambda self: self,
    "__getitem__": shape_ops.getitem,
}


def install(cls) -> None:
    """Give ``cls`` the tensor operators."""
    for name, fn in OPERATORS.items():
        setattr(cls, name, fn)
