"""Text against TensorFlow 2.21 and Keras 3: string tensors, ``tf.strings``, ragged tensors,
the text preprocessing layers and the text pipelines.

Each case is a function of the module (``tensorflow`` or ``neuroflow``, and their Keras
layers) run on both sides; the results are compared as values, dtypes and shapes, or,
when TensorFlow raises, as error classes (TF's ``InvalidArgumentError`` is neuroflow's).
"""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow


def _plain(value):
    """A comparable form of a result: dtype, shape and values; ragged as nested lists."""
    if isinstance(value, (T.RaggedTensor, N.RaggedTensor)):
        return ("ragged", value.dtype.name, value.to_list())
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        array = np.asarray(value.numpy())
        return (value.dtype.name, array.shape, array.tolist())
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.str_, np.integer)):
        return value.item()
    return value


def _run(fn, module, layers):
    try:
        return "value", _plain(fn(module, layers))
    except Exception as error:  # the class is what is compared
        return "error", error


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-6 * max(1.0, abs(a))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def check(fn):
    theirs = _run(fn, T, keras.layers)
    ours = _run(fn, N, N.keras.layers)
    if theirs[0] == "error":
        assert ours[0] == "error", f"TensorFlow raised {theirs[1]!r}; neuroflow gave {ours[1]}"
        expected = type(theirs[1])
        if expected.__module__.startswith("tensorflow"):
            expected = getattr(N.errors, expected.__name__)
        assert isinstance(ours[1], expected), f"TensorFlow: {theirs[1]!r}\nneuroflow: {ours[1]!r}"
        return
    assert ours[0] == "value", f"neuroflow raised {ours[1]!r}; TensorFlow gave {theirs[1]}"
    assert _close(ours[1], theirs[1]), f"TensorFlow: {theirs[1]}\nneuroflow:  {ours[1]}"


def cases(table: dict):
    return pytest.mark.parametrize("fn", list(table.values()), ids=list(table))


# --- string tensors -------------------------------------------------------------------------

CONVERSIONS = {
    "list": lambda m, _: m.constant(["a", "bc"]),
    "mixed bytes": lambda m, _: m.constant([b"x\xff", "é"]),
    "nested": lambda m, _: m.constant([["a", "b"], ["c", "d"]]),
    "numpy str": lambda m, _: m.constant(np.array(["ab", "c"])),
    "numpy bytes": lambda m, _: m.constant(np.array([b"ab", b"c"])),
    "numpy object": lambda m, _: m.constant(np.array([b"ab", "c"], dtype=object)),
    "scalar": lambda m, _: m.constant("héllo"),
    "np.str_": lambda m, _: m.constant(np.str_("ab")),
    "convert": lambda m, _: m.convert_to_tensor(["a", b"b"]),
    "dtype given": lambda m, _: m.constant("a", dtype=m.string),
    "shape": lambda m, _: m.constant("a", shape=[2, 2]),
    "empty": lambda m, _: m.constant([], dtype=m.string),
    "numpy str to int": lambda m, _: m.constant(np.array(["1"]), dtype=m.int32),
    "mixed": lambda m, _: m.constant(["a", 1]),
    "none": lambda m, _: m.constant([None, "a"]),
    "ragged": lambda m, _: m.constant([["a", "b"], ["c"]]),
    "surrogate": lambda m, _: m.constant("\ud800"),
    "object with int": lambda m, _: m.constant(np.array([1, "a"], dtype=object)),
    "int to string": lambda m, _: m.constant(1, dtype=m.string),
    "list to int": lambda m, _: m.constant(["1"], dtype=m.int32),
    "numpy int to string": lambda m, _: m.constant(np.array([1, 2]), dtype=m.string),
    "dtype attributes": lambda m, _: (m.string.name, m.string.size, m.string.is_floating,
                                      m.string.is_integer, m.as_dtype(np.dtype("U5")).name,
                                      m.as_dtype(object).name),
    "dtype min": lambda m, _: m.string.min,
    "as_dtype str": lambda m, _: m.as_dtype(str),
    "as_dtype datetime": lambda m, _: m.as_dtype(np.dtype("M8[s]")),
}


@cases(CONVERSIONS)
def test_conversion(fn):
    check(fn)


@pytest.mark.parametrize("value", [["a", "b"], "é", [["a", "b"], ["c", "d"]], [], b"\xff"])
def test_repr_str_and_numpy(value):
    theirs, ours = T.constant(value, T.string), N.constant(value, N.string)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert type(ours.numpy()) is type(theirs.numpy())
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _t(m):
    return m.constant(["a", "b"])


