"""The files ``tf.js.save_keras_model`` writes, read back with NumPy and JSON alone: the
``model.json`` layout tfjs-layers reads, the little-endian shards, quantization, and the
errors for what TensorFlow.js cannot run."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuroflow as tf

L = tf.keras.layers


@pytest.fixture(autouse=True)
def _seed():
    tf.keras.utils.set_random_seed(0)


def _cnn():
    return tf.keras.Sequential([
        tf.keras.Input((12, 12, 1)), L.Conv2D(3, 3, activation="relu"), L.MaxPooling2D(),
        L.BatchNormalization(), L.Flatten(), L.Dropout(0.2), L.Dense(4, activation="softmax")])


def _read(folder):
    artifacts = json.loads((folder / "model.json").read_text())
    (group,) = artifacts["weightsManifest"]
    buffer = b"".join((folder / path).read_bytes() for path in group["paths"])
    return artifacts, group, buffer


def _keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_model_json_layout(tmp_path):
    model = _cnn()
    tf.js.save_keras_model(model, tmp_path, metadata={"labels": ["a", "b", "c", "d"]})
    artifacts, group, _ = _read(tmp_path)
    assert artifacts["format"] == "layers-model"
    assert artifacts["generatedBy"].startswith("neuroflow")
    assert artifacts["convertedBy"]
    assert artifacts["userDefinedMetadata"] == {"labels": ["a", "b", "c", "d"]}
    topology = artifacts["modelTopology"]
    assert topology["class_name"] == "Sequential"
    layers = topology["config"]["layers"]
    assert [layer["class_name"] for layer in layers] == [
        "InputLayer", "Conv2D", "MaxPooling2D", "BatchNormalization", "Flatten", "Dropout",
        "Dense"]
    assert layers[0]["config"]["batch_input_shape"] == [None, 12, 12, 1]
    # Keras 3's wrapper keys are unknown to tfjs-layers' deserializer.
    keys = set(_keys(topology))
    assert not keys & {"module", "registered_name", "build_config", "batch_shape"}
    assert layers[1]["config"]["kernel_initializer"] == {"class_name": "GlorotUniform",
                                                         "config": {"seed": None}}


def test_shards_hold_little_endian_weights_in_manifest_order(tmp_path):
    model = _cnn()
    tf.js.save_keras_model(model, tmp_path, weight_shard_size_bytes=64)
    _, group, buffer = _read(tmp_path)
    sizes = [(tmp_path / path).stat().st_size for path in group["paths"]]
    assert all(size == 64 for size in sizes[:-1]) and 0 < sizes[-1] <= 64
    assert group["paths"][0] == f"group1-shard1of{len(sizes)}.bin"
    names = [entry["name"] for entry in group["weights"]]
    assert names == [f"{layer.name}/{w.path.rsplit('/', 1)[-1]}"
                     for layer in model.layers for w in layer.weights]
    expected = b"".join(np.asarray(w, "<f4").tobytes() for w in model.get_weights())
    assert buffer == expected
    assert [entry["shape"] for entry in group["weights"]] == [
        list(w.shape) for w in model.get_weights()]
    assert {entry["dtype"] for entry in group["weights"]} == {"float32"}


def test_functional_inbound_nodes_in_keras_2_form(tmp_path):
    a, b = tf.keras.Input((4,), name="a"), tf.keras.Input((4,), name="b")
    total = L.Add(name="total")([L.Dense(2, name="da")(a), L.Dense(2, name="db")(b)])
    model = tf.keras.Model([a, b], total)
    tf.js.save_keras_model(model, tmp_path)
    config = json.loads((tmp_path / "model.json").read_text())["modelTopology"]["config"]
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert by_name["a"]["inbound_nodes"] == []
    assert by_name["total"]["inbound_nodes"] == [[["da", 0, 0, {}], ["db", 0, 0, {}]]]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["total", 0, 0]]


def test_augmentation_layers_are_left_out(tmp_path):
    inputs = tf.keras.Input((8, 8, 1), name="image")
    flipped = L.RandomFlip(name="flip")(inputs)
    outputs = L.Dense(2, name="head")(L.Flatten(name="flat")(flipped))
    tf.js.save_keras_model(tf.keras.Model(inputs, outputs), tmp_path)
    config = json.loads((tmp_path / "model.json").read_text())["modelTopology"]["config"]
    by_name = {layer["name"]: layer for layer in config["layers"]}
    assert "flip" not in by_name
    assert by_name["flat"]["inbound_nodes"] == [[["image", 0, 0, {}]]]


def test_uint8_quantization_keeps_zero_exact(tmp_path):
    model = _cnn()
    conv, dense = model.layers[0].name, model.layers[-1].name
    tf.js.save_keras_model(model, tmp_path, quantization_dtype_map={"uint8": f"{conv}/*"})
    _, group, buffer = _read(tmp_path)
    entries = {entry["name"]: entry for entry in group["weights"]}
    kernel = entries[f"{conv}/kernel"]
    assert kernel["quantization"]["dtype"] == "uint8"
    assert kernel["quantization"]["original_dtype"] == "float32"
    assert "quantization" not in entries[f"{dense}/kernel"]
    size = int(np.prod(kernel["shape"]))
    codes = np.frombuffer(buffer[:size], np.uint8).reshape(kernel["shape"])
    q = kernel["quantization"]
    restored = codes * q["scale"] + q["min"]
    want = model.get_weights()[0]
    assert np.abs(restored - want).max() <= q["scale"] / 2 + 1e-7
    bias = entries[f"{conv}/bias"]["quantization"]  # zeros: exactly representable
    codes = np.frombuffer(buffer[size:size + 3], np.uint8)
    np.testing.assert_array_equal(codes * bias["scale"] + bias["min"], np.zeros(3))


def test_float16_quantization(tmp_path):
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(2)])
    tf.js.save_keras_model(model, tmp_path, quantization_dtype_map={"float16": True})
    _, group, buffer = _read(tmp_path)
    kernel, bias = model.get_weights()
    assert buffer == kernel.astype("<f2").tobytes() + bias.astype("<f2").tobytes()
    assert group["weights"][0]["quantization"] == {"dtype": "float16",
                                                   "original_dtype": "float32"}


@pytest.mark.parametrize("options,error,words", [
    ({"weight_shard_size_bytes": 0}, ValueError, "positive int"),
    ({"weight_shard_size_bytes": 1.5}, ValueError, "positive int"),
    ({"quantization_dtype_map": {"int4": "*"}}, ValueError, "int4"),
    ({"quantization_dtype_map": {"uint8": "*", "float16": "dense*"}}, ValueError,
     "two quantization dtypes"),
    ({"quantization_dtype_map": ["uint8"]}, TypeError, "dict"),
    ({"metadata": ["labels"]}, TypeError, "dict"),
    ({"metadata": {"x": object()}}, TypeError, "JSON"),
])
def test_bad_options_raise(tmp_path, options, error, words):
    with pytest.raises(error, match=words):
        tf.js.save_keras_model(_cnn(), tmp_path, **options)


@pytest.mark.parametrize("layer,words", [
    (lambda: L.GRU(2), "reset_after=False"),
    (lambda: L.Dense(2, activation="hard_sigmoid"), "hard_sigmoid"),
    (lambda: L.ReLU(negative_slope=0.1), "negative_slope"),
    (lambda: L.Subtract(), "no 'Subtract' layer"),
])
def test_what_tfjs_cannot_run_raises(tmp_path, layer, words):
    if words == "no 'Subtract' layer":
        a = tf.keras.Input((3,))
        model = tf.keras.Model(a, layer()([a, a]))
    else:
        model = tf.keras.Sequential([tf.keras.Input((4, 3)), layer()])
    with pytest.raises(NotImplementedError, match=words):
        tf.js.save_keras_model(model, tmp_path)
    assert not (tmp_path / "model.json").exists()


def test_subclassed_model_and_file_target_raise(tmp_path):
    class Custom(tf.keras.Model):
        def call(self, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="Sequential or keras.Model"):
        tf.js.save_keras_model(Custom(), tmp_path)
    with pytest.raises(ValueError, match="not built"):
        tf.js.save_keras_model(tf.keras.Sequential([L.Dense(2)]), tmp_path)
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(ValueError, match="folder"):
        tf.js.save_keras_model(_cnn(), target)


def test_signature_matches_tensorflowjs():
    import inspect

    parameters = inspect.signature(tf.js.save_keras_model).parameters
    assert list(parameters) == ["model", "artifacts_dir", "quantization_dtype_map",
                                "weight_shard_size_bytes", "metadata"]
    assert parameters["weight_shard_size_bytes"].default == 4194304
    assert tf.js.converters.save_keras_model is tf.js.save_keras_model


def test_docstring_example():
    import doctest

    from neuroflow.js import converters

    assert doctest.testmod(converters).failed == 0
