"""``tf.print``: print tensors when the op runs (also inside compiled functions).

Values are formatted as TensorFlow formats them: booleans as ``1``/``0``,
floats in the shortest of ``%.6g`` and ``%.9g`` that reads back to the same
float32 (``%.15g``/``%.17g`` for float64), and any dimension longer than
``2 * summarize`` shown as its first and last ``summarize`` entries around
``...``.
"""

from __future__ import annotations

import sys

import numpy as np

from neuroflow.abstract import AbstractArray
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import host_array, is_tensor
from neuroflow.util import nest

_ESCAPES = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
            ord("'"): "\\'", ord("\\"): "\\\\"}


def _decoded(value: bytes) -> str:
    # Bytes that are not UTF-8 show as \xNN: a text stream cannot take them raw.
    return value.decode("utf-8", errors="backslashreplace")


def _string_text(value) -> str:
    """A string element as TensorFlow prints it: quoted, with C escapes for quotes,
    backslashes and control characters, other bytes (UTF-8 text) as they are."""
    data = value if isinstance(value, bytes) else str(value).encode()
    out = bytearray()
    for byte in data:
        if byte in _ESCAPES:
            out += _ESCAPES[byte].encode()
        elif byte < 0x20 or byte == 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return '"' + _decoded(bytes(out)) + '"'


def _scalar_text(value, dtype: np.dtype) -> str:
    kind = dtype.kind
    if kind == "O":
        return _string_text(value)
    if kind == "b":
        return "1" if value else "0"
    if kind in "iu":
        return str(int(value))
    if kind != "f":
        return "?"  # as TensorFlow prints complex values
    number = float(value)
    if np.isnan(number):
        return "nan"
    if np.isinf(number):
        return "inf" if number > 0 else "-inf"
    # Half floats print as float32 values, as in TensorFlow.
    precise = np.float64 if dtype.itemsize == 8 else np.float32
    short, long = (15, 17) if dtype.itemsize == 8 else (6, 9)
    text = "%.*g" % (short, number)
    return text if precise(text) == precise(number) else "%.*g" % (long, number)


def format_array(array: np.ndarray, summarize: int = 3) -> str:
    """``array`` as ``tf.print`` shows it (``summarize < 0`` shows every entry).

    >>> print(format_array(np.arange(10).reshape(2, 5), summarize=2))
    [[0 1 ... 3 4]
     [5 6 ... 8 9]]
    """
    if array.ndim == 0:
        return _scalar_text(array[()], array.dtype)
    return _block(array, summarize, depth=1)


def _block(array: np.ndarray, summarize: int, depth: int) -> str:
    n = array.shape[0]
    if 0 <= summarize and 2 * summarize < n:
        shown = [*range(summarize), None, *range(n - summarize, n)]
    else:
        shown = list(range(n))
    if array.ndim == 1:
        parts = ["..." if i is None else _scalar_text(array[i], array.dtype) for i in shown]
        return "[" + " ".join(parts) + "]"
    separator = "\n" * (array.ndim - 1) + " " * depth
    parts = ["..." if i is None else _block(array[i], summarize, depth + 1) for i in shown]
    return "[" + separator.join(parts) + "]"


class _Slot:
    """Where a tensor sits in a printed Python structure (kept in the op's attributes)."""

    def __repr__(self) -> str:
        return "<tensor>"


_SLOT = _Slot()


class _Text:
    """A formatted tensor inside a Python structure: its repr is the formatted text."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _print_shape(*tensors, pieces, sep, end, stream, summarize):
    return AbstractArray((0,), np.int32)


# Printing is an effect: a compiled function prints on every call, in program order.
# The result (an empty array) only gives the node a value.
@primitive("print", stateful=True, effect=True, differentiable=False, shape=_print_shape,
           lowering=Lowering(result="fresh"))
def _print(xp, *tensors, pieces, sep, end, stream, summarize):
    arrays = [np.asarray(host_array(t)) for t in tensors]
    if len(pieces) == 1 and pieces[0][0] == "tensor" and arrays[0].ndim == 0 and \
            arrays[0].dtype == object:
        # A lone string scalar is the text to print, unquoted (TensorFlow's PrintV2).
        target = sys.stderr if stream == "stderr" else sys.stdout
        item = arrays[0][()]
        target.write((_decoded(item) if isinstance(item, bytes) else str(item)) + end)
        target.flush()
        return np.zeros((0,), dtype=np.int32)
    texts = iter([format_array(a, summarize) for a in arrays])
    words = []
    for kind, piece in pieces:
        if kind == "tensor":
            words.append(next(texts))
        elif kind == "text":
            words.append(piece)
        else:  # a structure holding tensors: Python's repr, tensors as TF formats them
            leaves = [_Text(next(texts)) if leaf is _SLOT else leaf
                      for leaf in nest.flatten(piece)]
            words.append(repr(nest.pack_sequence_as(piece, leaves)))
    # The stream is looked up when the op runs, so redirected output is followed.
    target = sys.stderr if stream == "stderr" else sys.stdout
    target.write(sep.join(words) + end)
    target.flush()
    return np.zeros((0,), dtype=np.int32)


def print_(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None) -> None:
    """Print ``inputs`` (tensors, Python values and structures of them), as ``tf.print``.

    Output goes to stderr unless ``output_stream=sys.stdout``. Unlike Python's
    ``print``, inside a ``tf.function`` it prints on every call of the compiled
    function, not once at trace time.

    >>> import sys
    >>> import neuroflow as tf
    >>> tf.print("x:", tf.constant([1.0, 2.5]), output_stream=sys.stdout)
    x: [1 2.5]
    """
    from neuroflow.ops.convert import as_tensor

    stream = "stdout" if output_stream is sys.stdout else "stderr"
    tensors, pieces = [], []
    for value in inputs:
        if is_tensor(value):
            tensors.append(as_tensor(value))
            pieces.append(("tensor", ""))
        elif nest.is_nested(value) and any(is_tensor(v) for v in nest.flatten(value)):
            leaves = nest.flatten(value)
            tensors.extend(as_tensor(v) for v in leaves if is_tensor(v))
            slots = [_SLOT if is_tensor(v) else v for v in leaves]
            pieces.append(("structure", nest.pack_sequence_as(value, slots)))
        else:
            pieces.append(("text", str(value)))
    _print(*tensors, pieces=tuple(pieces), sep=sep, end=end, stream=stream,
           summarize=-1 if summarize is None else int(summarize))


__all__ = ["format_array", "print_"]
