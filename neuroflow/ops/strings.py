"""String ops (``tf.strings``): text in, text or numbers out.

A string tensor holds a NumPy object array of ``bytes`` (see ``dtypes.py``). Each op is
a primitive like any other (no gradient: nothing here is differentiable), so it runs
eagerly and traces inside ``tf.function``: a shape rule says the result's shape, and
ops whose result size depends on the text (``split``, ``unicode_split``, ``ngrams``)
give an unknown size, as ``boolean_mask`` does. Those three return a
:class:`~neuroflow.ops.ragged.RaggedTensor` (``values`` and ``row_splits`` from one
primitive with two results).

The work is per string, in Python: NumPy has no vectorized kernels for variable-length
bytes. Regular expressions follow RE2's syntax and meaning (see ``ops/regex.py``);
hashes are TensorFlow's (``ops/string_hash.py``).
"""

from __future__ import annotations

import codecs
import fractions
import math
import re
from collections.abc import Callable

import numpy as np

from neuroflow import dtypes
from neuroflow.abstract import AbstractArray, Dim
from neuroflow.errors import InvalidArgumentError, OutOfRangeError, UnimplementedError
from neuroflow.ops import printing, regex, string_hash
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.ragged import RaggedTensor
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.tensor import Tensor, host_array

_FRESH = Lowering(result="fresh")
_OBJECT = np.dtype(object)
_WHITESPACE = b" \t\n\v\f\r"


# --- helpers ---------------------------------------------------------------------------------


def strings_arg(value, op: str, index: int = 0) -> Tensor:
    """``value`` as a string tensor, refusing other dtypes as TensorFlow's kernels do."""
    tensor = value if isinstance(value, Tensor) else as_tensor(value)
    if tensor._value.dtype.kind != "O":
        raise InvalidArgumentError(
            f"cannot compute {op} as input #{index}(zero-based) was expected to be a string "
            f"tensor but is a {tensor.dtype.name} tensor. Use tf.strings.as_string to format "
            f"numbers as text.", op)
    return tensor


def _map(fn: Callable, array: np.ndarray, dtype=_OBJECT) -> np.ndarray:
    """``fn`` applied to each element of ``array``, in an array of the same shape."""
    results = [fn(item) for item in array.ravel().tolist()]
    if dtype is _OBJECT:
        out = np.empty(len(results), dtype=_OBJECT)
        out[:] = results
    else:
        out = np.array(results, dtype=dtype)
    return out.reshape(array.shape)


def _same(dtype):
    """A shape rule: the input's shape, with ``dtype``."""
    return lambda x, **attrs: AbstractArray(x.shape, np.dtype(dtype))


def _python_text(value, what: str, op: str) -> str:
    """A pattern, separator or template given as str, bytes or a scalar string tensor."""
    if isinstance(value, Tensor) or hasattr(value, "_read_for_op"):
        tensor = strings_arg(value, op)
        if tensor.shape.rank != 0:
            raise InvalidArgumentError(f"{op}: {what} must be a scalar, received shape "
                                       f"{tensor.shape}.", op)
        value = host_array(tensor._value)[()]  # a traced value raises, naming the line
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if not isinstance(value, str):
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype string ({op}: "
                        f"{what} must be a string).")
    return value


def _decode(item: bytes) -> str:
    # Invalid UTF-8 bytes become lone surrogates, which encode back to the same bytes.
    return item.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# --- case, whitespace, length ----------------------------------------------------------------


def _check_encoding(encoding: str, op: str) -> None:
    if encoding not in ("", "utf-8"):
        raise InvalidArgumentError(f"only utf-8 or '' (no encoding) is supported, received "
                                   f"{encoding}", op)


@primitive("string_lower", differentiable=False, shape=_same(object), lowering=_FRESH)
def _string_lower(xp, x, *, utf8):
    if utf8:  # full Unicode case mapping; invalid bytes become U+FFFD, as ICU does
        return _map(lambda s: s.decode("utf-8", "replace").lower().encode("utf-8"), x)
    return _map(bytes.lower, x)  # bytes.lower changes ASCII letters only


@primitive("string_upper", differentiable=False, shape=_same(object), lowering=_FRESH)
def _string_upper(xp, x, *, utf8):
    if utf8:
        return _map(lambda s: s.decode("utf-8", "replace").upper().encode("utf-8"), x)
    return _map(bytes.upper, x)


