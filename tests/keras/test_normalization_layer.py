"""``keras.layers.Normalization``: statistics given or learned by ``adapt``, checked against
NumPy, and (tests marked ``tensorflow``) against Keras 3 itself: outputs, weights and
configs for several axes, dtypes, data sources and ``invert``."""

from __future__ import annotations

import os

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import layers

RNG = np.random.default_rng(11)
EPSILON = 1e-7  # keras.backend.epsilon(), the floor of the standard deviation


def _data(shape, loc=3.0, scale=2.0, dtype="float32") -> np.ndarray:
    return RNG.normal(loc, scale, size=shape).astype(dtype)


def _reference(x: np.ndarray, data: np.ndarray, keep: tuple[int, ...]) -> np.ndarray:
    """``(x - mean) / max(std, eps)`` with NumPy statistics over every axis not in ``keep``."""
    reduce = tuple(d for d in range(data.ndim) if d not in keep)
    mean = data.astype(np.float64).mean(axis=reduce, keepdims=True)
    std = np.maximum(np.sqrt(data.astype(np.float64).var(axis=reduce, keepdims=True)), EPSILON)
    return (x - mean) / std


# --- adapt and call, against NumPy ---------------------------------------------------------


@pytest.mark.parametrize("axis, shape, keep", [
    (-1, (50, 4), (1,)),
    (None, (50, 4), ()),
    (1, (20, 3, 5), (1,)),
    ((1, 2), (20, 3, 5), (1, 2)),
    ((-1, -2), (20, 3, 5), (1, 2)),
    (-1, (20, 3, 5), (2,)),
    (None, (30,), ()),
])
def test_adapt_learns_numpy_statistics_over_the_other_axes(axis, shape, keep):
    data = _data(shape)
    layer = layers.Normalization(axis=axis)
    layer.adapt(data)
    reduce = tuple(d for d in range(len(shape)) if d not in keep)
    mean, variance, count = layer.get_weights()
    np.testing.assert_allclose(mean, data.mean(axis=reduce, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(variance, data.var(axis=reduce, dtype=np.float64), rtol=1e-6)
    assert mean.dtype == variance.dtype == np.float32 and count == 0
    x = _data(shape)
    out = layer(x)
    assert out.dtype == tf.float32 and tuple(out.shape) == shape
    np.testing.assert_allclose(out.numpy(), _reference(x, data, keep), rtol=1e-5, atol=1e-5)


def test_weights_are_non_trainable_mean_variance_and_count():
    layer = layers.Normalization()
    layer.build((None, 3))
    assert [(w.path, w.dtype.name, tuple(w.shape), w.trainable) for w in layer.weights] == [
        (f"{layer.name}/mean", "float32", (3,), False),
        (f"{layer.name}/variance", "float32", (3,), False),
        (f"{layer.name}/count", "int64", (), False)]
    assert layer.trainable_weights == [] and layer.count_params() == 7


def test_batches_combine_exactly_whatever_the_split():
    data = _data((103, 3), loc=1e3, scale=0.5, dtype="float64")
    whole = layers.Normalization(dtype="float64")
    whole.adapt(data)
    expected = [data.mean(axis=0), data.var(axis=0)]
    np.testing.assert_allclose(whole.get_weights()[:2], expected, rtol=1e-12)
    sources = [
        tf.data.Dataset.from_tensor_slices(data).batch(10),  # last batch of 3
        tf.data.Dataset.from_tensor_slices((data, np.ones(103))).batch(7),  # (x, y)
        [data[:1], data[1:50], data[50:]],
        (data[i:i + 25] for i in range(0, 103, 25)),
        [tf.constant(data[:60]), (data[60:], None)],
    ]
    for source in sources:
        layer = layers.Normalization(dtype="float64")
        layer.adapt(source)
        np.testing.assert_allclose(layer.get_weights()[:2], expected, rtol=1e-12)
    for kwargs in (dict(batch_size=16), dict(steps=4), dict(batch_size=103, steps=1)):
        layer = layers.Normalization(dtype="float64")
        layer.adapt(data, **kwargs)
        np.testing.assert_allclose(layer.get_weights()[:2], expected, rtol=1e-12)


def test_steps_caps_the_batches_read():
    data = _data((40, 2))
    capped = layers.Normalization()
    capped.adapt(tf.data.Dataset.from_tensor_slices(data).batch(10).repeat(), steps=2)
    np.testing.assert_allclose(capped.get_weights()[0], data[:20].mean(axis=0), rtol=1e-5)
    sliced = layers.Normalization()
    sliced.adapt(data, batch_size=10, steps=3)
    np.testing.assert_allclose(sliced.get_weights()[1], data[:30].var(axis=0), rtol=1e-5)
    listed = layers.Normalization()
    listed.adapt([data[:10], data[10:25], data[25:]], steps=2)
    np.testing.assert_allclose(listed.get_weights()[0], data[:25].mean(axis=0), rtol=1e-5)


def test_rank_one_dataset_elements_are_single_samples():
    data = _data((300, 4))
    layer = layers.Normalization()
    layer.adapt(tf.data.Dataset.from_tensor_slices(data))  # unbatched: batched by 128
    np.testing.assert_allclose(layer.get_weights()[0], data.mean(axis=0), rtol=1e-5)
    scalars = layers.Normalization(axis=None)
    scalars.adapt(tf.data.Dataset.from_tensor_slices(data[:, 0]).batch(7))
    np.testing.assert_allclose(scalars.get_weights()[1], data[:, 0].var(), rtol=1e-5)


def test_adapt_again_replaces_the_statistics_and_integer_data_works():
    layer = layers.Normalization()
    layer.adapt(_data((10, 2)))
    ints = RNG.integers(0, 255, size=(30, 2)).astype(np.uint8)
    layer.adapt(ints)
    np.testing.assert_allclose(layer.get_weights()[0], ints.mean(axis=0), rtol=1e-6)
    for given in (ints, tf.constant(ints)):
        out = layer(given)
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), _reference(ints, ints, (1,)), rtol=1e-5,
                                   atol=1e-5)


