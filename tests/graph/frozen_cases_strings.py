"""Cases of the string ops (``tf.strings``, ``tf.as_string``) and of ragged tensors.

The arguments are text that changes between calls (random words of random letters), so a
compiled function that kept the text it was traced with would give other results.
"""

from __future__ import annotations

import numpy as np
from frozen_cases import Case, bind, ints

import neuroflow as tf

_LETTERS = np.array(list("abcdeXYZ .,!"))


def words(r, *shape):
    """Random short texts (letters, spaces and punctuation) as a NumPy array of str."""
    size = int(np.prod(shape))
    texts = ["".join(r.choice(_LETTERS, r.integers(0, 9))) for _ in range(size)]
    return np.array(texts, dtype=object).reshape(shape)


def numbers(r, *shape):
    return np.array([str(v) for v in r.integers(-500, 500, int(np.prod(shape)))],
                    dtype=object).reshape(shape)


def _text(r, n):
    return (words(r, n, 3),)


def _vector(r, n):
    return (words(r, 2 * n),)


S = tf.strings

CASES = {
    "tf.as_string": [Case(tf.as_string, lambda r, n: (ints(r, n, 4),)),
                     Case(bind(tf.as_string, precision=2),
                          lambda r, n: (r.uniform(-9, 9, (n, 2)).astype(np.float32),), "float")],
}

EXTRA_CASES = {
    "tf.strings elementwise": [
        Case(lambda x: (S.lower(x), S.upper(x, encoding="utf-8"), S.strip(x),
                        S.length(x), S.length(x, unit="UTF8_CHAR")), _text)],
    "tf.strings regex": [
        Case(lambda x: (S.regex_replace(x, r"([a-e])([XYZ])", r"\2\1"),
                        S.regex_full_match(x, r"[a-e ]*")), _text)],
    "tf.strings join": [
        Case(lambda x, y: (S.join([x, "-", y], separator="+"),
                           S.reduce_join(x, axis=1, separator=","),
                           S.reduce_join(x, keepdims=True)), lambda r, n: (
            words(r, n, 3), words(r, n, 3)))],
    "tf.strings numbers": [
        Case(lambda x: (S.to_number(x), S.to_number(x, tf.int64),
                        S.format("{} / {}", [x, S.length(x)])), lambda r, n: (numbers(r, n),))],
    "tf.strings substr and hashes": [
        Case(lambda x, p: (S.substr(x, tf.zeros_like(p), p), S.to_hash_bucket_fast(x, 13),
                           S.to_hash_bucket_strong(x, 11, [3, 7])), lambda r, n: (
            words(r, n, 3), r.integers(0, 4, (n, 3)).astype(np.int32)))],
    "tf.strings ragged": [
        Case(lambda x: (S.split(x).to_tensor(), S.split(x, sep=" ").row_lengths(),
                        S.unicode_split(x, "UTF-8").to_tensor(default_value="#"),
                        S.ngrams(S.split(x), 2).to_tensor(shape=[None, 3])), _vector)],
    "lookup layers": [
        Case(lambda x: (tf.keras.layers.StringLookup(vocabulary=list("abcXYZ"))(x),
                        tf.keras.layers.StringLookup(vocabulary=list("abc"), invert=True)(
                            tf.strings.length(x))),
             lambda r, n: (np.array([list(w[:1] or "q") for w in words(r, 3 * n)],
                                    dtype=object).reshape(n, 3),))],
}