def lower(input, encoding: str = "", name=None) -> Tensor:  # noqa: A002 - TF's name
    """Lower-case text: ASCII letters only, or all of Unicode with ``encoding="utf-8"``.

    >>> import neuroflow as tf
    >>> tf.strings.lower(["Hello World", "ÀB"]).numpy()
    array([b'hello world', b'\\xc3\\x80b'], dtype=object)
    """
    _check_encoding(encoding, "StringLower")
    return _string_lower(strings_arg(input, "StringLower"), utf8=encoding == "utf-8")


def upper(input, encoding: str = "", name=None) -> Tensor:  # noqa: A002
    """Upper-case text: ASCII letters only, or all of Unicode with ``encoding="utf-8"``."""
    _check_encoding(encoding, "StringUpper")
    return _string_upper(strings_arg(input, "StringUpper"), utf8=encoding == "utf-8")


@primitive("string_strip", differentiable=False, shape=_same(object), lowering=_FRESH)
def _string_strip(xp, x):
    return _map(lambda s: s.strip(_WHITESPACE), x)


def strip(input, name=None) -> Tensor:  # noqa: A002
    """Remove leading and trailing ASCII whitespace."""
    return _string_strip(strings_arg(input, "StringStrip"))


def _utf8_length(item: bytes) -> int:
    # TensorFlow counts the bytes that start a character (not 0b10xxxxxx continuations).
    return len(item) - sum(1 for b in item if b & 0xC0 == 0x80)


@primitive("string_length", differentiable=False, shape=_same(np.int32), lowering=_FRESH)
def _string_length(xp, x, *, unit):
    return _map(len if unit == "BYTE" else _utf8_length, x, np.int32)


def _check_unit(unit: str, op: str) -> None:
    if unit not in ("BYTE", "UTF8_CHAR"):
        raise InvalidArgumentError(f'Value for attr \'unit\' of "{unit}" is not in the list of '
                                   f'allowed values: "BYTE", "UTF8_CHAR"', op)


def length(input, unit: str = "BYTE", name=None) -> Tensor:  # noqa: A002
    """The length of each string, in bytes (``"BYTE"``) or characters (``"UTF8_CHAR"``)."""
    _check_unit(unit, "StringLength")
    return _string_length(strings_arg(input, "StringLength"), unit=unit)


# --- regular expressions -----------------------------------------------------------------------


@primitive("regex_replace", differentiable=False, shape=_same(object), lowering=_FRESH)
def _regex_replace(xp, x, *, pattern, rewrite, replace_global):
    compiled = regex.compile_re2(pattern, "RegexReplace")
    replace = regex.compile_rewrite(rewrite, compiled.groups, "RegexReplace")
    count = 0 if replace_global else 1
    return _map(lambda s: _encode(regex.substitute(compiled, replace, _decode(s), count)), x)


def regex_replace(input, pattern, rewrite, replace_global: bool = True,  # noqa: A002
                  name=None) -> Tensor:
    """Replace the matches of ``pattern`` (RE2 syntax) with ``rewrite`` (``\\1`` names a group).

    >>> import neuroflow as tf
    >>> tf.strings.regex_replace(["a1b22c"], r"\\d+", "#").numpy()
    array([b'a#b#c'], dtype=object)
    """
    op = "RegexReplace"
    x = strings_arg(input, op)
    pattern = _python_text(pattern, "pattern", op)
    rewrite = _python_text(rewrite, "rewrite", op)
    regex.compile_rewrite(rewrite, regex.compile_re2(pattern, op).groups, op)  # errors now
    return _regex_replace(x, pattern=pattern, rewrite=rewrite,
                          replace_global=bool(replace_global))


@primitive("regex_full_match", differentiable=False, shape=_same(np.bool_), lowering=_FRESH)
def _regex_full_match(xp, x, *, pattern):
    compiled = regex.compile_re2(pattern, "RegexFullMatch")
    return _map(lambda s: compiled.fullmatch(_decode(s)) is not None, x, np.bool_)


def regex_full_match(input, pattern, name=None) -> Tensor:  # noqa: A002
    """Whether each whole string matches ``pattern`` (RE2 syntax)."""
    op = "RegexFullMatch"
    x = strings_arg(input, op)
    pattern = _python_text(pattern, "pattern", op)
    regex.compile_re2(pattern, op)
    return _regex_full_match(x, pattern=pattern)


# --- joining -----------------------------------------------------------------------------------


