"""Convolution and pooling vs loop-by-loop NumPy references; gradients vs finite differences.

The references below follow the definitions directly (one output position at a time), so
they share nothing with the im2col implementation they check.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _opcheck import (
    Fwd,
    Grad,
    params,
    raises_with_message,
    run_forward,
    run_gradient,
    run_second_derivative,
    smooth_params,
    uniform,
)

import neuroflow as tf
from neuroflow.ops import convolution as conv_ops

# --- references ---------------------------------------------------------------------------


def same_pads(spatial, kernel, strides, dilations=None):
    dilations = dilations or (1,) * len(kernel)
    pads = []
    for n, k, s, d in zip(spatial, kernel, strides, dilations):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def out_sizes(spatial, kernel, strides, dilations, pads):
    return tuple((n + lo + hi - (k - 1) * d - 1) // s + 1
                 for n, k, s, d, (lo, hi) in zip(spatial, kernel, strides, dilations, pads))


def ref_conv(x, w, strides, dilations, pads):
    kernel = w.shape[:-2]
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    out = out_sizes(x.shape[1:-1], kernel, strides, dilations, pads)
    y = np.zeros((x.shape[0], *out, w.shape[-1]), x.dtype)
    for o in itertools.product(*map(range, out)):
        for k in itertools.product(*map(range, kernel)):
            at = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, strides, dilations))
            y[(slice(None), *o)] += xp[(slice(None), *at)] @ w[k]
    return y


def ref_conv_input_grad(g, w, spatial, strides, dilations, pads):
    kernel = w.shape[:-2]
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads))
    dx = np.zeros((g.shape[0], *padded, w.shape[-2]), g.dtype)
    for o in itertools.product(*map(range, g.shape[1:-1])):
        for k in itertools.product(*map(range, kernel)):
            at = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, strides, dilations))
            dx[(slice(None), *at)] += g[(slice(None), *o)] @ w[k].T
    return dx[(slice(None), *(slice(lo, lo + n) for n, (lo, _) in zip(spatial, pads)))]


def ref_conv_filter_grad(x, g, kernel, strides, dilations, pads):
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    dw = np.zeros((*kernel, x.shape[-1], g.shape[-1]), x.dtype)
    for o in itertools.product(*map(range, g.shape[1:-1])):
        for k in itertools.product(*map(range, kernel)):
            at = tuple(oi * s + ki * d for oi, ki, s, d in zip(o, k, strides, dilations))
            dw[k] += xp[(slice(None), *at)].T @ g[(slice(None), *o)]
    return dw


def ref_pool(x, kernel, strides, pads, kind):
    n = len(kernel)
    out = out_sizes(x.shape[1:-1], kernel, strides, (1,) * n, pads)
    y = np.zeros((x.shape[0], *out, x.shape[-1]), x.dtype)
    for o in itertools.product(*map(range, out)):
        lo = [oi * s - p for oi, s, (p, _) in zip(o, strides, pads)]
        window = tuple(slice(max(a, 0), min(a + k, size))
                       for a, k, size in zip(lo, kernel, x.shape[1:-1]))
        part = x[(slice(None), *window)].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None), *o)] = part.max(axis=1) if kind == "max" else part.mean(axis=1)
    return y


# --- cases --------------------------------------------------------------------------------

# (input shape, filter shape, strides, dilations, padding)
CONVS = [
    ((2, 7, 3), (3, 3, 4), (1,), (1,), "VALID"),
    ((2, 8, 2), (2, 2, 3), (3,), (1,), "SAME"),
    ((2, 6, 5, 3), (3, 2, 3, 4), (1, 1), (1, 1), "SAME"),
    ((1, 7, 6, 2), (3, 3, 2, 2), (2, 2), (1, 1), "VALID"),
    ((2, 7, 7, 2), (3, 3, 2, 3), (2, 1), (1, 1), "SAME"),
    ((1, 8, 7, 2), (3, 2, 2, 2), (1, 1), (2, 3), "SAME"),
    ((1, 9, 8, 1), (2, 3, 1, 2), (2, 2), (2, 2), "VALID"),
    ((1, 5, 4, 3, 2), (2, 3, 2, 2, 3), (1, 2, 1), (1, 1, 1), "SAME"),
    ((3, 1, 1, 4), (1, 1, 4, 2), (1, 1), (1, 1), "VALID"),
    ((0, 5, 5, 2), (3, 3, 2, 2), (1, 1), (1, 1), "SAME"),
]


def _resolved(x_shape, w_shape, strides, dilations, padding):
    spatial, kernel = x_shape[1:-1], w_shape[:-2]
    pads = (same_pads(spatial, kernel, strides, dilations) if padding == "SAME"
            else ((0, 0),) * len(kernel))
    return dict(strides=strides, dilations=dilations, pads=pads)


def _conv_fn(strides, dilations, padding):
    return lambda x, w: tf.nn.convolution(x, w, strides=list(strides), padding=padding,
                                          dilations=list(dilations))


def _conv_id(x_shape, w_shape, strides, dilations, padding):
    return f"{len(x_shape) - 2}d-{x_shape}-s{strides}-d{dilations}-{padding}"


POOLS = [  # (input shape, window, strides, padding)
    ((2, 7, 3), (2,), (2,), "VALID"),
    ((2, 6, 5, 3), (2, 2), (2, 2), "SAME"),
    ((1, 7, 7, 2), (3, 3), (2, 2), "SAME"),
    ((2, 5, 6, 1), (3, 2), (1, 2), "VALID"),
    ((1, 4, 5, 3, 2), (2, 2, 3), (2, 1, 2), "SAME"),
]


def _pool_fn(kind, window, strides, padding):
    op = tf.nn.max_pool if kind == "max" else tf.nn.avg_pool
    return lambda x: op(x, list(window), list(strides), padding)


def _pool_pads(shape, window, strides, padding):
    return (same_pads(shape[1:-1], window, strides) if padding == "SAME"
            else ((0, 0),) * len(window))


def _rng_uniform(*shape, dtype="float64"):
    return uniform(*shape).astype(dtype)


FORWARD = {
    "conv": [Fwd(_conv_fn(s, d, p), lambda x, w, s=s, d=d, xs=xs, ws=ws, p=p: ref_conv(
        x, w, **_resolved(xs, ws, s, d, p)), (_rng_uniform(*xs, dtype=dt), _rng_uniform(
            *ws, dtype=dt)), f"{dt}-{_conv_id(xs, ws, s, d, p)}")
        for (xs, ws, s, d, p), dt in zip(CONVS, itertools.cycle(["float32", "float64"]))],
    "conv_input_grad": [Fwd(
        lambda g, w, xs=xs, ws=ws, s=s, d=d, p=p: conv_ops._conv_input_grad(
            g, w, spatial=xs[1:-1], **_resolved(xs, ws, s, d, p)),
        lambda g, w, xs=xs, ws=ws, s=s, d=d, p=p: ref_conv_input_grad(
            g, w, xs[1:-1], **_resolved(xs, ws, s, d, p)),
        (_rng_uniform(xs[0], *out_sizes(xs[1:-1], ws[:-2], s, d,
                                        _resolved(xs, ws, s, d, p)["pads"]), ws[-1]),
         _rng_uniform(*ws)), _conv_id(xs, ws, s, d, p)) for xs, ws, s, d, p in CONVS[:8]],
    "conv_filter_grad": [Fwd(
        lambda x, g, xs=xs, ws=ws, s=s, d=d, p=p: conv_ops._conv_filter_grad(
            x, g, kernel=ws[:-2], **_resolved(xs, ws, s, d, p)),
        lambda x, g, xs=xs, ws=ws, s=s, d=d, p=p: ref_conv_filter_grad(
            x, g, ws[:-2], **_resolved(xs, ws, s, d, p)),
        (_rng_uniform(*xs), _rng_uniform(xs[0], *out_sizes(
            xs[1:-1], ws[:-2], s, d, _resolved(xs, ws, s, d, p)["pads"]), ws[-1])),
        _conv_id(xs, ws, s, d, p)) for xs, ws, s, d, p in CONVS[:8]],
    "max_pool": [Fwd(_pool_fn("max", k, s, p), lambda x, k=k, s=s, p=p, xs=xs: ref_pool(
        x, k, s, _pool_pads(xs, k, s, p), "max"), (_rng_uniform(*xs, dtype=dt),),
        f"{dt}-{xs}-{k}-{s}-{p}")
        for (xs, k, s, p), dt in zip(POOLS, itertools.cycle(["float32", "float64"]))],
    "avg_pool": [Fwd(_pool_fn("avg", k, s, p), lambda x, k=k, s=s, p=p, xs=xs: ref_pool(
        x, k, s, _pool_pads(xs, k, s, p), "avg"), (_rng_uniform(*xs, dtype=dt),),
        f"{dt}-{xs}-{k}-{s}-{p}")
        for (xs, k, s, p), dt in zip(POOLS, itertools.cycle(["float64", "float32"]))],
    # The gradients of pooling, against the gradient of the reference computed by hand.
    "max_pool_grad": [Fwd(
        lambda x, g: conv_ops._max_pool_grad(x, tf.nn.max_pool2d(x, 2, 2, "VALID"), g,
                                             kernel=(2, 2), strides=(2, 2),
                                             pads=((0, 0), (0, 0))),
        lambda x, g: np.repeat(np.repeat(g, 2, 1), 2, 2) * (
            x == np.repeat(np.repeat(ref_pool(x, (2, 2), (2, 2), ((0, 0),) * 2, "max"),
                                     2, 1), 2, 2)),
        (_rng_uniform(2, 4, 6, 3), _rng_uniform(2, 2, 3, 3)), "2x2-distinct")],
    "avg_pool_grad": [Fwd(
        lambda g: conv_ops._avg_pool_grad(g, spatial=(4, 6), kernel=(2, 3), strides=(2, 3),
                                          pads=((0, 0), (0, 0))),
        lambda g: np.repeat(np.repeat(g, 2, 1), 3, 2) / 6,
        (_rng_uniform(2, 2, 2, 3),), "tiling-windows")],
}

GRADIENTS = {
    "conv": [Grad(_conv_fn(s, d, p), (uniform(*xs), uniform(*ws)), _conv_id(xs, ws, s, d, p))
             for xs, ws, s, d, p in CONVS[:9]],
    "conv_input_grad": [Grad(
        lambda g, w: conv_ops._conv_input_grad(g, w, spatial=(5, 4), strides=(2, 1),
                                               dilations=(1, 1), pads=((1, 1), (0, 1))),
        (uniform(2, 3, 4, 2), uniform(2, 2, 3, 2)), "2d")],
    "conv_filter_grad": [Grad(
        lambda x, g: conv_ops._conv_filter_grad(x, g, kernel=(2, 2), strides=(2, 1),
                                                dilations=(1, 1), pads=((1, 1), (0, 1))),
        (uniform(2, 5, 4, 3), uniform(2, 3, 4, 2)), "2d")],
    # Distinct values keep every window's maximum away from ties (finite differences
    # would straddle the kink).
    "max_pool": [Grad(_pool_fn("max", k, s, p),
                      (np.random.default_rng(i).permutation(np.prod(xs)).reshape(xs) * 0.1,),
                      f"{xs}-{k}-{s}-{p}")
                 for i, (xs, k, s, p) in enumerate(POOLS)],
    "avg_pool": [Grad(_pool_fn("avg", k, s, p), (uniform(*xs),), f"{xs}-{k}-{s}-{p}")
                 for xs, k, s, p in POOLS],
    "avg_pool_grad": [Grad(
        lambda g: conv_ops._avg_pool_grad(g, spatial=(5, 5), kernel=(2, 2), strides=(2, 2),
                                          pads=((0, 1), (0, 1))),
        (uniform(1, 3, 3, 2),), "same-padding")],
}


@pytest.mark.parametrize("name, case", params(FORWARD))
def test_forward(name, case):
    run_forward(name, case)


@pytest.mark.parametrize("name, case", params(GRADIENTS))
def test_gradient(name, case):
    run_gradient(name, case)


@pytest.mark.parametrize("name, case", smooth_params(GRADIENTS))
def test_second_derivative(name, case):
    run_second_derivative(case)


# --- layouts and argument forms -----------------------------------------------------------


def test_channels_first_is_channels_last_transposed():
    x, w = uniform(2, 3, 6, 5), uniform(3, 3, 3, 4)
    nchw = tf.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW")
    nhwc = tf.nn.conv2d(np.transpose(x, (0, 2, 3, 1)), w, 2, "SAME")
    np.testing.assert_allclose(nchw.numpy(), np.transpose(nhwc.numpy(), (0, 3, 1, 2)))
    pooled = tf.nn.max_pool2d(x, 2, 2, "VALID", data_format="NCHW")
    expected = tf.nn.max_pool2d(np.transpose(x, (0, 2, 3, 1)), 2, 2, "VALID")
    np.testing.assert_allclose(pooled.numpy(), np.transpose(expected.numpy(), (0, 3, 1, 2)))


def test_explicit_padding_equals_padding_the_input():
    x, w = uniform(1, 5, 4, 2), uniform(3, 2, 2, 3)
    pads = [[0, 0], [2, 1], [0, 3], [0, 0]]
    got = tf.nn.conv2d(x, w, 1, pads)
    expected = tf.nn.conv2d(np.pad(x, pads), w, 1, "VALID")
    np.testing.assert_allclose(got.numpy(), expected.numpy())


def test_strides_as_an_int_n_ints_or_n_plus_2_ints_agree():
    x, w = uniform(1, 7, 7, 2), uniform(3, 3, 2, 2)
    forms = [2, [2, 2], [1, 2, 2, 1], tf.constant([1, 2, 2, 1])]
    results = [tf.nn.conv2d(x, w, s, "SAME").numpy() for s in forms]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_same_average_pooling_does_not_count_the_padding():
    x = np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(tf.nn.avg_pool2d(x, 2, 2, "SAME").numpy(), np.ones((1, 2, 2, 1)))


def test_max_pool_gradient_goes_to_the_first_maximum_of_a_tie():
    x = tf.constant(np.ones((1, 2, 2, 1)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")
    np.testing.assert_array_equal(tape.gradient(y, x).numpy()[0, :, :, 0], [[1, 0], [0, 0]])


def test_max_pool_propagates_nan_and_its_gradient():
    x = tf.constant(np.array([1.0, np.nan, 3.0, 2.0]).reshape(1, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool1d(x, 2, 2, "VALID")
    assert np.isnan(y.numpy()[0, 0, 0]) and y.numpy()[0, 1, 0] == 3.0
    np.testing.assert_array_equal(tape.gradient(y, x).numpy().ravel(), [0, 1, 1, 0])


def test_compiled_convolution_takes_any_batch_size_with_one_trace():
    w = tf.constant(uniform(3, 3, 2, 4).astype(np.float32))
    f = tf.function(lambda x: tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, w, 1, "SAME")),
                                               2, 2, "VALID"),
                    input_signature=[tf.TensorSpec([None, 6, 6, 2], tf.float32)])
    for batch in (1, 3, 5):
        x = uniform(batch, 6, 6, 2).astype(np.float32)
        expected = ref_pool(np.maximum(ref_conv(x, w.numpy(), (1, 1), (1, 1),
                                                same_pads((6, 6), (3, 3), (1, 1))), 0),
                            (2, 2), (2, 2), ((0, 0),) * 2, "max")
        np.testing.assert_allclose(f(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert f.experimental_get_tracing_count() == 1


# --- errors -------------------------------------------------------------------------------


def test_bad_arguments_raise_clear_errors():
    x, w = uniform(1, 5, 5, 2), uniform(3, 3, 2, 4)
    bad = tf.errors.InvalidArgumentError
    raises_with_message(bad, lambda: tf.nn.conv2d(uniform(5, 5, 2), w, 1, "SAME"),
                        "must have rank 4", "(5, 5, 2)")
    raises_with_message(bad, lambda: tf.nn.convolution(uniform(2, 2), w), "rank 3, 4 or 5")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, uniform(3, 3, 3, 4), 1, "SAME"),
                        "2 channels", "filters expect 3")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, uniform(3, 3, 2), 1, "SAME"),
                        "filters must have rank 4")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, tf.constant(w, tf.float32), 1, "SAME"),
                        "same dtype", "float64", "float32")
    raises_with_message(bad, lambda: tf.nn.conv2d(x.astype(np.int8), w, 1, "SAME"),
                        "float16, float32, float64, int32", "received int8")
    raises_with_message(bad, lambda: tf.nn.avg_pool2d(x.astype(np.int32), 2, 2, "SAME"),
                        "float16, float32, float64;", "received int32")
    raises_with_message(bad, lambda: tf.nn.max_pool2d(x > 0, 2, 2, "SAME"), "received bool")
    raises_with_message(tf.errors.UnimplementedError,
                        lambda: tf.nn.conv2d(x, w, [2, 2, 2, 1], "SAME"),
                        "batch and channel dimensions must be 1")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, w, [0, 1], "SAME"), "positive int")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, w, [1, 1, 1], "SAME"), "list of 2 or 4")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, w, 1, "FULL"), "'SAME', 'VALID'")
    raises_with_message(ValueError, lambda: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 1]]),
                        "4 (before, after) pairs")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, w, 1, [[1, 0], [1, 1], [1, 1], [0, 0]]),
                        "batch and channel dimensions must be (0, 0)")
    raises_with_message(bad, lambda: tf.nn.conv2d(x, w, 1, [[0, 0], [-1, 1], [1, 1], [0, 0]]),
                        "non-negative")
    raises_with_message(ValueError, lambda: tf.nn.conv2d(x, w, 1, "SAME", data_format="NWC"),
                        "'NHWC' or 'NCHW'")
    raises_with_message(bad, lambda: tf.nn.max_pool2d(x, 2, 2, [[0, 0]] * 4),
                        "'SAME' or 'VALID'")
    f = tf.function(lambda v: tf.nn.conv2d(v, w, 1, "SAME"),
                    input_signature=[tf.TensorSpec([1, None, 5, 2], tf.float64)])
    raises_with_message(bad, lambda: f(x), "spatial sizes must be known", "batch size")


def test_one_spatial_dimension_accepts_tensorflows_2d_format_names():
    x, w = uniform(2, 6, 3), uniform(2, 3, 2)
    np.testing.assert_array_equal(tf.nn.conv1d(x, w, 1, "VALID", data_format="NHWC").numpy(),
                                  tf.nn.conv1d(x, w, 1, "VALID").numpy())
    np.testing.assert_allclose(
        tf.nn.conv1d(np.transpose(x, (0, 2, 1)), w, 1, "VALID", data_format="NCHW").numpy(),
        np.transpose(tf.nn.conv1d(x, w, 1, "VALID").numpy(), (0, 2, 1)))


def test_a_window_larger_than_the_input_gives_an_empty_output():
    x, w = uniform(1, 2, 2, 2), uniform(3, 3, 2, 4)
    assert tf.nn.conv2d(x, w, 1, "VALID").shape == (1, 0, 0, 4)
    assert tf.nn.max_pool2d(x, 3, 1, "VALID").shape == (1, 0, 0, 2)


def test_integer_convolution_and_max_pooling_keep_their_dtype():
    x = np.arange(2 * 5 * 5 * 2).reshape(2, 5, 5, 2).astype(np.int32) - 20
    w = np.ones((2, 2, 2, 3), np.int32)
    got = tf.nn.conv2d(x, w, 1, "SAME")
    assert got.dtype == tf.int32
    np.testing.assert_array_equal(got.numpy(), ref_conv(x, w, (1, 1), (1, 1),
                                                        same_pads((5, 5), (2, 2), (1, 1))))
    for dtype in (np.int8, np.uint8, np.int64):
        pooled = tf.nn.max_pool2d(x.astype(dtype), 3, 2, "SAME")
        np.testing.assert_array_equal(pooled.numpy(), ref_pool(
            x.astype(dtype), (3, 3), (2, 2), same_pads((5, 5), (3, 3), (2, 2)), "max"))


def test_a_filter_given_as_an_array_takes_the_inputs_dtype():
    x = tf.constant(uniform(1, 4, 4, 2).astype(np.float32))
    assert tf.nn.conv2d(x, uniform(2, 2, 2, 1), 1, "VALID").dtype == tf.float32


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int32"])
@pytest.mark.parametrize("nan", [False, True], ids=["finite", "nan"])
@pytest.mark.parametrize("shape, window", [((3, 6, 8, 4), (2, 2)), ((2, 9, 5), (3,)),
                                           ((1, 4, 6, 4, 2), (2, 3, 2))])
def test_tiled_max_pool_gradient_equals_the_general_path(shape, window, dtype, nan):
    if nan and dtype == "int32":
        pytest.skip("integers have no NaN")
    # ReLU-like data: many windows are all zeros (ties), rounded so that ties between
    # positive values happen too; a NaN in the input takes the general path.
    x = (np.round(np.maximum(np.random.default_rng(5).normal(size=shape), 0) * 2) / 2
         ).astype(dtype)
    if nan:
        x.reshape(-1)[7] = np.nan
    y = np.asarray(conv_ops._max_pool(tf.constant(x), kernel=window, strides=window,
                                      pads=((0, 0),) * len(window)))
    g = np.random.default_rng(6).normal(size=y.shape).astype(dtype)
    if dtype != "int32":  # an infinite or NaN gradient reaches only its window's maximum
        g.reshape(-1)[[2, 3]] = [np.inf, np.nan]
    out = y.shape[1:-1]
    covered = x[(slice(None), *(slice(0, o * k) for o, k in zip(out, window)), slice(None))]
    tiled = conv_ops._tiled_max_pool_grad(np, covered, y, g, window, out)
    looped = conv_ops._looped_max_pool_grad(np, covered, y, g, window, window)
    assert tiled.dtype == looped.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(tiled, looped)


@pytest.mark.parametrize("channels", [1, 3, 5, 12])
def test_batch_blocks_and_both_patch_layouts_match_the_references(monkeypatch, channels):
    # One sample per block; 1 and 3 channels build transposed patch matrices, 5 and 12 by
    # rows; col2im adds a channel at a time below 10 channels.
    monkeypatch.setattr(conv_ops, "_BLOCK_BYTES", 1)
    x, w = uniform(3, 7, 6, channels), uniform(3, 2, channels, 4)
    for strides, dilations, padding in [((1, 1), (1, 1), "VALID"), ((1, 1), (1, 1), "SAME"),
                                        ((2, 1), (1, 2), "SAME")]:
        attrs = _resolved(x.shape, w.shape, strides, dilations, padding)
        y = ref_conv(x, w, **attrs)
        g = uniform(*y.shape)
        for got, expected in [
                (conv_ops._conv.forward(np, x, w, **attrs), y),
                (conv_ops._conv_input_grad.forward(np, g, w, spatial=(7, 6), **attrs),
                 ref_conv_input_grad(g, w, (7, 6), **attrs)),
                (conv_ops._conv_filter_grad.forward(np, x, g, kernel=(3, 2), **attrs),
                 ref_conv_filter_grad(x, g, (3, 2), **attrs))]:
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    pooled = conv_ops._max_pool.forward(np, x, kernel=(2, 2), strides=(2, 2),
                                        pads=((0, 0), (0, 0)))
    np.testing.assert_array_equal(pooled, ref_pool(x, (2, 2), (2, 2), ((0, 0),) * 2, "max"))


def _buffer_cases():
    """(primitive, inputs, attrs) for every primitive whose generated code passes ``out``."""
    x, w = uniform(2, 7, 5, 3), uniform(3, 2, 3, 4)
    relu = np.maximum(np.round(uniform(2, 7, 5, 3)), 0)  # ties in the windows
    cases = []
    for strides, dilations, padding in [((1, 1), (1, 1), "VALID"), ((1, 1), (1, 1), "SAME"),
                                        ((2, 1), (1, 2), "SAME")]:
        attrs = _resolved(x.shape, w.shape, strides, dilations, padding)
        g = uniform(2, *out_sizes((7, 5), (3, 2), strides, dilations, attrs["pads"]), 4)
        cases += [(conv_ops._conv, (x, w), attrs),
                  (conv_ops._conv_input_grad, (g, w), {**attrs, "spatial": (7, 5)}),
                  (conv_ops._conv_filter_grad, (x, g), {**attrs, "kernel": (3, 2)})]
    nan = relu.copy()
    nan[0, 0, 0, 0] = np.nan
    for data, window, strides, padding in [(relu, (2, 2), (2, 2), "VALID"),
                                           (relu, (2, 2), (2, 2), "SAME"),
                                           (relu, (3, 2), (2, 1), "SAME"),
                                           (nan, (2, 2), (2, 2), "VALID"),
                                           (relu.astype(np.int32), (2, 2), (2, 2), "VALID")]:
        attrs = dict(kernel=window, strides=strides,
                     pads=_pool_pads(data.shape, window, strides, padding))
        y = conv_ops._max_pool.forward(np, data, **attrs)
        cases += [(conv_ops._max_pool, (data,), attrs),
                  (conv_ops._max_pool_grad, (data, y, np.ones_like(y)), attrs)]
    return [pytest.param(*case, id=f"{case[0].name}-{i}") for i, case in enumerate(cases)]


@pytest.mark.parametrize("prim, inputs, attrs", _buffer_cases())
def test_a_given_buffer_is_filled_completely(prim, inputs, attrs):
    """Generated code passes planned buffers, which hold earlier values, as ``out``."""
    expected = prim.forward(np, *inputs, **attrs)
    stale = np.full(expected.shape, -7, expected.dtype)
    got = prim.forward(np, *inputs, out=stale, **attrs)
    assert got is stale
    np.testing.assert_array_equal(got, expected)


def test_compiled_steps_write_convolutions_and_poolings_into_planned_buffers():
    w = tf.constant(uniform(3, 3, 2, 4).astype(np.float32))

    def loss(x):
        with tf.GradientTape() as tape:
            tape.watch(w)
            y = tf.reduce_sum(tf.nn.max_pool2d(tf.nn.conv2d(x, w, 1, "SAME"), 2, 2, "VALID"))
        return tape.gradient(y, w)

    f = tf.function(loss)
    x = uniform(3, 6, 6, 2).astype(np.float32)
    for _ in range(2):  # the second call finds the buffers holding the first call's values
        np.testing.assert_allclose(f(x).numpy(), loss(tf.constant(x)).numpy(), rtol=1e-5)
    assert "out=B" in f.source.split("P_conv_0(")[1].split("\n")[0]


def test_int32_convolutions_are_one_and_two_dimensional_only():
    raises_with_message(tf.errors.InvalidArgumentError, lambda: tf.nn.conv3d(
        np.ones((1, 3, 3, 3, 1), np.int32), np.ones((2, 2, 2, 1, 1), np.int32), 1, "VALID"),
        "float16, float32, float64;", "received int32")
    assert tf.nn.conv1d(np.ones((1, 4, 1), np.int32), np.ones((2, 1, 1), np.int32), 1,
                        "VALID").dtype == tf.int32


# --- transposed, depthwise and separable convolutions ------------------------------------


@pytest.mark.parametrize("x_shape, w_shape, strides, padding", [
    ((2, 7, 6, 3), (3, 3, 3, 4), 2, "SAME"),
    ((1, 8, 8, 2), (2, 3, 2, 3), 2, "VALID"),
    ((2, 9, 4), (3, 4, 2), 3, "SAME"),
    ((1, 5, 4, 6, 2), (2, 2, 2, 2, 3), 1, "VALID"),
])
def test_transposed_convolution_is_the_adjoint_of_convolution(x_shape, w_shape, strides,
                                                              padding):
    """<conv(x, w), y> = <x, conv_transpose(y, w)> for every x and y: the definition."""
    x, w = uniform(*x_shape), uniform(*w_shape)
    y = tf.nn.convolution(x, w, strides=strides, padding=padding).numpy()
    probe = uniform(*y.shape)
    back = tf.nn.conv_transpose(probe, w, x_shape, strides, padding).numpy()
    assert back.shape == x_shape
    np.testing.assert_allclose((y * probe).sum(), (x * back).sum(), rtol=1e-10)


def test_depthwise_and_separable_convolutions_are_their_definitions():
    x, w = uniform(2, 6, 5, 3), uniform(3, 3, 3, 2)
    got = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME").numpy()
    for c in range(3):
        for m in range(2):
            expected = ref_conv(x[..., c:c + 1], w[:, :, c:c + 1, m:m + 1], (1, 1), (1, 1),
                                same_pads((6, 5), (3, 3), (1, 1)))[..., 0]
            np.testing.assert_allclose(got[..., c * 2 + m], expected, rtol=1e-10)
    pointwise = uniform(1, 1, 6, 4)
    separable = tf.nn.separable_conv2d(x, w, pointwise, [1, 1, 1, 1], "SAME").numpy()
    np.testing.assert_allclose(separable, got @ pointwise[0, 0], rtol=1e-10)


def test_transposed_and_depthwise_errors():
    bad = tf.errors.InvalidArgumentError
    x, w = uniform(1, 4, 4, 3), uniform(3, 3, 2, 3)
    raises_with_message(bad, lambda: tf.nn.conv2d_transpose(x, w, [1, 5, 5, 2], 2, "SAME"),
                        "do not convolve back", "(4, 4)")
    raises_with_message(bad, lambda: tf.nn.conv2d_transpose(x, uniform(3, 3, 2, 2),
                                                            [1, 8, 8, 2], 2, "SAME"),
                        "3 channels", "in_channels) is 2")
    raises_with_message(bad, lambda: tf.nn.conv2d_transpose(x, uniform(3, 3, 2), [1, 8, 8, 2],
                                                            2, "SAME"), "rank 4")
    raises_with_message(bad, lambda: tf.nn.conv2d_transpose(x, w, [8, 8, 2], 2, "SAME"),
                        "4 entries")
    raises_with_message(bad, lambda: tf.nn.depthwise_conv2d(x, uniform(3, 3, 2, 1),
                                                            [1, 1, 1, 1], "SAME"),
                        "3 channels", "expects 2")
    raises_with_message(bad, lambda: tf.nn.depthwise_conv2d(x, uniform(3, 3, 3),
                                                            [1, 1, 1, 1], "SAME"), "rank 4")
    np.testing.assert_array_equal(
        tf.nn.conv2d_transpose(x, w, tf.constant([1, 8, 8, 2]), 2, "SAME").shape, (1, 8, 8, 2))
