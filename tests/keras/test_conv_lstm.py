"""ConvLSTM1D/2D/3D: Keras's weights, arguments and configs; a graph that does not grow
with the sequence; values and gradients against TensorFlow and finite differences."""

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras import layers

RNG = np.random.default_rng(7)

CASES = [  # (class name, input shape (batch, time, ...), arguments)
    ("ConvLSTM2D", (2, 4, 6, 5, 3), {"filters": 4, "kernel_size": 3}),
    ("ConvLSTM2D", (2, 3, 6, 6, 2), {"filters": 3, "kernel_size": (3, 2), "padding": "same",
                                     "return_sequences": True, "return_state": True}),
    ("ConvLSTM2D", (1, 3, 7, 7, 2), {"filters": 2, "kernel_size": 3, "strides": 2,
                                     "go_backwards": True, "return_sequences": True}),
    ("ConvLSTM2D", (2, 3, 7, 7, 2), {"filters": 2, "kernel_size": 2, "dilation_rate": 2,
                                     "padding": "same", "activation": "relu",
                                     "recurrent_activation": "hard_sigmoid"}),
    ("ConvLSTM2D", (2, 3, 2, 5, 5), {"filters": 3, "kernel_size": 3, "padding": "same",
                                     "data_format": "channels_first",
                                     "return_sequences": True, "return_state": True}),
    ("ConvLSTM1D", (2, 5, 8, 3), {"filters": 4, "kernel_size": 3, "return_sequences": True}),
    ("ConvLSTM3D", (1, 3, 4, 4, 4, 2), {"filters": 2, "kernel_size": 2, "padding": "same",
                                        "use_bias": False}),
]


def _inputs(shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _weights(layer):
    """Random weights for a built layer (not Keras's initial ones, so that the bias and
    every gate matter)."""
    return [RNG.standard_normal(tuple(w.shape)).astype(np.float32) * 0.3 for w in layer.weights]


def _nodes(fn, spec) -> int:
    return len(tf.function(fn, input_signature=[spec]).get_concrete_function().graph.nodes)


@pytest.mark.tensorflow
@pytest.mark.parametrize("kind, shape, arguments", CASES)
def test_values_and_gradients_match_tensorflow(kind, shape, arguments):
    keras = pytest.importorskip("tensorflow").keras
    real_tf = pytest.importorskip("tensorflow")
    x = _inputs(shape)
    first = arguments.get("data_format") == "channels_first"
    # TensorFlow's CPU convolutions refuse channels_first: compare with channels_last there.
    last = {**arguments, "data_format": "channels_last"}
    ours, theirs = getattr(layers, kind)(**arguments), getattr(keras.layers, kind)(**last)
    ours(x)
    x_last = np.moveaxis(x, 2, -1) if first else x
    theirs(x_last)
    values = _weights(ours)
    assert [tuple(w.shape) for w in theirs.weights] == [v.shape for v in values]
    ours.set_weights(values)
    theirs.set_weights(values)
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        out = tf.nest.flatten(ours(xt))
        loss = sum(tf.reduce_sum(o * o) for o in out)
    grads = tape.gradient(loss, [xt, *ours.trainable_weights])
    with real_tf.GradientTape() as tape:
        xr = real_tf.constant(x_last)
        tape.watch(xr)
        expected = real_tf.nest.flatten(theirs(xr))
        loss_r = sum(real_tf.reduce_sum(o * o) for o in expected)
    grads_r = tape.gradient(loss_r, [xr, *theirs.trainable_weights])
    assert len(out) == len(expected)

    def channels_last(a, time=True):
        a = a.numpy()
        return np.moveaxis(a, 2 if time and a.ndim == x.ndim else 1, -1) if first else a

    for a, b in zip(out, expected):
        np.testing.assert_allclose(channels_last(a), b.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(channels_last(grads[0]), grads_r[0].numpy(), rtol=1e-3,
                               atol=1e-4)
    for a, b in zip(grads[1:], grads_r[1:]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.tensorflow
@pytest.mark.parametrize("kind, arguments", [
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 3}),
    ("ConvLSTM1D", {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same",
                    "dropout": 0.1, "recurrent_dropout": 0.2, "seed": 3,
                    "return_sequences": True, "stateful": True}),
])
def test_config_and_weight_names_match_keras(kind, arguments):
    keras = pytest.importorskip("tensorflow").keras
    ours, theirs = getattr(layers, kind)(**arguments), getattr(keras.layers, kind)(**arguments)
    shape = (2, 3, 6, 6, 2) if kind == "ConvLSTM2D" else (2, 3, 6, 2)
    ours(_inputs(shape))
    theirs(_inputs(shape))
    config, expected = ours.get_config(), theirs.get_config()
    assert sorted(config) == sorted(expected)
    for key, value in expected.items():
        if key.endswith("_initializer"):  # Keras adds module and registration fields
            assert config[key]["class_name"] == value["class_name"], key
        elif key not in ("name", "dtype"):
            assert config[key] == value, key
    assert ours.name.rstrip("_0123456789") == theirs.name.rstrip("_0123456789")
    assert [w.path.split("/", 1)[1] for w in ours.weights] == \
        [w.path.split("/", 1)[1] for w in theirs.weights]
    assert ours.compute_output_shape((None, *shape[1:])) == \
        theirs.compute_output_shape((None, *shape[1:]))


@pytest.mark.tensorflow
def test_masked_steps_match_tensorflow():
    keras = pytest.importorskip("tensorflow").keras
    x = _inputs((3, 4, 5, 5, 2))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 0], [1, 1, 1, 1]], bool)
    ours = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    theirs = keras.layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)
    ours(x)
    theirs(x)
    values = _weights(ours)
    ours.set_weights(values)
    theirs.set_weights(values)
    np.testing.assert_allclose(ours(x, mask=mask).numpy(),
                               np.asarray(theirs(x, mask=mask)), rtol=1e-4, atol=1e-5)