def _join_shape(*xs, separator):
    shapes = [x.shape for x in xs if len(x.shape)]
    for shape in shapes[1:]:
        if len(shape) != len(shapes[0]) or any(
                type(a) is int and type(b) is int and a != b for a, b in zip(shape, shapes[0])):
            raise ValueError(f"Input shapes do not match: {list(shapes[0])} vs. {list(shape)}; "
                             f"tf.strings.join needs tensors of one shape, or scalars")
    return AbstractArray(shapes[0] if shapes else (), _OBJECT)


@primitive("string_join", differentiable=False, shape=_join_shape, lowering=_FRESH)
def _string_join(xp, *xs, separator):
    shapes = [x.shape for x in xs if x.ndim]
    if any(shape != shapes[0] for shape in shapes):
        raise InvalidArgumentError(f"Input shapes do not match: {list(shapes[0])} vs. "
                                   f"{list(next(s for s in shapes if s != shapes[0]))}",
                                   "StringJoin")
    shape = shapes[0] if shapes else ()
    columns = [np.broadcast_to(x, shape).ravel().tolist() for x in xs]
    out = np.empty(int(np.prod(shape, dtype=np.int64)), dtype=_OBJECT)
    out[:] = [separator.join(parts) for parts in zip(*columns)]
    return out.reshape(shape)


def join(inputs, separator="", name=None) -> Tensor:
    """Join strings elementwise: ``inputs`` have one shape, or are scalars.

    >>> import neuroflow as tf
    >>> tf.strings.join([["a", "b"], "-", ["c", "d"]]).numpy()
    array([b'a-c', b'b-d'], dtype=object)
    """
    op = "StringJoin"
    separator = _encode(_python_text(separator, "separator", op))
    tensors = [strings_arg(x, op, i) for i, x in enumerate(inputs)]
    if not tensors:
        return Tensor(np.array(b"", dtype=_OBJECT))
    return _string_join(*tensors, separator=separator)


def _reduce_join_shape(x, *, axes, keepdims, separator):
    return AbstractArray(tuple(1 if i in axes else d for i, d in enumerate(x.shape)
                               if keepdims or i not in axes), _OBJECT)


