"""TextVectorization, StringLookup, IntegerLookup, CategoryEncoding and Hashing, against a
Python reference of Keras's rules (vocabulary order, special tokens, encodings)."""

from __future__ import annotations

import collections
import math
import re

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors
from neuroflow.keras import layers

CORPUS = ["The cat sat.", "the dog ran!", "A cat, a dog; the end", "zebra", "The END?"]
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def _tokens(text: str, standardize=True) -> list[str]:
    if standardize:
        text = PUNCTUATION.sub("", text.lower())
    return text.split()


def _keras_order(counts: collections.Counter) -> list:
    """Keras's vocabulary order: most frequent first, ties by the larger token (as bytes)."""
    key = (lambda kv: (kv[1], kv[0].encode())) if counts and isinstance(
        next(iter(counts)), str) else (lambda kv: (kv[1], kv[0]))
    return [token for token, _ in sorted(counts.items(), key=key, reverse=True)]


def _learned(corpus=CORPUS) -> list[str]:
    return _keras_order(collections.Counter(t for text in corpus for t in _tokens(text)))


def test_adapt_orders_the_vocabulary_as_keras():
    layer = layers.TextVectorization()
    layer.adapt(CORPUS)
    assert layer.get_vocabulary() == ["", "[UNK]"] + _learned()
    assert layer.get_vocabulary(include_special_tokens=False) == _learned()
    assert layer.vocabulary_size() == len(_learned()) + 2
    capped = layers.TextVectorization(max_tokens=5)
    capped.adapt(tf.data.Dataset.from_tensor_slices(CORPUS).batch(2))
    assert capped.get_vocabulary() == ["", "[UNK]"] + _learned()[:3]


def test_int_output_pads_and_maps_unknown_words():
    layer = layers.TextVectorization(output_sequence_length=4)
    layer.adapt(CORPUS)
    vocab = layer.get_vocabulary()
    texts = ["the cat sat on the mat ok", "dog", ""]
    got = layer(texts)
    assert got.dtype is tf.int64 and got.shape == (3, 4)
    want = [[vocab.index(t) if t in vocab else 1 for t in _tokens(x)][:4] for x in texts]
    assert got.numpy().tolist() == [w + [0] * (4 - len(w)) for w in want]
    free = layers.TextVectorization(vocabulary=vocab[2:])
    assert free(["zebra the", "dog"]).numpy().tolist() == [
        [vocab.index("zebra"), vocab.index("the")], [vocab.index("dog"), 0]]
    assert layer("the cat").shape == (4,)
    assert layer([["the cat"], ["dog"]]).shape == (2, 4)
    ragged = layers.TextVectorization(vocabulary=vocab[2:], ragged=True)(["the cat", "dog"])
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.to_list() == [[vocab.index("the"), vocab.index("cat")], [vocab.index("dog")]]


def test_standardize_split_and_ngrams_options():
    raw = layers.TextVectorization(standardize=None, split=None, vocabulary=["A b", "c"])
    assert raw([["A b"], ["a b"], ["c"]]).numpy().tolist() == [[2], [1], [3]]
    chars = layers.TextVectorization(split="character", standardize="lower")
    chars.adapt(["abca", "Bd"])
    assert chars.get_vocabulary()[2:] == _keras_order(collections.Counter("abcabd"))
    grams = layers.TextVectorization(vocabulary=["cat", "dog", "cat dog"], ngrams=2,
                                     standardize="lower")
    assert grams(["cat dog Cat"]).numpy().tolist() == [[2, 3, 2, 4, 1]]
    custom = layers.TextVectorization(standardize=lambda x: tf.strings.regex_replace(x, "x", ""),
                                      split=lambda x: tf.strings.split(x, sep="-"),
                                      vocabulary=["aa", "b"])
    assert custom(["axa-b", "b"]).numpy().tolist() == [[2, 3], [3, 0]]
    stripped = layers.TextVectorization(standardize="strip_punctuation", vocabulary=["Hi"])
    assert stripped(["Hi! hi"]).numpy().tolist() == [[2, 1]]
    dense = layers.TextVectorization(split=None, vocabulary=["a", "b"],
                                     output_sequence_length=3)
    assert dense([["a", "b"], ["b", "q"]]).numpy().tolist() == [[2, 3, 0], [3, 1, 0]]


def _bag(texts, vocab, mode):
    rows = []
    for text in texts:
        counts = collections.Counter(vocab.index(t) if t in vocab else 0 for t in _tokens(text))
        rows.append([min(counts[i], 1) if mode == "multi_hot" else counts[i]
                     for i in range(len(vocab))])
    return rows