STRUCTURAL = {
    "equal": lambda m, _: m.equal(_t(m), "a"), "operator ==": lambda m, _: _t(m) == "a",
    "not_equal": lambda m, _: m.not_equal(_t(m), ["a", "c"]),
    "equal broadcast": lambda m, _: m.equal(m.constant([["a"], ["b"]]), _t(m)),
    "equal mixed": lambda m, _: m.equal(_t(m), m.constant([1, 2])),
    "== number": lambda m, _: _t(m) == 1,
    "shape": lambda m, _: m.shape(_t(m)), "size": lambda m, _: m.size(_t(m)),
    "reshape": lambda m, _: m.reshape(_t(m), [2, 1]),
    "gather": lambda m, _: m.gather(_t(m), [1, 0, 1]),
    "concat": lambda m, _: m.concat([_t(m), _t(m)], 0),
    "stack": lambda m, _: m.stack([_t(m), _t(m)]),
    "where": lambda m, _: m.where([True, False], _t(m), m.constant(["x", "y"])),
    "tile": lambda m, _: m.tile(_t(m), [2]),
    "transpose": lambda m, _: m.transpose(m.reshape(_t(m), [1, 2])),
    "expand_dims": lambda m, _: m.expand_dims(_t(m), 0),
    "squeeze": lambda m, _: m.squeeze(m.constant([["a"]])),
    "fill": lambda m, _: m.fill([2], "z"),
    "unique": lambda m, _: list(m.unique(m.constant(["b", "a", "b"]))),
    "boolean_mask": lambda m, _: m.boolean_mask(m.constant(["b", "a"]), [True, False]),
    "index": lambda m, _: _t(m)[0], "slice": lambda m, _: _t(m)[1:],
    "iterate": lambda m, _: list(_t(m)), "reverse": lambda m, _: m.reverse(_t(m), [0]),
    "stack mismatch": lambda m, _: m.stack([m.constant("a"), m.constant(1)]),
    "concat mismatch": lambda m, _: m.concat([m.constant(["a"]), m.constant([1])], 0),
    "multiply": lambda m, _: m.multiply(_t(m), _t(m)), "times 2": lambda m, _: _t(m) * 2,
    "less": lambda m, _: m.less(_t(m), _t(m)), "abs": lambda m, _: m.abs(_t(m)),
    "negative": lambda m, _: -_t(m), "maximum": lambda m, _: m.maximum(_t(m), "c"),
    "matmul": lambda m, _: m.matmul(m.constant([["a"]]), m.constant([["a"]])),
    "Dense on strings": lambda m, layers: layers.Dense(2)(m.constant([["a"]])),
    "traced": lambda m, _: m.function(lambda s: m.where(m.equal(s, "a"), s, m.fill(
        m.shape(s), "z")))(_t(m)),
}


@cases(STRUCTURAL)
def test_ops_on_string_tensors(fn):
    check(fn)


# --- tf.strings -----------------------------------------------------------------------------

TEXT = ["Hello World", "  ÀBC déf\t", "", b"x\xffy"]


def _x(m):
    return m.constant(TEXT)


STRINGS = {
    "lower": lambda m, _: m.strings.lower(_x(m)),
    "lower utf8": lambda m, _: m.strings.lower(_x(m), encoding="utf-8"),
    "upper": lambda m, _: m.strings.upper(_x(m)),
    "upper utf8": lambda m, _: m.strings.upper(["straße ǆ"], encoding="utf-8"),
    "lower bad encoding": lambda m, _: m.strings.lower(_x(m), encoding="latin1"),
    "lower numbers": lambda m, _: m.strings.lower(m.constant([1])),
    "strip": lambda m, _: m.strings.strip([" \t\v\f\r\na b \n", "\xa0x\xa0"]),
    "length": lambda m, _: m.strings.length(_x(m)),
    "length utf8": lambda m, _: m.strings.length([*TEXT, b"\xe2\x82a"], unit="UTF8_CHAR"),
    "length bad unit": lambda m, _: m.strings.length(_x(m), unit="CHAR"),
    "join": lambda m, _: m.strings.join([["a", "b"], "-", ["c", "d"]], separator="+"),
    "join shapes": lambda m, _: m.strings.join([m.constant([["a"], ["b"]]), ["c", "d"]]),
    "join empty": lambda m, _: m.strings.join([]),
    "join numbers": lambda m, _: m.strings.join([m.constant([1]), "b"]),
}
for _axis in (None, 0, 1, -1, [0, 1], [1, 0]):
    STRINGS[f"reduce_join axis={_axis}"] = (
        lambda m, _, a=_axis: m.strings.reduce_join([["a", "b"], ["c", "d"]], axis=a,
                                                    separator=","))
STRINGS.update({
    "reduce_join 3d": lambda m, _: m.strings.reduce_join(
        [[["a", "b"], ["c", "d"]], [["e", "f"], ["g", "h"]]], axis=[2, 0], separator="."),
    "reduce_join keepdims": lambda m, _: m.strings.reduce_join([["a", "b"]], axis=0,
                                                               keepdims=True),
    "reduce_join empty": lambda m, _: m.strings.reduce_join(m.constant([], m.string)),
    "reduce_join duplicate": lambda m, _: m.strings.reduce_join([["a"]], axis=[1, 1]),
    "reduce_join out of range": lambda m, _: m.strings.reduce_join([["a"]], axis=2),
})
for _text in ["1.5", " 1.5", "1e3", "-inf", "NaN", "0x10", "0x1.8p1", "+2", ".5", "3.4e39",
              "1e-50", "1.5f", "abc", "", "1,5", "1_000"]:
    STRINGS[f"to_number {_text!r}"] = lambda m, _, s=_text: m.strings.to_number([s])