@primitive("reduce_join", differentiable=False, shape=_reduce_join_shape, lowering=_FRESH)
def _reduce_join(xp, x, *, axes, keepdims, separator):
    kept = [i for i in range(x.ndim) if i not in axes]
    # TensorFlow's order: the first axis listed varies fastest, the last slowest.
    moved = np.transpose(x, kept + list(reversed(axes)))
    kept_shape = tuple(x.shape[i] for i in kept)
    count = int(np.prod(kept_shape, dtype=np.int64))
    rows = moved.reshape(count, int(np.prod([x.shape[i] for i in axes], dtype=np.int64)))
    out = np.empty(count, dtype=_OBJECT)
    out[:] = [separator.join(row) for row in rows.tolist()]
    out = out.reshape(kept_shape)
    if keepdims:
        out = out.reshape(tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return out


def reduce_join(inputs, axis=None, keepdims=False, separator="", name=None) -> Tensor:
    """Join the strings along ``axis`` (all axes when None, in row-major order).

    >>> import neuroflow as tf
    >>> tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=1, separator=",").numpy()
    array([b'a,b', b'c,d'], dtype=object)
    """
    op = "ReduceJoin"
    x = strings_arg(inputs, op)
    rank = x.shape.rank
    if axis is None:
        axes = list(range(rank - 1, -1, -1))
    else:
        if isinstance(axis, Tensor):
            axis = host_array(axis._value).tolist()
        axes = [int(a) for a in (axis if isinstance(axis, (list, tuple)) else [axis])]
    normalized = []
    for a in axes:
        if not -rank <= a < rank:
            raise OutOfRangeError(f"Invalid reduction dimension {a} for input with {rank} "
                                  f"dimension(s)", op)
        if a % rank in normalized:
            raise InvalidArgumentError(f"Duplicate reduction dimension {a % rank}", op)
        normalized.append(a % rank)
    separator = _encode(_python_text(separator, "separator", op))
    return _reduce_join(x, axes=tuple(normalized), keepdims=bool(keepdims),
                        separator=separator)


# --- numbers and text -------------------------------------------------------------------------

_INTEGER = re.compile(rb"[+-]?[0-9]+")
_HEX_FLOAT = re.compile(rb"[+-]?0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*([pP][+-]?[0-9]+)?")
_NAN_PAYLOAD = re.compile(rb"[+-]?nan\([0-9a-z_]*\)", re.IGNORECASE)
_NUMBER_TYPES = ("float32", "float64", "int32", "int64", "uint32", "uint64")


def _parse_number(item: bytes, dtype: np.dtype):
    text = item.strip(_WHITESPACE)
    if dtype.kind in "iu":
        if _INTEGER.fullmatch(text):
            value = int(text)
            info = np.iinfo(dtype)
            if info.min <= value <= info.max:
                return value
        raise ValueError
    if b"_" in text:  # Python's float() reads digit separators; C's strtod does not
        raise ValueError
    if _HEX_FLOAT.fullmatch(text):
        return float.fromhex(text.decode())
    if _NAN_PAYLOAD.fullmatch(text):
        return math.nan
    value = float(text)
    return _nearest_float32(text, value) if dtype == np.float32 else value


def _nearest_float32(text: bytes, value: float) -> float:
    """The float32 nearest the decimal ``text``, as C's strtof gives it. Rounding the nearest
    double again can go wrong when that double falls exactly halfway between two float32
    values; then the exact decimal decides."""
    single = np.float32(value)
    if not np.isfinite(single) or float(single) == value:
        return value
    other = np.nextafter(single, np.float32(math.copysign(math.inf, value - float(single))))
    halfway = (float(single) + float(other)) / 2  # exact: float32 values have 24 bits
    if value != halfway:
        return value
    exact = fractions.Fraction(text.decode())
    if exact == fractions.Fraction(halfway):
        return value  # a true tie: NumPy rounds it to even, as strtof does
    above = exact > fractions.Fraction(halfway)
    return float(other) if above == (float(other) > float(single)) else float(single)


@primitive("string_to_number", differentiable=False,
           shape=lambda x, *, dtype: AbstractArray(x.shape, dtype), lowering=_FRESH)
def _string_to_number(xp, x, *, dtype):
    def parse(item: bytes):
        try:
            return _parse_number(item, dtype)
        except ValueError:
            shown = item.decode("utf-8", "backslashreplace")
            raise InvalidArgumentError(f"StringToNumberOp could not correctly convert string: "
                                       f"{shown}", "StringToNumber") from None

    with np.errstate(over="ignore"):  # too large for float32: inf, as in TensorFlow
        return _map(parse, x, dtype)


def to_number(input, out_type=dtypes.float32, name=None) -> Tensor:  # noqa: A002
    """Parse each string as a number of ``out_type`` (float32, float64, int32, int64,
    uint32 or uint64); text that is not a number is an ``InvalidArgumentError``.

    >>> import neuroflow as tf
    >>> tf.strings.to_number(["1.5", " -2 "]).numpy()
    array([ 1.5, -2. ], dtype=float32)
    """
    op = "StringToNumber"
    target = dtypes.as_dtype(out_type)
    if target.name not in _NUMBER_TYPES:
        raise InvalidArgumentError(f"Value for attr 'out_type' of {target.name} is not in the "
                                   f"list of allowed values: float, double, int32, int64, "
                                   f"uint32, uint64", op)
    return _string_to_number(strings_arg(input, op), dtype=target.np)


_FLAGS = " +-0#"


def _number_format(dtype: np.dtype, precision: int, scientific: bool, shortest: bool,
                   width: int, fill: str) -> str:
    """The printf format TensorFlow's AsString builds for ``dtype``."""
    op = "AsString"
    if scientific and shortest:
        raise InvalidArgumentError("Cannot select both scientific and shortest notation", op)
    if len(fill) > 1:
        raise InvalidArgumentError("Fill string must be one or fewer characters", op)
    if fill and fill not in _FLAGS:
        raise InvalidArgumentError(f'Fill argument not supported: "{fill}"', op)
    name = dtypes.from_numpy(dtype).name
    if dtype.kind == "b":
        return ""  # booleans are "true" and "false", whatever the format
    if dtype.kind == "O" and width <= 0:
        precision = -1  # TensorFlow cuts strings to the precision only within a width
    if dtype.kind not in "fc" and (scientific or shortest):
        raise InvalidArgumentError(f"scientific and shortest format not supported for datatype "
                                   f"{name}", op)
    if dtype.kind not in "fcO" and precision > -1:
        raise InvalidArgumentError(f"precision not supported for datatype {name}", op)
    spec = "%" + (fill if width > -1 else "") + (str(width) if width > -1 else "")
    if precision > -1:
        spec += f".{precision}"
    if dtype.kind in "fc":
        return spec + ("g" if shortest else "e" if scientific else "f")
    return spec + ("s" if dtype.kind == "O" else "d")


def _format_float(spec: str, value: float) -> str:
    if math.isfinite(value):
        return spec % value
    # C's printf pads inf and NaN with spaces even with the 0 flag, and shows a NaN's sign.
    text = spec.replace("%0", "%", 1) % value
    if math.isnan(value) and math.copysign(1.0, value) < 0:
        text = text.replace("nan", "-nan", 1)
    return text


@primitive("as_string", differentiable=False, shape=_same(object), lowering=_FRESH)
def _as_string(xp, x, *, spec):
    kind = x.dtype.kind
    if kind == "b":
        return _map(lambda v: b"true" if v else b"false", x)
    if kind == "O":
        return _map(lambda s: (spec % _decode(s)).encode("utf-8", "surrogateescape"), x)
    if kind == "c":
        return _map(lambda v: f"({_format_float(spec, v.real)},{_format_float(spec, v.imag)})"
                    .encode(), x)
    if kind == "f":
        return _map(lambda v: _format_float(spec, v).encode(), x)
    return _map(lambda v: (spec % v).encode(), x)


def as_string(input, precision=-1, scientific=False, shortest=False, width=-1,  # noqa: A002
              fill="", name=None) -> Tensor:
    """Format numbers (and booleans) as text with a printf format, as ``tf.strings.as_string``.

    >>> import neuroflow as tf
    >>> tf.strings.as_string([1.5, -2.0], precision=2).numpy()
    array([b'1.50', b'-2.00'], dtype=object)
    """
    x = as_tensor(input)
    spec = _number_format(x._value.dtype, int(precision), bool(scientific), bool(shortest),
                          int(width), str(fill))
    return _as_string(x, spec=spec)


# --- format --------------------------------------------------------------------------------


def _c_escape(item: bytes) -> str:
    """Printable text with C escapes, UTF-8 kept (as TensorFlow shows strings it prints)."""
    named = {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x22: '\\"', 0x27: "\\'", 0x5C: "\\\\"}
    parts = []
    for b in item:
        if b in named:
            parts.append(named[b])
        elif b < 0x20 or b == 0x7F:
            parts.append("\\%03o" % b)
        else:
            parts.append(chr(b))
    return bytes(ord(c) for c in "".join(parts)).decode("utf-8", "replace")


def _format_strings(array: np.ndarray, summarize: int, depth: int = 1) -> str:
    """A string array as ``tf.print`` shows it: quoted, ``...`` past ``summarize`` entries."""
    if array.ndim == 0:
        return f'"{_c_escape(array[()])}"'
    n = array.shape[0]
    shown = ([*range(summarize), None, *range(n - summarize, n)]
             if 0 <= summarize and 2 * summarize < n else list(range(n)))
    if array.ndim == 1:
        return "[" + " ".join("..." if i is None else f'"{_c_escape(array[i])}"'
                              for i in shown) + "]"
    separator = "\n" * (array.ndim - 1) + " " * depth
    return "[" + separator.join("..." if i is None else
                                _format_strings(array[i], summarize, depth + 1)
                                for i in shown) + "]"


@primitive("string_format", differentiable=False,
           shape=lambda *xs, pieces, summarize: AbstractArray((), _OBJECT), lowering=_FRESH)
def _string_format(xp, *xs, pieces, summarize):
    texts = [_format_strings(x, summarize) if x.dtype.kind == "O"
             else printing.format_array(x, summarize) for x in xs]
    out = pieces[0] + "".join(t + p for t, p in zip(texts, pieces[1:]))
    return np.array(_encode(out), dtype=_OBJECT)


def format(template, inputs, placeholder="{}", summarize=3, name=None) -> Tensor:  # noqa: A001
    """A scalar string: ``template`` with each ``placeholder`` replaced by one input, shown
    as ``tf.print`` shows it.

    >>> import neuroflow as tf
    >>> tf.strings.format("x={} y={}", (tf.constant([1, 2]), tf.constant("s"))).numpy()
    b'x=[1 2] y="s"'
    """
    items = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    pieces = _python_text(template, "template", "StringFormat").split(
        _python_text(placeholder, "placeholder", "StringFormat"))
    if len(pieces) - 1 != len(items):
        raise ValueError(f"The template expects {len(pieces) - 1} tensors, but the inputs only "
                         f"has {len(items)}. Please ensure the number of placeholders in "
                         f"template matches inputs length.")
    tensors = [as_tensor(item) for item in items]
    return _string_format(*tensors, pieces=tuple(pieces), summarize=int(summarize))


# --- substrings -----------------------------------------------------------------------------


def _substr_shape(x, pos, size, *, unit):
    from neuroflow.ops import shape_rules

    return AbstractArray(shape_rules.broadcast_shapes(x.shape, pos.shape), _OBJECT)


def _char_starts(item: bytes) -> list[int]:
    return [i for i, b in enumerate(item) if b & 0xC0 != 0x80] + [len(item)]


@primitive("substr", differentiable=False, shape=_substr_shape, lowering=_FRESH)
def _substr(xp, x, pos, size, *, unit):
    shape = np.broadcast_shapes(x.shape, pos.shape)
    items = np.broadcast_to(x, shape).ravel().tolist()
    starts = np.broadcast_to(pos, shape).ravel().tolist()
    sizes = np.broadcast_to(size, shape).ravel().tolist()
    out = np.empty(len(items), dtype=_OBJECT)
    for k, (item, p, n) in enumerate(zip(items, starts, sizes)):
        bounds = _char_starts(item) if unit == "UTF8_CHAR" else None
        total = len(item) if bounds is None else len(bounds) - 1
        begin = p if p >= 0 else total + p
        if not 0 <= begin <= total:
            shown = "" if bounds is not None else f" {item!r}"
            raise InvalidArgumentError(f"pos {p} out of range for string{shown} at index {k}",
                                       "Substr")
        end = total if n < 0 else min(total, begin + n)
        out[k] = item[begin:end] if bounds is None else item[bounds[begin]:bounds[end]]
    return out.reshape(shape)


def substr(input, pos, len, unit="BYTE", name=None) -> Tensor:  # noqa: A002
    """The substring of ``len`` bytes (or characters) from ``pos`` (negative counts from the
    end) of each string; ``pos`` and ``len`` have one shape, which broadcasts with ``input``.

    >>> import neuroflow as tf
    >>> tf.strings.substr(["hello", "world"], 1, 3).numpy()
    array([b'ell', b'orl'], dtype=object)
    """
    op = "Substr"
    _check_unit(unit, op)
    x = strings_arg(input, op)
    start, size = as_tensor(pos), as_tensor(len)
    for t, what in ((start, "pos"), (size, "len")):
        if t.dtype.name not in ("int32", "int64"):
            raise InvalidArgumentError(f"Substr: {what} must be int32 or int64, received "
                                       f"{t.dtype.name}.", op)
    if start.shape != size.shape:
        raise InvalidArgumentError(f"pos and len should have the same shape, got: "
                                   f"{start.shape.as_list()} vs. {size.shape.as_list()}", op)
    try:
        np.broadcast_shapes(tuple(1 if d is None else d for d in x.shape),
                            tuple(1 if d is None else d for d in start.shape))
    except ValueError:
        raise InvalidArgumentError(f"Incompatible shapes: {x.shape.as_list()} vs. "
                                   f"{start.shape.as_list()}", op) from None
    return _substr(x, start, size, unit=unit)


# --- hashing ---------------------------------------------------------------------------------


@primitive("to_hash_bucket_fast", differentiable=False, shape=_same(np.int64), lowering=_FRESH)
def _to_hash_bucket_fast(xp, x, *, num_buckets):
    hashes = string_hash.fingerprints(x.ravel().tolist())
    return np.array([h % num_buckets for h in hashes], dtype=np.int64).reshape(x.shape)


def _check_buckets(num_buckets, op: str) -> int:
    count = int(num_buckets)
    if count < 1:
        raise InvalidArgumentError(f"Value for attr 'num_buckets' of {count} must be at least "
                                   f"minimum 1", op)
    return count


def to_hash_bucket_fast(input, num_buckets, name=None) -> Tensor:  # noqa: A002
    """FarmHash Fingerprint64 of each string, modulo ``num_buckets`` (TensorFlow's buckets;
    needs the optional ``pyfarmhash`` package)."""
    op = "StringToHashBucketFast"
    return _to_hash_bucket_fast(strings_arg(input, op),
                                num_buckets=_check_buckets(num_buckets, op))


@primitive("to_hash_bucket_strong", differentiable=False, shape=_same(np.int64),
           lowering=_FRESH)
def _to_hash_bucket_strong(xp, x, *, num_buckets, key):
    return _map(lambda s: string_hash.siphash24(key[0], key[1], s) % num_buckets, x, np.int64)


def to_hash_bucket_strong(input, num_buckets, key, name=None) -> Tensor:  # noqa: A002
    """Keyed SipHash-2-4 of each string, modulo ``num_buckets``; ``key`` is two integers."""
    op = "StringToHashBucketStrong"
    key = [int(k) for k in key]
    if len(key) != 2:
        raise InvalidArgumentError(f"Key must have 2 elements, received {len(key)}.", op)
    return _to_hash_bucket_strong(strings_arg(input, op),
                                  num_buckets=_check_buckets(num_buckets, op),
                                  key=tuple(k & ((1 << 64) - 1) for k in key))


# --- splitting: ragged results ------------------------------------------------------------------


def _split_shape(x, **attrs):
    return (AbstractArray((Dim.fresh("n"),), _OBJECT),
            AbstractArray((x.shape[0] + 1,), np.int64))


def _ragged_parts(rows: list[list]) -> tuple[np.ndarray, np.ndarray]:
    lengths = [len(row) for row in rows]
    values = np.empty(sum(lengths), dtype=_OBJECT)
    values[:] = [item for row in rows for item in row]
    splits = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=splits[1:])
    return values, splits


