"""``.keras`` and ``.weights.h5`` files between Keras 3 and neuroflow, both ways.

A file Keras writes loads in neuroflow and predicts the same, and the reverse; both write
the same HDF5 layout; optimizer state travels, so training continued on the other side
matches training continued where the file was written; and files holding Python code
written by Keras itself are refused.
"""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
T = pytest.importorskip("tensorflow")
K = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

import neuroflow as N  # noqa: E402
from neuroflow.keras.saving.saveables import optimizer_variables  # noqa: E402

pytestmark = pytest.mark.tensorflow
NK = N.keras
RNG = np.random.default_rng(5)


def sequential_cnn(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((10, 10, 3)), L.Rescaling(0.5, offset=-0.1),
        L.Conv2D(4, 3, padding="same", activation="relu"), L.BatchNormalization(),
        L.MaxPooling2D(), L.DepthwiseConv2D(3, padding="same"), L.SeparableConv2D(5, 3),
        L.Conv2DTranspose(3, 2, strides=2), L.AveragePooling2D(2), L.ZeroPadding2D(1),
        L.UpSampling2D(), L.Cropping2D(2), L.Dropout(0.2), L.Flatten(), L.Dense(12),
        L.LayerNormalization(), L.Reshape((3, 4)), L.Conv1D(2, 2), L.GlobalMaxPooling1D(),
        L.PReLU(), L.Dense(2, activation="softmax")])


def functional_merges(keras):
    L = keras.layers
    a_in = keras.Input((6,), name="a_in")
    b_in = keras.Input((4, 3), name="b_in")
    a = L.Dense(6, activation="tanh", name="a")(a_in)
    b = L.Dense(6, name="b")(L.Flatten(name="flat")(L.Conv1D(2, 1, name="conv")(b_in)))
    merged = [L.Add(name="add")([a, b]), L.Subtract(name="sub")([a, b]),
              L.Multiply(name="mul")([a, b]), L.Average(name="avg")([a, b]),
              L.Maximum(name="max")([a, b]), L.Minimum(name="min")([a, b]),
              L.Dot(axes=1, name="dot")([a, b])]
    joined = L.Concatenate(name="cat")(merged)
    out = L.Dense(3, name="out")(L.LeakyReLU(name="leaky")(joined))
    return keras.Model([a_in, b_in], out, name="merges")


def normalized(keras):
    L = keras.layers
    adapted = L.Normalization(name="adapted")
    adapted.adapt(RNG.normal(3.0, 2.0, size=(20, 5)).astype(np.float32))
    return keras.Sequential([keras.Input((5,)), adapted,
                             L.Normalization(mean=[1.0] * 5, variance=[4.0] * 5, name="fixed"),
                             L.Dense(3, activation="elu"), L.GaussianNoise(0.1),
                             L.Dense(2)])


def subclassed(keras):
    L = keras.layers

    @keras.saving.register_keras_serializable(package="oracle")
    class Tower(keras.Model):
        def __init__(self, units=5, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.embed = L.Dense(units, activation="relu")
            self.stack = [L.Dense(units), L.BatchNormalization()]
            self._out = L.Dense(2)

        def call(self, inputs, training=False):
            h = self.embed(inputs)
            for layer in self.stack:
                h = layer(h, training=training) if isinstance(layer, L.BatchNormalization) \
                    else layer(h)
            return self._out(h)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return Tower()


MODELS = {"sequential cnn": (sequential_cnn, (4, 10, 10, 3)),
          "functional merges": (functional_merges, [(4, 6), (4, 4, 3)]),
          "normalization": (normalized, (4, 5)),
          "subclassed": (subclassed, (4, 7))}


def data(shape):
    if isinstance(shape, list):
        return [RNG.normal(size=s).astype(np.float32) for s in shape]
    return RNG.normal(size=shape).astype(np.float32)


def labels(model, x):
    return RNG.normal(size=np.shape(np.asarray(model(x)))).astype(np.float32)


def compile_and_fit(model, optimizer, x, y, epochs=1):
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=2, epochs=epochs, shuffle=False, verbose=0)
    return model


def predictions(model, x):
    return np.asarray(model.predict(x, verbose=0))


def tree(data_or_path) -> dict:
    out = {}
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
    with h5py.File(source, "r") as handle:
        handle.visititems(lambda name, obj: out.__setitem__(
            name, (tuple(obj.shape), obj.dtype.str) if isinstance(obj, h5py.Dataset)
            else "group"))
    return out


