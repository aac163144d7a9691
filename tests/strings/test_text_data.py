"""Text input pipelines: TextLineDataset, bucket_by_sequence_length,
text_dataset_from_directory and pad_sequences, against plain Python."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import errors
from neuroflow.keras.utils import pad_sequences, text_dataset_from_directory


@pytest.fixture
def text_files(tmp_path):
    contents = {"a.txt": b"first\nsecond\r\n\nlast", "b.txt": b"x\ny\n", "c.txt": b""}
    for name, data in contents.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "d.gz").write_bytes(gzip.compress(b"g1\ng2\n"))
    (tmp_path / "e.z").write_bytes(zlib.compress(b"z1\nz2"))
    return tmp_path


def _python_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def test_text_line_dataset_reads_lines(text_files):
    names = [str(text_files / n) for n in ("a.txt", "b.txt", "c.txt")]
    ds = tf.data.TextLineDataset(names)
    assert ds.element_spec == tf.data.TensorSpec([], tf.string)
    assert int(ds.cardinality()) == tf.data.UNKNOWN_CARDINALITY
    want = [line for n in names for line in _python_lines(open(n, "rb").read())]
    assert list(ds.as_numpy_iterator()) == want
    assert list(ds.as_numpy_iterator()) == want  # each pass reads the files again
    single = tf.data.TextLineDataset(tf.constant(names[1]))
    assert list(single.as_numpy_iterator()) == [b"x", b"y"]
    from_dataset = tf.data.TextLineDataset(tf.data.Dataset.from_tensor_slices(names[:2]))
    assert list(from_dataset.as_numpy_iterator()) == want


def test_parallel_reads_take_turns_line_by_line(text_files):
    names = [str(text_files / n) for n in ("a.txt", "b.txt", "c.txt", "d.gz")]
    ds = tf.data.TextLineDataset(names[:3], num_parallel_reads=2)
    # TensorFlow's interleave with cycle_length 2: a and b in turns, then c in b's place.
    expected = tf.data.Dataset.from_tensor_slices(names[:3]).interleave(
        tf.data.TextLineDataset, cycle_length=2, block_length=1)
    assert list(ds.as_numpy_iterator()) == list(expected.as_numpy_iterator())
    assert list(ds.as_numpy_iterator())[:4] == [b"first", b"x", b"second", b"y"]


def test_compressed_files(text_files):
    gz = tf.data.TextLineDataset(str(text_files / "d.gz"), compression_type="GZIP")
    assert list(gz.as_numpy_iterator()) == [b"g1", b"g2"]
    z = tf.data.TextLineDataset(str(text_files / "e.z"), compression_type="ZLIB")
    assert list(z.as_numpy_iterator()) == [b"z1", b"z2"]
    with pytest.raises(errors.InvalidArgumentError, match="compression_type"):
        tf.data.TextLineDataset(str(text_files / "a.txt"), compression_type="BZ2")


def test_text_line_dataset_errors(text_files):
    with pytest.raises(errors.NotFoundError, match="No such file"):
        list(tf.data.TextLineDataset(str(text_files / "missing.txt")))
    with pytest.raises(TypeError, match="tf.string"):
        tf.data.TextLineDataset(3)
    with pytest.raises(TypeError, match="scalars"):
        tf.data.TextLineDataset([["a"]])
    with pytest.raises(errors.InvalidArgumentError, match="buffer_size"):
        tf.data.TextLineDataset("a", buffer_size=-1)


def test_text_lines_through_map_and_batch(text_files):
    ds = tf.data.TextLineDataset(str(text_files / "a.txt")).map(tf.strings.upper).batch(3)
    lines = _python_lines((text_files / "a.txt").read_bytes())
    assert [b.numpy().tolist() for b in ds] == [[s.upper() for s in lines[:3]],
                                                [s.upper() for s in lines[3:]]]


def _reference_buckets(rows, boundaries, sizes, width_of, pad, drop=False):
    """What TensorFlow's group_by_window emits, written out in Python."""
    windows, out = {}, []

    def emit(bucket, window):
        width = width_of(bucket, window)
        out.append([r + [pad] * (width - len(r)) for r in window])

    for row in rows:
        bucket = sum(1 for b in boundaries if b <= len(row))
        windows.setdefault(bucket, []).append(row)
        if len(windows[bucket]) == sizes[bucket]:
            emit(bucket, windows.pop(bucket))
    for bucket in sorted(windows):
        if not drop:
            emit(bucket, windows[bucket])
    return out


ROWS = [[1], [1, 2, 3], [1, 2], [4, 5, 6, 7, 8], [9], [1, 2, 3, 4], [5, 6, 7]]