def test_invert_maps_normalized_values_back():
    data = _data((40, 3), loc=-5.0, scale=4.0)
    forward, inverse = layers.Normalization(), layers.Normalization(invert=True)
    forward.adapt(data)
    inverse.adapt(data)
    x = _data((6, 3))
    std = np.sqrt(data.astype(np.float64).var(axis=0))
    np.testing.assert_allclose(inverse(x).numpy(), x * std + data.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(inverse(forward(x)).numpy(), x, rtol=1e-5, atol=1e-5)


def test_zero_variance_divides_by_epsilon():
    out = layers.Normalization(mean=1.0, variance=0.0)(np.array([[1.5]], dtype="float32"))
    np.testing.assert_allclose(out.numpy(), [[0.5 / EPSILON]], rtol=1e-6)
    back = layers.Normalization(mean=1.0, variance=0.0, invert=True)(np.ones((1, 1)))
    np.testing.assert_allclose(back.numpy(), [[1.0 + EPSILON]], rtol=1e-6)


# --- given statistics ----------------------------------------------------------------------


def test_given_mean_and_variance_broadcast_over_the_kept_axes():
    x = _data((2, 3, 4))
    scalar = layers.Normalization(mean=3.0, variance=4.0)
    np.testing.assert_allclose(scalar(x).numpy(), (x - 3.0) / 2.0, rtol=1e-6)
    assert scalar.weights == [] and scalar.built and scalar.is_adapted
    mean, variance = RNG.normal(size=4), RNG.uniform(1, 2, size=4)
    per_feature = layers.Normalization(mean=mean, variance=variance)
    np.testing.assert_allclose(per_feature(x).numpy(), (x - mean) / np.sqrt(variance),
                               rtol=1e-5)
    # Fewer dimensions than kept axes: aligned with the last kept axes.
    both = layers.Normalization(axis=(1, 2), mean=list(mean), variance=list(variance))
    np.testing.assert_allclose(both(x).numpy(), (x - mean) / np.sqrt(variance), rtol=1e-5)
    assert tuple(both.mean.shape) == tuple(both.variance.shape) == (1, 3, 4)
    assert both.mean.dtype == tf.float32
    np.testing.assert_allclose(both.variance.numpy()[0, 2], variance, rtol=1e-6)
    grid = RNG.normal(size=(3, 1))
    rows = layers.Normalization(axis=(1, 2), mean=grid, variance=np.ones((3, 1)))
    np.testing.assert_allclose(rows(x).numpy(), x - grid, rtol=1e-5, atol=1e-6)


def test_given_statistics_follow_the_layer_dtype():
    x = np.array([[1.0], [5.0]])
    out = layers.Normalization(mean=3.0, variance=4.0, dtype="float64")(x.astype("float32"))
    assert out.dtype == tf.float64
    half = layers.Normalization(mean=3.0, variance=4.0, dtype="float16")(x)
    assert half.dtype == tf.float16
    np.testing.assert_array_equal(half.numpy(), np.array([[-1.0], [1.0]], dtype=np.float16))
    assert layers.Normalization(mean=3.0, variance=4.0)(x.astype(bool)).dtype == tf.float32


# --- state, weights, config ----------------------------------------------------------------


def test_unadapted_layer_is_the_identity_with_zero_mean_and_unit_variance():
    layer = layers.Normalization()
    assert not layer.is_adapted and layer.mean is None
    x = _data((3, 2))
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer.get_weights()[1], np.ones(2, np.float32))
    assert not layer.is_adapted
    layer.adapt(x)
    assert layer.is_adapted