for _text in ["12", " 12 ", "-7", "010", "1.0", "2147483648", "0x10", "1e3", ""]:
    for _type in ("int32", "int64"):
        STRINGS[f"to_number {_text!r} {_type}"] = (
            lambda m, _, s=_text, t=_type: m.strings.to_number([s], getattr(m, t)))
STRINGS.update({
    "to_number float64": lambda m, _: m.strings.to_number(["0.1", "1e400"], m.float64),
    "to_number uint64": lambda m, _: m.strings.to_number(["18446744073709551615"], m.uint64),
    "to_number uint32 negative": lambda m, _: m.strings.to_number(["-1"], m.uint32),
    "to_number int8": lambda m, _: m.strings.to_number(["1"], m.int8),
    "to_number float32 halfway": lambda m, _: m.strings.to_number(
        ["1.00000005960464477550", "1.00000005960464477539", "16777217", "0.1"]),
    "split whitespace maxsplit 0": lambda m, _: m.strings.split([" a b ", ""], maxsplit=0),
    "split leading whitespace maxsplit": lambda m, _: m.strings.split(["  a  b c "],
                                                                      maxsplit=1),
})
_FLOATS = [1.5, -2.0, 1e20, np.nan, np.inf, 0.1, 1 / 3]
for _kwargs in ({}, {"precision": 2}, {"scientific": True}, {"shortest": True},
                {"width": 12, "fill": "0", "precision": 1}, {"width": 12}, {"width": 12,
                                                                             "fill": "-"},
                {"shortest": True, "precision": 3}, {"scientific": True, "shortest": True},
                {"width": 3, "fill": "ab"}, {"width": 3, "fill": "x"}):
    STRINGS[f"as_string float {_kwargs}"] = (
        lambda m, _, k=_kwargs: m.strings.as_string(m.constant(_FLOATS), **k))
for _dtype in ("float16", "float64", "int8", "int32", "int64", "uint8", "bool", "complex64"):
    STRINGS[f"as_string {_dtype}"] = (
        lambda m, _, d=_dtype: m.strings.as_string(m.cast(m.constant([1, 0, 7]),
                                                          getattr(m, d))))
STRINGS.update({
    "as_string int precision": lambda m, _: m.strings.as_string([1], precision=2),
    "as_string int width": lambda m, _: m.strings.as_string([7, -3], width=4, fill="0"),
    "as_string strings": lambda m, _: m.strings.as_string(["ab"], width=4, precision=1),
    "as_string negative nan": lambda m, _: m.strings.as_string(m.constant([-np.nan])),
    "tf.as_string": lambda m, _: m.as_string(m.constant([1, 2])),
    "format": lambda m, _: m.strings.format("x={} y={}", (m.constant([1, 2]),
                                                         m.constant("s"))),
    "format floats": lambda m, _: m.strings.format("{}", m.constant([[0.1, 1 / 3], [1e10,
                                                                                    1e-7]])),
    "format float64": lambda m, _: m.strings.format("{}", m.constant([0.1, 1 / 3],
                                                                     m.float64)),
    "format long": lambda m, _: m.strings.format("{}", m.range(10)),
    "format all": lambda m, _: m.strings.format("{}", m.range(10), summarize=-1),
    "format strings": lambda m, _: m.strings.format("{}", m.constant([["a", "b"], ["c",
                                                                                   "d"]])),
    "format escapes": lambda m, _: m.strings.format("{}", m.constant("é\n")),
    "format bool": lambda m, _: m.strings.format("{}", m.constant([True, False])),
    "format python values": lambda m, _: m.strings.format("{} {}", (1, "x")),
    "format placeholder": lambda m, _: m.strings.format("a%b", [m.constant(1)],
                                                       placeholder="%"),
    "format count": lambda m, _: m.strings.format("{} {}", m.constant(1)),
    "substr": lambda m, _: m.strings.substr(["hello", "world"], 1, 3),
    "substr negative pos": lambda m, _: m.strings.substr(["hello"], -3, 2),
    "substr negative len": lambda m, _: m.strings.substr(["hello"], 1, -1),
    "substr at end": lambda m, _: m.strings.substr(["hello"], 5, 2),
    "substr out of range": lambda m, _: m.strings.substr(["hello"], 6, 2),
    "substr before start": lambda m, _: m.strings.substr(["hello"], -6, 2),
    "substr vectors": lambda m, _: m.strings.substr(["hello", "world"], [0, 1], [1, 2]),
    "substr utf8": lambda m, _: m.strings.substr(["héllo"], 1, 2, unit="UTF8_CHAR"),
    "substr utf8 out of range": lambda m, _: m.strings.substr(["héllo"], 6, 1,
                                                              unit="UTF8_CHAR"),
    "substr broadcast": lambda m, _: m.strings.substr([["hello", "world"], ["abc", "def"]],
                                                      [0, 1], [2, 2]),
    "substr pos and len shapes": lambda m, _: m.strings.substr(["hello", "world"], [0, 1], 2),
    "substr input shapes": lambda m, _: m.strings.substr(["hello", "world"], [0, 1, 2],
                                                         [1, 1, 1]),
    "hash strong": lambda m, _: m.strings.to_hash_bucket_strong(["a", "b", "", "hello"], 10,
                                                                [1, 2]),
    "hash fast zero buckets": lambda m, _: m.strings.to_hash_bucket_fast(["a"], 0),
})
_REGEX = [(r"\d+", "#"), (r"(\w+)-(\w+)", r"\2-\1 \0"), (r"[aeiou]", ""), ("b$", "X"),
          ("(?m)b$", "X"), (r"\d", "X"), (".", "X"), ("[[:alpha:]]", "X"), ("", "-"),
          ("x*", "-"), (r"(?i)hello", "bye"), (r"\s+", " "), (r"[^a-z]", ""),
          (r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']', ""), (r"\bw", "W"), ("(a", ""),
          ("a(?=b)", ""), (r"(a)\1", ""), ("a", r"\\"), (r"\S+", "#"), (r"\W", "#"),
          (r"\D", "#"), (r"[\s]", "#"), (r"[^\s]", "#"), (r"[\w-]+", "#"), (r"(?i)é", "#"),
          (r"\B", "#"), (r"[[:space:]]", "#"), ("[^[:alpha:]]", "#"), ("[à-ü]", "#")]