def _dataset():
    padded = tf.ragged.constant(ROWS).to_tensor(-1)
    return tf.data.Dataset.from_tensor_slices(padded).map(lambda x: tf.boolean_mask(x, x >= 0))


@pytest.mark.parametrize("boundaries, sizes, drop", [([2, 4], [2, 2, 2], False),
                                                     ([3], [3, 3], False),
                                                     ([2, 4], [2, 2, 2], True),
                                                     ([5], [4, 1], True)])
def test_bucket_by_sequence_length(boundaries, sizes, drop):
    ds = _dataset().bucket_by_sequence_length(lambda x: tf.shape(x)[0], boundaries, sizes,
                                              drop_remainder=drop)
    assert ds.element_spec == tf.data.TensorSpec([None, None], tf.int32)
    want = _reference_buckets(ROWS, boundaries, sizes,
                              lambda b, w: max(len(r) for r in w), 0, drop)
    assert [b.numpy().tolist() for b in ds] == want


def test_bucket_padding_options():
    length = lambda x: tf.shape(x)[0]  # noqa: E731
    to_boundary = _dataset().bucket_by_sequence_length(length, [3, 6], [2, 2, 2],
                                                       pad_to_bucket_boundary=True)
    want = _reference_buckets(ROWS, [3, 6], [2, 2, 2], lambda b, w: [3, 6][b] - 1, 0)
    assert [b.numpy().tolist() for b in to_boundary] == want
    with pytest.raises(errors.InternalError, match="pad_to_bucket_boundary"):
        list(_dataset().bucket_by_sequence_length(length, [2, 4], [2, 2, 2],
                                                  pad_to_bucket_boundary=True))
    valued = _dataset().bucket_by_sequence_length(length, [3], [3, 3],
                                                  padding_values=tf.constant(-9))
    want = _reference_buckets(ROWS, [3], [3, 3], lambda b, w: max(len(r) for r in w), -9)
    assert [b.numpy().tolist() for b in valued] == want
    fixed = _dataset().bucket_by_sequence_length(length, [3], [3, 3], padded_shapes=[6])
    assert all(b.shape[1] == 6 for b in fixed)
    plain = tf.data.Dataset.range(5).bucket_by_sequence_length(
        lambda x: tf.cast(x, tf.int32), [2], [2, 2], no_padding=True)
    assert [b.numpy().tolist() for b in plain] == [[0, 1], [2, 3], [4]]
    with pytest.raises(ValueError, match="len\\(bucket_batch_sizes\\)"):
        _dataset().bucket_by_sequence_length(length, [2, 4], [2, 2])


def test_bucketing_strings_pads_with_empty_strings():
    words = tf.data.Dataset.from_tensor_slices(["a b", "c", "d e f", "g"]).map(
        lambda s: tf.strings.split(s))
    ds = words.bucket_by_sequence_length(lambda x: tf.shape(x)[0], [2], [2, 2])
    # The long bucket fills first (at "d e f"), then the short one (at "g").
    assert [b.numpy().tolist() for b in ds] == [[[b"a", b"b", b""], [b"d", b"e", b"f"]],
                                               [[b"c"], [b"g"]]]
    pairs = tf.data.Dataset.from_tensor_slices((["a", "bb", "ccc", "d"], [1, 2, 3, 4]))
    out = [(a.numpy().tolist(), b.numpy().tolist()) for a, b in
           pairs.bucket_by_sequence_length(lambda s, y: tf.strings.length(s), [2], [2, 2])]
    assert out == [([b"bb", b"ccc"], [2, 3]), ([b"a", b"d"], [1, 4])]


@pytest.fixture
def reviews(tmp_path):
    texts = {"neg": ["bad film", "awful", "meh plot"], "pos": ["great", "loved it"]}
    for label, items in texts.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(items):
            (tmp_path / label / f"{i}.txt").write_text(text)
        (tmp_path / label / "skip.md").write_text("not a text file")
    return tmp_path, texts


def _read_all(ds) -> list[tuple]:
    return sorted((t, int(np.argmax(y)) if np.ndim(y) else int(y)) for texts, labels in ds
                  for t, y in zip(texts.numpy().tolist(), labels.numpy().tolist()))


