"""tf.lite.TFLiteConverter: the written flatbuffers run in the real LiteRT interpreter.

Every model is checked against neuroflow's own forward pass: float files to 1e-4, int8
files to a tolerance of a few quantization steps. The TensorFlow tests compare with
TensorFlow's own converter on the same weights; the slow tests train the lab's MLP and the
convnet on Fashion-MNIST and check the int8 accuracy loss and file size.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras

pytest.importorskip("flatbuffers")


def _litert():
    """LiteRT's interpreter: the ai-edge-litert package, else the same runtime as bundled
    with TensorFlow (``tf.lite.Interpreter``) where only TensorFlow is installed."""
    try:
        from ai_edge_litert import interpreter
    except ImportError:
        if importlib.util.find_spec("tensorflow") is None:
            pytest.skip("neither ai_edge_litert nor tensorflow is installed",
                        allow_module_level=True)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from tensorflow import lite as interpreter
    return interpreter


litert = _litert()

L = keras.layers
REPO = Path(__file__).resolve().parents[2]


def _run(flatbuffer: bytes, x: np.ndarray) -> np.ndarray:
    """LiteRT's output for the float batch ``x``, quantizing/dequantizing int8 edges."""
    interpreter = litert.Interpreter(model_content=flatbuffer)
    source, sink = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    if source["dtype"] == np.int8:
        scale, zero = source["quantization"]
        x = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    y = interpreter.get_tensor(sink["index"])
    if sink["dtype"] == np.int8:
        scale, zero = sink["quantization"]
        y = (y.astype(np.float32) - zero) * scale
    return y


def _ops(flatbuffer: bytes) -> list[str]:
    interpreter = litert.Interpreter(model_content=flatbuffer)
    return [op["op_name"] for op in interpreter._get_ops_details()]


def _tensors(flatbuffer: bytes) -> dict[str, dict]:
    interpreter = litert.Interpreter(model_content=flatbuffer)
    return {t["name"]: t for t in interpreter.get_tensor_details()}


def _mlp(units=128):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28)), L.Flatten(),
                             L.Dense(units, activation="relu"),
                             L.Dense(10, activation="softmax")])