_REGEX_TEXT = ["a1b22c", "ab-cd", "ab\n", "é١2", "Hello  world!", "abc", b"a\xffb c\vd\te",
               "éÉ x1_2"]
for _pattern, _rewrite in _REGEX:
    STRINGS[f"regex_replace {_pattern!r} {_rewrite!r}"] = (
        lambda m, _, p=_pattern, r=_rewrite: m.strings.regex_replace(_REGEX_TEXT, p, r))
    STRINGS[f"regex_full_match {_pattern!r}"] = (
        lambda m, _, p=_pattern: m.strings.regex_full_match(_REGEX_TEXT, p))
STRINGS.update({
    "regex_replace first only": lambda m, _: m.strings.regex_replace(["a1b22c"], r"\d+", "#",
                                                                     replace_global=False),
    "regex tensor pattern": lambda m, _: m.strings.regex_replace(["a1"], m.constant(r"\d"),
                                                                 m.constant("#")),
    "regex numbers": lambda m, _: m.strings.regex_replace(m.constant([1]), r"\d", "#"),
    "split": lambda m, _: m.strings.split(["a b  c ", " ", "d"]),
    "split sep": lambda m, _: m.strings.split(["a,b,,c", ""], sep=","),
    "split maxsplit": lambda m, _: m.strings.split(["a b c d"], maxsplit=1),
    "split sep maxsplit": lambda m, _: m.strings.split(["a,b,c"], sep=",", maxsplit=1),
    "split scalar": lambda m, _: m.strings.split("a b"),
    "split matrix": lambda m, _: m.strings.split([["a b"], ["c"]]),
    "split long separator": lambda m, _: m.strings.split(["a<>b<>c"], sep="<>"),
    "split empty separator": lambda m, _: m.strings.split(["abc"], sep=""),
    "split whitespace kinds": lambda m, _: m.strings.split(["a\tb\nc\vd\fe\rf\xa0g"]),
    "split empty": lambda m, _: m.strings.split(m.constant([], m.string)),
    "split bad separator": lambda m, _: m.strings.split(["a"], sep=1),
    "unicode_split": lambda m, _: m.strings.unicode_split(["héllo", "", "ab"], "UTF-8"),
    "unicode_split scalar": lambda m, _: m.strings.unicode_split("hé", "UTF-8"),
    "unicode_split invalid": lambda m, _: m.strings.unicode_split([b"a\xffb", b"\xe2\x82a",
                                                                   b"\xf0\x9f"], "UTF-8"),
    "unicode_split strict": lambda m, _: m.strings.unicode_split([b"a\xffb"], "UTF-8",
                                                                 errors="strict"),
    "unicode_split ignore": lambda m, _: m.strings.unicode_split([b"a\xffb"], "UTF-8",
                                                                 errors="ignore"),
    "unicode_split replacement": lambda m, _: m.strings.unicode_split(
        [b"a\xffb"], "UTF-8", replacement_char=ord("?")),
    "unicode_split utf16": lambda m, _: m.strings.unicode_split(["ab".encode("utf-16-be")],
                                                                "UTF-16-BE"),
    "unicode_split matrix": lambda m, _: m.strings.unicode_split([["ab"], ["c"]], "UTF-8"),
    "ngrams": lambda m, _: m.strings.ngrams(m.ragged.constant([["a", "b", "c"], ["d"]]), 2),
    "ngrams widths": lambda m, _: m.strings.ngrams(m.ragged.constant([["a", "b", "c"], ["d"]]),
                                                   (1, 2)),
    "ngrams dense": lambda m, _: m.strings.ngrams(m.constant([["a", "b", "c"]]), 2),
    "traced split": lambda m, _: m.function(lambda x: m.strings.split(x).to_tensor())(
        m.constant(["a b", "c"])),
    "traced lower and length": lambda m, _: m.function(
        lambda x: (m.strings.lower(x), m.strings.length(x)))(m.constant(["AB", "c"])),
})


@cases(STRINGS)
def test_tf_strings(fn):
    check(fn)


