"""Convolution and pooling against TensorFlow: values and gradients, every layout we share.

TensorFlow's CPU kernels lack a few forms neuroflow computes (3-D convolution with
dilations, NCHW pooling), so those are checked against the loop references of
tests/ops/test_convolution.py instead.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

FORMATS = {1: "NWC", 2: "NHWC", 3: "NDHWC"}
CONVS = [(rank, padding, stride, dilation)
         for rank in (1, 2, 3) for padding in ("VALID", "SAME") for stride in (1, 2)
         for dilation in (1, 2) if not (stride > 1 and dilation > 1)
         and not (rank == 3 and dilation > 1)]


def _tf_conv(rank, x, w, stride, padding, dilation):
    if rank == 3:  # tf.nn.convolution's 3-D gradient needs data_format spelled out
        return T.nn.conv3d(x, w, [1, stride, stride, stride, 1], padding,
                           dilations=[1, dilation, dilation, dilation, 1])
    return T.nn.convolution(x, w, strides=stride, padding=padding, dilations=dilation)


def _value_and_grads(lib, fn, *arrays):
    tensors = [lib.constant(a) for a in arrays]
    with lib.GradientTape() as tape:
        tape.watch(tensors)
        y = fn(*tensors)
        loss = lib.reduce_sum(y * lib.sin(y))
    return [y.numpy(), *(g.numpy() for g in tape.gradient(loss, tensors))]


def _close(ours, theirs, dtype):
    tol = {"float16": 2e-2, "float32": 1e-4, "float64": 1e-10}[dtype]
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape
        scale = max(1.0, float(np.abs(b).max(initial=0)))
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rank, padding, stride, dilation", CONVS)
def test_convolution_and_its_gradients_match(rank, padding, stride, dilation, dtype):
    r = np.random.default_rng(rank * 10 + stride)
    x = r.normal(size=(2, *(7, 6, 5)[:rank], 3)).astype(dtype)
    w = r.normal(size=(*(3, 2, 3)[:rank], 3, 4)).astype(dtype)
    theirs = _value_and_grads(T, lambda a, b: _tf_conv(rank, a, b, stride, padding, dilation),
                              x, w)
    ours = _value_and_grads(N, lambda a, b: N.nn.convolution(
        a, b, strides=stride, padding=padding, dilations=dilation), x, w)
    _close(ours, theirs, dtype)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("rank, padding, stride", [
    (rank, padding, stride) for rank in (1, 2, 3) for padding in ("VALID", "SAME")
    for stride in (1, 2)])
def test_pooling_and_its_gradient_match(kind, rank, padding, stride):
    r = np.random.default_rng(rank + stride)
    # A permutation: no ties inside a window, where the two gradients may pick differently.
    shape = (2, *(7, 6, 5)[:rank], 3)
    x = (r.permutation(np.prod(shape)).reshape(shape) / 10).astype(np.float32)
    window = (2, 3, 2)[:rank]
    theirs = _value_and_grads(T, lambda a: getattr(T.nn, f"{kind}_pool")(
        a, window, stride, padding, data_format=FORMATS[rank]), x)
    ours = _value_and_grads(N, lambda a: getattr(N.nn, f"{kind}_pool")(
        a, window, stride, padding), x)
    _close(ours, theirs, "float32")


def test_float16_convolution_matches():
    r = np.random.default_rng(0)
    x, w = r.normal(size=(1, 6, 6, 2)).astype("float16"), r.normal(size=(3, 3, 2, 2))
    w = w.astype("float16")
    theirs = T.nn.conv2d(x, w, 1, "SAME").numpy()
    ours = N.nn.conv2d(x, w, 1, "SAME").numpy()
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=2e-2)


def test_explicit_padding_and_strides_forms_match():
    r = np.random.default_rng(1)
    x, w = r.normal(size=(2, 7, 6, 3)), r.normal(size=(3, 2, 3, 2))
    pads = [[0, 0], [1, 2], [0, 3], [0, 0]]
    for strides in (2, [1, 2], [1, 2, 1, 1]):
        np.testing.assert_allclose(N.nn.conv2d(x, w, strides, pads).numpy(),
                                   T.nn.conv2d(x, w, strides, pads).numpy(), rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 3, 4)), 1, "SAME"),
    lambda lib: lib.nn.conv2d(lib.constant(np.ones((1, 5, 5, 2), np.int8)),
                              lib.constant(np.ones((3, 3, 2, 4), np.int8)), 1, "SAME"),
    lambda lib: lib.nn.max_pool2d(lib.constant(np.ones((1, 5, 5, 2), bool)), 2, 2, "SAME"),
    lambda lib: lib.nn.conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4)), [2, 1, 1, 1],
                              "SAME"),
    lambda lib: lib.nn.max_pool2d(np.ones((1, 5, 5, 2)), 2, 2, "FULL"),
], ids=["channels", "int8-conv", "bool-pool", "batch-stride", "padding-name"])
def test_errors_are_tensorflows_classes(make):
    with pytest.raises(Exception) as theirs:
        make(T)
    expected = getattr(N.errors, type(theirs.value).__name__, None) or type(theirs.value)
    with pytest.raises(expected):
        make(N)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.conv2d(np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4), np.float32), 1,
                              "SAME"),
    lambda lib: lib.nn.conv2d(np.ones((1, 2, 2, 2)), np.ones((3, 3, 2, 4)), 1, "VALID"),
    lambda lib: lib.nn.conv2d(lib.constant(np.arange(50, dtype=np.int32).reshape(1, 5, 5, 2)),
                              lib.constant(np.ones((2, 2, 2, 3), np.int32)), 1, "SAME"),
    lambda lib: lib.nn.max_pool2d(lib.constant(np.arange(50, dtype=np.uint8).reshape(
        1, 5, 5, 2)), 3, 2, "SAME"),
], ids=["array-filter-takes-input-dtype", "window-too-big-is-empty", "int32-conv",
        "uint8-max-pool"])
def test_edge_forms_give_tensorflows_results(make):
    theirs, ours = make(T), make(N)
    assert (ours.dtype.name, ours.shape) == (theirs.dtype.name, tuple(theirs.shape))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