# The number of pieces depends on the text: the values have a size only the run knows.
def _split_one(item: bytes, sep, maxsplit: int) -> list[bytes]:
    if maxsplit == 0:
        return [item]  # TensorFlow keeps the text whole (Python strips whitespace, or drops "")
    return item.split(sep, maxsplit)


@primitive("string_split", differentiable=False, shape=_split_shape, lowering=_FRESH,
           multiple_results=True)
def _string_split(xp, x, *, sep, maxsplit):
    return _ragged_parts([_split_one(item, sep, maxsplit) for item in x.tolist()])


def _by_rank(x: Tensor, op: str, fn: Callable) -> RaggedTensor | Tensor:
    """``fn`` (vector -> ragged) on a scalar (giving its values), a vector, or a tensor of
    higher rank (its rows nested in uniform partitions, one per outer dimension)."""
    from neuroflow.ops import shape_ops

    rank = x.shape.rank
    if rank == 0:
        return fn(x[None]).values
    if rank == 1:
        return fn(x)
    dims = list(x.shape)
    if None in dims:
        raise UnimplementedError(f"{op}: an input of rank {rank} needs a known shape, "
                                 f"received {x.shape}; reshape it to a vector first.", op)
    result = fn(shape_ops.reshape(x, [-1]))
    for size in reversed(dims[1:]):
        rows = result.shape[0] // max(size, 1) if size else 0
        splits = Tensor(np.arange(rows + 1, dtype=np.int64) * size)
        result = RaggedTensor(result, splits, internal=True)
    return result