def test_graph_does_not_grow_with_the_sequence():
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)

    def train_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, layer.trainable_weights)

    short = tf.TensorSpec((None, 3, 5, 5, 1))
    long = tf.TensorSpec((None, 40, 5, 5, 1))
    assert _nodes(lambda x: layer(x), short) == _nodes(lambda x: layer(x), long)
    assert _nodes(train_step, short) == _nodes(train_step, long)


@pytest.mark.parametrize("arguments", [
    {"return_sequences": True, "return_state": True},
    {"go_backwards": True, "padding": "valid", "strides": 2},
    {"data_format": "channels_first", "return_sequences": True},
])
def test_compiled_matches_eager_with_gradients(arguments):
    layer = layers.ConvLSTM2D(3, 3, **{"padding": "same", **arguments})
    first = arguments.get("data_format") == "channels_first"
    x = _inputs((2, 5, 3, 7, 7) if first else (2, 5, 7, 7, 3))

    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = tf.nest.flatten(layer(x))
            loss = sum(tf.reduce_sum(o * o) for o in out)
        return out, tape.gradient(loss, [x, *layer.trainable_weights])

    eager = step(tf.constant(x))
    for spec in (None, tf.TensorSpec((None, None, *x.shape[2:]))):
        fn = tf.function(step, input_signature=None if spec is None else [spec])
        compiled = fn(tf.constant(x))
        # Compiled code may sum in another order: float32 rounding, not a different result.
        for a, b in zip(tf.nest.flatten(eager), tf.nest.flatten(compiled)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4, atol=2e-5)


