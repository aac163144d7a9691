"""The functional API: keras.Input, layers called on Keras tensors, keras.Model(inputs, outputs).

A functional model must compute exactly what its layers compute when called by hand, train
like a Sequential model, and survive get_config/from_config with the same predictions.
Keras itself is the oracle in tests/oracle/test_tf_keras_functional.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)


def data(*shape):
    return R.normal(size=shape).astype(np.float32)


def two_branch_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    shared = layers.Dense(5, name="shared")
    x = shared(a)
    y = shared(layers.Dense(4, name="widen")(b))
    merged = layers.Concatenate(name="joined")([x, y])
    out = layers.Dense(2, activation="softmax", name="out")(merged)
    aux = layers.Dense(1, name="aux")(y)
    return keras.Model([a, b], [out, aux], name="two_branch"), shared


def test_input_is_a_keras_tensor_with_the_batch_dimension_first():
    x = keras.Input((28, 28, 1), name="pixels")
    assert x.shape == (None, 28, 28, 1) and x.dtype == "float32" and x.ndim == 4
    assert repr(x) == ("<KerasTensor shape=(None, 28, 28, 1), dtype=float32, sparse=False, "
                       "ragged=False, name=pixels>")
    y = layers.Conv2D(8, 3)(x)
    assert y.shape == (None, 26, 26, 8)
    assert keras.Input(batch_shape=(4, 3), dtype="int32").shape == (4, 3)


def test_model_computes_what_its_layers_compute_by_hand():
    model, shared = two_branch_model()
    xa, xb = data(6, 4), data(6, 3)
    out, aux = model([xa, xb])
    by_hand_y = shared(model.get_layer("widen")(xb))
    merged = np.concatenate([shared(xa).numpy(), by_hand_y.numpy()], -1)
    np.testing.assert_allclose(out.numpy(), model.get_layer("out")(merged).numpy(), rtol=1e-6)
    np.testing.assert_allclose(aux.numpy(), model.get_layer("aux")(by_hand_y).numpy(),
                               rtol=1e-6)


def test_shared_layer_appears_once_and_its_weights_are_counted_once():
    model, shared = two_branch_model()
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "widen", "joined",
                                                      "out", "aux"] or \
        [layer.name for layer in model.layers].count("shared") == 1
    assert model.count_params() == (4 * 5 + 5) + (3 * 4 + 4) + (10 * 2 + 2) + (5 + 1)
    assert len(shared._inbound_nodes) == 2


def test_inputs_as_a_dict_by_input_name_and_in_a_dict_model():
    model, _ = two_branch_model()
    xa, xb = data(3, 4), data(3, 3)
    by_list = model([xa, xb])
    by_name = model({"a": xa, "b": xb})
    for p, q in zip(by_list, by_name):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    a, b = keras.Input((2,), name="left"), keras.Input((2,), name="right")
    dict_model = keras.Model({"l": a, "r": b}, {"sum": layers.Add()([a, b])})
    result = dict_model({"l": np.ones((1, 2)), "r": np.full((1, 2), 2.0)})
    np.testing.assert_array_equal(result["sum"].numpy(), [[3.0, 3.0]])


def test_models_nest_as_layers():
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    outer_in = keras.Input((3,))
    outer = keras.Model(outer_in, layers.Dense(1)(inner(outer_in)), name="outer")
    x = data(4, 3)
    np.testing.assert_allclose(outer(x).numpy(),
                               outer.layers[-1](inner(x)).numpy(), rtol=1e-6)
    assert len(outer.trainable_weights) == 4
    seq = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    wrapped = keras.Model(outer_in, seq(outer_in))
    np.testing.assert_allclose(wrapped(x).numpy(), seq(x).numpy(), rtol=1e-6)


def test_get_layer_by_name_or_index_and_its_errors():
    model, shared = two_branch_model()
    assert model.get_layer("shared") is shared
    assert model.get_layer(index=-1) is model.layers[-1]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 7 layers"):
        model.get_layer(index=7)
    with pytest.raises(ValueError, match="exactly one of"):
        model.get_layer()


def test_summary_has_kerass_connected_to_column():
    a = keras.Input((4,), name="a")
    x = layers.Dense(3, name="d1")(a)
    y = layers.Dense(3, name="d2")(a)
    model = keras.Model(a, layers.Add(name="sum")([x, y]), name="tiny")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    rows = [[cell.strip() for cell in line.strip("│").split("│")]
            for line in text.split("\n") if line.startswith("│")]
    assert rows == [["a (InputLayer)", "(None, 4)", "0", "-"],
                    ["d1 (Dense)", "(None, 3)", "15", "a[0][0]"],
                    ["d2 (Dense)", "(None, 3)", "15", "a[0][0]"],
                    ["sum (Add)", "(None, 3)", "0", "d1[0][0],"],
                    ["", "", "", "d2[0][0]"]]
    assert "┃ Layer (type)        ┃ Output Shape      ┃    Param # ┃ Connected to      ┃" in text


def test_config_round_trip_rebuilds_the_same_graph_and_predictions():
    model, _ = two_branch_model()
    config = model.get_config()
    json.dumps(config)  # plain data only
    again = keras.Model.from_config(config)
    assert [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    again.set_weights(model.get_weights())
    xs = [data(5, 4), data(5, 3)]
    for p, q in zip(model(xs), again(xs)):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert again.get_config() == config


def test_a_functional_convnet_trains_compiled_and_predicts_like_its_eager_call():
    keras.utils.set_random_seed(3)
    x = data(96, 8, 8, 1)
    y = (x[:, :4].sum(axis=(1, 2, 3)) > x[:, 4:].sum(axis=(1, 2, 3))).astype(np.int32)
    inputs = keras.Input((8, 8, 1))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = layers.MaxPooling2D()(h)
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3, activation="relu")(h))
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(h))
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=25, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]
    np.testing.assert_allclose(model.predict(x, verbose=0), model(x).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_merging_layers_compute_their_merge():
    a, b, c = data(2, 3), data(2, 3), data(2, 1)
    np.testing.assert_allclose(layers.Add()([a, b, c]).numpy(), a + b + c, rtol=1e-6)
    np.testing.assert_allclose(layers.subtract([a, b]).numpy(), a - b)
    np.testing.assert_allclose(layers.Multiply()([a, b]).numpy(), a * b)
    np.testing.assert_allclose(layers.average([a, b]).numpy(), (a + b) / 2, rtol=1e-6)
    np.testing.assert_allclose(layers.Maximum()([a, b]).numpy(), np.maximum(a, b))
    np.testing.assert_allclose(layers.minimum([a, b]).numpy(), np.minimum(a, b))
    np.testing.assert_allclose(layers.Concatenate(axis=0)([a, b]).numpy(),
                               np.concatenate([a, b]))
    np.testing.assert_allclose(layers.Dot(axes=1)([a, b]).numpy(),
                               (a * b).sum(1, keepdims=True), rtol=1e-6)
    unit = layers.Dot(axes=1, normalize=True)([a, a]).numpy()
    np.testing.assert_allclose(unit, np.ones((2, 1)), rtol=1e-6)
    x, y = data(2, 3, 4), data(2, 5, 4)
    np.testing.assert_allclose(layers.dot([x, y], axes=(2, 2)).numpy(),
                               np.einsum("bij,bkj->bik", x, y), rtol=1e-5)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Add()(data(2, 3)), ValueError, "list of inputs"),
    (lambda: layers.Add()([data(2, 3)]), ValueError, "at least 2 inputs"),
    (lambda: layers.Subtract()([data(2, 3)] * 3), ValueError, "exactly 2 inputs"),
    (lambda: layers.Concatenate()([data(2, 3), data(3, 3)]), ValueError, "matching shapes"),
    (lambda: layers.Dot(axes="x"), TypeError, "axes"),
    (lambda: layers.Dot(axes=0)([data(2, 3), data(2, 3)]), ValueError, "batch axis"),
])
def test_merging_layer_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- errors while defining and calling models ----------------------------------------------


def test_graph_disconnected_names_the_missing_input():
    a, b = keras.Input((2,), name="first"), keras.Input((2,), name="second")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="Graph disconnected.*second"):
        keras.Model(a, out)


def test_model_inputs_must_come_from_input():
    a = keras.Input((2,))
    hidden = layers.Dense(2)(a)
    with pytest.raises(ValueError, match="must come from keras.Input"):
        keras.Model(hidden, layers.Dense(1)(hidden))
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(a, np.ones(2))


def test_duplicate_layer_names_are_refused():
    a = keras.Input((2,))
    x = layers.Dense(2, name="same")(a)
    with pytest.raises(ValueError, match="'same' is used 2 times"):
        keras.Model(a, layers.Dense(2, name="same")(x))


def test_wrong_inputs_at_call_time_are_explained():
    model, _ = two_branch_model()
    with pytest.raises(ValueError, match="expects 2 inputs, but it received 1"):
        model([data(2, 4)])
    with pytest.raises(ValueError, match="incompatible: expected shape=\\(None, 4\\), found "
                                         "shape=\\(2, 5\\)"):
        model([data(2, 5), data(2, 3)])
    with pytest.raises(ValueError, match="no inputs named \\['c'\\]"):
        model({"a": data(2, 4), "b": data(2, 3), "c": data(2, 1)})


def test_keras_tensors_have_no_values():
    x = keras.Input((3,))
    with pytest.raises(TypeError, match="symbolic"):
        bool(x)
    with pytest.raises(TypeError, match="cannot be converted to a NumPy array"):
        np.asarray(x)

    @tf.function
    def build_inside():
        return layers.Dense(2)(x)

    with pytest.raises(RuntimeError, match="outside of traced code"):
        build_inside()


def test_a_layer_that_reads_values_cannot_be_called_on_keras_tensors():
    class ReadsValues(layers.Layer):
        def call(self, inputs):
            return inputs * float(inputs.numpy().mean())

    with pytest.raises(TypeError, match="reads the values of its inputs"):
        ReadsValues()(keras.Input((3,)))


def test_a_subclass_passing_inputs_to_model_init_is_refused():
    class Sub(keras.Model):
        def __init__(self):
            a = keras.Input((2,))
            super().__init__(a, layers.Dense(1)(a))

    with pytest.raises(NotImplementedError, match="not supported yet"):
        Sub()


def test_a_chain_prints_kerass_sequential_layout():
    inputs = keras.Input((6,), name="x")
    model = keras.Model(inputs, layers.Dense(2, name="top")(layers.Dense(4, name="mid")(inputs)))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" not in text
    rows = [[cell.strip() for cell in line.strip("│").split("│")]
            for line in text.split("\n") if line.startswith("│")]
    assert rows == [["x (InputLayer)", "(None, 6)", "0"], ["mid (Dense)", "(None, 4)", "28"],
                    ["top (Dense)", "(None, 2)", "10"]]


def test_sequential_config_round_trip_in_kerass_layout():
    model = keras.Sequential([keras.Input((4,), name="x"), layers.Dense(3, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(1)], name="seq")
    config = model.get_config()
    json.dumps(config)
    assert [entry["class_name"] for entry in config["layers"]] == [
        "InputLayer", "Dense", "Dropout", "Dense"]
    assert config["layers"][1]["build_config"] == {"input_shape": [None, 4]}
    again = keras.Sequential.from_config(config)
    assert again.name == "seq" and again.get_config() == config
    again.set_weights(model.get_weights())
    x = data(3, 4)
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())
    no_input = keras.Sequential([layers.Dense(2)])
    no_input(x)
    rebuilt = keras.Sequential.from_config(no_input.get_config())
    assert rebuilt.built and rebuilt.count_params() == no_input.count_params()
    with pytest.raises(ValueError, match="Unknown layer: 'Mystery'"):
        keras.Sequential.from_config({"name": "m", "layers": [{"class_name": "Mystery",
                                                               "config": {}}]})


def test_more_call_and_definition_errors():
    model, _ = two_branch_model()
    with pytest.raises(ValueError, match="missing inputs \\['b'\\]"):
        model({"a": data(2, 4)})
    a, b = keras.Input((2,), name="left"), keras.Input((2,), name="right")
    dict_model = keras.Model({"l": a, "r": b}, layers.Add()([a, b]))
    with pytest.raises(ValueError, match="takes a dict of inputs"):
        dict_model([data(1, 2), data(1, 2)])
    with pytest.raises(ValueError, match="missing inputs \\['r'\\]"):
        dict_model({"l": data(1, 2)})
    with pytest.raises(ValueError, match="at least one of its inputs"):
        keras.Model([], layers.Dense(1)(a))


def test_configs_rebuild_in_any_order_and_bad_configs_are_explained():
    model, _ = two_branch_model()
    config = model.get_config()
    shuffled = dict(config, layers=config["layers"][::-1])  # each call waits for its inputs
    again = keras.Model.from_config(shuffled)
    assert sorted(layer.name for layer in again.layers) == sorted(
        layer.name for layer in model.layers)
    missing = dict(config, layers=[entry for entry in config["layers"]
                                   if entry["name"] != "widen"])
    with pytest.raises(ValueError, match="refers to layer 'widen'"):
        keras.Model.from_config(missing)
    broken = json.loads(json.dumps(config))
    broken["layers"][-1]["inbound_nodes"][0]["args"][0]["config"]["keras_history"][1] = 5
    with pytest.raises(ValueError, match="never produced"):
        keras.Model.from_config(broken)
    with pytest.raises(ValueError, match="'class_name' and 'config'"):
        layers.deserialize("Dense")
    with pytest.raises(TypeError, match="Could not rebuild a Dense"):
        layers.deserialize({"class_name": "Dense", "config": {"units": 2, "bogus": 1}})


def test_merging_and_pooling_argument_errors():
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.Dot(axes=0)([np.ones(3), np.ones(3)])
    with pytest.raises(ValueError, match="mask only for 1-D"):
        layers.GlobalAveragePooling2D()(data(2, 3, 3, 1), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="tuple of two numbers"):
        layers.RandomRotation((0.1, 0.2, 0.3))
