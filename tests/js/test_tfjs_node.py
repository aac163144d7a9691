"""Models exported with ``tf.js.save_keras_model`` load in TensorFlow.js (``@tensorflow/tfjs``
under Node, fetched over HTTP as a browser would) and predict what neuroflow predicts.

tfjs loads weights strictly by name, so a wrong name, shape or byte offset fails the load;
the predictions then check the topology translation layer by layer.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from js_runtime import tfjs_dir, tfjs_predict

import neuroflow as tf

L = tf.keras.layers
TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


@pytest.fixture(autouse=True)
def _runtime():
    tfjs_dir()  # skips (fails under CI) before building models when tfjs is missing
    tf.keras.utils.set_random_seed(0)


def _predict(model, inputs):
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [np.asarray(output) for output in outputs]


def _agree(model, inputs, tmp_path, **options):
    tf.js.save_keras_model(model, tmp_path, **options)
    got, names = tfjs_predict(tmp_path, inputs)
    want = _predict(model, inputs)
    assert len(got) == len(want)
    for js_output, output in zip(got, want):
        np.testing.assert_allclose(js_output, output, **TOLERANCE)
    manifest = json.loads((tmp_path / "model.json").read_text())["weightsManifest"]
    assert sorted(names) == sorted(w["name"] for g in manifest for w in g["weights"])
    return got


def _randomize_batch_norm(model):
    # Fresh moving statistics are 0 and 1, which would hide a swapped mean and variance.
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            layer.set_weights([rng.uniform(0.5, 2, w.shape).astype("float32")
                               for w in layer.get_weights()])


def test_sequential_cnn_in_several_shards(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)), L.Conv2D(6, 3, activation="relu"), L.MaxPooling2D(),
        L.BatchNormalization(), L.Conv2D(4, 3, padding="same", strides=2),
        L.AveragePooling2D(), L.Flatten(), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    _randomize_batch_norm(model)
    x = np.random.default_rng(0).uniform(0, 1, (4, 28, 28, 1)).astype("float32")
    # 1000-byte shards cut weights (and single weights) across files.
    _agree(model, [x], tmp_path, weight_shard_size_bytes=1000)
    total = sum(w.size * 4 for w in model.get_weights())
    assert len(list(tmp_path.glob("group1-shard*.bin"))) == -(-total // 1000) >= 3


def test_functional_two_inputs_two_outputs(tmp_path):
    a, b = tf.keras.Input((8,), name="a"), tf.keras.Input((8,), name="b")
    h = L.Dense(5, activation="relu")(a)
    g = L.Dense(5, activation="tanh")(b)
    merged = L.Concatenate()([L.Add()([h, g]), L.Multiply()([h, g]), L.Maximum()([h, g]),
                              L.Average()([h, g]), L.Minimum()([h, g]), h])
    out = L.Dense(3, activation="softmax", name="probs")(merged)
    model = tf.keras.Model([a, b], [out, g])
    rng = np.random.default_rng(0)
    _agree(model, [rng.normal(size=(3, 8)).astype("float32"),
                   rng.normal(size=(3, 8)).astype("float32")], tmp_path)


def test_embedding_and_recurrent_layers(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((6,)), L.Embedding(20, 5, mask_zero=True),
        L.LSTM(7, return_sequences=True), L.GRU(4, reset_after=False, return_sequences=True),
        L.SimpleRNN(3)])
    tokens = np.random.default_rng(0).integers(1, 20, (4, 6))
    tokens[0, 4:] = 0  # padding: the mask must reach the recurrent layers in tfjs too
    _agree(model, [tokens.astype("float32")], tmp_path)


def test_bidirectional_time_distributed_and_1d_layers(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((10, 3)), L.Conv1D(4, 3, padding="same", activation="relu"),
        L.MaxPooling1D(), L.Bidirectional(L.LSTM(3, return_sequences=True)),
        L.TimeDistributed(L.Dense(2)), L.LayerNormalization(), L.GlobalAveragePooling1D()])
    x = np.random.default_rng(0).normal(size=(2, 10, 3)).astype("float32")
    _agree(model, [x], tmp_path)


def test_activations(tmp_path):
    names = ["relu", "relu6", "elu", "selu", "sigmoid", "softplus", "softsign", "tanh",
             "softmax", "log_softmax", "mish", "silu", "gelu", "linear"]
    inputs = tf.keras.Input((4,))
    outputs = [L.Dense(3, activation=name, name=f"dense_{name}")(inputs) for name in names]
    model = tf.keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32") * 3
    _agree(model, [x], tmp_path)


def test_activation_layers(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((6,)), L.ReLU(max_value=1.0), L.Dense(6), L.LeakyReLU(0.2),
        L.Dense(6), L.ELU(), L.PReLU(), L.Activation("tanh"), L.Softmax()])
    x = np.random.default_rng(0).normal(size=(3, 6)).astype("float32") * 2
    _agree(model, [x], tmp_path)


def test_more_image_layers(tmp_path):
    model = tf.keras.Sequential([
        tf.keras.Input((8, 8, 2)), L.Rescaling(1 / 4, offset=0.5), L.ZeroPadding2D(1),
        L.Conv2DTranspose(3, 3, strides=2, padding="same"), L.SeparableConv2D(4, 3),
        L.DepthwiseConv2D(3, depth_multiplier=2), L.UpSampling2D(2), L.Cropping2D(2),
        L.GlobalMaxPooling2D(), L.Reshape((4, 2)), L.Permute((2, 1)), L.Flatten()])
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 2)).astype("float32")
    _agree(model, [x], tmp_path)


def test_augmentation_left_out_of_a_functional_cnn(tmp_path):
    inputs = tf.keras.Input((28, 28, 1), name="image")
    x = L.RandomTranslation(0.05, 0.05, fill_mode="constant")(inputs)
    x = L.Rescaling(1 / 255)(x)
    x = L.MaxPooling2D()(L.Conv2D(4, 3, activation="relu")(x))
    outputs = L.Dense(10, activation="softmax")(L.Dropout(0.5)(L.Flatten()(x)))
    model = tf.keras.Model(inputs, outputs)
    x = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype("float32")
    _agree(model, [x], tmp_path)


@pytest.mark.parametrize("dtype", ["float16", "uint8"])
def test_quantized_weights_decode_in_tfjs(tmp_path, dtype):
    model = tf.keras.Sequential([tf.keras.Input((12,)), L.Dense(16, activation="relu"),
                                 L.Dense(4)])
    tf.js.save_keras_model(model, tmp_path, quantization_dtype_map={dtype: "*"})
    x = np.random.default_rng(0).normal(size=(3, 12)).astype("float32")
    got, _ = tfjs_predict(tmp_path, [x])
    # tfjs restores float16 exactly and uint8 to q * scale + min: neuroflow with weights
    # rounded the same way must agree to float32 precision.
    rounded = []
    for weight in model.get_weights():
        if dtype == "float16":
            rounded.append(weight.astype(np.float16).astype(np.float32))
        else:
            low, high = min(weight.min(), 0), max(weight.max(), 0)
            scale = (high - low) / 255 or 1.0
            low = -round(-low / scale) * scale
            rounded.append((np.round((weight - low) / scale) * scale + low).astype("float32"))
    model.set_weights(rounded)
    np.testing.assert_allclose(got[0], _predict(model, [x])[0], **TOLERANCE)


def test_nested_models(tmp_path):
    encoder = tf.keras.Sequential([tf.keras.Input((6,)), L.Dense(4, activation="relu"),
                                   L.BatchNormalization()], name="encoder")
    _randomize_batch_norm(encoder)
    inputs = tf.keras.Input((6,), name="features")
    outputs = L.Dense(2, activation="softmax")(L.Dropout(0.1)(encoder(inputs)))
    model = tf.keras.Model(inputs, outputs)
    x = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    _agree(model, [x], tmp_path)