def split(input, sep=None, maxsplit=-1, name=None):  # noqa: A002
    """Split each string at ``sep`` (runs of ASCII whitespace when ``sep`` is None or empty):
    a ``RaggedTensor`` of pieces for a vector, a vector for a scalar.

    >>> import neuroflow as tf
    >>> tf.strings.split(["a b  c ", "d"])
    <tf.RaggedTensor [[b'a', b'b', b'c'], [b'd']]>
    """
    op = "StringSplit"
    x = strings_arg(input, op)
    separator = None if sep is None else _python_text(sep, "sep", op)
    separator = _encode(separator) if separator else None

    def parts(vector):
        values, splits = _string_split(vector, sep=separator, maxsplit=int(maxsplit))
        return RaggedTensor(values, splits, internal=True)

    return _by_rank(x, op, parts)


_ENCODINGS = {"UTF-8": "utf-8", "UTF-16-BE": "utf-16-be", "UTF-32-BE": "utf-32-be"}
_MARK = "\udc00"  # what an invalid sequence decodes to before it is replaced or dropped


def _mark_invalid(error: UnicodeDecodeError):
    return _MARK, error.end


codecs.register_error("neuroflow.mark_invalid", _mark_invalid)


@primitive("unicode_split", differentiable=False, shape=_split_shape, lowering=_FRESH,
           multiple_results=True)
