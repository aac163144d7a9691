"""The string, vocabulary and ragged primitives against plain Python, eager and compiled.

They take and make text, so they do not fit the numeric ``Fwd`` cases of the other
families: each primitive gets a case here (listed in COVERED_ELSEWHERE for the registry
check), which runs its public op eagerly and in a ``tf.function`` (whose graph must hold
the primitive) and compares both with a Python reference. TensorFlow itself is compared
in tests/oracle/test_tf_strings.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import layers

FORWARD: dict = {}
GRADIENTS: dict = {}

WORDS = [b"Hello World", b"  a B\t", b""]


def _text(values):
    return tf.constant(values)


def _plain(value):
    """A result as plain Python (lists of bytes or numbers; ragged rows as lists)."""
    if hasattr(value, "to_list"):
        return value.to_list()
    if isinstance(value, list):
        return value
    return np.asarray(value).tolist()


CASES = {
    "string_lower": (lambda s: tf.strings.lower(s), WORDS, [w.lower() for w in WORDS]),
    "string_upper": (lambda s: tf.strings.upper(s), WORDS, [w.upper() for w in WORDS]),
    "string_strip": (lambda s: tf.strings.strip(s), WORDS, [w.strip() for w in WORDS]),
    "string_length": (lambda s: tf.strings.length(s), WORDS, [len(w) for w in WORDS]),
    "regex_replace": (lambda s: tf.strings.regex_replace(s, "o", "0"), WORDS,
                      [w.replace(b"o", b"0") for w in WORDS]),
    "regex_full_match": (lambda s: tf.strings.regex_full_match(s, "H.*"), WORDS,
                         [w.startswith(b"H") for w in WORDS]),
    "string_join": (lambda s: tf.strings.join([s, s], separator="-"), WORDS,
                    [w + b"-" + w for w in WORDS]),
    "reduce_join": (lambda s: tf.strings.reduce_join(s, separator="|"), WORDS,
                    b"|".join(WORDS)),
    "string_to_number": (lambda s: tf.strings.to_number(s), [b"1.5", b"-2"], [1.5, -2.0]),
    "as_string": (lambda x: tf.strings.as_string(x), [3, -4], [b"3", b"-4"]),
    "string_format": (lambda x: tf.strings.format("n={}", x), 7, b"n=7"),
    "substr": (lambda s: tf.strings.substr(s, 1, 3), WORDS[:2], [w[1:4] for w in WORDS[:2]]),
    "string_split": (lambda s: tf.strings.split(s), WORDS, [w.split() for w in WORDS]),
    "unicode_split": (lambda s: tf.strings.unicode_split(s, "UTF-8"), [b"ab", b"c"],
                      [[b"a", b"b"], [b"c"]]),
    "string_ngrams": (lambda s: tf.strings.ngrams(s, 2), [b"a", b"b", b"c"],
                      [b"a b", b"b c"]),
    # FarmHash and SipHash values are checked against TensorFlow in the oracle tests;
    # here: each lands in its range and equal strings land alike.
    "to_hash_bucket_fast": (lambda s: tf.strings.to_hash_bucket_fast(s, 1) + 7,
                            [b"x", b"x"], [7, 7]),
    "to_hash_bucket_strong": (lambda s: tf.strings.to_hash_bucket_strong(s, 1, [1, 2]) + 5,
                              [b"x", b"y"], [5, 5]),
    "vocabulary_lookup": (lambda s: layers.StringLookup(vocabulary=["a", "b"])(s),
                          [b"b", b"z", b"a"], [2, 0, 1]),
    "vocabulary_invert": (lambda i: layers.StringLookup(vocabulary=["a", "b"],
                                                        invert=True)(i),
                          np.array([2, 0, 1]), [b"b", b"[UNK]", b"a"]),
    "ragged_to_dense": (lambda s: tf.strings.split(s).to_tensor(default_value=b"-"),
                        [b"a b", b"c"], [[b"a", b"b"], [b"c", b"-"]]),
}


def _parts(value):
    """A result a tf.function can return: a ragged tensor as its values and row splits."""
    if hasattr(value, "flat_values"):
        return value.flat_values, value.row_splits
    return value


@pytest.mark.parametrize("name", sorted(CASES))
def test_string_primitive_eager_and_compiled(name):
    op, value, expected = CASES[name]
    eager = op(_text(value))
    assert _plain(eager) == expected
    compiled = tf.function(lambda x: _parts(op(x)))
    got = compiled(_text(value))
    if isinstance(got, tuple):  # ragged: rebuild the rows from values and splits
        values, splits = _plain(got[0]), _plain(got[1])
        got = [values[a:b] for a, b in zip(splits, splits[1:])]
    assert _plain(got) == expected
    graph = compiled.get_concrete_function(_text(value)).graph
    assert name in {node.op for node in graph.nodes}, (
        f"the traced graph does not hold the primitive {name}")


COVERED_ELSEWHERE = {name: test_string_primitive_eager_and_compiled for name in CASES}
