"""Subclassing: Layer and Model subclasses, and the steps Keras lets a model override.

The Keras guides' patterns run unchanged: ``x, y = data`` in ``train_step``,
``compile(optimizer=...)`` alone when ``train_step`` computes its own loss, layers kept in
attributes, lists and dicts.
"""

from __future__ import annotations

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)
X = R.normal(size=(64, 4)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5, 3.0], np.float32) + 0.5)[:, None]


class Linear(keras.layers.Layer):
    """The Keras guide's layer: weights made in build from the input shape."""

    def __init__(self, units=1, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1], self.units), "random_normal")
        self.b = self.add_weight("b", (self.units,), "zeros")

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Blocks(keras.Model):
    def __init__(self):
        super().__init__()
        self.by_list = [layers.Dense(8, activation="relu"), layers.Dense(8, activation="relu")]
        self.by_dict = {"head": Linear(1)}

    def call(self, inputs):
        x = inputs
        for layer in self.by_list:
            x = layer(x)
        return self.by_dict["head"](x)


def test_custom_layer_builds_from_its_input_and_round_trips_its_config():
    layer = Linear(3)
    assert layer(X).shape == (64, 3)
    assert [w.path for w in layer.weights] == [f"{layer.name}/w", f"{layer.name}/b"]
    again = Linear.from_config(layer.get_config())
    assert again.units == 3 and again.name == layer.name


def test_layers_in_lists_and_dicts_are_tracked_and_trained():
    model = Blocks()
    model.compile(keras.optimizers.Adam(0.02), "mse")
    history = model.fit(X, Y, epochs=30, batch_size=16, verbose=0)
    assert len(model.trainable_weights) == 6
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]


class GuideModel(keras.Model):
    """The "customizing fit" guide: its own loss, gradients, metrics."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae = keras.metrics.MeanAbsoluteError(name="mae")
        self.seen = []

    def call(self, inputs):
        return self.dense(inputs)

    def train_step(self, data):
        x, y = data
        self.seen.append(type(data).__name__)
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(tf.square(y - y_pred))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.mae.update_state(y, y_pred)
        return {"mae": self.mae.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae]


def test_train_step_receives_x_y_and_compile_needs_only_an_optimizer():
    model = GuideModel()
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(X, Y, epochs=20, batch_size=16, verbose=0)
    assert set(model.seen) == {"tuple"}
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    mae = model.evaluate(X, Y, verbose=0)
    np.testing.assert_allclose(mae, np.abs(model.predict(X, verbose=0) - Y).mean(), rtol=1e-4)


def test_train_step_gets_the_sample_weight_when_there_is_one():
    received = []

    class Weighted(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
            received.append(len(data))
            return super().train_step(data)

    model = Weighted()
    model.compile("sgd", "mse")
    model.fit(X, Y, sample_weight=np.ones(64), epochs=1, batch_size=32, verbose=0)
    model.fit(X, Y, epochs=1, batch_size=32, verbose=0)
    assert received == [3, 3, 2, 2]


def test_predict_step_receives_x_alone():
    received = []

    class Doubling(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def predict_step(self, data):
            received.append(type(data).__name__)
            return 2.0 * self(data)

    model = Doubling()
    out = model.predict(X, batch_size=32, verbose=0)
    assert received == ["Tensor", "Tensor"]
    np.testing.assert_allclose(out, 2.0 * model(X).numpy(), rtol=1e-6)


def test_pack_and_unpack_agree_with_keras_forms():
    pack, unpack = keras.utils.pack_x_y_sample_weight, keras.utils.unpack_x_y_sample_weight
    x, y, w = np.ones(2), np.zeros(2), np.full(2, 3.0)
    assert pack(x) is x and pack([x, y]) == ([x, y],)
    assert pack(x, y) == (x, y) and pack(x, y, w) == (x, y, w)
    assert unpack(x) == (x, None, None) and unpack((x,)) == (x, None, None)
    assert unpack((x, y)) == (x, y, None) and unpack([x, y, w]) == (x, y, w)
    with pytest.raises(ValueError, match="format"):
        unpack((x, y, w, w))


def test_a_model_without_a_train_step_still_needs_a_loss():
    model = Blocks()
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(X, Y, verbose=0)


def test_a_layer_holding_layers_trains_them_and_counts_their_weights():
    """Keras 3: a Layer's weights are its own, then those of layers in its attributes."""

    class Block(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.scale = None
            self.inner = [keras.layers.Dense(4, activation="relu"), keras.layers.Dense(4)]

        def build(self, input_shape):
            self.scale = self.add_weight("scale", (4,), initializer="ones")

        def call(self, x):
            return x * self.scale + self.inner[1](self.inner[0](x))

    block = Block()
    model = keras.Sequential([keras.Input((4,)), block, keras.layers.Dense(1)])
    assert [w.name for w in block.weights] == ["scale", "kernel", "bias", "kernel", "bias"]
    assert len(model.trainable_weights) == 7
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((64, 4)).astype("float32")
    before = [w.numpy().copy() for w in block.weights]
    model.fit(x, x.sum(axis=1, keepdims=True), epochs=2, verbose=0)
    assert all(np.abs(b - w.numpy()).max() > 0 for b, w in zip(before, block.weights))
    block.trainable = False
    assert len(model.trainable_weights) == 2 and not block.inner[0].trainable
