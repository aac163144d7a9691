"""``tf.RaggedTensor`` and ``tf.ragged``: rows of different lengths, against Python lists."""

from __future__ import annotations

import pytest

import neuroflow as tf
from neuroflow import errors

ROWS = [[1, 2], [], [3, 4, 5]]


def _ragged():
    return tf.RaggedTensor.from_row_splits([1, 2, 3, 4, 5], [0, 2, 2, 5])


def _padded(rows, width, default):
    return [row[:width] + [default] * (width - len(row[:width])) for row in rows]


def test_the_partition():
    rt = _ragged()
    assert rt.to_list() == ROWS and rt.dtype is tf.int32 and rt.ragged_rank == 1
    assert rt.shape == (3, None) and rt.ndim == 2
    assert rt.flat_values.numpy().tolist() == [1, 2, 3, 4, 5]
    assert rt.values.numpy().tolist() == [1, 2, 3, 4, 5]
    assert rt.row_splits.dtype is tf.int64 and rt.row_splits.numpy().tolist() == [0, 2, 2, 5]
    assert int(rt.nrows()) == 3 and rt.nrows(out_type=tf.int32).dtype is tf.int32
    assert rt.row_lengths().numpy().tolist() == [len(r) for r in ROWS]
    assert rt.row_starts().numpy().tolist() == [0, 2, 2]
    assert rt.row_limits().numpy().tolist() == [2, 2, 5]
    assert rt.value_rowids().numpy().tolist() == [i for i, r in enumerate(ROWS) for _ in r]
    assert rt.bounding_shape().numpy().tolist() == [3, 3]
    assert int(rt.bounding_shape(axis=1)) == 3
    assert repr(rt) == str(rt) == f"<tf.RaggedTensor {ROWS}>"


def test_to_tensor_pads_and_cuts():
    rt = _ragged()
    assert rt.to_tensor().numpy().tolist() == _padded(ROWS, 3, 0)
    assert rt.to_tensor(default_value=-1).numpy().tolist() == _padded(ROWS, 3, -1)
    assert rt.to_tensor(shape=[2, 2]).numpy().tolist() == _padded(ROWS, 2, 0)[:2]
    assert rt.to_tensor(shape=[4, 4]).numpy().tolist() == _padded(ROWS + [[]], 4, 0)
    assert rt.to_tensor(shape=[None, 5]).numpy().tolist() == _padded(ROWS, 5, 0)
    strings = tf.ragged.constant([["a", "b"], ["c"]])
    assert strings.to_tensor().numpy().tolist() == [[b"a", b"b"], [b"c", b""]]
    with pytest.raises(ValueError, match="rank"):
        rt.to_tensor(shape=[3])
    with pytest.raises(NotImplementedError, match="scalar"):
        rt.to_tensor(default_value=[1, 2])
    rows_of_pairs = tf.RaggedTensor.from_row_splits(tf.ones([3, 2]), [0, 1, 3])
    assert rows_of_pairs.to_tensor().shape == (2, 2, 2)
    with pytest.raises(NotImplementedError, match="first two dimensions"):
        rows_of_pairs.to_tensor(shape=[None, None, 4])


def test_rows_and_iteration():
    rt = _ragged()
    for i, row in enumerate(ROWS):
        assert rt[i].numpy().tolist() == row and rt[i - 3].numpy().tolist() == row
    assert rt[1:].to_list() == ROWS[1:] and rt[:0].to_list() == []
    assert int(rt[2, 1]) == ROWS[2][1]
    assert [r.numpy().tolist() for r in rt] == ROWS
    assert [a.tolist() for a in rt.numpy()] == ROWS
    with pytest.raises(IndexError, match="out of bounds"):
        rt[3]
    with pytest.raises(ValueError, match="inner ragged"):
        rt[:, 0]
    with pytest.raises(NotImplementedError, match="step"):
        rt[::2]


def test_factories():
    assert tf.RaggedTensor.from_row_lengths([1, 2, 3], [2, 0, 1]).to_list() == [[1, 2], [], [3]]
    assert tf.RaggedTensor.from_value_rowids([1, 2, 3], [0, 0, 2], nrows=4).to_list() == [
        [1, 2], [], [3], []]
    assert tf.RaggedTensor.from_value_rowids([1, 2], [1, 1]).to_list() == [[], [1, 2]]
    dense = [[1, 0, 0], [2, 3, 0], [0, 0, 0]]
    assert tf.RaggedTensor.from_tensor(dense, padding=0).to_list() == [[1], [2, 3], []]
    assert tf.RaggedTensor.from_tensor(dense, lengths=[1, 3, 0]).to_list() == [
        [1], [2, 3, 0], []]
    assert tf.RaggedTensor.from_tensor(dense).to_list() == dense
    nested = tf.RaggedTensor.from_nested_row_splits([1, 2, 3, 4], [[0, 2, 3], [0, 2, 3, 4]])
    assert nested.to_list() == [[[1, 2], [3]], [[4]]] and nested.ragged_rank == 2
    assert len(nested.nested_row_splits) == 2 and nested.shape.as_list() == [2, None, None]
    assert nested.to_tensor().numpy().tolist() == [[[1, 2], [3, 0]], [[4, 0], [0, 0]]]
    splits32 = tf.RaggedTensor.from_row_splits([1, 2, 3], tf.constant([0, 1, 3], tf.int32))
    assert splits32.row_splits.dtype is tf.int32
    with pytest.raises(ValueError, match="constructor is private"):
        tf.RaggedTensor(tf.constant([1]), tf.constant([0, 1]))


