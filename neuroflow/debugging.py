"""``tf.debugging``: find where infinities and NaNs come from, and assert what must hold.

``enable_check_numerics()`` makes the first op whose floating-point result holds an
infinity or a NaN raise ``tf.errors.InvalidArgumentError``, in eager code and in compiled
functions (compiled code then runs a variant checking each result; see
``graph/function.py``). The error names the op, the Keras layer it ran in, the user's
line and, under ``fit``/``evaluate``, the epoch and batch.

The assertions raise TensorFlow's errors with TensorFlow's messages. Values known when
they are called are checked at once (eagerly, or while tracing); inside a
``tf.function``, values only known when it runs are checked on every call, by
assertion ops that the compiled code always runs (``ops/checks.py``). They return None,
in functions too (TensorFlow returns an op there, for control dependencies, which
neuroflow does not need: its assertions always run, in program order).

>>> import neuroflow as tf
>>> tf.debugging.assert_less(tf.constant([1, 2]), tf.constant([3, 3]))
>>> tf.debugging.check_numerics(tf.constant([1.0, 2.0]), "weights").numpy()
array([1., 2.], dtype=float32)
"""

from __future__ import annotations

import numbers
import types

import numpy as np

from neuroflow.abstract import Dim
from neuroflow.ops import checks
from neuroflow.ops.convert import as_tensor
from neuroflow.tensor import Tensor, TensorShape