def _unicode_split(xp, x, *, encoding, errors, replacement):
    codec = _ENCODINGS[encoding]

    def characters(item: bytes) -> list[bytes]:
        text = item.decode(codec, "neuroflow.mark_invalid")
        if _MARK in text and errors == "strict":
            raise InvalidArgumentError("Invalid formatting on input string", "UnicodeDecode")
        return [(replacement if c == _MARK else c).encode(codec) for c in text
                if c != _MARK or errors == "replace"]

    return _ragged_parts([characters(item) for item in x.tolist()])


def unicode_split(input, input_encoding, errors="replace",  # noqa: A002
                  replacement_char=65533, name=None):
    """Split each string into its characters (each a string), decoding ``input_encoding``
    (``"UTF-8"``, ``"UTF-16-BE"`` or ``"UTF-32-BE"``); invalid sequences become
    ``replacement_char`` (``errors="replace"``), are dropped (``"ignore"``), or raise
    (``"strict"``)."""
    op = "UnicodeDecode"
    if input_encoding not in _ENCODINGS:
        raise InvalidArgumentError(f"Value for attr 'input_encoding' of \"{input_encoding}\" "
                                   f"is not in the list of allowed values: "
                                   f"{', '.join(map(repr, _ENCODINGS))}", op)
    if errors not in ("strict", "replace", "ignore"):
        raise InvalidArgumentError(f'Value for attr \'errors\' of "{errors}" is not in the '
                                   f'list of allowed values: "strict", "replace", "ignore"', op)
    x = strings_arg(input, op)

    def parts(vector):
        values, splits = _unicode_split(vector, encoding=input_encoding, errors=errors,
                                        replacement=chr(int(replacement_char)))
        return RaggedTensor(values, splits, internal=True)

    return _by_rank(x, op, parts)