def test_set_weights_and_readapting_take_effect_in_eager_and_traced_calls():
    layer = layers.Normalization()
    x = _data((4, 2))
    layer.adapt(x)
    traced = tf.function(lambda t: layer(t))
    np.testing.assert_allclose(traced(tf.constant(x)).numpy(), layer(x).numpy())
    layer.set_weights([np.array([1.0, 2.0]), np.array([4.0, 16.0]), np.array(0)])
    expected = (x - [1.0, 2.0]) / [2.0, 4.0]
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(traced(tf.constant(x)).numpy(), expected, rtol=1e-6)
    layer.adapt(x * 3)
    np.testing.assert_allclose(traced(tf.constant(x * 3)).numpy(),
                               _reference(x * 3, x * 3, (1,)), rtol=1e-5, atol=1e-5)


def test_config_round_trip_and_serialization():
    layer = layers.Normalization(axis=[1, 2], mean=np.array([1.0, 2.0]),
                                 variance=np.array([3.0, 4.0]), invert=True, name="norm")
    config = layer.get_config()
    assert config == {"name": "norm", "trainable": True, "dtype": "float32", "axis": (1, 2),
                      "invert": True, "mean": [1.0, 2.0], "variance": [3.0, 4.0]}
    again = layers.Normalization.from_config({**config, "axis": [1, 2]})
    assert again.get_config() == config
    adapted = layers.Normalization(axis=None)
    adapted.adapt(_data((5,)))
    config = adapted.get_config()
    assert (config["axis"], config["mean"], config["variance"]) == ((), None, None)
    copy = layers.deserialize(layers.serialize(adapted))
    assert type(copy) is layers.Normalization and copy.get_config() == config
    assert layers.Normalization().compute_output_shape((None, 5, 2)) == (None, 5, 2)


def test_functional_and_sequential_models_train_in_graph_mode():
    x = _data((64, 4), loc=10.0, scale=5.0)
    y = x.sum(axis=1, keepdims=True) / 10
    norm = layers.Normalization()
    norm.adapt(x)
    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, layers.Dense(1)(norm(inputs)))
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_allclose(norm.get_weights()[0], x.mean(axis=0), rtol=1e-5)
    rebuilt = tf.keras.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x[:4], verbose=0),
                               model.predict(x[:4], verbose=0), rtol=1e-6)
    sequential = tf.keras.Sequential([tf.keras.Input((4,)), layers.Normalization(axis=None),
                                      layers.Dense(1)])
    sequential.layers[0].adapt(x)
    sequential.compile("sgd", "mse")
    sequential.fit(x, y, epochs=1, verbose=0)
    assert sequential.layers[0].get_weights()[0] == pytest.approx(x.mean(), rel=1e-5)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(mean=1.0), ValueError, "both `mean` and `variance` must be set"),
    (dict(mean=[1.0, 2.0], variance=[1.0]), ValueError, "must have the same shape"),
    (dict(mean=np.ones((2, 2)), variance=np.ones((2, 2))), ValueError,
     "rank of `mean` must be less than or equal"),
    (dict(axis="a"), TypeError, "`axis` must be an int, a tuple of ints or None"),
    (dict(axis=1.5), TypeError, "Received: axis=1.5"),
    (dict(axis=(1, True)), TypeError, "`axis` must be an int"),
])
def test_bad_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.Normalization(**kwargs)