def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Raise InvalidArgumentError at the first op (eager or compiled) of this thread whose
    floating-point result holds an infinity or a NaN, until :func:`disable_check_numerics`.

    The error gives the op, its output index, dtype and shape, how many elements are
    -Inf, +Inf and NaN, the Keras layer (``dense_1``, in ``sequential/dense_1``), the
    user's line where the op was called (eager) or created (compiled; at most
    ``path_length_limit`` characters, left out with ``stack_height_limit=0``), the Keras
    epoch and batch, and for an eager op its inputs. Compiled code checks each result with
    one sum; the lab's training epoch takes about 1.5x as long (README, "Debugging").

    >>> import neuroflow as tf
    >>> tf.debugging.enable_check_numerics()
    >>> try:
    ...     tf.math.log(tf.constant([1.0, 0.0]))
    ... except tf.errors.InvalidArgumentError as error:
    ...     print(str(error).splitlines()[0])
    !!! Detected Infinity or NaN in output 0 of eagerly-executing op "log" (# of outputs: 1) !!!
    >>> tf.debugging.disable_check_numerics()
    """
    for name, value in (("stack_height_limit", stack_height_limit),
                        ("path_length_limit", path_length_limit)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"enable_check_numerics expected {name} to be a whole number "
                             f"(0 or more), received {value!r}.")
    checks.enable_numerics_checks(int(stack_height_limit), int(path_length_limit))


def disable_check_numerics() -> None:
    """Stop the checks :func:`enable_check_numerics` started (in this thread)."""
    checks.disable_numerics_checks()


_DUMP_MODES = ("NO_TENSOR", "CURT_HEALTH", "CONCISE_HEALTH", "FULL_HEALTH", "SHAPE",
               "FULL_NUMERICS", "FULL_TENSOR", "REDUCE_INF_NAN_THREE_SLOTS")


def enable_dump_debug_info(dump_root, tensor_debug_mode: str = "NO_TENSOR",
                           circular_buffer_size: int = 1000, op_regex=None,
                           tensor_dtypes=None) -> None:
    """Record every eager op that runs, until :func:`disable_dump_debug_info`, in the
    tfdbg2 files that TensorBoard's Debugger V2 reads (``tensorboard --logdir dump_root``).

    Each op gets an execution record: its type, ids of its input and output tensors, the
    user's stack (with the source files' text) and, by ``tensor_debug_mode``, a summary of
    each floating-point output: ``"CURT_HEALTH"`` (any infinity or NaN),
    ``"CONCISE_HEALTH"`` (size and counts of -Inf, +Inf, NaN), ``"FULL_HEALTH"`` (also
    dtype, rank and counts of negative, zero and positive values) or ``"SHAPE"`` (dtype,
    rank, size, shape), as TensorFlow writes them; ``"NO_TENSOR"`` records none. Only the
    last ``circular_buffer_size`` executions are kept (0 or less: all), written when
    disabled. ``op_regex`` (``re.match`` on the op type) and ``tensor_dtypes`` (a list of
    dtypes or a predicate on a dtype) choose the outputs summarized. Ops inside a compiled
    ``tf.function`` are not recorded (neuroflow runs the function as one compiled unit).

    >>> import neuroflow as tf, tempfile
    >>> tf.debugging.experimental.enable_dump_debug_info(tempfile.mkdtemp(), "CURT_HEALTH")
    >>> tf.math.log(tf.constant([1.0, 0.0])).shape
    TensorShape([2])
    >>> tf.debugging.experimental.disable_dump_debug_info()
    """
    from neuroflow import debug_dump

    if not isinstance(tensor_debug_mode, str) or tensor_debug_mode not in _DUMP_MODES:
        raise ValueError(f"Invalid value in tensor_debug_mode ({tensor_debug_mode!r}). Valid "
                         f"options are: {', '.join(_DUMP_MODES)}.")
    if tensor_debug_mode not in debug_dump.MODES:
        raise NotImplementedError(
            f"enable_dump_debug_info: tensor_debug_mode {tensor_debug_mode!r} is not "
            f"supported by neuroflow; use one of {', '.join(debug_dump.MODES)}.")
    if isinstance(circular_buffer_size, bool) or \
            not isinstance(circular_buffer_size, numbers.Integral):
        raise TypeError(f"enable_dump_debug_info expected circular_buffer_size to be an "
                        f"integer, received {circular_buffer_size!r}.")
    if tensor_dtypes is not None and not callable(tensor_dtypes) and \
            not isinstance(tensor_dtypes, (list, tuple)):
        raise ValueError(f"Unexpected type of tensor_dtypes. Expected list, tuple, or "
                         f"callable. Received {type(tensor_dtypes)}")
    if isinstance(tensor_dtypes, (list, tuple)):
        from neuroflow import dtypes

        tensor_dtypes = [dtypes.as_dtype(d) for d in tensor_dtypes]
    debug_dump.enable(str(dump_root), tensor_debug_mode, int(circular_buffer_size), op_regex,
                      tensor_dtypes)


def disable_dump_debug_info() -> None:
    """Stop :func:`enable_dump_debug_info`, writing the buffered executions and closing the
    files (nothing happens when it is not on)."""
    from neuroflow import debug_dump

    debug_dump.disable()


experimental = types.SimpleNamespace(enable_dump_debug_info=enable_dump_debug_info,
                                     disable_dump_debug_info=disable_dump_debug_info)


def check_numerics(tensor, message: str, name=None) -> Tensor:
    """``tensor`` itself, or InvalidArgumentError ``"<message> : Tensor had NaN values"``
    (``Inf``, ``Inf and NaN``) when it holds one. Its gradient is checked too."""
    return checks.check_numerics(as_tensor(tensor), message)


def assert_all_finite(x, message: str, name=None) -> Tensor:
    """``x``, checked as :func:`check_numerics` checks it."""
    return check_numerics(x, message)


def _comparison(relation: str):
    symbol = checks._RELATIONS[relation][0]

    def assertion(x, y, message=None, summarize=None, name=None) -> None:
        checks.assert_compare(relation, as_tensor(x), as_tensor(y), message, summarize)

    assertion.__name__ = f"assert_{relation}"
    assertion.__qualname__ = assertion.__name__
    assertion.__doc__ = (f"Raise InvalidArgumentError unless ``x {symbol} y`` for every "
                         f"element (broadcasting). The error shows the first ``summarize`` "
                         f"(3) differing indices and values, as TensorFlow's does.")
    return assertion


assert_equal = _comparison("equal")
assert_none_equal = _comparison("not_equal")
assert_less = _comparison("less")
assert_less_equal = _comparison("less_equal")
assert_greater = _comparison("greater")
assert_greater_equal = _comparison("greater_equal")


def Assert(condition, data, summarize=None, name=None) -> None:  # noqa: N802 - TF's name
    """Raise InvalidArgumentError showing the first ``summarize`` (3) entries of each item
    of ``data`` unless the scalar ``condition`` is true."""
    if not isinstance(data, (list, tuple)):
        raise TypeError(f"Assert expects data to be a list of tensors and values; received "
                        f"{data!r}.")
    checks.assert_true(condition, list(data), summarize)


# --- ranks and shapes: known while tracing, so checked at once --------------------------------


def _prefix(message) -> str:
    return f"{message}.  " if message else ""


def _rank_value(rank) -> int:
    if isinstance(rank, bool):
        raise TypeError(f"tensor must be of type tf.int32; got {rank!r}")
    if isinstance(rank, numbers.Integral):
        return int(rank)
    array = np.asarray(as_tensor(rank))
    if array.ndim != 0:
        raise ValueError("Rank must be a scalar.")
    if array.dtype.kind not in "iu":
        raise TypeError(f"tensor must be of type tf.int32; got tf.{array.dtype.name}")
    return int(array)


def _static_shape(x: Tensor) -> tuple:
    return tuple(x._value.shape)


def _shape_text(shape: tuple) -> str:
    return str(TensorShape([None if isinstance(d, Dim) else d for d in shape]))


def assert_rank(x, rank, message=None, name=None) -> None:
    """Raise ValueError unless ``x`` has rank ``rank`` (ranks are known while tracing)."""
    x = as_tensor(x)
    want = _rank_value(rank)
    shape = _static_shape(x)
    if len(shape) != want:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank {want}.  Received rank "
                         f"{len(shape)}, shape {_shape_text(shape)}")


def assert_rank_at_least(x, rank, message=None, name=None) -> None:
    """Raise ValueError unless ``x`` has rank ``rank`` or more."""
    x = as_tensor(x)
    want = _rank_value(rank)
    shape = _static_shape(x)
    if len(shape) < want:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank at least {want}.  Received "
                         f"rank {len(shape)}, shape {_shape_text(shape)}")


def assert_rank_in(x, ranks, message=None, name=None) -> None:
    """Raise ValueError unless the rank of ``x`` is one of ``ranks``."""
    x = as_tensor(x)
    wanted = tuple(_rank_value(r) for r in ranks)
    shape = _static_shape(x)
    if len(shape) not in wanted:
        raise ValueError(f"{_prefix(message)}Tensor  must have rank in {wanted}.  Received "
                         f"rank {len(shape)}, shape {_shape_text(shape)}")


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None) -> None:
    """Check ranks and sizes of several tensors against each other, as TensorFlow does.

    ``shapes`` is a list of ``(tensor, shape)`` pairs (or a dict); a shape lists sizes:
    an int is that size, a string a size shared by every entry naming it, ``None`` or
    ``"."`` any size, and a leading ``...`` or ``"*"`` any number of leading dimensions.
    Ranks, and sizes known while tracing, are checked at once (ValueError); a size only
    known when a compiled function runs (the batch) is checked on every call
    (InvalidArgumentError), showing ``data`` (by default the failed rule and the shape).

    >>> import neuroflow as tf
    >>> x, y = tf.ones([4, 3]), tf.ones([4])
    >>> tf.debugging.assert_shapes([(x, ("N", "D")), (y, ("N",))])
    """
    prefix = _prefix(message)
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    entries = []
    for tensor, spec in pairs:
        if spec is None:
            continue
        tensor = as_tensor(tensor)
        described = f"shape={_shape_text(_static_shape(tensor))} dtype={tensor.dtype.name}"
        if not hasattr(spec, "__iter__") and not hasattr(spec, "__getitem__"):
            raise ValueError(f"{prefix}Tensor {described}.  Specified shape must be an "
                             f"iterable.  An iterable has the attribute `__iter__` or "
                             f"`__getitem__`.  Received specified shape: {spec}")
        spec = tuple(spec)
        leading = False
        for i, symbol in enumerate(spec):
            if symbol is Ellipsis or symbol == "*":
                if i != 0:
                    raise ValueError(f"{prefix}Tensor {described} specified shape index {i}.  "
                                     f"Symbol `...` or `*` for a variable number of "
                                     f"unspecified dimensions is only allowed as the first "
                                     f"entry")
                leading = True
        sizes = spec[1:] if leading else spec
        entries.append((tensor, described, leading, sizes or (1,)))
    for tensor, _, leading, sizes in entries:
        rank = len(sizes)
        if leading:
            if rank > 1:
                assert_rank_at_least(tensor, rank, message)
        elif rank <= 1:
            assert_rank_in(tensor, (0, 1), message)
        else:
            assert_rank(tensor, rank, message)
    known: dict = {}
    for tensor, described, leading, sizes in entries:
        actual = _static_shape(tensor) or (1,)  # a scalar counts as one element
        for i, symbol in enumerate(sizes):
            if symbol is None or (isinstance(symbol, str) and symbol == "."):
                continue
            dim = i - len(sizes) if leading else i
            explicit = _known_int(symbol)
            if explicit is None and symbol not in known:
                known[symbol] = (actual[dim], described, dim, tensor)
                continue
            if explicit is not None:
                want, rule, source = explicit, "Specified explicitly", None
            else:
                want, by, at, by_tensor = known[symbol]
                rule, source = f"Specified by tensor {by} dimension {at}", (by_tensor, at)
            _check_size(tensor, described, dim, actual[dim], want, source, rule, prefix,
                        data, summarize)


def _known_int(symbol) -> int | None:
    if isinstance(symbol, bool) or isinstance(symbol, Dim):
        return None
    try:
        return int(symbol)
    except (TypeError, ValueError):
        return None


def _check_size(tensor, described, dim, size, want, source, rule, prefix, data,
                summarize) -> None:
    """Check that ``tensor``'s size at ``dim`` is ``want``: ``source`` (tensor, dim) holds
    it when the rule comes from another tensor."""
    if not isinstance(size, Dim) and not isinstance(want, Dim):
        if size != want:
            raise ValueError(f"{prefix}{rule}.  Tensor {described} dimension {dim} must have "
                             f"size {want}.  Received size {size}, shape "
                             f"{_shape_text(_static_shape(tensor))}")
        return
    if isinstance(size, Dim) and isinstance(want, Dim) and isinstance(size - want, int) \
            and size - want == 0:
        return  # the same unknown size: equal for every call
    # A size only known when the compiled function runs: checked then, on every call.
    from neuroflow.ops import elementwise, shape_ops

    shape = shape_ops.shape(tensor)
    actual = shape[dim]
    expected = shape_ops.shape(source[0])[source[1]] if isinstance(want, Dim) else want
    if data is None:
        data = [f"{prefix}{rule}.", f"Tensor {described} dimension", dim, "must have size",
                expected, "Received shape: ", shape]
    checks.assert_true(elementwise.equal(actual, expected), list(data), summarize)


__all__ = ["Assert", "assert_all_finite", "assert_equal", "assert_greater",
           "assert_greater_equal", "assert_less", "assert_less_equal", "assert_none_equal",
           "assert_rank", "assert_rank_at_least", "assert_rank_in", "assert_shapes",
           "check_numerics", "disable_check_numerics", "disable_dump_debug_info",
           "enable_check_numerics", "enable_dump_debug_info", "experimental"]
