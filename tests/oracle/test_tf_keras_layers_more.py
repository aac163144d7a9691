"""Keras 3 (with TensorFlow 2.21) as the oracle for neuroflow's normalization, noise,
spatial and activation layers.

Deterministic layers: the same weights and inputs give the same outputs, the same
gradients (of a loss over the outputs, with respect to the inputs and every trainable
weight) and, for BatchNormalization, the same moving statistics after a training call.
Random layers: inference mode returns the inputs, and training statistics agree.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")

import neuroflow as N  # noqa: E402

pytestmark = pytest.mark.tensorflow

LAYERS = [
    ("BatchNormalization", dict(), (6, 4), True),
    ("BatchNormalization", dict(), (6, 4), False),
    ("BatchNormalization", dict(axis=1, momentum=0.9, epsilon=1e-2), (3, 4, 5), True),
    ("BatchNormalization", dict(axis=1), (3, 4, 5), False),
    ("BatchNormalization", dict(center=False, scale=False), (2, 3, 3, 2), True),
    ("BatchNormalization", dict(axis=-2, scale=False), (3, 4, 2), True),
    ("LayerNormalization", dict(), (3, 5), None),
    ("LayerNormalization", dict(axis=[1, 2]), (2, 3, 4), None),
    ("LayerNormalization", dict(axis=1, center=False, epsilon=1e-5), (2, 3, 4), None),
    ("LayerNormalization", dict(rms_scaling=True), (2, 3, 4), None),
    ("GroupNormalization", dict(groups=2), (2, 5, 4), None),
    ("GroupNormalization", dict(groups=-1), (2, 3, 3, 4), None),
    ("GroupNormalization", dict(groups=3, axis=1, scale=False), (2, 6, 5), None),
    ("UnitNormalization", dict(), (3, 4), None),
    ("UnitNormalization", dict(axis=[1, 2]), (2, 3, 4), None),
    ("Permute", dict(dims=(2, 1)), (2, 3, 4), None),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 5), None),
    ("RepeatVector", dict(n=3), (2, 4), None),
    ("ZeroPadding1D", dict(padding=(1, 2)), (2, 5, 3), None),
    ("ZeroPadding2D", dict(), (2, 3, 4, 2), None),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 3)), data_format="channels_first"),
     (2, 2, 3, 4), None),
    ("ZeroPadding3D", dict(padding=(1, 0, 2)), (1, 2, 3, 2, 2), None),
    ("Cropping1D", dict(), (2, 5, 3), None),
    ("Cropping1D", dict(cropping=(2, 0)), (2, 5, 3), None),
    ("Cropping2D", dict(cropping=((1, 0), (1, 2))), (2, 4, 5, 2), None),
    ("Cropping2D", dict(cropping=1, data_format="channels_first"), (2, 2, 4, 5), None),
    ("Cropping3D", dict(), (1, 4, 3, 5, 2), None),
    ("UpSampling1D", dict(size=3), (2, 3, 2), None),
    ("UpSampling2D", dict(), (2, 2, 3, 2), None),
    ("UpSampling2D", dict(size=(1, 3), data_format="channels_first"), (2, 2, 3, 2), None),
    ("UpSampling2D", dict(size=(3, 2), interpolation="bilinear"), (2, 3, 4, 2), None),
    ("UpSampling2D", dict(interpolation="bilinear", data_format="channels_first"),
     (1, 2, 3, 3), None),
    ("UpSampling3D", dict(size=(2, 1, 2)), (1, 2, 2, 3, 2), None),
    ("BatchNormalization", dict(dtype="float64"), (5, 3), True),
    ("LayerNormalization", dict(dtype="float64"), (2, 3), None),
    ("GroupNormalization", dict(groups=1, dtype="float64"), (2, 3, 2), None),
    ("PReLU", dict(dtype="float64"), (2, 3), None),
    ("BatchNormalization", dict(dtype="float16"), (5, 3), True),
    ("BatchNormalization", dict(dtype="float16"), (5, 3), False),
    ("LayerNormalization", dict(dtype="float16"), (2, 3), None),
    ("GroupNormalization", dict(groups=3, dtype="float16"), (2, 2, 3), None),
    ("UnitNormalization", dict(dtype="float16"), (2, 3), None),
    ("PReLU", dict(dtype="float16"), (2, 3), None),
    ("ELU", dict(dtype="float16"), (2, 3), None),
    ("UpSampling2D", dict(interpolation="bilinear", dtype="float16"), (1, 2, 2, 1), None),
    ("UpSampling2D", dict(interpolation="bilinear", dtype="float64"), (1, 2, 2, 1), None),
    ("LeakyReLU", dict(), (3, 4), None),
    ("LeakyReLU", dict(negative_slope=0.05), (3, 4), None),
    ("PReLU", dict(), (3, 4), None),
    ("PReLU", dict(shared_axes=[1, 2]), (2, 3, 4, 2), None),
    ("ELU", dict(), (3, 4), None),
    ("ELU", dict(alpha=0.5), (3, 4), None),
    ("SpatialDropout1D", dict(rate=0.5), (2, 3, 4), False),
    ("SpatialDropout2D", dict(rate=0.5), (2, 3, 3, 4), False),
    ("SpatialDropout3D", dict(rate=0.5, data_format="channels_first"), (1, 2, 3, 3, 4), False),
    ("GaussianNoise", dict(stddev=0.3), (3, 4), False),
    ("GaussianDropout", dict(rate=0.3), (3, 4), False),
    ("AlphaDropout", dict(rate=0.3), (3, 4), False),
]


def _randomized_weights(layer, rng) -> list[np.ndarray]:
    """Weights unlike the initial ones (gamma 1, beta 0, alpha 0), variances positive."""
    out = []
    for weight in layer.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.path:
            out.append(rng.uniform(0.5, 2.0, size=shape).astype(np.float32))
        else:
            out.append(rng.normal(size=shape).astype(np.float32))
    return out


def _run(lib, layer, x, training):
    x = lib.constant(x)
    kwargs = {} if training is None else {"training": training}
    with lib.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, **kwargs)
        loss = lib.reduce_sum(y * lib.sin(y))
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    return [np.asarray(y), *(np.asarray(g) for g in grads),
            *(np.asarray(w) for w in layer.non_trainable_weights)]


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")
@pytest.mark.filterwarnings("ignore:LayerNormalization. `rms_scaling=True`:UserWarning")
@pytest.mark.parametrize("name, kwargs, shape, training", LAYERS,
                         ids=[f"{n}-{i}" for i, (n, *_rest) in enumerate(LAYERS)])
def test_layer_outputs_gradients_and_state_match_keras(name, kwargs, shape, training):
    rng = np.random.default_rng(len(shape) + len(kwargs))
    x = rng.normal(size=shape).astype(np.float32)
    theirs_layer = getattr(K.layers, name)(**kwargs)
    theirs_layer.build(shape)
    weights = _randomized_weights(theirs_layer, rng)
    if weights:
        theirs_layer.set_weights(weights)
    ours_layer = getattr(N.keras.layers, name)(**kwargs)
    if weights:
        ours_layer.build(shape)
        ours_layer.set_weights(weights)
    assert [w.path for w in ours_layer.weights] == [
        w.path.replace(theirs_layer.name, ours_layer.name) for w in theirs_layer.weights]
    theirs = _run(T, theirs_layer, x, training)
    ours = _run(N, ours_layer, x, training)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert a.dtype == b.dtype
        tolerance = 2e-3 if kwargs.get("dtype") == "float16" else 2e-5
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64),
                                   rtol=10 * tolerance, atol=tolerance)
    assert ours_layer.compute_output_shape((None, *shape[1:])) == tuple(
        theirs_layer.compute_output_shape((None, *shape[1:])))
    ours_config = ours_layer.get_config()
    theirs_config = theirs_layer.get_config()
    assert set(ours_config) == set(theirs_config)
    for key in ours_config:
        if key not in ("name", "dtype") and isinstance(
                theirs_config[key], (str, int, float, bool, tuple, list, type(None))):
            assert ours_config[key] == theirs_config[key], key


@pytest.mark.parametrize("name, kwargs", [
    ("GaussianNoise", dict(stddev=0.5)),
    ("GaussianDropout", dict(rate=0.4)),
    ("AlphaDropout", dict(rate=0.4)),
    ("SpatialDropout1D", dict(rate=0.4)),
])
def test_random_layers_training_statistics_match_keras(name, kwargs):
    # Inputs of mean 0 and variance 1 (what AlphaDropout preserves): the outputs' mean,
    # standard deviation and zero fraction agree with Keras's to sampling error.
    x = np.random.default_rng(1).normal(size=(400, 50, 10)).astype(np.float32)
    theirs = np.asarray(getattr(K.layers, name)(**kwargs, seed=3)(x, training=True))
    ours = getattr(N.keras.layers, name)(**kwargs, seed=3)(x, training=True).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    for statistic in (np.mean, np.std):
        np.testing.assert_allclose(statistic(ours), statistic(theirs), atol=0.02)
    np.testing.assert_allclose(np.mean(ours == 0), np.mean(theirs == 0), atol=0.02)


def test_batch_normalization_frozen_runs_in_inference_mode_like_keras():
    x = np.random.default_rng(2).normal(2.0, 3.0, size=(8, 3)).astype(np.float32)
    results = []
    for lib in (K, N.keras):
        layer = lib.layers.BatchNormalization()
        layer.build((None, 3))
        layer.trainable = False
        out = np.asarray(layer(x, training=True))
        results.append((out, [np.asarray(w) for w in layer.weights],
                        len(layer.trainable_weights), len(layer.non_trainable_weights)))
    (ours, our_weights, *our_counts), (theirs, their_weights, *their_counts) = \
        results[1], results[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    for a, b in zip(our_weights, their_weights):
        np.testing.assert_array_equal(a, b)
    assert our_counts == their_counts


def _stack(lib, kind):
    L = lib.layers
    if kind == "batch_norm":
        return [L.BatchNormalization()]
    if kind == "images":
        return [L.Reshape((2, 2, 1)), L.ZeroPadding2D(1), L.UpSampling2D(interpolation="bilinear"),
                L.Cropping2D(2), L.GroupNormalization(groups=1), L.Flatten(),
                L.LayerNormalization(), L.PReLU(alpha_initializer="ones"), L.ELU(0.5),
                L.LeakyReLU(0.2)]
    return [L.RepeatVector(2), L.Permute((2, 1)), L.BatchNormalization(axis=1),
            L.Flatten(), L.UnitNormalization()]


@pytest.mark.parametrize("kind", ["batch_norm", "images", "sequence"])
def test_fit_updates_weights_and_moving_statistics_like_keras(kind):
    # Two compiled SGD steps on the same data and weights: the same weights, moving
    # statistics included, afterwards.
    rng = np.random.default_rng(3)
    x = rng.normal(1.0, 2.0, size=(16, 4)).astype(np.float32)
    y = rng.normal(size=(16, 1)).astype(np.float32)
    after = []
    for lib in (K, N.keras):
        model = lib.Sequential([lib.Input((4,)), *_stack(lib, kind),
                                lib.layers.Dense(1, use_bias=False)])
        features = model.layers[-1].get_weights()[0].shape[0]
        kernel = np.random.default_rng(4).normal(size=(features, 1)).astype(np.float32)
        model.layers[-1].set_weights([kernel])
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
        after.append([np.asarray(w) for w in model.weights])
    assert len(after[0]) == len(after[1])
    for ours, theirs in zip(after[1], after[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("GroupNormalization", dict(groups=3), (2, 4)),
    ("GroupNormalization", dict(groups=4), (2, 6)),
    ("Cropping1D", dict(cropping=(2, 3)), (2, 5, 3)),
    ("Permute", dict(dims=(1, 3)), (2, 3, 4)),
])
def test_invalid_configurations_raise_like_keras(name, kwargs, shape):
    x = np.zeros(shape, np.float32)
    with pytest.raises(ValueError):
        getattr(K.layers, name)(**kwargs)(x)
    with pytest.raises(ValueError):
        getattr(N.keras.layers, name)(**kwargs)(x)


def test_lambda_config_is_refused_like_keras_safe_mode():
    theirs = K.layers.Lambda(lambda v: v * 2)
    ours = N.keras.layers.Lambda(lambda v: v * 2)
    assert set(ours.get_config()) == set(theirs.get_config())
    for lib, layer in ((K, theirs), (N.keras, ours)):
        with pytest.raises(ValueError, match="lambda"):
            lib.layers.Lambda.from_config(layer.get_config())


@pytest.mark.parametrize("name, kwargs", [
    ("LeakyReLU", {}), ("ELU", {}), ("ELU", dict(alpha=0.5)), ("PReLU", {}),
    ("UnitNormalization", {}), ("LayerNormalization", {}),
])
def test_special_values_match_keras(name, kwargs):
    x = np.array([[-np.inf, -0.0, 0.0, np.nan, np.inf, -3.0]], np.float32)
    theirs_layer = getattr(K.layers, name)(**kwargs)
    ours_layer = getattr(N.keras.layers, name)(**kwargs)
    theirs_layer.build(x.shape)
    ours_layer.build(x.shape)
    if name == "PReLU":
        alpha = np.full((6,), 0.25, np.float32)
        theirs_layer.set_weights([alpha])
        ours_layer.set_weights([alpha])
    theirs = np.asarray(theirs_layer(x))
    ours = ours_layer(x).numpy()
    np.testing.assert_array_equal(ours, theirs)
    # tf.nn.elu(-0.0) and tf.nn.relu(-0.0) are -0.0; neuroflow's nn.elu and nn.relu give
    # +0.0 there (reported to the owner of ops/nn_ops.py), so ELU and PReLU differ in sign.
    if name not in ("ELU", "PReLU"):
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def test_batch_normalization_with_a_mask_matches_keras():
    rng = np.random.default_rng(6)
    x = rng.normal(1.0, 2.0, size=(3, 5, 4)).astype(np.float32)
    mask = rng.random((3, 5)) > 0.4
    results = []
    for lib, module in ((T, K), (N, N.keras)):
        layer = module.layers.BatchNormalization(momentum=0.5)
        layer.build(x.shape)
        inputs = lib.constant(x)
        with lib.GradientTape() as tape:
            tape.watch(inputs)
            out = layer(inputs, training=True, mask=lib.constant(mask))
            loss = lib.reduce_sum(out * lib.sin(out))
        grads = tape.gradient(loss, [inputs, *layer.trainable_weights])
        results.append([np.asarray(out), *(np.asarray(g) for g in grads),
                        *(np.asarray(w) for w in layer.non_trainable_weights)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name, kwargs, shape, training", [
    ("BatchNormalization", {}, (0, 3), True),
    ("BatchNormalization", {}, (0, 3), False),
    ("LayerNormalization", {}, (0, 3), None),
    ("GroupNormalization", dict(groups=3), (0, 2, 3), None),
    ("UnitNormalization", {}, (2, 0), None),
    ("ZeroPadding1D", {}, (0, 2, 3), None),
    ("Cropping2D", dict(cropping=1), (0, 3, 3, 1), None),
    ("UpSampling2D", dict(interpolation="bilinear"), (0, 2, 2, 1), None),
    ("RepeatVector", dict(n=2), (0, 3), None),
    ("PReLU", {}, (0, 3), None),
    ("GaussianNoise", dict(stddev=0.5), (0, 3), True),
])
def test_empty_batches_match_keras(name, kwargs, shape, training):
    x = np.zeros(shape, np.float32)
    outputs = []
    for module in (K, N.keras):
        layer = getattr(module.layers, name)(**kwargs)
        call = {} if training is None else {"training": training}
        out = np.asarray(layer(x, **call))
        outputs.append([out, *(np.asarray(w) for w in layer.weights)])
    for theirs, ours in zip(*outputs):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)  # NaN where Keras has NaN