def test_build_errors_name_the_axis_and_shape():
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\).*ndim=2, while axis=\(2,\)"):
        layers.Normalization(axis=2).build((None, 3))
    with pytest.raises(ValueError, match="must have a known shape.*unknown axis at index 1"):
        layers.Normalization(axis=1)(tf.keras.Input((None, 4)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \(3,\) cannot be broadcast"):
        layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 1.0, 1.0])(_data((2, 4)))


def test_inputs_that_do_not_broadcast_against_the_statistics_raise():
    layer = layers.Normalization()
    layer.adapt(_data((5, 4)))
    assert tuple(layer(_data((4,))).shape) == (1, 4)  # a sample without its batch axis
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"statistics of shape \(1, 4\)"):
        layer(_data((5, 3)))


def test_adapt_errors():
    with pytest.raises(ValueError, match="was given `mean` and `variance`"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(_data((3, 1)))
    layer = layers.Normalization()
    layer.adapt(_data((5, 3)))
    with pytest.raises(ValueError, match=r"incompatible shape, data.shape=\(5, 4\)"):
        layer.adapt(_data((5, 4)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt([_data((5, 3)), _data((5, 2))])
    with pytest.raises(ValueError, match="received no samples"):
        layers.Normalization().adapt(np.zeros((0, 3), "float32"))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt(tf.data.Dataset.from_tensor_slices(_data((0, 3))).batch(2))
    with pytest.raises(ValueError, match="infinitely repeating dataset; pass `steps`"):
        layers.Normalization().adapt(tf.data.Dataset.from_tensor_slices(_data((4, 3)))
                                     .batch(2).repeat())
    with pytest.raises(TypeError, match="Unsupported data type: <class 'int'>"):
        layers.Normalization().adapt(5)
    with pytest.raises(TypeError, match="Got an element of type float"):
        layers.Normalization().adapt([1.0, 2.0])
    with pytest.raises(ValueError, match="`batch_size` applies to arrays and tensors only"):
        layers.Normalization().adapt([_data((3, 2))], batch_size=2)
    for batch_size in (0, 1.5, True):
        with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
            layers.Normalization().adapt(_data((3, 2)), batch_size=batch_size)
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        layers.Normalization().adapt(_data((3, 2)), steps=0)


# --- Keras 3 as the oracle -----------------------------------------------------------------


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


ORACLE_CASES = [
    # (layer kwargs, data shape, data dtype, how the data reaches adapt)
    (dict(), (40, 3), "float32", "array"),
    (dict(axis=None), (40, 3), "float32", "array"),
    (dict(axis=1), (12, 3, 4), "float32", "tensor"),
    (dict(axis=(1, 2)), (12, 3, 4), "float32", "array"),
    (dict(axis=(-1, -3)), (6, 2, 3, 4), "float64", "array"),
    (dict(), (50, 4), "float32", "dataset"),
    (dict(axis=None), (50, 2, 2), "float32", "dataset"),
    (dict(), (50, 4), "float32", "unbatched_dataset"),
    (dict(), (30, 4), "float32", "xy_dataset"),
    (dict(), (30, 4), "float32", "list"),
    (dict(invert=True), (40, 3), "float32", "array"),
    (dict(axis=(1, 2), invert=True), (20, 3, 2), "float32", "dataset"),
    (dict(dtype="float64"), (40, 3), "float64", "array"),
    # (Keras 3 cannot adapt a float64 layer to batches: its running sums start as float32.)
    (dict(dtype="float64", axis=None), (40, 3), "float32", "tensor"),
    (dict(dtype="float16"), (40, 3), "float32", "array"),
    (dict(), (40, 3), "int32", "array"),
]


def _source(lib, data, how):
    if how == "array":
        return data
    if how == "tensor":
        return lib.constant(data)
    if how == "list":
        return [data[:7], data[7:]]
    slices = (data, np.arange(len(data))) if how == "xy_dataset" else data
    dataset = lib.data.Dataset.from_tensor_slices(slices)
    return dataset if how == "unbatched_dataset" else dataset.batch(16)


@pytest.mark.tensorflow
@pytest.mark.parametrize("kwargs, shape, dtype, how", ORACLE_CASES,
                         ids=[f"{i}-{case[-1]}" for i, case in enumerate(ORACLE_CASES)])
def test_adapted_layer_matches_keras(kwargs, shape, dtype, how):
    keras = _keras()
    import tensorflow

    rng = np.random.default_rng(len(shape) * 7 + len(kwargs))
    data = (rng.normal(2.0, 3.0, size=shape) if dtype != "int32"
            else rng.integers(-50, 50, size=shape)).astype(dtype)
    x = rng.normal(2.0, 3.0, size=(5, *shape[1:])).astype(dtype)
    theirs = keras.layers.Normalization(**kwargs)
    theirs.adapt(_source(tensorflow, data, how))
    ours = layers.Normalization(**kwargs)
    ours.adapt(_source(tf, data, how))
    tolerance = 2e-3 if kwargs.get("dtype") == "float16" else 1e-5
    assert [w.path.replace(ours.name, "N") for w in ours.weights] == [
        w.path.replace(theirs.name, "N") for w in theirs.weights]
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=tolerance, atol=tolerance)
    out_ours, out_theirs = ours(x).numpy(), np.asarray(theirs(x))
    assert out_ours.dtype == out_theirs.dtype and out_ours.shape == out_theirs.shape
    np.testing.assert_allclose(out_ours.astype(np.float64), out_theirs.astype(np.float64),
                               rtol=10 * tolerance, atol=tolerance)
    _assert_same_config(ours, theirs)
    assert ours.compute_output_shape((None, *shape[1:])) == tuple(
        theirs.compute_output_shape((None, *shape[1:])))


@pytest.mark.tensorflow
@pytest.mark.parametrize("kwargs, shape", [
    (dict(mean=3.0, variance=2.0), (4, 1)),
    (dict(mean=[1.0, -2.0, 0.5], variance=[1.0, 4.0, 0.25]), (4, 3)),
    (dict(axis=(1, 2), mean=[1.0, 2.0], variance=[3.0, 4.0]), (2, 3, 2)),
    (dict(axis=(1, 2), mean=[[1.0], [2.0], [3.0]], variance=[[1.0], [2.0], [3.0]]), (2, 3, 2)),
    (dict(axis=None, mean=1.0, variance=0.0, invert=True), (2, 3)),
    (dict(mean=3.0, variance=4.0, dtype="float64"), (3, 2)),
    (dict(mean=3.0, variance=4.0, dtype="float16"), (3, 2)),
])
def test_given_statistics_match_keras(kwargs, shape):
    keras = _keras()
    x = np.random.default_rng(5).normal(size=shape).astype("float32")
    theirs, ours = keras.layers.Normalization(**kwargs), layers.Normalization(**kwargs)
    out_ours, out_theirs = ours(x).numpy(), np.asarray(theirs(x))
    assert out_ours.dtype == out_theirs.dtype and out_ours.shape == out_theirs.shape
    np.testing.assert_allclose(out_ours, out_theirs, rtol=1e-3, atol=1e-6)
    assert ours.weights == [] and theirs.weights == []
    _assert_same_config(ours, theirs)


@pytest.mark.tensorflow
def test_unadapted_layer_and_errors_match_keras():
    keras = _keras()
    x = np.arange(6, dtype="float32").reshape(3, 2)
    theirs, ours = keras.layers.Normalization(), layers.Normalization()
    np.testing.assert_array_equal(ours(x).numpy(), np.asarray(theirs(x)))
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    for kwargs in (dict(mean=1.0), dict(mean=[1.0, 2.0], variance=[1.0]),
                   dict(mean=np.ones((2, 2)), variance=np.ones((2, 2)))):
        with pytest.raises(ValueError) as theirs_error:
            keras.layers.Normalization(**kwargs)
        with pytest.raises(ValueError) as ours_error:
            layers.Normalization(**kwargs)
        assert str(ours_error.value) == str(theirs_error.value)
    with pytest.raises(ValueError) as theirs_error:
        keras.layers.Normalization(axis=2).build((None, 3))
    with pytest.raises(ValueError) as ours_error:
        layers.Normalization(axis=2).build((None, 3))
    assert str(ours_error.value) == str(theirs_error.value)


def _assert_same_config(ours, theirs) -> None:
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) == set(theirs_config)
    for key in set(ours_config) - {"name", "dtype"}:
        assert ours_config[key] == theirs_config[key], key
    dtype = theirs_config["dtype"]
    assert ours_config["dtype"] == (dtype["config"]["name"] if isinstance(dtype, dict) else dtype)