def test_hash_bucket_fast():
    pytest.importorskip("farmhash")
    words = ["", "a", "hello", "The quick brown fox", "é", "x" * 200]
    np.testing.assert_array_equal(N.strings.to_hash_bucket_fast(words, 2**62).numpy(),
                                  T.strings.to_hash_bucket_fast(words, 2**62).numpy())


# --- ragged tensors -----------------------------------------------------------------------


def _rt(m):
    return m.RaggedTensor.from_row_splits([1, 2, 3, 4, 5], [0, 2, 2, 5])


RAGGED = {
    "to_list": lambda m, _: _rt(m), "shape": lambda m, _: _rt(m).shape.as_list(),
    "flat_values": lambda m, _: _rt(m).flat_values, "row_splits": lambda m, _: _rt(m).row_splits,
    "nrows": lambda m, _: _rt(m).nrows(), "nrows int32": lambda m, _: _rt(m).nrows(m.int32),
    "row_lengths": lambda m, _: _rt(m).row_lengths(),
    "value_rowids": lambda m, _: _rt(m).value_rowids(),
    "row_starts": lambda m, _: _rt(m).row_starts(),
    "bounding_shape": lambda m, _: _rt(m).bounding_shape(),
    "to_tensor": lambda m, _: _rt(m).to_tensor(),
    "to_tensor default": lambda m, _: _rt(m).to_tensor(default_value=-1),
    "to_tensor cut": lambda m, _: _rt(m).to_tensor(shape=[2, 2]),
    "to_tensor pad": lambda m, _: _rt(m).to_tensor(shape=[4, 4]),
    "to_tensor width": lambda m, _: _rt(m).to_tensor(shape=[None, 5]),
    "row": lambda m, _: _rt(m)[2], "last row": lambda m, _: _rt(m)[-1],
    "rows": lambda m, _: _rt(m)[1:], "item": lambda m, _: _rt(m)[2, 1],
    "row out of range": lambda m, _: _rt(m)[5], "inner index": lambda m, _: _rt(m)[:, 0],
    "iterate": lambda m, _: list(_rt(m)),
    "from_row_lengths": lambda m, _: m.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 1]),
    "from_row_lengths bad": lambda m, _: m.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 2]),
    "from_row_splits bad": lambda m, _: m.RaggedTensor.from_row_splits([1, 2, 3], [1, 3]),
    "from_row_splits decreasing": lambda m, _: m.RaggedTensor.from_row_splits([1, 2, 3],
                                                                              [0, 2, 1, 3]),
    "from_value_rowids": lambda m, _: m.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2],
                                                                       nrows=4),
    "from_tensor padding": lambda m, _: m.RaggedTensor.from_tensor([[1, 0], [2, 3]],
                                                                   padding=0),
    "from_tensor lengths": lambda m, _: m.RaggedTensor.from_tensor([[1, 0], [2, 3]],
                                                                   lengths=[1, 2]),
    "constant strings": lambda m, _: m.ragged.constant([["a", "b"], ["c"]]),
    "constant 3 levels": lambda m, _: m.ragged.constant([[[1, 2], [3]], [[4]]]),
    "constant empty": lambda m, _: m.ragged.constant([[], []]),
    "nested to_tensor": lambda m, _: m.ragged.constant([[[1, 2], [3]], [[4]]]).to_tensor(),
    "nested splits": lambda m, _: list(m.ragged.constant([[[1, 2], [3]],
                                                          [[4]]]).nested_row_splits),
    "map_flat_values": lambda m, _: m.ragged.map_flat_values(m.multiply, _rt(m), 10),
    "with_values": lambda m, _: _rt(m).with_values(_rt(m).values * 2),
    "plus one": lambda m, _: _rt(m) + 1, "equals": lambda m, _: _rt(m) == 2,
    "string to_tensor": lambda m, _: m.ragged.constant([["a", "b"], ["c"]]).to_tensor(),
}


@cases(RAGGED)
def test_ragged_tensors(fn):
    check(fn)


# --- Keras preprocessing ------------------------------------------------------------------

CORPUS = ["The cat sat.", "the dog ran!", "A cat, a dog; the end", "zebra", "Über café, CAFÉ"]


def _adapted(layers, **kwargs):
    layer = layers.TextVectorization(**kwargs)
    layer.adapt(CORPUS)
    return layer


def _config(layer) -> dict:
    # An adapted layer's config: Keras 3 leaves the learned vocabulary out (it saves it as
    # a file asset); neuroflow writes it inline so saved models keep it (README, "Text").
    # The vocabulary itself is compared through get_vocabulary().
    return {k: v for k, v in layer.get_config().items()
            if k not in ("name", "dtype", "vocabulary")}


LAYERS = {}
for _mode in ("int", "multi_hot", "count", "tf_idf"):
    LAYERS[f"TextVectorization {_mode}"] = (
        lambda m, layers, mode=_mode: (lambda t: (t.get_vocabulary(), t(
            ["the cat", "unknown words here the the", "café"]), _config(t)))(
            _adapted(layers, output_mode=mode)))