@pytest.mark.parametrize("mode", ["multi_hot", "count"])
def test_bag_of_words_outputs(mode):
    layer = layers.TextVectorization(output_mode=mode)
    layer.adapt(CORPUS)
    vocab = layer.get_vocabulary()
    assert vocab == ["[UNK]"] + _learned()
    texts = ["the cat", "unknown words here the the"]
    got = layer(texts)
    assert got.dtype is tf.int64
    assert got.numpy().tolist() == _bag(texts, vocab, mode)
    padded = layers.TextVectorization(max_tokens=20, output_mode=mode, pad_to_max_tokens=True)
    padded.adapt(CORPUS)
    assert padded(texts).shape == (2, 20)


def test_tf_idf_weights_are_kerass_formula():
    layer = layers.TextVectorization(output_mode="tf_idf")
    layer.adapt(CORPUS)
    vocab = layer.get_vocabulary()
    documents = [set(_tokens(t)) for t in CORPUS]
    idf = [math.log(1 + len(CORPUS) / (1 + sum(w in d for d in documents))) for w in vocab[1:]]
    idf = [float(np.mean(np.float32(idf)))] + idf  # the OOV weight: the average
    np.testing.assert_allclose(layer._lookup_layer.idf_weights.numpy(), idf, rtol=1e-6)
    texts = ["the cat cat", "zzz"]
    got = layer(texts)
    assert got.dtype is tf.float32
    np.testing.assert_allclose(got.numpy(), np.array(_bag(texts, vocab, "count")) * idf,
                               rtol=1e-6)
    given = layers.TextVectorization(output_mode="tf_idf", vocabulary=["a", "b"],
                                     idf_weights=[0.5, 0.25])
    np.testing.assert_allclose(given(["a a b q"]).numpy(), [[0.375, 1.0, 0.25]])


def test_text_vectorization_config_round_trip():
    layer = layers.TextVectorization(max_tokens=7, output_sequence_length=3, ngrams=2,
                                     vocabulary=["a", "b"], name="tv")
    config = layer.get_config()
    assert config == {"name": "tv", "trainable": True, "dtype": "float32", "max_tokens": 7,
                      "standardize": "lower_and_strip_punctuation", "split": "whitespace",
                      "ngrams": 2, "output_mode": "int", "output_sequence_length": 3,
                      "pad_to_max_tokens": False, "sparse": False, "ragged": False,
                      "vocabulary": ["a", "b"], "idf_weights": None, "encoding": "utf-8",
                      "vocabulary_size": 4}
    again = layers.TextVectorization.from_config({**config, "ngrams": [1, 2]})
    assert again.get_vocabulary() == layer.get_vocabulary()
    assert again(["a b"]).numpy().tolist() == layer(["a b"]).numpy().tolist()
    with pytest.raises(NotImplementedError, match="callable"):
        layers.TextVectorization.from_config({**config, "standardize": {"class_name": "f"}})


@pytest.mark.parametrize("kwargs, error", [
    ({"standardize": "upper"}, ValueError), ({"split": "comma"}, ValueError),
    ({"output_mode": "onehot"}, ValueError), ({"ngrams": [1, 2]}, ValueError),
    ({"output_sequence_length": 2.5}, ValueError),
    ({"output_mode": "count", "output_sequence_length": 3}, ValueError),
    ({"output_mode": "count", "ragged": True}, ValueError),
    ({"sparse": True, "output_mode": "count"}, NotImplementedError),
    ({"max_tokens": 1}, ValueError), ({"pad_to_max_tokens": True}, ValueError),
])
def test_text_vectorization_argument_errors(kwargs, error):
    with pytest.raises(error):
        layers.TextVectorization(**kwargs)


def test_text_vectorization_call_errors():
    with pytest.raises(RuntimeError, match="set the layer's vocabulary"):
        layers.TextVectorization(output_mode="multi_hot")(["a"])
    with pytest.raises(errors.FailedPreconditionError, match="Table not initialized"):
        layers.TextVectorization()(["a b"])
    layer = layers.TextVectorization(vocabulary=["a"])
    with pytest.raises(TypeError, match="strings"):
        layer([1, 2])
    with pytest.raises(TypeError, match="strings"):
        layer(tf.constant([1, 2]))
    with pytest.raises(ValueError, match="mixed types"):
        layer.adapt(["a", 1])
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        layer([["a", "b"]])
    with pytest.raises(ValueError, match="static vocabulary"):
        layer.adapt(["a"])
    with pytest.raises(NotImplementedError, match="last size"):
        _unknown_width(["a"])


