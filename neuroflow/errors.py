"""Exception types with TensorFlow's names (``tf.errors.*``).

They also derive from the closest Python built-in, so code that catches
``ValueError`` or ``IndexError`` keeps working.
"""

from __future__ import annotations


class OpError(Exception):
    """Base class for errors raised while running an op."""

    def __init__(self, message: str, op: str | None = None):
        super().__init__(f"{message} [Op:{op}]" if op else message)
        self.message = message
        self.op = op


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument it cannot work with (shape, dtype, value)."""


class OutOfRangeError(OpError, IndexError):
    """An index or iteration went past the end."""


class UnimplementedError(OpError, NotImplementedError):
    """The operation is not implemented for these arguments."""


class FailedPreconditionError(OpError, RuntimeError):
    """The system is not in a state to run the operation."""