def _ngrams_shape(values, splits, *, widths, separator):
    return (AbstractArray((Dim.fresh("n"),), _OBJECT), AbstractArray(splits.shape, np.int64))


@primitive("string_ngrams", differentiable=False, shape=_ngrams_shape, lowering=_FRESH,
           multiple_results=True)
def _string_ngrams(xp, values, splits, *, widths, separator):
    items = values.tolist()
    bounds = splits.tolist()
    rows = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        row = items[start:stop]
        rows.append([separator.join(row[i:i + w]) for w in widths
                     for i in range(len(row) - w + 1)])
    return _ragged_parts(rows)


def ngrams(data, ngram_width, separator=" ", pad_values=None, padding_width=None,
           preserve_short_sequences=False, name=None):
    """The n-grams of each row of ``data`` (a ragged tensor of strings, or a dense matrix),
    joined with ``separator``; a tuple of widths gives all of each width in turn.

    >>> import neuroflow as tf
    >>> tf.strings.ngrams(tf.ragged.constant([["a", "b", "c"], ["d"]]), 2)
    <tf.RaggedTensor [[b'a b', b'b c'], []]>
    """
    op = "StringNGrams"
    if pad_values is not None or padding_width is not None or preserve_short_sequences:
        raise NotImplementedError("tf.strings.ngrams: pad_values, padding_width and "
                                  "preserve_short_sequences are not supported; received "
                                  f"pad_values={pad_values!r}, padding_width={padding_width!r}, "
                                  f"preserve_short_sequences={preserve_short_sequences!r}.")
    widths = (ngram_width,) if isinstance(ngram_width, int) else tuple(ngram_width)
    if any(int(w) < 1 for w in widths):
        raise InvalidArgumentError(f"Requested ngram width must be > 0, received {widths}.", op)
    text = _python_text(separator, "separator", op)
    if isinstance(data, RaggedTensor):
        if data.ragged_rank != 1 or data.values.shape.rank != 1:
            raise UnimplementedError("tf.strings.ngrams: only ragged tensors of rank 2 are "
                                     "supported.", op)
        values, splits = _string_ngrams(strings_arg(data.values, op), data.row_splits,
                                        widths=widths, separator=_encode(text))
        return RaggedTensor(values, splits, internal=True)
    from neuroflow.ops import shape_ops

    dense = strings_arg(data, op)
    if dense.shape.rank == 1:
        rows, width = 1, dense.shape[0]
    elif dense.shape.rank == 2:
        rows, width = dense.shape
    else:
        raise UnimplementedError(f"tf.strings.ngrams: dense inputs of rank {dense.shape.rank} "
                                 f"are not supported; give a vector, a matrix or a ragged "
                                 f"tensor.", op)
    if rows is None or width is None:
        raise UnimplementedError("tf.strings.ngrams: a dense input needs a known shape; use "
                                 "tf.RaggedTensor.from_tensor(data) instead.", op)
    flat = shape_ops.reshape(dense, [-1])
    result = ngrams(RaggedTensor(flat, Tensor(np.arange(rows + 1, dtype=np.int64) * width),
                                 internal=True), widths, text)
    # Every row of a dense input has as many n-grams: the result is dense again.
    return result.values if dense.shape.rank == 1 else result.to_tensor()