def test_gradients_match_finite_differences():
    layer = layers.ConvLSTM2D(2, 2, padding="same", return_sequences=True, dtype="float64")
    x = RNG.standard_normal((1, 3, 3, 3, 2))
    layer(x)
    layer.set_weights([RNG.standard_normal(tuple(w.shape)) * 0.5 for w in layer.weights])

    def loss(inputs):
        return tf.reduce_sum(tf.sin(layer(inputs)))

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        value = loss(xt)
    grads = tape.gradient(value, [xt, *layer.trainable_weights])
    eps = 1e-6
    for target, grad in zip([None, *layer.trainable_weights], grads):
        base = x if target is None else target.numpy()
        for index in list(np.ndindex(base.shape))[::max(1, base.size // 12)]:
            shifted = []
            for sign in (1, -1):
                moved = base.copy()
                moved[index] += sign * eps
                if target is None:
                    shifted.append(float(loss(tf.constant(moved))))
                else:
                    target.assign(moved)
                    shifted.append(float(loss(xt)))
            if target is not None:
                target.assign(base)
            numeric = (shifted[0] - shifted[1]) / (2 * eps)
            assert abs(grad.numpy()[index] - numeric) < 1e-6 * max(1.0, abs(numeric))


def test_matches_the_cell_stepped_over_time():
    layer = layers.ConvLSTM2D(3, 3, padding="same", return_sequences=True,
                              return_state=True)
    x = _inputs((2, 4, 5, 5, 2))
    sequence, h, c = layer(x)
    cell = layer.cell
    states = cell.get_initial_state(batch_size=2)
    for t in range(4):
        out, states = cell(x[:, t], states)
        np.testing.assert_allclose(sequence[:, t].numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), states[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), states[1].numpy(), rtol=1e-5, atol=1e-6)


def test_initial_state_and_stateful_continue_a_sequence():
    x = _inputs((2, 6, 4, 4, 1))
    whole = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    out, h, c = whole(x)
    half = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)
    half(x)
    half.set_weights(whole.get_weights())
    _, h1, c1 = half(x[:, :3])
    again, _, _ = half(x[:, 3:], initial_state=[h1, c1])
    np.testing.assert_allclose(again.numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful = layers.ConvLSTM2D(2, 3, padding="same", stateful=True)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_state()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful.reset_state()
    assert not np.allclose(stateful(x[:, 3:]).numpy(), out.numpy())


def test_dropout_applies_only_in_training():
    layer = layers.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5,
                              seed=1)
    x = _inputs((2, 3, 4, 4, 2))
    plain = layers.ConvLSTM2D(2, 3, padding="same")
    plain(x)
    layer(x)
    layer.set_weights(plain.get_weights())
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy(), rtol=1e-6)
    trained = layer(x, training=True).numpy()
    assert trained.shape == (2, 4, 4, 2)
    assert not np.allclose(trained, plain(x).numpy())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True))
    assert all(g is not None for g in tape.gradient(loss, layer.trainable_weights))


def test_config_round_trip_and_saved_model(tmp_path):
    layer = layers.ConvLSTM2D(3, (2, 3), strides=(1, 2), padding="same",
                              recurrent_dropout=0.1, return_sequences=True)
    again = layers.deserialize(layers.serialize(layer))
    assert type(again) is layers.ConvLSTM2D
    config, rebuilt = layer.get_config(), again.get_config()
    assert {k: v for k, v in config.items() if k != "name"} == \
        {k: v for k, v in rebuilt.items() if k != "name"}
    model = tf.keras.Sequential([tf.keras.Input((3, 6, 6, 1)),
                                 layers.ConvLSTM2D(2, 3, padding="same"),
                                 layers.Flatten(), layers.Dense(1)])
    x = _inputs((4, 3, 6, 6, 1))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_a_model_learns_with_fit():
    # Is the bright pixel in the last frame to the left or the right?
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 5, 5, 1)).astype(np.float32) * 0.1
    y = rng.integers(0, 2, 64)
    x[np.arange(64), 2, 2, np.where(y == 1, 4, 0), 0] += 3.0
    model = tf.keras.Sequential([tf.keras.Input((3, 5, 5, 1)),
                                 layers.ConvLSTM2D(4, 3, padding="same"),
                                 layers.Flatten(), layers.Dense(2)])
    model.compile(tf.keras.optimizers.Adam(0.01),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.5 * history[0]


@pytest.mark.parametrize("make, fragment", [
    (lambda: layers.ConvLSTM2D(0, 3), "filters"),
    (lambda: layers.ConvLSTM2D(2, (3, 3, 3)), "kernel_size"),
    (lambda: layers.ConvLSTM2D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.ConvLSTM2D(2, 3, padding="causal"), "padding"),
    (lambda: layers.ConvLSTM2D(2, 3, kernel_constraint="non_neg"), "kernel_constraint"),
])
def test_bad_arguments_raise_clear_errors(make, fragment):
    with pytest.raises((ValueError, NotImplementedError), match=fragment):
        make()


def test_inputs_of_the_wrong_rank_are_refused():
    with pytest.raises(ValueError, match="rank 5"):
        layers.ConvLSTM2D(2, 3)(np.zeros((2, 3, 4, 1), np.float32))