def test_text_dataset_from_directory(reviews, capsys):
    root, texts = reviews
    ds = text_dataset_from_directory(root, batch_size=2, seed=3)
    assert "Found 5 files belonging to 2 classes." in capsys.readouterr().out
    assert ds.class_names == ["neg", "pos"]
    assert ds.element_spec == (tf.data.TensorSpec([None], tf.string),
                               tf.data.TensorSpec([None], tf.int32))
    want = sorted((t.encode(), label) for label, name in enumerate(["neg", "pos"])
                  for t in texts[name])
    assert _read_all(ds) == want
    ordered = text_dataset_from_directory(root, shuffle=False, batch_size=None, max_length=3,
                                          label_mode="categorical", verbose=False)
    items = [(t.numpy(), y.numpy().tolist()) for t, y in ordered]
    assert items[0] == (texts["neg"][0].encode()[:3], [1.0, 0.0])
    binary = text_dataset_from_directory(root, label_mode="binary", batch_size=5,
                                         verbose=False)
    assert next(iter(binary))[1].shape == (5, 1)
    unlabelled = text_dataset_from_directory(root, labels=None, batch_size=5, verbose=False)
    assert next(iter(unlabelled)).shape == (5,)


def test_text_dataset_splits(reviews):
    root, _ = reviews
    train, val = text_dataset_from_directory(root, validation_split=0.4, subset="both",
                                             seed=7, batch_size=10, verbose=False)
    train_texts = {t for batch, _ in train for t in batch.numpy().tolist()}
    val_texts = {t for batch, _ in val for t in batch.numpy().tolist()}
    assert len(train_texts) == 3 and len(val_texts) == 2 and not train_texts & val_texts
    again = text_dataset_from_directory(root, validation_split=0.4, subset="validation",
                                        seed=7, batch_size=10, verbose=False)
    assert {t for batch, _ in again for t in batch.numpy().tolist()} == val_texts


@pytest.mark.parametrize("kwargs, error", [
    ({"labels": "bad"}, ValueError), ({"labels": [0, 1], "class_names": ["a"]}, ValueError),
    ({"label_mode": "sparse"}, ValueError), ({"format": "grain"}, NotImplementedError),
    ({"format": "jax"}, ValueError), ({"validation_split": 0.2}, ValueError),
    ({"class_names": ["nope"]}, ValueError), ({"labels": [0, 1]}, ValueError),
    ({"labels": None, "class_names": ["neg"]}, ValueError),
])
def test_text_dataset_argument_errors(reviews, kwargs, error):
    root, _ = reviews
    with pytest.raises(error):
        text_dataset_from_directory(root, verbose=False, **kwargs)


def test_text_dataset_more_errors(reviews, tmp_path):
    root, _ = reviews
    with pytest.raises(FileNotFoundError):
        text_dataset_from_directory(tmp_path / "nowhere")
    (root / "third").mkdir()
    (root / "third" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="exactly 2"):
        text_dataset_from_directory(root, label_mode="binary", verbose=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="No text files"):
        text_dataset_from_directory(empty, verbose=False)
    with pytest.raises(ValueError, match="No training"):
        text_dataset_from_directory(root, validation_split=0.01, subset="both", seed=1,
                                    verbose=False)
    labelled = text_dataset_from_directory(root, labels=[0, 1, 0, 1, 1, 0], verbose=False,
                                           shuffle=False)
    assert labelled.class_names == ["0", "1"]


def test_pad_sequences_matches_a_python_reference():
    sequences = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]

    def reference(maxlen, padding, truncating, value):
        out = []
        for s in sequences:
            kept = s[-maxlen:] if truncating == "pre" else s[:maxlen]
            fill = [value] * (maxlen - len(kept))
            out.append(fill + kept if padding == "pre" else kept + fill)
        return out

    for maxlen in (None, 2, 6):
        for padding in ("pre", "post"):
            for truncating in ("pre", "post"):
                got = pad_sequences(sequences, maxlen=maxlen, padding=padding,
                                    truncating=truncating, value=-1)
                width = maxlen or max(len(s) for s in sequences)
                assert got.dtype == np.int32
                assert got.tolist() == reference(width, padding, truncating, -1)


def test_pad_sequences_dtypes_and_errors():
    assert pad_sequences([[1.5, 2.5], [3.0]], dtype="float32").tolist() == [[1.5, 2.5],
                                                                           [0.0, 3.0]]
    words = pad_sequences([["a", "b"], ["c"]], dtype=object, value="")
    assert words.tolist() == [["a", "b"], ["", "c"]]
    items = pad_sequences([[[1, 2], [3, 4]], [[5, 6]]])
    assert items.shape == (2, 2, 2) and items[1].tolist() == [[0, 0], [5, 6]]
    with pytest.raises(ValueError, match="not understood"):
        pad_sequences([[1]], padding="mid")
    with pytest.raises(ValueError, match="not understood"):
        pad_sequences([[1]], truncating="mid")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([1, 2])
    with pytest.raises(ValueError, match="iterable"):
        pad_sequences(3)
    with pytest.raises(ValueError, match="zero-size"):
        pad_sequences([])
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])