def _unknown_width(texts):
    """A traced call sees a last size it does not know."""
    layer = layers.TextVectorization(split=None, vocabulary=["a"], output_sequence_length=2)
    traced = tf.function(lambda x: layer(tf.reshape(x, [1, -1])),
                         input_signature=[tf.TensorSpec([None], tf.string)])
    return traced(tf.constant(texts))


def test_text_vectorization_in_a_dataset_and_traced():
    layer = layers.TextVectorization(output_sequence_length=5)
    layer.adapt(CORPUS)
    ds = tf.data.Dataset.from_tensor_slices(CORPUS).batch(2).map(layer)
    assert ds.element_spec == tf.data.TensorSpec([None, 5], tf.int64)
    batches = [b.numpy() for b in ds]
    np.testing.assert_array_equal(np.concatenate(batches), layer(CORPUS).numpy())
    traced = tf.function(layer)
    np.testing.assert_array_equal(traced(tf.constant(CORPUS)).numpy(), layer(CORPUS).numpy())
    adapted = layers.TextVectorization()
    adapted.adapt(iter([CORPUS[:2], CORPUS[2:]]), steps=1)
    assert adapted.get_vocabulary()[2:] == _learned(CORPUS[:2])


def test_string_lookup():
    data = ["a", "b", "b", "c", "c", "c", "d", "d"]
    layer = layers.StringLookup()
    layer.adapt(data)
    vocab = ["[UNK]"] + _keras_order(collections.Counter(data))
    assert layer.get_vocabulary() == vocab
    got = layer(tf.constant([["c", "z"], ["a", "d"]]))
    assert got.dtype is tf.int64
    assert got.numpy().tolist() == [[vocab.index(t) if t in vocab else 0 for t in row]
                                    for row in [["c", "z"], ["a", "d"]]]
    masked = layers.StringLookup(vocabulary=["a", "b"], mask_token="")
    assert masked.get_vocabulary() == ["", "[UNK]", "a", "b"]
    assert masked(["a", "", "q"]).numpy().tolist() == [2, 0, 1]
    inverse = layers.StringLookup(vocabulary=["a", "b"], invert=True)
    assert inverse([0, 1, 2, 5]).numpy().tolist() == [b"[UNK]", b"a", b"b", b"[UNK]"]
    inverse_masked = layers.StringLookup(vocabulary=["a"], invert=True, mask_token="")
    assert inverse_masked([0, 1, 2]).numpy().tolist() == [b"", b"[UNK]", b"a"]
    special = layers.StringLookup()
    special.set_vocabulary(["[UNK]", "a", "b"])
    assert special.get_vocabulary() == ["[UNK]", "a", "b"]
    ragged = layers.StringLookup(vocabulary=["a", "b"])(tf.ragged.constant([["a"], ["b", "q"]]))
    assert ragged.to_list() == [[1], [2, 0]]
    assert layers.StringLookup(vocabulary=["a", "b"])("b").numpy() == 2


def test_string_lookup_encodings():
    vocab = ["a", "b"]
    hot = layers.StringLookup(vocabulary=vocab, output_mode="one_hot")(["a", "b", "z"])
    assert hot.dtype is tf.int64 and hot.numpy().tolist() == np.eye(3, dtype=int)[
        [1, 2, 0]].tolist()
    multi = layers.StringLookup(vocabulary=vocab, output_mode="multi_hot")([["a", "b"],
                                                                           ["z", "z"]])
    assert multi.numpy().tolist() == [[0, 1, 1], [1, 0, 0]]
    count = layers.StringLookup(vocabulary=vocab, output_mode="count")([["a", "a"], ["z", "b"]])
    assert count.numpy().tolist() == [[0, 2, 0], [1, 0, 1]]
    masked = layers.StringLookup(vocabulary=vocab, mask_token="", output_mode="multi_hot")
    assert masked([["a", ""]]).numpy().tolist() == [[0, 1, 0]]  # the mask adds nothing
    with pytest.raises(NotImplementedError, match="ragged"):
        layers.StringLookup(vocabulary=vocab, output_mode="one_hot")(
            tf.ragged.constant([["a"]]))