LAYERS.update({
    "TextVectorization max_tokens": lambda m, layers: (lambda t: (t.get_vocabulary(), t(
        ["the cat sat on the mat ok", "dog"])))(
        _adapted(layers, max_tokens=5, output_sequence_length=4)),
    "TextVectorization scalar": lambda m, layers: _adapted(layers, output_sequence_length=4)(
        "the cat"),
    "TextVectorization matrix": lambda m, layers: _adapted(layers)([["the cat"], ["dog"]]),
    "TextVectorization ragged": lambda m, layers: _adapted(layers, ragged=True)(
        ["the cat", "dog"]),
    "TextVectorization dataset": lambda m, layers: (lambda t: t.get_vocabulary())(
        (lambda t: (t.adapt(m.data.Dataset.from_tensor_slices(CORPUS).batch(2)), t)[1])(
            layers.TextVectorization())),
    "TextVectorization ngrams": lambda m, layers: layers.TextVectorization(
        vocabulary=["cat", "dog", "cat dog"], ngrams=2)(["cat dog Cat"]),
    "TextVectorization characters": lambda m, layers: (lambda t: (t.get_vocabulary(), t(
        ["ab", "dd e"])))((lambda t: (t.adapt(["abca", "Bd", "éé"]), t)[1])(
            layers.TextVectorization(split="character", standardize="lower"))),
    "TextVectorization no split": lambda m, layers: layers.TextVectorization(
        split=None, standardize=None, vocabulary=["A b", "c"])([["A b"], ["a b"], ["c"]]),
    "TextVectorization pad_to_max_tokens": lambda m, layers: _adapted(
        layers, max_tokens=20, output_mode="multi_hot", pad_to_max_tokens=True)(["the cat"]),
    "TextVectorization config": lambda m, layers: _config(layers.TextVectorization(
        max_tokens=9, output_sequence_length=3, ngrams=(1, 2), vocabulary=["a", "b"])),
    "TextVectorization numbers": lambda m, layers: _adapted(layers)([1, 2]),
    "TextVectorization no vocabulary": lambda m, layers: layers.TextVectorization(
        output_mode="multi_hot")(["a"]),
    "TextVectorization no table": lambda m, layers: layers.TextVectorization()(["a b"]),
    "TextVectorization bad standardize": lambda m, layers: layers.TextVectorization(
        standardize="upper"),
    "TextVectorization bad length": lambda m, layers: layers.TextVectorization(
        output_mode="count", output_sequence_length=3),
    "TextVectorization traced": lambda m, layers: m.function(_adapted(
        layers, output_sequence_length=5))(m.constant(CORPUS)),
})

_LETTERS = ["a", "b", "b", "c", "c", "c", "d", "d", "B", "é"]
LAYERS.update({
    "StringLookup adapt": lambda m, layers: (lambda s: (s.get_vocabulary(), s(
        ["c", "z", "a", "é"]), _config(s)))((lambda s: (s.adapt(_LETTERS), s)[1])(
            layers.StringLookup())),
    "StringLookup max_tokens": lambda m, layers: (lambda s: s.get_vocabulary())(
        (lambda s: (s.adapt(_LETTERS), s)[1])(layers.StringLookup(max_tokens=3))),
    "StringLookup mask": lambda m, layers: (lambda s: (s.get_vocabulary(), s(["a", "", "q"])))(
        layers.StringLookup(vocabulary=["a", "b"], mask_token="")),
    "StringLookup invert": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], invert=True)([0, 1, 2, 5]),
    "StringLookup one_hot": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], output_mode="one_hot")(["a", "b", "z"]),
    "StringLookup multi_hot": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], output_mode="multi_hot")([["a", "b"], ["z", "z"]]),
    "StringLookup count": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], output_mode="count")([["a", "a"], ["z", "b"]]),
    "StringLookup tf_idf": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], idf_weights=[0.5, 0.25], output_mode="tf_idf")(
        [["a", "a"], ["z", "b"]]),
    "StringLookup zero oov": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], num_oov_indices=0)(["a", "x"]),
    "StringLookup special tokens given": lambda m, layers: (lambda s: (s.set_vocabulary(
        ["[UNK]", "a", "b"]), s.get_vocabulary())[1])(layers.StringLookup()),
    "StringLookup repeated": lambda m, layers: layers.StringLookup(vocabulary=["a", "a"]),
    "StringLookup empty": lambda m, layers: layers.StringLookup(vocabulary=[]),
    "StringLookup 2d": lambda m, layers: layers.StringLookup(vocabulary=["a", "b"])(
        [["a", "b"], ["b", "q"]]),
    "StringLookup ragged": lambda m, layers: layers.StringLookup(vocabulary=["a", "b"])(
        m.ragged.constant([["a"], ["b", "q"]])),
    "StringLookup config": lambda m, layers: _config(layers.StringLookup(
        vocabulary=["a", "b"], mask_token="", num_oov_indices=2)),
    "IntegerLookup adapt": lambda m, layers: (lambda s: (s.get_vocabulary(), s([7, 3, 99]),
                                                         _config(s)))(
        (lambda s: (s.adapt([3, 3, 7, 7, 7, 1, 12]), s)[1])(layers.IntegerLookup())),
    "IntegerLookup mask": lambda m, layers: layers.IntegerLookup(vocabulary=[5, 6],
                                                                 mask_token=0)([5, 0, 9]),
    "IntegerLookup invert": lambda m, layers: layers.IntegerLookup(
        vocabulary=[5, 6], invert=True)([0, 1, 2, 5]),
    "IntegerLookup oov floormod": lambda m, layers: layers.IntegerLookup(
        vocabulary=[5, 6], num_oov_indices=2)([5, 7, 8, 9]),
    "IntegerLookup multi_hot": lambda m, layers: layers.IntegerLookup(
        vocabulary=[5, 6], output_mode="multi_hot")([[5, 9]]),
    "IntegerLookup config": lambda m, layers: _config(layers.IntegerLookup(
        vocabulary=[5, 6], mask_token=0)),
    "CategoryEncoding multi_hot": lambda m, layers: layers.CategoryEncoding(4)([[0, 1],
                                                                               [3, 3]]),
    "CategoryEncoding count": lambda m, layers: layers.CategoryEncoding(
        4, output_mode="count")([[0, 1, 1], [3, 3, 2]]),
    "CategoryEncoding one_hot": lambda m, layers: layers.CategoryEncoding(
        4, output_mode="one_hot")([0, 3]),
    "CategoryEncoding one_hot column": lambda m, layers: layers.CategoryEncoding(
        4, output_mode="one_hot")([[0], [3]]),
    "CategoryEncoding out of range": lambda m, layers: layers.CategoryEncoding(4)([[0, 5]]),
    "CategoryEncoding negative": lambda m, layers: layers.CategoryEncoding(4)([[0, -1]]),
    "CategoryEncoding weights": lambda m, layers: layers.CategoryEncoding(
        4, output_mode="count")([[0, 1, 1]], count_weights=[[0.5, 1.0, 2.0]]),
    "CategoryEncoding scalar": lambda m, layers: layers.CategoryEncoding(4)(2),
    "CategoryEncoding int32": lambda m, layers: layers.CategoryEncoding(4, dtype="int32")(
        [[0, 1]]),
    "CategoryEncoding config": lambda m, layers: _config(layers.CategoryEncoding(4)),
    "Hashing salt": lambda m, layers: layers.Hashing(num_bins=5, salt=133)(["a", "b", "c"]),
    "Hashing salt pair": lambda m, layers: layers.Hashing(num_bins=5, salt=[1, 2])(
        [["a"], ["b"]]),
    "Hashing config": lambda m, layers: _config(layers.Hashing(num_bins=5, salt=3)),
    "Hashing bad bins": lambda m, layers: layers.Hashing(num_bins=0),
})


