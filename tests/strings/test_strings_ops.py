"""``tf.strings`` ops against Python's own string methods, eagerly and traced.

The references are Python's bytes/str methods and ``re``; the RE2 translation and the
hash functions are checked against known properties here and against TensorFlow in
``tests/oracle/test_tf_strings.py``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors

S = tf.strings
TEXTS = ["Hello World", "  ÀBC déf\t", "", "x y  z", "MiXeD 42!"]


def _b(items) -> list[bytes]:
    return [s.encode() if isinstance(s, str) else s for s in items]


def _both(fn, *args):
    """``fn`` eagerly and compiled by tf.function (the same values both ways)."""
    eager = fn(*args)
    compiled = tf.function(fn)(*args)
    np.testing.assert_array_equal(np.asarray(eager.numpy()), np.asarray(compiled.numpy()))
    assert eager.dtype == compiled.dtype and eager.shape == compiled.shape
    return eager


def test_case_and_whitespace():
    x = tf.constant(TEXTS)
    assert _both(S.lower, x).numpy().tolist() == [t.lower() for t in _b(TEXTS)]
    assert _both(S.upper, x).numpy().tolist() == [t.upper() for t in _b(TEXTS)]
    utf8 = _both(lambda v: S.lower(v, encoding="utf-8"), x).numpy().tolist()
    assert utf8 == [t.lower().encode() for t in TEXTS]
    assert S.upper(["straße"], encoding="utf-8").numpy().tolist() == [b"STRASSE"]
    assert S.lower([b"A\xffB"], encoding="utf-8").numpy().tolist() == [
        b"A\xffB".decode("utf-8", "replace").lower().encode()]
    assert _both(S.strip, x).numpy().tolist() == [t.strip() for t in _b(TEXTS)]
    with pytest.raises(errors.InvalidArgumentError, match="only utf-8"):
        S.lower(x, encoding="latin1")
    with pytest.raises(errors.InvalidArgumentError, match="string tensor"):
        S.upper([1, 2])


def test_length_in_bytes_and_characters():
    x = tf.constant(TEXTS + [b"\xe2\x82a"])
    got = _both(S.length, x)
    assert got.dtype is tf.int32 and got.numpy().tolist() == [len(t) for t in _b(TEXTS)] + [3]
    chars = _both(lambda v: S.length(v, unit="UTF8_CHAR"), x).numpy().tolist()
    assert chars[:-1] == [len(t) for t in TEXTS]
    assert chars[-1] == 2  # a truncated sequence counts by its lead byte
    with pytest.raises(errors.InvalidArgumentError, match="UTF8_CHAR"):
        S.length(x, unit="CHAR")


@pytest.mark.parametrize("pattern, rewrite, python_pattern, python_rewrite", [
    (r"\d+", "#", r"\d+", "#"),
    (r"(\w+) (\w+)", r"\2 \1", r"(\w+) (\w+)", r"\2 \1"),
    (r"[aeiou]", r"<\0>", r"[aeiou]", r"<\g<0>>"),
    (r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']', "", r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']',
     ""),
    (r"(?i)x", "_", r"(?i)x", "_"),
    (r"^\s+|\s+$", "", r"^\s+|\s+\Z", ""),
    (r"a\\b", "!", r"a\\b", "!"),
    (r"(?P<first>l)l", r"\1\\", r"(?P<first>l)l", r"\1\\"),
])
def test_regex_replace_matches_pythons_re(pattern, rewrite, python_pattern, python_rewrite):
    texts = TEXTS + ["a\\b", "hello world", "abc def"]
    got = _both(lambda v: S.regex_replace(v, pattern, rewrite), tf.constant(texts))
    want = [re.sub(python_pattern, python_rewrite, t, flags=re.ASCII).encode() for t in texts]
    assert got.numpy().tolist() == want
    first = S.regex_replace(texts, pattern, rewrite, replace_global=False).numpy().tolist()
    assert first == [re.sub(python_pattern, python_rewrite, t, count=1,
                            flags=re.ASCII).encode() for t in texts]


def test_re2_meanings_that_differ_from_pythons():
    # RE2's $ is the end of the text; \z too; \d, \w, \s are ASCII; "." skips invalid bytes.
    assert S.regex_replace(["ab\n"], "b$", "X").numpy().tolist() == [b"ab\n"]
    assert S.regex_replace(["ab\n"], "(?m)b$", "X").numpy().tolist() == [b"aX\n"]
    assert S.regex_replace(["ab"], r"b\z", "X").numpy().tolist() == [b"aX"]
    assert S.regex_replace(["١2"], r"\d", "X").numpy().tolist() == ["١X".encode()]
    assert S.regex_replace([b"a\xffb"], ".", "X").numpy().tolist() == [b"X\xffX"]
    assert S.regex_replace(["a1_B"], "[[:alpha:]]", "X").numpy().tolist() == [b"X1_X"]
    assert S.regex_replace(["a.b"], r"\Qa.\E", "X").numpy().tolist() == [b"Xb"]
    assert S.regex_replace(["é"], r"\x{e9}", "e").numpy().tolist() == [b"e"]
    assert S.regex_replace(["ab"], "(?<x>a)", r"[\1]").numpy().tolist() == [b"[a]b"]
    assert S.regex_full_match(["a\n"], "a.", ).numpy().tolist() == [False]
    assert S.regex_full_match(["a\n"], "(?s)a.").numpy().tolist() == [True]
    assert S.regex_replace(["a\vb c"], r"\s", "_").numpy().tolist() == [b"a\vb_c"]
    assert S.regex_replace(["a\vb c"], r"[^\s]", "_").numpy().tolist() == [b"___ _"]
    assert S.regex_replace(["abxd"], "x*", "-").numpy().tolist() == [b"-a-b-d-"]
    assert S.regex_replace(["éx_1"], r"\w", "_").numpy().tolist() == ["é___".encode()]
    assert S.regex_replace(["éx_1"], r"[\W\d]", "-").numpy().tolist() == [b"-x_-"]
    for text in ("éa é", "a é", "xa"):  # RE2's \b sees ASCII word characters only
        assert S.regex_replace([text], r"\b", "|").numpy().tolist() == [
            re.sub(r"\b", "|", text, flags=re.ASCII).encode()]
    assert S.regex_replace([b"a\xffb c"], r"\S+", "#").numpy().tolist() == [b"#\xff# #"]
    assert S.regex_replace(["éÉ"], "(?i)é", "e").numpy().tolist() == [
        re.sub("(?i)é", "e", "éÉ").encode()]


@pytest.mark.parametrize("pattern", [r"a(?=b)", r"a(?!b)", r"(?<=a)b", r"(?<!a)b", r"(a)\1",
                                     r"(?P<n>a)(?P=n)", r"(?>a)", r"(?#c)a", r"(?x)a", r"a*+",
                                     r"(a", r"a\Z", r"[[:nope:]]", r"\x{41", r"[a", "\\",
                                     r"(?(1)a|b)", r"\N{DIGIT ONE}"])
def test_patterns_re2_refuses_are_refused(pattern):
    with pytest.raises(errors.InvalidArgumentError, match="Invalid pattern"):
        S.regex_replace(["ab"], pattern, "")
    with pytest.raises(errors.InvalidArgumentError, match="Invalid pattern"):
        S.regex_full_match(["ab"], pattern)


@pytest.mark.parametrize("pattern", [r"\pL", r"\p{Greek}", r"[\PL]", r"(?U)a+", r"\C"])
def test_re2_syntax_python_cannot_express_is_refused_clearly(pattern):
    with pytest.raises(errors.UnimplementedError, match="Python's re"):
        S.regex_replace(["ab"], pattern, "")


@pytest.mark.parametrize("rewrite", [r"\x", r"\2", "\\"])
def test_bad_rewrites_are_refused(rewrite):
    with pytest.raises(errors.InvalidArgumentError, match="rewrite"):
        S.regex_replace(["ab"], "(a)", rewrite)


def test_patterns_as_tensors_and_bytes():
    got = S.regex_replace(["a1"], tf.constant(r"\d"), tf.constant("#")).numpy().tolist()
    assert got == [b"a#"]
    assert S.regex_full_match(["a1"], rb"a\d").numpy().tolist() == [True]
    with pytest.raises(errors.InvalidArgumentError, match="scalar"):
        S.regex_replace(["a"], tf.constant(["a", "b"]), "")
    with pytest.raises(TypeError):
        S.regex_replace(["a"], 3, "")


def test_regex_full_match():
    texts = ["abc", "ab", "abcd", "", "ab\n"]
    got = _both(lambda v: S.regex_full_match(v, r"ab.?"), tf.constant(texts))
    assert got.dtype is tf.bool
    assert got.numpy().tolist() == [re.fullmatch(r"ab.?", t) is not None for t in texts]


def test_join_and_reduce_join():
    a, b = ["x", "yy", ""], ["1", "2", "3"]
    got = _both(lambda u, v: S.join([u, "-", v], separator="+"), tf.constant(a), tf.constant(b))
    assert got.numpy().tolist() == [f"{p}+-+{q}".encode() for p, q in zip(a, b)]
    assert S.join([]).numpy() == b"" and S.join(["a", "b"]).numpy() == b"ab"
    with pytest.raises(errors.InvalidArgumentError, match="do not match"):
        S.join([tf.constant([["a"], ["b"]]), tf.constant(["c", "d"])])
    x = np.array([[["a", "b"], ["c", "d"]], [["e", "f"], ["g", "h"]]], dtype=object)
    t = tf.constant(x)
    for axis in (None, 0, 1, 2, -1, [0, 2], [2, 0], [1, 0, 2]):
        got = _both(lambda v, axis=axis: S.reduce_join(v, axis=axis, separator="."), t)
        # TensorFlow's order: the first axis listed varies fastest.
        axes = [2, 1, 0] if axis is None else [a % 3 for a in np.atleast_1d(axis)]
        kept = [i for i in range(3) if i not in axes]
        moved = np.transpose(x, kept + axes[::-1]).reshape(
            *[x.shape[i] for i in kept], -1)
        want = np.array([".".join(row) for row in moved.reshape(-1, moved.shape[-1])],
                        dtype=object).reshape(moved.shape[:-1])
        np.testing.assert_array_equal(got.numpy(), np.vectorize(str.encode, otypes=[object])(
            want))
    kept = S.reduce_join(t, axis=1, keepdims=True)
    assert kept.shape == (2, 1, 2)
    assert S.reduce_join(tf.constant([], tf.string)).numpy() == b""
    with pytest.raises(errors.InvalidArgumentError, match="Duplicate"):
        S.reduce_join(t, axis=[1, -2])
    with pytest.raises(errors.OutOfRangeError):
        S.reduce_join(t, axis=3)
    assert S.reduce_join(t, axis=tf.constant(0)).shape == (2, 2)


@pytest.mark.parametrize("text, out_type, want", [
    ("1.5", tf.float32, 1.5), (" -2.25 ", tf.float64, -2.25), ("1e3", tf.float32, 1e3),
    ("inf", tf.float32, math.inf), ("-Infinity", tf.float64, -math.inf), ("+2", tf.float32, 2.0),
    ("0x10", tf.float32, 16.0), ("0x1.8p1", tf.float64, 3.0), (".5", tf.float32, 0.5),
    ("3.4e39", tf.float32, math.inf), ("12", tf.int32, 12), ("-7", tf.int64, -7),
    ("010", tf.int32, 10), ("2147483648", tf.int64, 2**31), ("4294967295", tf.uint32, 2**32 - 1),
])
def test_to_number_parses_as_tensorflow(text, out_type, want):
    got = S.to_number(text, out_type)
    assert got.dtype == out_type and float(got) == want


def test_to_number_rounds_to_the_nearest_float32():
    # Halfway between 1 and the next float32 lies 1 + 2**-24; the decimal just above it
    # rounds up, though its nearest double is that halfway point (rounding twice gives 1).
    above = "1.00000005960464477550"
    assert float(np.float32(float(above))) == 1.0
    assert S.to_number([above]).numpy()[0] == np.nextafter(np.float32(1), np.float32(2))
    assert S.to_number(["1.000000059604644775390625"]).numpy()[0] == 1.0  # a tie: to even


def test_to_number_nan_and_vectors():
    assert math.isnan(float(S.to_number("nan"))) and math.isnan(float(S.to_number("nan(7)")))
    values = ["1", "-2.5", "1e-3"]
    got = _both(S.to_number, tf.constant(values))
    np.testing.assert_array_equal(got.numpy(), np.array(values, dtype=np.float32))


@pytest.mark.parametrize("text, out_type", [
    ("1.5f", tf.float32), ("abc", tf.float32), ("", tf.float32), ("1,5", tf.float32),
    ("1_000", tf.float32), ("1.0", tf.int32), ("0x10", tf.int64), ("2147483648", tf.int32),
    ("1e3", tf.int64), ("-1", tf.uint32), (b"\xff", tf.float32),
])
def test_to_number_refuses_what_tensorflow_refuses(text, out_type):
    with pytest.raises(errors.InvalidArgumentError, match="could not correctly convert"):
        S.to_number([text], out_type)


def test_to_number_out_types():
    with pytest.raises(errors.InvalidArgumentError, match="out_type"):
        S.to_number(["1"], tf.int8)


@pytest.mark.parametrize("values, kwargs, fmt", [
    (np.array([1.5, -2.0, 1e20], np.float32), {}, "%f"),
    (np.array([0.1], np.float64), {"precision": 3}, "%.3f"),
    (np.array([31415.9], np.float32), {"scientific": True}, "%e"),
    (np.array([0.1, 1e20, 123456789.0], np.float32), {"shortest": True}, "%g"),
    (np.array([1.5], np.float32), {"width": 10, "fill": "0", "precision": 2}, "%010.2f"),
    (np.array([7, -3], np.int32), {"width": 4}, "%4d"),
    (np.array([7], np.int64), {"width": 4, "fill": "-"}, "%-4d"),
    (np.array([200], np.uint8), {}, "%d"),
])
def test_as_string_is_printf(values, kwargs, fmt):
    got = _both(lambda v: S.as_string(v, **kwargs), tf.constant(values))
    assert got.numpy().tolist() == [(fmt % v).encode() for v in values.tolist()]


def test_as_string_special_values():
    assert S.as_string([True, False]).numpy().tolist() == [b"true", b"false"]
    assert S.as_string(tf.constant([-np.nan, np.inf])).numpy().tolist() == [b"-nan", b"inf"]
    assert S.as_string(tf.constant([1 + 2j], tf.complex64), precision=1).numpy().tolist() == [
        b"(1.0,2.0)"]
    assert S.as_string(["ab"], width=4).numpy().tolist() == [b"  ab"]
    assert tf.as_string(tf.constant([3])).numpy().tolist() == [b"3"]


@pytest.mark.parametrize("values, kwargs, message", [
    ([1.5], {"scientific": True, "shortest": True}, "both scientific"),
    ([1], {"precision": 2}, "precision not supported"),
    ([1], {"shortest": True}, "not supported for datatype"),
    ([1], {"width": 3, "fill": "ab"}, "one or fewer"),
    ([1], {"width": 3, "fill": "x"}, "Fill argument"),
])
def test_as_string_refuses_bad_formats(values, kwargs, message):
    with pytest.raises(errors.InvalidArgumentError, match=message):
        S.as_string(values, **kwargs)


def test_format_shows_tensors_as_tf_print():
    got = _both(lambda a, b: S.format("x={} y={}", (a, b)), tf.constant([1, 2]),
                tf.constant("s"))
    assert got.numpy() == b'x=[1 2] y="s"'
    assert S.format("{}", tf.range(10)).numpy() == b"[0 1 2 ... 7 8 9]"
    assert S.format("{}", tf.range(10), summarize=-1).numpy() == (
        ("[" + " ".join(str(i) for i in range(10)) + "]").encode())
    assert S.format("{}", tf.constant([["a", "b"], ["c", "d"]])).numpy() == (
        b'[["a" "b"]\n ["c" "d"]]')
    assert S.format("{}", tf.constant("é\n\x01")).numpy() == '"é\\n\\001"'.encode()
    assert S.format("a%b", [tf.constant(1)], placeholder="%").numpy() == b"a1b"
    with pytest.raises(ValueError, match="template expects 2"):
        S.format("{} {}", tf.constant(1))


def test_substr_in_bytes_and_characters():
    texts = ["hello", "world", "héllo"]
    x = tf.constant(texts)
    got = _both(lambda v: S.substr(v, 1, 3), x)
    assert got.numpy().tolist() == [t.encode()[1:4] for t in texts]
    assert S.substr(x, -3, 2).numpy().tolist() == [t.encode()[-3:-1] for t in texts]
    assert S.substr(x, 1, -1).numpy().tolist() == [t.encode()[1:] for t in texts]
    chars = S.substr(x, 1, 2, unit="UTF8_CHAR").numpy().tolist()
    assert chars == [t[1:3].encode() for t in texts]
    starts, sizes = [[0, 1, 2]], [[2, 1, 3]]
    got = S.substr(tf.constant([texts, texts]), starts, sizes).numpy().tolist()
    assert got == [[t.encode()[p:p + n] for t, p, n in zip(texts, starts[0], sizes[0])]] * 2
    assert S.substr("hello", 5, 2).numpy() == b""
    with pytest.raises(errors.InvalidArgumentError, match="pos 6 out of range for string "
                                                          "b'hello'"):
        S.substr(x, 6, 2)
    with pytest.raises(errors.InvalidArgumentError, match="out of range for string at"):
        S.substr(x, 7, 1, unit="UTF8_CHAR")
    with pytest.raises(errors.InvalidArgumentError, match="same shape"):
        S.substr(x, [0, 1, 2], 1)
    with pytest.raises(errors.InvalidArgumentError, match="Incompatible shapes"):
        S.substr(x, [0, 1], [1, 1])
    with pytest.raises(errors.InvalidArgumentError, match="int32 or int64"):
        S.substr(x, 0.5, 1.0)


def test_hash_buckets():
    pytest.importorskip("farmhash")
    import farmhash

    words = ["", "a", "hello", "The quick brown fox", "é"]
    got = _both(lambda v: S.to_hash_bucket_fast(v, 1000), tf.constant(words))
    assert got.dtype is tf.int64
    assert got.numpy().tolist() == [farmhash.fingerprint64(w.encode()) % 1000 for w in words]
    with pytest.raises(errors.InvalidArgumentError, match="at least minimum 1"):
        S.to_hash_bucket_fast(words, 0)


def test_strong_hash_is_siphash_2_4():
    from neuroflow.ops.string_hash import siphash24

    # The published test vector: key 00..0f, message 00..0e, SipHash-2-4 = a129ca6149be45e5.
    key0 = int.from_bytes(bytes(range(8)), "little")
    key1 = int.from_bytes(bytes(range(8, 16)), "little")
    assert siphash24(key0, key1, bytes(range(15))) == 0xA129CA6149BE45E5
    words = ["a", "b", "hello world"]
    got = _both(lambda v: S.to_hash_bucket_strong(v, 97, [key0, key1]), tf.constant(words))
    assert got.numpy().tolist() == [siphash24(key0, key1, w.encode()) % 97 for w in words]
    with pytest.raises(errors.InvalidArgumentError, match="2 elements"):
        S.to_hash_bucket_strong(words, 3, [1])


def test_a_missing_farmhash_is_named(monkeypatch):
    import builtins

    from neuroflow.ops import string_hash

    real_import = builtins.__import__

    def no_farmhash(name, *args, **kwargs):
        if name == "farmhash":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    string_hash._fingerprint64.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_farmhash)
    try:
        with pytest.raises(ImportError, match="pyfarmhash"):
            S.to_hash_bucket_fast(["a"], 3)
    finally:
        string_hash._fingerprint64.cache_clear()


def test_split_on_whitespace_and_separators():
    texts = ["a b  c ", " ", "d", "", "e\tf\ng\vh\x0ci\rj"]
    got = _both(lambda v: S.split(v).to_tensor(), tf.constant(texts))
    rows = [t.encode().split() for t in texts]
    assert S.split(texts).to_list() == rows
    width = max(len(r) for r in rows)
    assert got.numpy().tolist() == [r + [b""] * (width - len(r)) for r in rows]
    assert S.split(["a,b,,c", ""], sep=",").to_list() == [[b"a", b"b", b"", b"c"], [b""]]
    assert S.split(["a<>b<>c"], sep="<>").to_list() == [[b"a", b"b", b"c"]]
    assert S.split(["a b c d"], maxsplit=1).to_list() == [b"a b c d".split(None, 1)]
    assert S.split(["a,b,c"], sep=",", maxsplit=1).to_list() == [[b"a", b"b,c"]]
    assert S.split(["abc"], sep="").to_list() == [[b"abc"]]
    assert S.split([" a b ", ""], maxsplit=0).to_list() == [[b" a b "], [b""]]
    scalar = S.split("a b")
    assert isinstance(scalar, tf.Tensor) and scalar.numpy().tolist() == [b"a", b"b"]
    nested = S.split(tf.constant([["a b"], ["c"]]))
    assert nested.to_list() == [[[b"a", b"b"]], [[b"c"]]] and nested.ragged_rank == 2
    assert S.split(tf.constant([], tf.string)).to_list() == []
    with pytest.raises(TypeError):
        S.split(["a"], sep=1)


def test_unicode_split():
    texts = ["héllo", "", "ab"]
    got = S.unicode_split(texts, "UTF-8")
    assert got.to_list() == [[c.encode() for c in t] for t in texts]
    assert S.unicode_split("hé", "UTF-8").numpy().tolist() == [b"h", "é".encode()]
    bad = [b"a\xffb", b"\xe2\x82a"]
    replaced = S.unicode_split(bad, "UTF-8").to_list()
    assert replaced == [[c.encode() for c in b.decode("utf-8", "replace")] for b in bad]
    custom = S.unicode_split(bad, "UTF-8", replacement_char=ord("?")).to_list()
    assert custom == [[b"a", b"?", b"b"], [b"?", b"a"]]
    assert S.unicode_split(bad, "UTF-8", errors="ignore").to_list() == [[b"a", b"b"], [b"a"]]
    with pytest.raises(errors.InvalidArgumentError, match="Invalid formatting"):
        S.unicode_split(bad, "UTF-8", errors="strict")
    wide = S.unicode_split(["ab".encode("utf-16-be")], "UTF-16-BE").to_list()
    assert wide == [[c.encode("utf-16-be") for c in "ab"]]
    with pytest.raises(errors.InvalidArgumentError, match="input_encoding"):
        S.unicode_split(texts, "latin1")
    with pytest.raises(errors.InvalidArgumentError, match="errors"):
        S.unicode_split(texts, "UTF-8", errors="maybe")


def test_ngrams():
    rows = [["a", "b", "c"], ["d"], []]
    got = S.ngrams(tf.ragged.constant(rows, dtype=tf.string), 2)
    assert got.to_list() == [[b"a b", b"b c"], [], []]
    both = S.ngrams(tf.ragged.constant(rows, dtype=tf.string), (1, 2), separator="_")
    assert both.to_list() == [[b"a", b"b", b"c", b"a_b", b"b_c"], [b"d"], []]
    dense = S.ngrams(tf.constant([["a", "b", "c"]]), 2)
    assert isinstance(dense, tf.Tensor) and dense.numpy().tolist() == [[b"a b", b"b c"]]
    assert S.ngrams(tf.constant(["a", "b"]), 2).numpy().tolist() == [b"a b"]
    with pytest.raises(NotImplementedError, match="pad_values"):
        S.ngrams(tf.constant([["a"]]), 2, pad_values="")
    with pytest.raises(errors.InvalidArgumentError, match="> 0"):
        S.ngrams(tf.constant([["a"]]), 0)
    with pytest.raises(errors.UnimplementedError, match="rank"):
        S.ngrams(tf.constant([[["a"]]]), 1)


def test_traced_ragged_results_have_unknown_sizes():
    @tf.function
    def tokens(x):
        parts = S.split(x)
        return parts.to_tensor(), parts.row_lengths(), parts.to_tensor(shape=[None, 4])

    for texts in (["a b", "c"], ["d e f g", "h", "i j"]):
        dense, lengths, fixed = tokens(tf.constant(texts))
        rows = [t.encode().split() for t in texts]
        assert lengths.numpy().tolist() == [len(r) for r in rows]
        assert dense.shape == (len(texts), max(len(r) for r in rows))
        assert fixed.shape == (len(texts), 4)
    assert tokens.experimental_get_tracing_count() == 2  # one per input size


def test_what_a_trace_cannot_know_is_refused_clearly():
    with pytest.raises(ValueError, match="do not match"):
        tf.function(lambda a, b: S.join([a, b]))(tf.constant(["a", "b"]), tf.constant(["c"]))
    unknown = [tf.TensorSpec([None, 1], tf.string)]
    with pytest.raises(errors.UnimplementedError, match="known shape"):
        tf.function(S.split, input_signature=unknown)(tf.constant([["a b"]]))
    with pytest.raises(errors.UnimplementedError, match="known shape"):
        tf.function(lambda x: S.ngrams(x, 2), input_signature=unknown)(tf.constant([["a"]]))
    with pytest.raises(errors.UnimplementedError, match="rank 2"):
        S.ngrams(tf.ragged.constant([[["a", "b"]], [["c"]]]), 2)
