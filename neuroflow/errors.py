"""Exception types with TensorFlow's names and codes (``tf.errors.*``).

``except tf.errors.InvalidArgumentError`` written for TensorFlow catches what neuroflow
raises in the same situation. Several classes also derive from the closest Python
built-in (an invalid argument is a ``ValueError``, an index past the end an
``IndexError``), so code that catches those keeps working; TensorFlow's own classes
derive from ``Exception`` only, so nothing TensorFlow code catches is missed.
"""

from __future__ import annotations

# TensorFlow's canonical error codes (``tf.errors.INVALID_ARGUMENT`` and so on).
OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """Base class for errors raised while running an op.

    Built as neuroflow does, ``OpError(message)`` or ``OpError(message, op)``, or as
    TensorFlow code does, ``OpError(node_def, op, message)``.
    """

    error_code = UNKNOWN

    def __init__(self, *args):
        if len(args) >= 3:  # TensorFlow's order: (node_def, op, message, *extra)
            node_def, op, message = args[:3]
        elif args:
            node_def, message, op = None, args[0], args[1] if len(args) > 1 else None
        else:
            node_def, message, op = None, "", None
        message = str(message)
        super().__init__(f"{message} [Op:{op}]" if op else message)
        self.message = message
        self.op = op
        self.node_def = node_def

    @property
    def experimental_payloads(self) -> dict:
        return {}


class CancelledError(OpError):
    """An operation was cancelled."""

    error_code = CANCELLED


class UnknownError(OpError):
    """An error of no other kind."""

    error_code = UNKNOWN


class InvalidArgumentError(OpError, ValueError):
    """An op received an argument it cannot work with (shape, dtype, value)."""

    error_code = INVALID_ARGUMENT


class DeadlineExceededError(OpError, TimeoutError):
    """A deadline passed before the operation finished."""

    error_code = DEADLINE_EXCEEDED


class NotFoundError(OpError):
    """A requested entity (a file, a model version) was not found."""

    error_code = NOT_FOUND


class AlreadyExistsError(OpError):
    """An entity to be created already exists."""

    error_code = ALREADY_EXISTS


class PermissionDeniedError(OpError):
    """The caller may not run the operation."""

    error_code = PERMISSION_DENIED


class UnauthenticatedError(OpError):
    """The request has no valid credentials."""

    error_code = UNAUTHENTICATED


class ResourceExhaustedError(OpError):
    """A resource (memory, a quota) ran out."""

    error_code = RESOURCE_EXHAUSTED


class FailedPreconditionError(OpError, RuntimeError):
    """The system is not in a state to run the operation."""

    error_code = FAILED_PRECONDITION


class AbortedError(OpError):
    """The operation was aborted, typically by a concurrent action."""

    error_code = ABORTED


class OutOfRangeError(OpError, IndexError):
    """An index or iteration went past the end."""

    error_code = OUT_OF_RANGE


class UnimplementedError(OpError, NotImplementedError):
    """The operation is not implemented for these arguments."""

    error_code = UNIMPLEMENTED


class InternalError(OpError):
    """An invariant of the system broke: a bug, please report it."""

    error_code = INTERNAL


class UnavailableError(OpError):
    """The service is unavailable for now; retrying may succeed."""

    error_code = UNAVAILABLE


class DataLossError(OpError):
    """Data was lost or corrupted beyond recovery."""

    error_code = DATA_LOSS


class OperatorNotAllowedInGraphError(TypeError):
    """A Python operation (``bool``, iteration) that a traced tensor cannot support."""