def weights_member(path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("model.weights.h5")


@pytest.mark.parametrize("name", list(MODELS))
def test_keras_files_load_in_neuroflow_and_neuroflow_files_in_keras(tmp_path, name):
    define, shape = MODELS[name]
    x = data(shape)
    theirs = define(K)
    compile_and_fit(theirs, "adam", x, labels(theirs, x))
    keras_path = tmp_path / "keras.keras"
    theirs.save(keras_path)
    define(NK)  # registers neuroflow's class of the subclassed model
    ours = NK.models.load_model(keras_path)
    np.testing.assert_allclose(predictions(ours, x), predictions(theirs, x), rtol=1e-5,
                               atol=1e-5)
    ours_path = tmp_path / "ours.keras"
    ours.save(ours_path)
    assert tree(weights_member(ours_path)) == tree(weights_member(keras_path))
    back = K.models.load_model(ours_path)
    np.testing.assert_allclose(predictions(back, x), predictions(ours, x), rtol=1e-5,
                               atol=1e-5)
    for a, b in zip(back.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("name", ["sequential cnn", "functional merges"])
def test_a_model_defined_in_both_writes_the_same_layout(tmp_path, name):
    define, shape = MODELS[name]
    x = data(shape)
    theirs, ours = define(K), define(NK)
    ours.set_weights(theirs.get_weights())
    y = labels(theirs, x)
    for model in (theirs, ours):
        compile_and_fit(model, "rmsprop", x, y)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.save_weights(tmp_path / "ours.weights.h5")
    assert tree(str(tmp_path / "ours.weights.h5")) == tree(str(tmp_path / "theirs.weights.h5"))
    fresh = define(K)
    fresh.compile(optimizer="rmsprop", loss="mse")
    fresh.optimizer.build(fresh.trainable_variables)
    fresh.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(predictions(fresh, x), predictions(ours, x), rtol=1e-5,
                               atol=1e-5)
    ours_state = optimizer_variables(ours.optimizer, ours)
    assert len(ours_state) == len(fresh.optimizer.variables)
    for a, b in zip(fresh.optimizer.variables, ours_state):
        np.testing.assert_array_equal(np.asarray(a), b.numpy())


OPTIMIZERS = {
    "adam": lambda o: o.Adam(0.01), "amsgrad": lambda o: o.Adam(0.01, amsgrad=True),
    "sgd": lambda o: o.SGD(0.05, momentum=0.9, nesterov=True),
    "rmsprop": lambda o: o.RMSprop(0.01, momentum=0.5, centered=True),
    "nadam": lambda o: o.Nadam(0.01), "adamax": lambda o: o.Adamax(0.01),
    "adadelta": lambda o: o.Adadelta(1.0), "adagrad": lambda o: o.Adagrad(0.05),
    "ftrl": lambda o: o.Ftrl(0.05), "lion": lambda o: o.Lion(0.001),
    "adamw": lambda o: o.AdamW(0.01),
    "schedule": lambda o: o.SGD(o.schedules.ExponentialDecay(0.1, 4, 0.5)),
}


def _mlp(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((6,)), L.Dense(8, activation="tanh"),
                             L.BatchNormalization(), L.Dense(3)])


@pytest.mark.parametrize("direction", ["keras to neuroflow", "neuroflow to keras"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_travels_and_training_continues_alike(tmp_path, name, direction):
    x, y = data((12, 6)), data((12, 3))
    source_lib, target_lib = (K, NK) if direction == "keras to neuroflow" else (NK, K)
    source = _mlp(source_lib)
    if source_lib is NK:
        source.set_weights(_mlp(K).get_weights())
    source.compile(optimizer=OPTIMIZERS[name](source_lib.optimizers), loss="mse")
    source.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "m.keras"
    source.save(path)
    loaded = target_lib.models.load_model(path)
    ours = loaded if target_lib is NK else source
    theirs = source if target_lib is NK else loaded
    ours_state = optimizer_variables(ours.optimizer, ours)
    assert len(ours_state) == len(theirs.optimizer.variables)
    for a, b in zip(ours_state, theirs.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b), rtol=1e-6)
    for model in (source, loaded):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(loaded.get_weights(), source.get_weights()):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def test_recurrent_and_wrapper_layers_travel_both_ways(tmp_path):
    if not hasattr(NK.layers, "Bidirectional"):
        pytest.skip("neuroflow has no recurrent layers in this checkout")

    def define(keras):
        L = keras.layers
        return keras.Sequential([
            keras.Input((5,), dtype="int32"), L.Embedding(10, 4),
            L.Bidirectional(L.LSTM(3, return_sequences=True)), L.TimeDistributed(L.Dense(2)),
            L.GRU(3), L.Dense(1)])

    x = RNG.integers(0, 10, size=(4, 5)).astype(np.int32)
    theirs = compile_and_fit(define(K), "adam", x, RNG.normal(size=(4, 1)))
    theirs.save(tmp_path / "keras.keras")
    ours = NK.models.load_model(tmp_path / "keras.keras")
    np.testing.assert_allclose(predictions(ours, x), predictions(theirs, x), rtol=1e-5,
                               atol=1e-6)
    ours.save(tmp_path / "ours.keras")
    assert tree(weights_member(tmp_path / "ours.keras")) == \
        tree(weights_member(tmp_path / "keras.keras"))
    back = K.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(predictions(back, x), predictions(ours, x), rtol=1e-5,
                               atol=1e-6)


def test_json_configs_travel_both_ways():
    x = data((3, 6))
    theirs = _mlp(K)
    theirs.compile(optimizer="adam", loss="mse")
    ours = NK.models.model_from_json(theirs.to_json())
    assert type(ours.optimizer).__name__ == "Adam"
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(predictions(ours, x), predictions(theirs, x), rtol=1e-5,
                               atol=1e-6)
    again = K.models.model_from_json(ours.to_json())
    again.set_weights(ours.get_weights())
    np.testing.assert_allclose(predictions(again, x), predictions(ours, x), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("safe_mode", [True, False])
def test_a_keras_lambda_file_is_refused_and_its_code_never_runs(tmp_path, safe_mode):
    marker = tmp_path / "ran"
    model = K.Sequential([K.Input((2,)), K.layers.Lambda(
        lambda v, marker=str(marker): (open(marker, "w").close(), v)[1]), K.layers.Dense(1)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink(missing_ok=True)  # Keras traced the lambda while building
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert config["config"]["layers"][1]["config"]["function"]["class_name"] == "__lambda__"
    pattern = "Lambda" if safe_mode else "never unmarshals Python bytecode"
    with pytest.raises(ValueError, match=pattern):
        NK.models.load_model(path, safe_mode=safe_mode)
    assert not marker.exists()