@cases(LAYERS)
def test_text_preprocessing_layers(fn):
    check(fn)


HASHED_LAYERS = {
    "Hashing strings": lambda m, layers: layers.Hashing(num_bins=5)(["a", "b", "c", ""]),
    "Hashing ints": lambda m, layers: layers.Hashing(num_bins=5)([1, 2, 3]),
    "Hashing floats": lambda m, layers: layers.Hashing(num_bins=5)([1.5, 2.7]),
    "Hashing mask": lambda m, layers: layers.Hashing(num_bins=5, mask_value="")(["a", "", "b"]),
    "Hashing one_hot": lambda m, layers: layers.Hashing(num_bins=3, output_mode="one_hot")(
        ["a", "b"]),
    "Hashing multi_hot": lambda m, layers: layers.Hashing(num_bins=3, output_mode="multi_hot")(
        [["a", "b"]]),
    "StringLookup oov buckets": lambda m, layers: layers.StringLookup(
        vocabulary=["a", "b"], num_oov_indices=2)(["a", "x", "y", "zz", "b"]),
    "IntegerLookup farmhash": lambda m, layers: layers.IntegerLookup(
        vocabulary=[5, 6], num_oov_indices=3, oov_method="farmhash")([5, 7, 8, 9]),
}


@cases(HASHED_LAYERS)
def test_hashing_layers(fn):
    pytest.importorskip("farmhash")
    check(fn)


