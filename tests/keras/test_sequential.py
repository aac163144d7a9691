"""Sequential: building, calling, weights, freezing and Keras 3's summary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras import Sequential, layers

RNG = np.random.default_rng(1)
X = RNG.standard_normal((6, 4)).astype("float32")


@pytest.fixture(autouse=True)
def fresh_names(monkeypatch: pytest.MonkeyPatch):
    """Layer names start again at ``dense``; summaries are 76 columns as off a terminal."""
    keras.backend.clear_session()
    monkeypatch.setenv("COLUMNS", "80")


def lab_model(**input_kwargs) -> Sequential:
    model = Sequential()
    model.add(layers.InputLayer(**(input_kwargs or {"shape": [28, 28]})))
    model.add(layers.Flatten())
    model.add(layers.Dense(100, activation="relu"))
    model.add(layers.Dense(75, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    return model


LAB_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ flatten (Flatten)               │ (None, 784)            │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 100)            │        78,500 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 75)             │         7,575 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 10)             │           760 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 86,835 (339.20 KB)
 Trainable params: 86,835 (339.20 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_lab_model_summary_is_keras_3_table(capsys):
    with pytest.warns(UserWarning, match="`input_shape` is deprecated"):
        model = lab_model(input_shape=[28, 28])
    model.summary()
    assert capsys.readouterr().out == LAB_SUMMARY
    assert model.count_params() == 86835
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1", "dense_2"]


def test_summary_print_fn_gets_the_same_text():
    lines = []
    lab_model().summary(print_fn=lines.append)
    assert lines == [LAB_SUMMARY.rstrip("\n")]


def test_unbuilt_model_summary_shows_question_marks(capsys):
    model = Sequential([layers.Dense(10, activation="relu"), layers.Dropout(0.5),
                        layers.Dense(2)])
    assert not model.built
    model.summary()
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    # Keras 3: '?' shapes; '0 (unbuilt)' for layers with weights still to create.
    assert rows == [
        "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │",
        "│ dropout (Dropout)               │ ?                      │             0 │",
        "│ dense_1 (Dense)                 │ ?                      │   0 (unbuilt) │"]
    assert " Total params: 0 (0.00 B)" in out
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()


def test_summary_of_frozen_layer_and_optimizer_params(capsys):
    model = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.layers[0].trainable = False
    model.compile("sgd", "mse")
    model.summary()
    out = capsys.readouterr().out
    assert " Total params: 23 (92.00 B)" in out
    assert " Trainable params: 8 (32.00 B)" in out
    assert " Non-trainable params: 15 (60.00 B)" in out
    assert "Optimizer params" not in out
    model.fit(X, np.zeros((6, 2)), verbose=0)
    model.summary()
    out = capsys.readouterr().out
    # After fit the SGD optimizer holds an int64 step count and a float32 learning rate.
    assert " Total params: 25 (104.00 B)" in out
    assert out.rstrip().endswith(" Optimizer params: 2 (12.00 B)")


# --- building -----------------------------------------------------------------------------------


def test_list_constructor_add_and_pop():
    model = Sequential([layers.Input((4,)), layers.Dense(3)])
    assert model.built and model.output_shape == (None, 3)
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5) and model.count_params() == 15 + 20
    popped = model.pop()
    assert popped.name == "dense_1" and [layer.name for layer in model.layers] == ["dense"]
    assert model.built and model.output_shape == (None, 3)
    model.pop()
    assert model.layers == [] and not model.built
    with pytest.raises(IndexError):
        model.pop()


def test_input_layer_forms_are_equivalent():
    for first in (layers.Input(shape=(4,)), layers.InputLayer(shape=(4,)),
                  layers.InputLayer(batch_shape=(None, 4))):
        model = Sequential([first, layers.Dense(2)])
        assert model.built and model.input_shape == (None, 4)
        assert model.layers[0].kernel.shape == (4, 2)


def test_input_shape_on_first_layer_builds_with_keras_3_warning():
    with pytest.warns(UserWarning, match="prefer using an `Input\\(shape\\)` object"):
        model = Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 4) and model.count_params() == 23
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]


def test_model_without_input_builds_on_first_call_with_batch_dim_none():
    model = Sequential([layers.Flatten(), layers.Dense(3)])
    assert not model.built
    out = model(np.ones((2, 2, 2), "float32"))
    assert model.built and out.shape == (2, 3) and model.input_shape == (None, 2, 2)
    assert model.layers[1].kernel.shape == (4, 3)
    assert model(np.ones((7, 2, 2), "float32")).shape == (7, 3)  # any batch size
    assert model.layers[1]._output_shape_for_summary == (None, 3)


def test_model_call_matches_layer_by_layer_numpy():
    model = Sequential([layers.Input((4,)), layers.Dense(5, activation="relu"),
                        layers.Dense(3, activation="softmax")])
    (k1, b1), (k2, b2) = (layer.get_weights() for layer in model.layers)
    hidden = np.maximum(X @ k1 + b1, 0)
    logits = hidden @ k2 + b2
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model(X).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(model.predict(X, verbose=0), expected, rtol=1e-5)


def test_training_flag_reaches_dropout_inside_the_model():
    model = Sequential([layers.Input((50,)), layers.Dropout(0.5)])
    x = np.ones((40, 50), dtype="float32")
    np.testing.assert_array_equal(model(x).numpy(), x)
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)
    dropped = model(x, training=True).numpy()
    assert 0.3 < (dropped == 0).mean() < 0.7
    inner = Sequential([layers.Dropout(0.5)])
    outer = Sequential([layers.Input((50,)), inner])
    assert np.any(outer(x, training=True).numpy() == 0)
    np.testing.assert_array_equal(outer(x).numpy(), x)


def test_nested_sequential_weights_and_summary_row():
    inner = Sequential([layers.Dense(3)], name="block")
    model = Sequential([layers.Input((4,)), inner, layers.Dense(1)])
    assert model.count_params() == 15 + 4
    assert len(model.weights) == 4
    rows = []
    model.summary(print_fn=rows.append)
    assert "block (Sequential)" in rows[0] and "(None, 3)" in rows[0]


# --- weights ------------------------------------------------------------------------------------


def test_get_and_set_weights_round_trip():
    model = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 3), (3,), (3, 2), (2,)]
    new = [RNG.standard_normal(w.shape).astype("float32") for w in weights]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    before = model.get_weights()
    with pytest.raises(ValueError, match="length 3, but the model was expecting 4"):
        model.set_weights(new[:3])
    with pytest.raises(ValueError, match=r"has shape \(4, 3\)"):
        model.set_weights([np.zeros((3, 4))] + new[1:])
    for got, want in zip(model.get_weights(), before):  # nothing changed on error
        np.testing.assert_array_equal(got, want)


def test_freezing_a_layer_or_the_whole_model():
    model = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    first, second = model.layers
    first.trainable = False
    assert model.trainable_weights == [second.kernel, second.bias]
    assert model.non_trainable_weights == [first.kernel, first.bias]
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    assert not second.trainable  # propagated, as in Keras 3
    model.trainable = True
    assert len(model.trainable_weights) == 4


def test_frozen_layer_is_not_updated_by_fit():
    model = Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    trained = model.layers[1].get_weights()
    model.compile("sgd", "mse")
    model.fit(X, np.ones((6, 2)), epochs=2, verbose=0)
    for got, want in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(model.layers[1].get_weights()[0], trained[0])


def test_save_and_load_weights(tmp_path):
    model = Sequential([layers.Input((4,)), layers.Dense(3)])
    path = tmp_path / "model.weights.npz"
    model.save_weights(path)
    saved = model.get_weights()
    model.set_weights([np.zeros_like(w) for w in saved])
    model.load_weights(path)
    for got, want in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(got, want)
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.npz"]  # no temp files left
    with pytest.raises(FileExistsError):
        model.save_weights(path, overwrite=False)


def test_add_rejects_bad_layers():
    model = Sequential([layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add(3)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="a"))
    with pytest.raises(ValueError, match="first layer"):
        model.add(layers.InputLayer(shape=(3,)))


def test_no_warning_for_the_recommended_forms():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lab_model()
        Sequential([layers.Input(shape=(28, 28)), layers.Flatten()])