def _zoo():
    """Every layer the converter lowers, in one functional model."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((12, 12, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D(2)(x)
    a = L.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    b = L.Conv2D(8, 1)(x)
    b = L.BatchNormalization()(b)  # no activation before it: folded into the conv
    x = L.Concatenate()([a, b])
    x = L.AveragePooling2D(2)(x)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", strides=2)(x)
    x = L.Conv2D(6, 3, padding="same", activation="sigmoid")(x)
    pooled = L.GlobalAveragePooling2D()(x)
    flat = L.Dense(6, activation="tanh")(L.Flatten()(x))
    mixed = L.Add()([pooled, flat])
    mixed = L.Multiply()([mixed, L.Dense(6)(pooled)])
    mixed = L.Subtract()([mixed, pooled])
    mixed = L.Dropout(0.5)(mixed)
    outputs = L.Dense(5, activation="softmax")(mixed)
    model = keras.Model(inputs, outputs)
    # non-trivial BatchNormalization statistics, so the folding is tested
    rng = np.random.default_rng(2)
    for layer in model.layers:
        if isinstance(layer, L.BatchNormalization):
            size = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, size), rng.normal(0, 0.5, size),
                               rng.normal(0, 0.5, size), rng.uniform(0.5, 2, size)])
    return model


def _data(shape, n, seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype(np.float32)


def _representative(x):
    return lambda: ([x[i:i + 1]] for i in range(len(x)))


def _int8(model, samples, int8_edges=False):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative(samples)
    if int8_edges:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.mark.parametrize("build, shape", [(_mlp, (28, 28)), (_zoo, (12, 12, 3))])
def test_float_file_predicts_like_the_model(build, shape):
    model = build()
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    assert flatbuffer[4:8] == b"TFL3"
    for batch in (1, 7):
        x = _data(shape, batch, seed=batch)
        np.testing.assert_allclose(_run(flatbuffer, x), np.asarray(model(x)), atol=1e-4)


def test_conversion_is_deterministic_and_leaves_the_model_alone():
    model = _zoo()
    weights = [np.array(w) for w in model.get_weights()]
    samples = _data((12, 12, 3), 16)
    assert _int8(model, samples) == _int8(model, samples)
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, np.asarray(after))


def test_zoo_lowers_to_the_builtin_operators():
    ops = _ops(tf.lite.TFLiteConverter.from_keras_model(_zoo()).convert())
    for name in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D",
                 "CONCATENATION", "MEAN", "FULLY_CONNECTED", "RESHAPE", "LOGISTIC", "TANH",
                 "ADD", "MUL", "SUB", "SOFTMAX"):
        assert name in ops, (name, ops)
    # Dense biases, the folded BatchNormalization and the relu/relu6 activations leave no
    # operator of their own: 3 convs, 2 depthwise, 3 dense
    assert ops.count("CONV_2D") == 3 and ops.count("DEPTHWISE_CONV_2D") == 2
    assert "RELU" not in ops and "RELU6" not in ops
    assert ops.count("FULLY_CONNECTED") == 3


def _activations():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), L.Dense(4), L.Activation("relu"),
                              L.BatchNormalization(), L.Activation("relu6"),
                              L.Activation("sigmoid"), L.Activation("tanh"), L.Dense(3)])
    rng = np.random.default_rng(4)
    model.layers[2].set_weights([rng.uniform(0.5, 2, 4), rng.normal(0, 1, 4),
                                 rng.normal(0, 1, 4), rng.uniform(0.5, 2, 4)])
    return model


def test_standalone_activations_and_batch_norm_after_activation():
    model = _activations()
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    ops = _ops(flatbuffer)
    assert ops == ["FULLY_CONNECTED", "MUL", "ADD", "RELU6", "LOGISTIC", "TANH",
                   "FULLY_CONNECTED"], ops
    x = _data((5,), 6) * 20 - 10
    np.testing.assert_allclose(_run(flatbuffer, x), np.asarray(model(x)), atol=1e-4)
    # the same operators with int8 kernels (constant operands quantized per tensor)
    samples = _data((5,), 64, seed=1) * 20 - 10
    int8 = _int8(model, samples, int8_edges=True)
    want = np.asarray(model(x))
    got = _run(int8, x)
    scale = litert.Interpreter(model_content=int8).get_output_details()[0]["quantization"][0]
    _assert_close_in_steps(got, want, scale, 6)


def test_relu_layer_with_max_value_and_rescaling():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((5,)), L.Dense(4), L.ReLU(6.0), L.Dense(4),
                              L.Activation("relu"), L.ReLU(6.0), L.Rescaling(2.0, 1.0)])
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    # the first ReLU(6) fuses into its Dense; the second Dense fuses the relu before it
    assert _ops(flatbuffer) == ["FULLY_CONNECTED", "FULLY_CONNECTED", "RELU6", "MUL", "ADD"]
    x = _data((5,), 6) * 40 - 20
    np.testing.assert_allclose(_run(flatbuffer, x), np.asarray(model(x)), atol=1e-4)


def test_same_padding_on_odd_sizes_and_dilation():
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((9, 7, 2)), L.Conv2D(3, 3, strides=2, padding="same"),
        L.AveragePooling2D(2, padding="same"), L.MaxPooling2D(3, strides=1, padding="same"),
        L.Conv2D(4, 2, dilation_rate=2, padding="same", activation="relu"),
        L.DepthwiseConv2D(3, strides=2, padding="same")])
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    x = _data((9, 7, 2), 3) * 2 - 1
    np.testing.assert_allclose(_run(flatbuffer, x), np.asarray(model(x)), atol=1e-4)


def test_unknown_batch_is_written_as_tensorflow_does():
    details = litert.Interpreter(
        model_content=tf.lite.TFLiteConverter.from_keras_model(_mlp()).convert())
    source = details.get_input_details()[0]
    assert list(source["shape"]) == [1, 28, 28]
    assert list(source["shape_signature"]) == [-1, 28, 28]
    sink = details.get_output_details()[0]
    assert list(sink["shape_signature"]) == [-1, 10]
    runner = details.get_signature_runner("serving_default")
    out = runner(keras_tensor=np.zeros((2, 28, 28), np.float32))
    assert out["output_0"].shape == (2, 10)


def test_from_concrete_functions():
    fn = tf.function(lambda x, y: tf.nn.relu(x) * 3.0 - y,
                     input_signature=[tf.TensorSpec((None, 4)), tf.TensorSpec((None, 4))])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()])
    interpreter = litert.Interpreter(model_content=converter.convert())
    runner = interpreter.get_signature_runner()
    x, y = _data((4,), 3), _data((4,), 3, seed=1)
    np.testing.assert_allclose(runner(x=x - 0.5, y=y)["output_0"],
                               np.maximum(x - 0.5, 0) * 3 - y, atol=1e-6)


def _assert_close_in_steps(got, want, output_scale, steps):
    assert np.abs(got - want).max() <= steps * output_scale, np.abs(got - want).max()


@pytest.mark.parametrize("int8_edges", [False, True])
@pytest.mark.parametrize("build, shape", [(_mlp, (28, 28)), (_zoo, (12, 12, 3))])
def test_full_integer_file_predicts_like_the_model(build, shape, int8_edges):
    model = build()
    samples = _data(shape, 64)
    flatbuffer = _int8(model, samples, int8_edges)
    x = _data(shape, 16, seed=5)
    want = np.asarray(model(x))
    got = _run(flatbuffer, x)
    # softmax outputs are in steps of 1/256; allow a handful of them
    _assert_close_in_steps(got, want, 1 / 256, 6)
    assert (got.argmax(1) == want.argmax(1)).mean() >= 0.9
    ops = _ops(flatbuffer)
    if int8_edges:
        assert "QUANTIZE" not in ops and "DEQUANTIZE" not in ops
    else:
        assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"


def test_full_integer_parameters_follow_tensorflows_rules():
    model = _mlp(16)
    samples = _data((28, 28), 32) * 2 - 0.5  # inputs in [-0.5, 1.5)
    flatbuffer = _int8(model, samples, int8_edges=True)
    tensors = _tensors(flatbuffer)
    interpreter = litert.Interpreter(model_content=flatbuffer)
    source = interpreter.get_input_details()[0]
    sink = interpreter.get_output_details()[0]
    assert source["dtype"] == np.int8 and sink["dtype"] == np.int8
    # calibrated input range: min/max over the samples, asymmetric int8
    low, high = min(samples.min(), 0), max(samples.max(), 0)
    scale, zero = source["quantization"]
    np.testing.assert_allclose(scale, (high - low) / 255, rtol=1e-6)
    assert zero == int(np.round(-128 - low / ((high - low) / 255)))
    # softmax output fixed at scale 1/256, zero point -128
    np.testing.assert_allclose(sink["quantization"][0], 1 / 256)
    assert sink["quantization"][1] == -128
    kernel = model.layers[1].kernel.numpy()
    weights = next(t for t in tensors.values() if list(t["shape"]) == [16, 784])
    q = weights["quantization_parameters"]
    assert weights["dtype"] == np.int8 and q["quantized_dimension"] == 0
    # symmetric per output channel: scale = max |w| / 127, zero point 0
    np.testing.assert_allclose(q["scales"], np.abs(kernel).max(axis=0) / 127, rtol=1e-6)
    assert not q["zero_points"].any()
    bias = next(t for t in tensors.values() if list(t["shape"]) == [16])
    assert bias["dtype"] == np.int32
    reshape = next(t for t in tensors.values() if list(t["shape"]) == [1, 784])
    np.testing.assert_allclose(bias["quantization_parameters"]["scales"],
                               reshape["quantization"][0] * q["scales"], rtol=1e-5)


def test_int8_refuses_a_fixed_scale_that_would_clip_what_it_joins():
    # A concatenation shares one int8 grid between its inputs; a softmax output's grid is
    # fixed at [0, 1), so joining it with a dense output of wider range would clip that
    # output silently.
    inputs = keras.Input((6,))
    wide = keras.layers.Dense(4)(inputs)
    probabilities = keras.layers.Dense(4, activation="softmax")(inputs)
    model = keras.Model(inputs, keras.layers.Concatenate()([wide, probabilities]))
    samples = _data((6,), 16) * 20 - 10
    with pytest.raises(NotImplementedError, match="fixed scale"):
        _int8(model, samples)


def test_int8_keeps_a_fixed_scale_its_neighbours_fit():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="softmax"),
                              keras.layers.Reshape((2, 2))])
    samples = _data((6,), 16)
    flatbuffer = _int8(model, samples)
    want = np.asarray(model(samples))
    np.testing.assert_allclose(_run(flatbuffer, samples), want, atol=2 / 256)


def test_int8_file_is_under_30_percent_of_the_float_file():
    model = _mlp()
    float_size = len(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    int8_size = len(_int8(model, _data((28, 28), 8)))
    assert int8_size <= 0.3 * float_size, (int8_size, float_size)


def test_dynamic_range_quantizes_large_weights_only():
    model = _mlp(64)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    flatbuffer = converter.convert()
    tensors = _tensors(flatbuffer)
    by_shape = {tuple(t["shape"]): t["dtype"] for t in tensors.values()}
    assert by_shape[(64, 784)] == np.int8  # 50,176 weights
    assert by_shape[(10, 64)] == np.float32  # 640 weights: below TensorFlow's 1,024
    assert by_shape[(1, 28, 28)] == np.float32
    x = _data((28, 28), 8)
    np.testing.assert_allclose(_run(flatbuffer, x), np.asarray(model(x)), atol=2e-2)


def _conv_stack():
    keras.utils.set_random_seed(6)
    return keras.Sequential([keras.Input((8, 8, 16)), L.Conv2D(32, 3, activation="relu"),
                             L.DepthwiseConv2D(3, depth_multiplier=8), L.Flatten(),
                             L.Dense(4)])


def test_dynamic_range_convolutions():
    model = _conv_stack()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    flatbuffer = converter.convert()
    kernels = {tuple(t["shape"]): t for t in _tensors(flatbuffer).values()}
    assert kernels[(32, 3, 3, 16)]["dtype"] == np.int8
    depthwise = kernels[(1, 3, 3, 256)]
    assert depthwise["dtype"] == np.int8
    assert depthwise["quantization_parameters"]["quantized_dimension"] == 3
    x = _data((8, 8, 16), 4)
    want = np.asarray(model(x))
    # int8 weights and inputs quantized on the fly at three layers: a few percent (the
    # TensorFlow test below finds TensorFlow's file gives the same numbers)
    np.testing.assert_allclose(_run(flatbuffer, x), want, atol=0.05 * np.abs(want).max())


def test_unsupported_layer_names_the_op_and_the_layer():
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Activation("elu")])
    layer = r"'sequential(_\d+)?/activation(_\d+)?'"
    with pytest.raises(NotImplementedError, match=r"the op '\w+' \(in layer " + layer):
        tf.lite.TFLiteConverter.from_keras_model(model).convert()


@pytest.mark.parametrize("setup, error, match", [
    (dict(supported_ops=[tf.lite.OpsSet.TFLITE_BUILTINS_INT8], optimizations=True),
     ValueError, "representative_dataset"),
    (dict(inference_input_type=tf.int8), ValueError, "full integer"),
    (dict(inference_input_type=tf.uint8, dataset=True, optimizations=True),
     NotImplementedError, "uint8"),
    (dict(supported_ops=[tf.lite.OpsSet.SELECT_TF_OPS]), NotImplementedError, "SELECT_TF_OPS"),
    (dict(supported_types=[tf.float16], optimizations=True), NotImplementedError, "float16"),
])
def test_settings_tensorflow_refuses_or_neuroflow_lacks_raise(setup, error, match):
    converter = tf.lite.TFLiteConverter.from_keras_model(_mlp(4))
    if setup.get("optimizations"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if setup.get("dataset"):
        converter.representative_dataset = _representative(_data((28, 28), 2))
    if "supported_ops" in setup:
        converter.target_spec.supported_ops = setup["supported_ops"]
    if "supported_types" in setup:
        converter.target_spec.supported_types = setup["supported_types"]
    if "inference_input_type" in setup:
        converter.inference_input_type = setup["inference_input_type"]
    with pytest.raises(error, match=match):
        converter.convert()


def test_unbuilt_model_is_refused():
    with pytest.raises(ValueError, match="built"):
        tf.lite.TFLiteConverter.from_keras_model(keras.Sequential([L.Dense(2)]))


# -- against TensorFlow's converter ---------------------------------------------------------


def _tensorflow_twin(model):
    """The same architecture in TensorFlow's Keras, with ``model``'s weights."""
    real = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    twin = real.models.model_from_json(model.to_json()) if hasattr(model, "to_json") else None
    twin.set_weights([np.asarray(w) for w in model.get_weights()])
    return twin


@pytest.mark.tensorflow
@pytest.mark.parametrize("build, shape", [(_mlp, (28, 28)), (_zoo, (12, 12, 3))])
def test_same_predictions_as_tensorflows_converter(build, shape):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real_tf = pytest.importorskip("tensorflow")
    model = build()
    twin = _tensorflow_twin(model)
    samples = _data(shape, 64)
    x = _data(shape, 16, seed=9)
    ours = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    theirs = real_tf.lite.TFLiteConverter.from_keras_model(twin).convert()
    np.testing.assert_allclose(_run(ours, x), _run(theirs, x), atol=1e-4)
    converter = real_tf.lite.TFLiteConverter.from_keras_model(twin)
    converter.optimizations = [real_tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative(samples)
    theirs8 = converter.convert()
    ours8 = _int8(model, samples)
    # both calibrated on the same data: within a few output steps of each other
    _assert_close_in_steps(_run(ours8, x), _run(theirs8, x), 1 / 256, 8)
    assert len(ours8) <= 1.2 * len(theirs8)


@pytest.mark.tensorflow
@pytest.mark.parametrize("build, shape", [(_mlp, (28, 28)), (_conv_stack, (8, 8, 16))])
def test_dynamic_range_matches_tensorflows_converter(build, shape):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    real_tf = pytest.importorskip("tensorflow")
    model = build()
    twin = _tensorflow_twin(model)
    ours = tf.lite.TFLiteConverter.from_keras_model(model)
    ours.optimizations = [tf.lite.Optimize.DEFAULT]
    theirs = real_tf.lite.TFLiteConverter.from_keras_model(twin)
    theirs.optimizations = [real_tf.lite.Optimize.DEFAULT]
    x = _data(shape, 8, seed=3)
    np.testing.assert_allclose(_run(ours.convert(), x), _run(theirs.convert(), x), atol=1e-5)


# -- accuracy on Fashion-MNIST -------------------------------------------------------------


def _fashion_mnist():
    spec = importlib.util.spec_from_file_location(
        "cnn_accuracy", REPO / "tests" / "keras" / "test_cnn_accuracy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._data()


def _bench_convnet():
    spec = importlib.util.spec_from_file_location("bench_cnn", REPO / "bench" / "cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_convnet(keras, 0)


def _lab_mlp():
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.mark.slow
@pytest.mark.parametrize("build, flat", [(_lab_mlp, True), (_bench_convnet, False)])
def test_int8_loses_at_most_one_point_of_accuracy(build, flat):
    (x, y), _, (x_test, y_test) = _fashion_mnist()
    if flat:
        x, x_test = x[..., 0], x_test[..., 0]
    model = build()
    model.fit(x[:6000], y[:6000], batch_size=128, epochs=1, verbose=0)
    float_file = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    int8_file = _int8(model, x[6000:6200], int8_edges=True)
    assert len(int8_file) <= 0.3 * len(float_file)
    float_accuracy = (_run(float_file, x_test).argmax(1) == y_test).mean()
    int8_accuracy = (_run(int8_file, x_test).argmax(1) == y_test).mean()
    assert float_accuracy > 0.7
    assert int8_accuracy >= float_accuracy - 0.01, (float_accuracy, int8_accuracy)