# --- pipelines ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    (root / "a.txt").write_bytes(b"first\nsecond\r\n\nlast")
    (root / "b.txt").write_bytes(b"x\ny\n")
    (root / "c.txt").write_bytes(b"")
    (root / "d.gz").write_bytes(gzip.compress(b"g1\ng2\n"))
    for label, texts in {"neg": ["bad film", "awful", "meh plot", "no"],
                         "pos": ["great", "loved it", "yes!"]}.items():
        (root / "reviews" / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (root / "reviews" / label / f"{i}.txt").write_text(text)
    return root


def _lines(m, root, *names, **kwargs):
    return list(m.data.TextLineDataset([str(root / n) for n in names],
                                       **kwargs).as_numpy_iterator())


PIPELINES = {
    "lines": lambda m, root: _lines(m, root, "a.txt", "b.txt", "c.txt"),
    "lines interleaved": lambda m, root: _lines(m, root, "a.txt", "b.txt", "c.txt",
                                                num_parallel_reads=2),
    "lines gzip": lambda m, root: _lines(m, root, "d.gz", compression_type="GZIP"),
    "lines missing": lambda m, root: _lines(m, root, "nope.txt"),
    "lines spec": lambda m, root: repr(m.data.TextLineDataset(str(root / "a.txt")).element_spec),
    "lines cardinality": lambda m, root: int(m.data.TextLineDataset(
        str(root / "a.txt")).cardinality()),
    "lines bad names": lambda m, root: m.data.TextLineDataset(3),
    "lines mapped": lambda m, root: [b.numpy().tolist() for b in m.data.TextLineDataset(
        str(root / "a.txt")).map(m.strings.upper).batch(3)],
    "reviews": lambda m, root: [(t.numpy().tolist(), y.numpy().tolist()) for t, y in
                                keras_utils(m).text_dataset_from_directory(
                                    str(root / "reviews"), shuffle=False, batch_size=3,
                                    max_length=4)],
    "reviews categorical": lambda m, root: [y.numpy().tolist() for _, y in keras_utils(
        m).text_dataset_from_directory(str(root / "reviews"), shuffle=False, batch_size=None,
                                       label_mode="categorical")],
    "reviews split": lambda m, root: [sorted(t for b, _ in part for t in b.numpy().tolist())
                                      for part in keras_utils(m).text_dataset_from_directory(
                                          str(root / "reviews"), validation_split=0.3,
                                          subset="both", seed=5)],
    "reviews class names": lambda m, root: keras_utils(m).text_dataset_from_directory(
        str(root / "reviews"), class_names=["pos", "neg"], shuffle=False).class_names,
    "reviews binary spec": lambda m, root: repr(keras_utils(m).text_dataset_from_directory(
        str(root / "reviews"), label_mode="binary").element_spec),
    "reviews bad labels": lambda m, root: keras_utils(m).text_dataset_from_directory(
        str(root / "reviews"), labels="yes"),
}


def keras_utils(m):
    return keras.utils if m is T else N.keras.utils


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_text_pipelines(name, text_files):
    check(lambda m, _: PIPELINES[name](m, text_files))


def _lengths_dataset(m):
    rows = [[1], [1, 2, 3], [1, 2], [4, 5, 6, 7, 8], [9], [1, 2, 3, 4], [5, 6, 7]]
    dense = m.ragged.constant(rows).to_tensor(-1)
    return m.data.Dataset.from_tensor_slices(dense).map(lambda x: m.boolean_mask(x, x >= 0))


def _buckets(m, *args, **kwargs):
    ds = _lengths_dataset(m).bucket_by_sequence_length(lambda x: m.shape(x)[0], *args,
                                                       **kwargs)
    return [b.numpy().tolist() for b in ds]


BUCKETS = {
    "basic": lambda m, _: _buckets(m, [2, 4], [2, 2, 2]),
    "drop": lambda m, _: _buckets(m, [2, 4], [2, 2, 2], drop_remainder=True),
    "to boundary": lambda m, _: _buckets(m, [3, 6], [2, 2, 2], pad_to_bucket_boundary=True),
    "to boundary too long": lambda m, _: _buckets(m, [2, 4], [2, 2, 2],
                                                  pad_to_bucket_boundary=True),
    "padding value": lambda m, _: _buckets(m, [3], [3, 3], padding_values=m.constant(-9)),
    "padded shapes": lambda m, _: _buckets(m, [3], [3, 3], padded_shapes=[6]),
    "sizes": lambda m, _: _buckets(m, [2, 4], [2, 2]),
    "spec": lambda m, _: repr(_lengths_dataset(m).bucket_by_sequence_length(
        lambda x: m.shape(x)[0], [2], [2, 2]).element_spec),
    "no padding": lambda m, _: [b.numpy().tolist() for b in m.data.Dataset.range(
        5).bucket_by_sequence_length(lambda x: m.cast(x, m.int32), [2], [2, 2],
                                     no_padding=True)],
    "strings": lambda m, _: [(a.numpy().tolist(), b.numpy().tolist()) for a, b in
                             m.data.Dataset.from_tensor_slices((["a", "bb", "ccc", "d"],
                                                                [1, 2, 3, 4]))
                             .bucket_by_sequence_length(lambda s, y: m.strings.length(s), [2],
                                                        [2, 2])],
    "split strings": lambda m, _: [b.numpy().tolist() for b in m.data.Dataset
                                   .from_tensor_slices(["a b", "c", "d e f", "g"])
                                   .map(m.strings.split)
                                   .bucket_by_sequence_length(lambda x: m.shape(x)[0], [2],
                                                              [2, 2])],
}


@cases(BUCKETS)
def test_bucket_by_sequence_length(fn):
    check(fn)


@pytest.mark.parametrize("kwargs", [
    {}, {"maxlen": 2}, {"maxlen": 5, "padding": "post"}, {"maxlen": 2, "truncating": "post"},
    {"value": -1.0}, {"dtype": "float32"}, {"padding": "mid"}, {"value": "x"},
    {"dtype": object, "value": ""},
])
def test_pad_sequences(kwargs):
    data = ([["a", "b"], ["c"]] if kwargs.get("dtype") is object
            else [[1, 2, 3], [4], [], [5, 6, 7, 8]])
    check(lambda m, _: keras_utils(m).pad_sequences(data, **kwargs))