def test_several_oov_indices_hash_their_tokens():
    pytest.importorskip("farmhash")
    import farmhash

    layer = layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3)
    words = ["a", "x", "y", "zz", "b"]
    want = [3 if w == "a" else 4 if w == "b" else farmhash.fingerprint64(w.encode()) % 3
            for w in words]
    assert layer(words).numpy().tolist() == want


def test_num_oov_indices_zero_refuses_unknown_tokens():
    layer = layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=0)
    assert layer(["b", "a"]).numpy().tolist() == [1, 0]
    with pytest.raises(errors.InvalidArgumentError, match='found OOV values \\["x"\\]'):
        layer(["a", "x"])
    with pytest.raises(errors.UnimplementedError, match="traced"):
        tf.function(layer)(tf.constant(["a"]))


def test_integer_lookup():
    data = [3, 3, 7, 7, 7, 1, 12]
    layer = layers.IntegerLookup()
    layer.adapt(np.array(data))
    vocab = [-1] + _keras_order(collections.Counter(data))
    assert layer.get_vocabulary() == vocab
    assert layer(np.array([7, 3, 99])).numpy().tolist() == [vocab.index(v) if v in vocab else 0
                                                            for v in [7, 3, 99]]
    masked = layers.IntegerLookup(vocabulary=[5, 6], mask_token=0)
    assert masked([5, 0, 9]).numpy().tolist() == [2, 0, 1]
    inverse = layers.IntegerLookup(vocabulary=[5, 6], invert=True)
    assert inverse([0, 1, 2, 5]).numpy().tolist() == [-1, 5, 6, -1]
    buckets = layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=2)
    assert buckets([5, 7, 8, 9]).numpy().tolist() == [2, 7 % 2, 8 % 2, 9 % 2]
    salted = layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=2, oov_method="farmhash",
                                  salt=3)
    from neuroflow.ops.string_hash import siphash24

    assert salted([9]).numpy().tolist() == [siphash24(3, 3, b"9") % 2]
    config = layers.IntegerLookup(vocabulary=np.array([5, 6]), mask_token=0).get_config()
    assert config["vocabulary"] == [5, 6] and config["mask_token"] == 0
    assert config["vocabulary_dtype"] == "int64"


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.StringLookup(max_tokens=1), ValueError, "greater than 1"),
    (lambda: layers.StringLookup(pad_to_max_tokens=True), ValueError, "must set"),
    (lambda: layers.StringLookup(num_oov_indices=-1), ValueError, "greater than or equal"),
    (lambda: layers.StringLookup(oov_method="mod"), ValueError, "oov_method"),
    (lambda: layers.StringLookup(salt="x"), ValueError, "salt"),
    (lambda: layers.IntegerLookup(salt=1), ValueError, "farmhash"),
    (lambda: layers.StringLookup(output_mode="one-hot"), ValueError, "output_mode"),
    (lambda: layers.StringLookup(invert=True, output_mode="count"), ValueError, "invert"),
    (lambda: layers.StringLookup(sparse=True), ValueError, "sparse"),
    (lambda: layers.StringLookup(sparse=True, output_mode="count"), NotImplementedError,
     "SparseTensor"),
    (lambda: layers.StringLookup(idf_weights=[1.0]), ValueError, "idf_weights"),
    (lambda: layers.StringLookup(vocabulary=["a"], output_mode="tf_idf"), ValueError,
     "idf_weights"),
    (lambda: layers.StringLookup(bogus=1), ValueError, "Unrecognized"),
    (lambda: layers.StringLookup(vocabulary=[]), ValueError, "empty"),
    (lambda: layers.StringLookup(vocabulary=["a", "a"]), ValueError, "repeated"),
    (lambda: layers.StringLookup(vocabulary=["a", ""], mask_token=""), ValueError,
     "reserved mask"),
    (lambda: layers.StringLookup(vocabulary=["a", "[UNK]"], invert=True), ValueError,
     "reserved OOV"),
    (lambda: layers.StringLookup(vocabulary=["a", "b", "c"], max_tokens=3), ValueError,
     "larger than the maximum"),
    (lambda: layers.StringLookup(vocabulary="/no/such/file.txt"), ValueError, "does not exist"),
    (lambda: layers.IntegerLookup(max_tokens=0), ValueError, "greater than 1"),
    (lambda: layers.IntegerLookup(num_oov_indices=-2), ValueError, "must >= 0"),
    (lambda: layers.IntegerLookup(vocabulary_dtype="int32"), ValueError, "int64"),
])
def test_lookup_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_lookup_vocabulary_rules(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("x\ny\n")
    from_file = layers.StringLookup(vocabulary=str(path))
    assert from_file.get_vocabulary() == ["[UNK]", "x", "y"]
    # The config carries the vocabulary read from the file (a saved model keeps it).
    assert from_file.get_config()["vocabulary"] == ["x", "y"]
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("7\n3\n")
    assert layers.IntegerLookup(vocabulary=str(numbers)).get_vocabulary() == [-1, 7, 3]
    with pytest.raises(ValueError, match="from file"):
        layers.StringLookup(output_mode="tf_idf").set_vocabulary(str(path), idf_weights=[1.0])
    with pytest.raises(ValueError, match="must be set"):
        layers.StringLookup(output_mode="tf_idf").set_vocabulary(["a"])
    with pytest.raises(ValueError, match="only be set"):
        layers.StringLookup().set_vocabulary(["a"], idf_weights=[1.0])
    with pytest.raises(ValueError, match="same length"):
        layers.StringLookup(output_mode="tf_idf").set_vocabulary(["a", "b"], idf_weights=[1.0])
    with pytest.raises(ValueError, match="1-index"):
        layers.StringLookup(output_mode="tf_idf").set_vocabulary(["a"], idf_weights=[[1.0]])
    frozen = layers.StringLookup(vocabulary=["a"], output_mode="multi_hot")
    with pytest.raises(RuntimeError, match="cannot be changed"):
        frozen.set_vocabulary(["a", "b"])
    tensor_vocab = layers.StringLookup(vocabulary=tf.constant(["p", "q"]))
    assert tensor_vocab.get_vocabulary() == ["[UNK]", "p", "q"]
    assert tensor_vocab.get_config()["vocabulary"] == [b"p", b"q"]
    with pytest.raises(errors.UnimplementedError, match="IntegerLookup"):
        tensor_vocab([1])
    with pytest.raises(errors.UnimplementedError, match="StringLookup"):
        layers.IntegerLookup(vocabulary=[1])(["a"])
    padded = layers.StringLookup(output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True,
                                 vocabulary=["[UNK]", "a"], idf_weights=[0.3, 0.5])
    np.testing.assert_allclose(padded.idf_weights.numpy(), [0.3, 0.5, 0, 0, 0])


def test_lookup_config_is_kerass():
    layer = layers.StringLookup(vocabulary=["a"], name="sl")
    assert layer.get_config() == {
        "name": "sl", "trainable": True, "dtype": "float32", "invert": False, "max_tokens": None,
        "num_oov_indices": 1, "oov_token": "[UNK]", "mask_token": None, "output_mode": "int",
        "sparse": False, "pad_to_max_tokens": False, "idf_weights": None, "vocabulary": ["a"],
        "vocabulary_size": 2, "oov_method": "floormod", "salt": None, "encoding": "utf-8"}
    again = layers.StringLookup.from_config(layer.get_config())
    assert again.get_vocabulary() == layer.get_vocabulary()
    assert layers.StringLookup(vocabulary=["a"]).compute_output_shape((None, 3)) == (None, 3)
    hot = layers.StringLookup(vocabulary=["a"], output_mode="one_hot")
    assert hot.compute_output_shape((4, 1)) == (4, 2) and hot.compute_output_shape((4,)) == (
        4, 2)
    assert layers.StringLookup(vocabulary=["a"], output_mode="count").compute_output_shape(
        (4, 3)) == (4, 2)


def test_adapt_on_empty_data_keeps_the_vocabulary():
    layer = layers.StringLookup(max_tokens=3)
    layer.adapt(["a", "b", "b", "c", "c", "c"])
    assert layer.get_vocabulary() == ["[UNK]", "c", "b"]
    layer.adapt(np.array([], dtype=str))
    assert layer.get_vocabulary() == ["[UNK]", "c", "b"]


def test_category_encoding():
    data = np.array([[0, 1], [3, 3]])
    multi = layers.CategoryEncoding(num_tokens=4)(data)
    want = np.zeros((2, 4), np.float32)
    for row, values in enumerate(data):
        want[row, values] = 1
    assert multi.dtype is tf.float32 and multi.numpy().tolist() == want.tolist()
    counts = layers.CategoryEncoding(4, output_mode="count")([[0, 1, 1], [3, 3, 2]])
    assert counts.numpy().tolist() == [[1, 2, 0, 0], [0, 0, 1, 2]]
    hot = layers.CategoryEncoding(4, output_mode="one_hot")([0, 3])
    assert hot.numpy().tolist() == np.eye(4)[[0, 3]].tolist()
    assert layers.CategoryEncoding(4, output_mode="one_hot")([[0], [3]]).shape == (2, 4)
    assert layers.CategoryEncoding(4)([[0, 5]]).numpy().tolist() == [[1, 0, 0, 0]]
    weighted = layers.CategoryEncoding(4, output_mode="count")(
        [[0, 1, 1]], count_weights=[[0.5, 1.0, 2.0]])
    assert weighted.numpy().tolist() == [[0.5, 3.0, 0.0, 0.0]]
    assert layers.CategoryEncoding(4)(2).numpy().tolist() == [0, 0, 1, 0]
    assert layers.CategoryEncoding(4, dtype="int32")([[0, 1]]).dtype is tf.int32
    assert layers.CategoryEncoding(4, name="ce").get_config() == {
        "name": "ce", "trainable": True, "dtype": "float32", "num_tokens": 4,
        "output_mode": "multi_hot"}
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        layers.CategoryEncoding(4)([[0, -1]])
    with pytest.raises(ValueError, match="rank is 2"):
        layers.CategoryEncoding(4)(np.zeros((2, 2, 2), np.int32))
    with pytest.raises(ValueError, match="count_weights"):
        layers.CategoryEncoding(4)([[0]], count_weights=[[1.0]])
    for kwargs in ({"num_tokens": None}, {"num_tokens": 0}, {"num_tokens": 2,
                                                              "output_mode": "int"}):
        with pytest.raises(ValueError):
            layers.CategoryEncoding(**kwargs)
    shapes = layers.CategoryEncoding(4, output_mode="one_hot")
    assert shapes.compute_output_shape((2, 3)) == (2, 3, 4)
    assert shapes.compute_output_shape(()) == (4,)


def test_hashing():
    pytest.importorskip("farmhash")
    import farmhash

    from neuroflow.ops.string_hash import siphash24

    words = ["a", "b", "c", ""]
    got = layers.Hashing(num_bins=5)(words)
    assert got.dtype is tf.int64
    assert got.numpy().tolist() == [farmhash.fingerprint64(w.encode()) % 5 for w in words]
    numbers = layers.Hashing(num_bins=7)(np.array([1.7, -2.0]))
    assert numbers.numpy().tolist() == [farmhash.fingerprint64(b"1") % 7,
                                        farmhash.fingerprint64(b"-2") % 7]
    masked = layers.Hashing(num_bins=5, mask_value="")(words)
    assert masked.numpy().tolist() == [0 if w == "" else
                                       farmhash.fingerprint64(w.encode()) % 4 + 1 for w in words]
    salted = layers.Hashing(num_bins=5, salt=[1, 2])(words)
    assert salted.numpy().tolist() == [siphash24(1, 2, w.encode()) % 5 for w in words]
    hot = layers.Hashing(num_bins=3, output_mode="one_hot")([["a"], ["b"]])
    assert hot.dtype is tf.float32 and hot.shape == (2, 3)
    multi = layers.Hashing(num_bins=3, output_mode="multi_hot")([["a", "b"]])
    assert multi.numpy().sum() >= 1 and multi.shape == (1, 3)
    assert layers.Hashing(num_bins=3, dtype="int32")(["a"]).dtype is tf.int32
    config = layers.Hashing(num_bins=5, salt=133, name="h").get_config()
    assert config == {"name": "h", "trainable": True, "dtype": "int64", "num_bins": 5,
                      "salt": [133, 133], "mask_value": None, "output_mode": "int",
                      "sparse": False}
    assert layers.Hashing(3, output_mode="count").compute_output_shape((2, 4)) == (2, 3)
    assert layers.Hashing(3).compute_output_shape((2, 4)) == (2, 4)
    assert layers.Hashing(3, output_mode="count").compute_output_shape(()) == (3,)


@pytest.mark.parametrize("kwargs, error", [
    ({"num_bins": 0}, ValueError), ({"num_bins": 2, "dtype": "float32"}, ValueError),
    ({"num_bins": 2, "output_mode": "tf_idf"}, ValueError),
    ({"num_bins": 2, "sparse": True}, ValueError),
    ({"num_bins": 2, "sparse": True, "output_mode": "count"}, NotImplementedError),
    ({"num_bins": 2, "salt": "s"}, ValueError),
])
def test_hashing_argument_errors(kwargs, error):
    with pytest.raises(error):
        layers.Hashing(**kwargs)
