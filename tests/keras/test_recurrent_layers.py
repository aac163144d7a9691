"""Recurrent layers, cells, wrappers and Embedding: graphs that do not grow with the
sequence, the fused and the step-by-step runs against each other and against NumPy,
masks, states, dropout, configs, errors, and training.

Keras 3 itself is the oracle in tests/oracle/test_tf_keras_recurrent.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)
MASK = np.array([[0, 1, 1, 0, 1, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 1, 1]], bool)


def data(*shape):
    return R.normal(size=shape).astype(np.float32)


def _softsign(v):
    """An activation the fused ops lack: the layer steps its cell instead."""
    return v / (tf.abs(v) + 1.0)


def _nodes(fn, *args) -> int:
    return len(tf.function(fn).get_concrete_function(*args).graph.nodes)


# --- the graph does not grow with the sequence ----------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(8, return_sequences=True),
    lambda: layers.GRU(8, reset_after=False),
    lambda: layers.SimpleRNN(8, return_state=True),
    lambda: layers.RNN(layers.LSTMCell(8, activation=_softsign), return_sequences=True),
    lambda: layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
], ids=["lstm", "gru", "simple", "stepwise-cell", "bidirectional"])
def test_tracing_a_thousand_steps_makes_the_graph_of_ten(make):
    layer = make()
    layer(data(2, 3, 5))

    def train_step(x):
        with tf.GradientTape() as tape:
            out = layer(x)
            loss = sum(tf.reduce_sum(o * o) for o in (out if isinstance(out, tuple) else [out]))
        return loss, tape.gradient(loss, layer.trainable_weights)

    short, long = data(2, 10, 5), data(2, 1000, 5)
    assert _nodes(lambda x: layer(x), short) == _nodes(lambda x: layer(x), long)
    assert _nodes(train_step, short) == _nodes(train_step, long)


def test_sequences_of_any_length_and_batch_run_one_trace():
    layer = layers.LSTM(6, return_sequences=True)
    f = tf.function(lambda x, m: layer(x, mask=m),
                    input_signature=[tf.TensorSpec((None, None, 3)),
                                     tf.TensorSpec((None, None), tf.bool)])
    for batch, steps in ((2, 5), (3, 9), (1, 2)):
        x = data(batch, steps, 3)
        m = R.random((batch, steps)) > 0.3
        np.testing.assert_allclose(f(x, m).numpy(), layer(x, mask=m).numpy(), atol=1e-6)
    assert f.experimental_get_tracing_count() == 1


# --- fused and step-by-step runs agree (values and gradients, eager and compiled) --------


def _cell_pair(kind, **kwargs):
    """The layer (fused) and an RNN over its cell with the same math but an activation
    object the fused ops do not know, so it runs step by step."""
    fused = getattr(layers, kind)(5, **kwargs)
    cell_class = getattr(layers, kind + "Cell")
    cell_args = {k: v for k, v in kwargs.items()
                 if k not in ("return_sequences", "return_state", "go_backwards")}
    stepped = layers.RNN(cell_class(5, activation=lambda v: tf.tanh(v), **cell_args),
                         **{k: v for k, v in kwargs.items() if k not in cell_args})
    x = data(3, 6, 4)
    fused(x)
    stepped(x)
    stepped.set_weights([w + 0.3 * data(*w.shape) for w in fused.get_weights()])
    fused.set_weights(stepped.get_weights())
    return fused, stepped, x


def _values_and_gradients(layer, x, mask):
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, mask=mask)
        leaves = list(out) if isinstance(out, tuple) else [out]
        loss = sum(tf.reduce_sum(o * tf.cos(o)) for o in leaves)
    return leaves + tape.gradient(loss, [x, *layer.trainable_weights])


@pytest.mark.parametrize("kind, kwargs", [
    ("LSTM", dict(return_sequences=True, return_state=True)),
    ("LSTM", dict(go_backwards=True, unit_forget_bias=False)),
    ("GRU", dict(return_sequences=True, return_state=True)),
    ("GRU", dict(reset_after=False, return_sequences=True, go_backwards=True)),
    ("SimpleRNN", dict(return_sequences=True, return_state=True)),
])
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_fused_run_matches_the_cell_stepped_over_time(kind, kwargs, masked, compiled):
    fused, stepped, x = _cell_pair(kind, **kwargs)
    x, mask = tf.constant(x), (tf.constant(MASK) if masked else None)
    run = _values_and_gradients
    if compiled:
        run = tf.function(_values_and_gradients)
    got = run(fused, x, mask)
    want = run(stepped, x, mask)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


def test_lstm_matches_numpy():
    layer = layers.LSTM(3, return_sequences=True)
    x = data(2, 4, 5)
    out = layer(x).numpy()
    kernel, recurrent, bias = layer.get_weights()
    h = c = np.zeros((2, 3), np.float32)

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    for t in range(4):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        np.testing.assert_allclose(out[:, t], h, rtol=1e-5, atol=1e-6)
    # Keras's default bias: ones for the forget gate (unit_forget_bias), zeros elsewhere.
    np.testing.assert_array_equal(bias, np.repeat([0.0, 1.0, 0.0, 0.0], 3))


def test_recurrent_kernels_start_orthogonal():
    layer = layers.SimpleRNN(6)
    layer.build((None, 2, 3))
    recurrent = layer.cell.recurrent_kernel.numpy()
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(6), atol=1e-5)
    wide = layers.LSTM(3)
    wide.build((None, 2, 3))
    rows = wide.cell.recurrent_kernel.numpy()  # (3, 12): orthonormal rows
    np.testing.assert_allclose(rows @ rows.T, np.eye(3), atol=1e-5)


# --- masks ---------------------------------------------------------------------------------


def test_masked_steps_keep_the_state_and_repeat_the_output():
    layer = layers.GRU(4, return_sequences=True, return_state=True)
    x = data(3, 6, 2)
    out, state = layer(x, mask=MASK)
    out = out.numpy()
    # Row 0 starts masked: zeros until its first kept step, then the last kept output.
    np.testing.assert_array_equal(out[0, 0], 0.0)
    np.testing.assert_array_equal(out[0, 3], out[0, 2])
    np.testing.assert_array_equal(out[0, 5], out[0, 4])
    np.testing.assert_array_equal(state.numpy()[0], out[0, 4])
    # Running only the kept steps gives the same final state.
    kept = layer(x[2:3][:, MASK[2]])[1].numpy()
    np.testing.assert_allclose(state.numpy()[2], kept[0], rtol=1e-5, atol=1e-6)
    zeroed = layers.GRU(4, return_sequences=True, zero_output_for_mask=True)
    zeroed(x)
    zeroed.set_weights(layer.get_weights())
    np.testing.assert_array_equal(zeroed(x, mask=MASK).numpy()[0, 3], 0.0)


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_embedding_mask_reaches_the_recurrent_layers(compiled):
    ids = np.array([[0, 0, 4, 2, 7], [5, 1, 0, 3, 0]], np.int32)
    embed = layers.Embedding(8, 3, mask_zero=True)
    first = layers.LSTM(4, return_sequences=True)
    second = layers.Bidirectional(layers.GRU(2))
    model = keras.Sequential([keras.Input((5,), dtype="int32"), embed, first, second])
    run = tf.function(model) if compiled else model
    want = second(first(embed(ids), mask=ids != 0), mask=ids != 0)
    np.testing.assert_allclose(run(ids).numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    # A new tensor (tf.identity) carries no mask: the layers then read every step.
    unmasked = second(first(tf.identity(embed(ids))))
    assert not np.allclose(unmasked.numpy(), want.numpy(), rtol=0, atol=1e-7)


def test_masking_layer_zeroes_and_masks_steps():
    x = data(2, 4, 3)
    x[0, 1] = 7.0
    layer = layers.Masking(mask_value=7.0)
    out = layer(x).numpy()
    np.testing.assert_array_equal(out[0, 1], 0.0)
    np.testing.assert_array_equal(out[1], x[1])
    np.testing.assert_array_equal(layer.compute_mask(x).numpy(),
                                  [[True, False, True, True], [True] * 4])
    rnn = layers.SimpleRNN(2)
    np.testing.assert_allclose(rnn(layer(x)).numpy(),
                               rnn(x, mask=layer.compute_mask(x)).numpy(), atol=1e-6)


def test_time_distributed_passes_the_mask_through():
    x = data(2, 3, 4)
    out = layers.TimeDistributed(layers.Dense(2))(layers.Masking()(x))
    assert out.shape == (2, 3, 2)


# --- states ------------------------------------------------------------------------------


def test_stateful_layer_continues_where_it_stopped_until_reset():
    x = data(2, 6, 3)
    whole = layers.LSTM(4)
    whole(x)
    stateful = layers.LSTM(4, stateful=True)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), whole(x).numpy(), rtol=1e-5,
                               atol=1e-6)
    assert len(stateful.weights) == 3  # the states are not weights
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x).numpy(), whole(x).numpy(), rtol=1e-5, atol=1e-6)


def test_stateful_states_take_the_batch_size_of_the_first_call():
    model = keras.Sequential([keras.Input((4, 3)), layers.GRU(2, stateful=True)])
    assert model(data(2, 4, 3)).shape == (2, 2)
    assert model.layers[0].states[0].shape == (2, 2)
    with pytest.raises(ValueError, match="Expected batch size: 2"):
        model(data(3, 4, 3))
    unknown = tf.function(layers.GRU(2, stateful=True),
                          input_signature=[tf.TensorSpec((None, 4, 3))])
    with pytest.raises(ValueError, match="batch size must be static"):
        unknown(data(2, 4, 3))


def test_initial_state_is_used_and_returned_states_continue_a_sequence():
    x = data(2, 6, 3)
    layer = layers.LSTM(4, return_state=True)
    out, h, c = layer(x)
    _, h1, c1 = layer(x[:, :2])
    out2, h2, c2 = layer(x[:, 2:], initial_state=[h1, c1])
    for a, b in ((out, out2), (h, h2), (c, c2)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


# --- dropout ------------------------------------------------------------------------------


@pytest.mark.parametrize("recurrent_dropout", [0.0, 0.5], ids=["fused", "stepwise"])
def test_dropout_masks_are_fixed_across_time_and_only_in_training(recurrent_dropout):
    # Identity kernels and no activation: output_t = x_t * input_mask + ..., so with
    # x_t = 1 the input mask shows in the first step and must repeat at every step.
    layer = layers.SimpleRNN(6, activation=None, use_bias=False, dropout=0.5,
                             recurrent_dropout=recurrent_dropout, return_sequences=True)
    layer.build((None, 5, 6))
    layer.set_weights([np.eye(6, dtype=np.float32), np.zeros((6, 6), np.float32)])
    x = np.ones((4, 5, 6), np.float32)
    out = layer(x, training=True).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0} and 0.0 in out and 2.0 in out
    np.testing.assert_array_equal(out, np.repeat(out[:, :1], 5, axis=1))
    assert not np.array_equal(layer(x, training=True).numpy(), out)  # a new draw per call
    np.testing.assert_array_equal(layer(x).numpy(), x)


def test_lstm_recurrent_dropout_draws_a_mask_per_gate():
    layer = layers.LSTM(3, dropout=0.3, recurrent_dropout=0.3)
    assert layer.cell.implementation == 1 and layer.cell._mask_count == 4
    x = data(2, 4, 3)
    layer(x)
    assert layer(x, training=True).shape == (2, 3)
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())


# --- configs, saving, sublayers ------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, activation="relu", dropout=0.1, go_backwards=True),
    lambda: layers.LSTM(3, unit_forget_bias=False, return_sequences=True,
                        kernel_regularizer="l2"),
    lambda: layers.GRU(3, reset_after=False, stateful=False, seed=4),
    lambda: layers.RNN([layers.LSTMCell(2), layers.GRUCell(3)], return_state=True),
    lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode="ave"),
    lambda: layers.TimeDistributed(layers.Dense(2)),
    lambda: layers.Embedding(10, 3, mask_zero=True),
    lambda: layers.Masking(mask_value=-1.0),
])
def test_config_round_trip_rebuilds_the_same_layer(make):
    layer = make()
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is type(layer)
    config, rebuilt = layer.get_config(), again.get_config()
    config.pop("name")
    rebuilt.pop("name")
    assert _without_seeds(config) == _without_seeds(rebuilt)


def _without_seeds(value):
    if isinstance(value, dict):
        return {k: _without_seeds(v) for k, v in value.items() if k not in ("seed", "name")}
    if isinstance(value, list):
        return [_without_seeds(v) for v in value]
    return value


def test_model_with_recurrent_layers_saves_and_loads(tmp_path):
    def build():
        return keras.Sequential([
            keras.Input((5,), dtype="int32"), layers.Embedding(9, 4, mask_zero=True),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
            layers.TimeDistributed(layers.Dense(2)), layers.GRU(2)])

    model = build()
    ids = R.integers(0, 9, (3, 5)).astype(np.int32)
    model.save_weights(tmp_path / "m.weights.h5")
    other = build()
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(other(ids).numpy(), model(ids).numpy(), atol=1e-6)
    rebuilt = keras.Sequential.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt(ids).numpy(), model(ids).numpy(), atol=1e-6)


def test_weights_regularizers_and_freezing_reach_the_cells():
    layer = layers.Bidirectional(layers.GRU(2, kernel_regularizer="l2"))
    layer(data(2, 3, 4))
    halves = (layer.forward_layer.name, layer.backward_layer.name)
    assert halves[0].startswith("forward_gru") and halves[1].startswith("backward_gru")
    assert [w.path for w in layer.weights] == [
        f"{layer.name}/{half}/gru_cell/{w}" for half in halves
        for w in ("kernel", "recurrent_kernel", "bias")]
    assert len(layer.losses) == 2
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 6
    assert not layer.forward_layer.cell.trainable


def test_output_shapes_and_summary():
    assert layers.LSTM(4, return_sequences=True, return_state=True).compute_output_shape(
        (None, 7, 3)) == ((None, 7, 4), (None, 4), (None, 4))
    assert layers.Bidirectional(layers.GRU(2)).compute_output_shape((None, 7, 3)) == (None, 4)
    assert layers.TimeDistributed(layers.Dense(5)).compute_output_shape((2, 7, 3)) == (2, 7, 5)
    assert layers.Embedding(9, 4).compute_output_shape((None, 6)) == (None, 6, 4)
    model = keras.Sequential([keras.Input((7, 3)), layers.SimpleRNN(4)])
    assert model.count_params() == 3 * 4 + 4 * 4 + 4


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make, error, fragment", [
    (lambda: layers.LSTM(0), ValueError, "positive integer"),
    (lambda: layers.GRU(2, kernel_constraint="non_neg"), NotImplementedError,
     "kernel_constraint"),
    (lambda: layers.LSTM(2, use_cudnn="yes"), ValueError, "use_cudnn"),
    (lambda: layers.LSTM(2)(data(2, 3)), ValueError, "(batch, time, features)"),
    (lambda: layers.LSTM(2)(data(2, 0, 3)), ValueError, "length 0"),
    (lambda: layers.LSTM(2)(data(2, 3, 3), initial_state=[data(2, 2)]), ValueError,
     "2 states"),
    (lambda: layers.LSTM(2)(data(2, 3, 3), mask=np.ones((2, 3, 4), bool)), ValueError,
     "(batch, time)"),
    (lambda: layers.LSTM(2, use_cudnn=True)(data(2, 3, 3)), ValueError, "cuDNN"),
    (lambda: layers.Bidirectional(layers.LSTM(2), merge_mode="max"), ValueError,
     "Invalid merge mode"),
    (lambda: layers.Bidirectional(layers.LSTM(2, go_backwards=True)), ValueError,
     "go_backwards"),
    (lambda: layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2)),
     ValueError, "go_backwards"),
    (lambda: layers.TimeDistributed(lambda v: v), ValueError, "Layer` instance"),
    (lambda: layers.TimeDistributed(layers.Dense(2))(data(2, 3)), ValueError,
     "at least 3 dimensions"),
    (lambda: layers.RNN(object()), ValueError, "`call` method"),
    (lambda: layers.Embedding(0, 3), ValueError, "input_dim"),
    (lambda: layers.Embedding(5, 3)(np.array([[1, 5]])), tf.errors.InvalidArgumentError,
     "[0, 5)"),
])
def test_bad_arguments_raise_clear_errors(make, error, fragment):
    with pytest.raises(error) as info:
        make()
    assert fragment in str(info.value)


def test_unroll_needs_a_known_length():
    layer = layers.LSTM(3, unroll=True)
    np.testing.assert_allclose(layer(data(2, 4, 3)).numpy().shape, (2, 3))
    f = tf.function(layer, input_signature=[tf.TensorSpec((None, None, 3))])
    with pytest.raises(ValueError, match="Cannot unroll"):
        f(data(2, 4, 3))


def test_compiled_embedding_refuses_indices_out_of_range():
    layer = layers.Embedding(5, 3)
    f = tf.function(lambda ids: layer(ids))
    f(np.array([[1, 4]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        f(np.array([[1, 5]]))


# --- training ---------------------------------------------------------------------------


@pytest.mark.parametrize("recurrent", [
    lambda: layers.LSTM(16), lambda: layers.GRU(16),
    lambda: layers.Bidirectional(layers.SimpleRNN(8)),
    lambda: layers.RNN(layers.GRUCell(16, activation=_softsign)),
], ids=["lstm", "gru", "bidirectional", "stepwise"])
def test_fit_learns_which_half_of_a_sequence_is_larger(recurrent):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(512, 8, 1)).astype(np.float32)
    y = (x[:, :4].sum(axis=(1, 2)) > x[:, 4:].sum(axis=(1, 2))).astype(np.int32)
    tf.random.set_seed(1)
    model = keras.Sequential([keras.Input((8, 1)), recurrent(),
                              layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    assert history.history["accuracy"][-1] > 0.85


FASHION = Path(__file__).resolve().parents[3] / "shared" / "data" / "fashion-mnist"


@pytest.mark.slow
def test_lstm_learns_fashion_mnist_rows():
    """The lab's sequence exercise: an LSTM(128) reads each image as 28 rows of 28."""
    if not (FASHION / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"no Fashion-MNIST files in {FASHION}")

    def read(name, offset):
        with gzip.open(FASHION / name) as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)

    x = read("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:19_200] / 255.0
    y = read("train-labels-idx1-ubyte.gz", 8)[:19_200]
    x_test = read("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)[:5_000] / 255.0
    y_test = read("t10k-labels-idx1-ubyte.gz", 8)[:5_000]
    tf.random.set_seed(0)
    model = keras.Sequential([keras.Input((28, 28)), layers.LSTM(128),
                              layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x.astype(np.float32), y, batch_size=64, epochs=1, verbose=0)  # 300 steps
    accuracy = model.evaluate(x_test.astype(np.float32), y_test, verbose=0)[1]
    assert accuracy > 0.7