@pytest.mark.parametrize("values, splits, message", [
    ([1, 2, 3], [1, 3], "start with 0"),
    ([1, 2, 3], [0, 2, 1, 3], "never decrease"),
    ([1, 2, 3], [0, 2], "number of values"),
    ([1, 2, 3], [], "at least one"),
])
def test_invalid_partitions_are_refused(values, splits, message):
    with pytest.raises(errors.InvalidArgumentError, match=message):
        tf.RaggedTensor.from_row_splits(values, tf.constant(splits, tf.int64))


def test_other_invalid_arguments():
    with pytest.raises(errors.InvalidArgumentError, match="non-negative"):
        tf.RaggedTensor.from_row_lengths([1], [2, -1])
    with pytest.raises(errors.InvalidArgumentError, match="sorted"):
        tf.RaggedTensor.from_value_rowids([1, 2], [1, 0])
    with pytest.raises(errors.InvalidArgumentError, match="nrows"):
        tf.RaggedTensor.from_value_rowids([1, 2], [0, 3], nrows=2)
    with pytest.raises(ValueError, match="int32 or int64"):
        tf.RaggedTensor.from_row_splits([1], tf.constant([0.0, 1.0]))
    with pytest.raises(ValueError, match="vector"):
        tf.RaggedTensor.from_row_splits([1], [[0, 1]])
    with pytest.raises(ValueError, match="not both"):
        tf.RaggedTensor.from_tensor([[1]], lengths=[1], padding=0)
    with pytest.raises(NotImplementedError, match="ragged_rank"):
        tf.RaggedTensor.from_tensor([[1]], ragged_rank=2)
    with pytest.raises(ValueError, match="rank 2"):
        tf.RaggedTensor.from_tensor([1, 2])
    with pytest.raises(NotImplementedError, match="axis=1"):
        _ragged().row_lengths(axis=0)


def test_ragged_constant():
    assert tf.ragged.constant([["a", "b"], ["c"]]).to_list() == [[b"a", b"b"], [b"c"]]
    three = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    assert three.to_list() == [[[1, 2], [3]], [[4]]] and three.ragged_rank == 2
    assert tf.ragged.constant([[1, 2], []]).dtype is tf.int32
    assert tf.ragged.constant([[1.5], []]).dtype is tf.float32
    empty = tf.ragged.constant([[], []])
    assert empty.to_list() == [[], []] and empty.dtype is tf.float32
    assert tf.ragged.constant([[1, 2]], ragged_rank=0).numpy().tolist() == [[1, 2]]
    assert tf.ragged.constant([[1], [2, 3]], row_splits_dtype=tf.int32).row_splits.dtype is \
        tf.int32
    with pytest.raises(ValueError, match="ragged_rank"):
        tf.ragged.constant([[1]], ragged_rank=3)
    with pytest.raises(NotImplementedError, match="inner_shape"):
        tf.ragged.constant([[1]], inner_shape=(1,))


def test_map_flat_values_and_operators():
    rt = _ragged()
    scaled = tf.ragged.map_flat_values(tf.multiply, rt, 10)
    assert scaled.to_list() == [[10 * v for v in r] for r in ROWS]
    assert rt.with_values(rt.values * 2).to_list() == [[2 * v for v in r] for r in ROWS]
    nested = tf.ragged.constant([[[1, 2], [3]], [[4]]])
    assert nested.with_flat_values(nested.flat_values + 1).to_list() == [[[2, 3], [4]], [[5]]]
    assert (rt + 1).to_list() == [[v + 1 for v in r] for r in ROWS]
    assert (1 - rt).to_list() == [[1 - v for v in r] for r in ROWS]
    assert (rt * rt).to_list() == [[v * v for v in r] for r in ROWS]
    assert (-rt).to_list() == [[-v for v in r] for r in ROWS]
    assert (rt == 2).to_list() == [[v == 2 for v in r] for r in ROWS]
    assert (rt >= 3).to_list() == [[v >= 3 for v in r] for r in ROWS]
    assert (~(rt > 1)).to_list() == [[not v > 1 for v in r] for r in ROWS]
    other = tf.RaggedTensor.from_row_splits([1, 1, 1, 1, 1], [0, 1, 3, 5])
    with pytest.raises(errors.InvalidArgumentError, match="partitions"):
        rt + other
    with pytest.raises(ValueError, match="RaggedTensor"):
        tf.ragged.map_flat_values(tf.add, 1, 2)


def test_traced_ragged_ops():
    @tf.function
    def lengths_and_dense(values, lengths):
        rt = tf.RaggedTensor.from_row_lengths(values, lengths)
        return rt.row_lengths(), rt.to_tensor(default_value=-1), rt.nrows()

    for values, lengths in (([1, 2, 3], [2, 0, 1]), ([4, 5, 6, 7], [1, 3])):
        got_lengths, dense, rows = lengths_and_dense(tf.constant(values),
                                                     tf.constant(lengths, tf.int64))
        rows_list, start = [], 0
        for n in lengths:
            rows_list.append(values[start:start + n])
            start += n
        assert got_lengths.numpy().tolist() == lengths and int(rows) == len(lengths)
        assert dense.numpy().tolist() == _padded(rows_list, max(lengths), -1)
    shown = []

    @tf.function
    def show(values, splits):
        shown.append(repr(tf.RaggedTensor.from_row_splits(values, splits)))
        return values

    show(tf.constant([1]), tf.constant([0, 1], tf.int64))
    assert shown[0].startswith("tf.RaggedTensor(values=")  # no values while tracing
