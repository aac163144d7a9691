"""Models with several inputs and outputs: losses, weights and metrics per output.

The total loss is the weighted sum of the per-output losses, each logged as
``{output}_loss``, and metrics as ``{output}_{metric}``, as Keras 3 logs them; Keras is
the oracle in tests/oracle/test_tf_keras_functional.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras import layers

R = np.random.default_rng(0)
XA, XB = R.normal(size=(48, 4)).astype(np.float32), R.normal(size=(48, 3)).astype(np.float32)
Y_CLS = R.integers(0, 3, 48)
Y_REG = R.normal(size=(48, 1)).astype(np.float32)


def two_heads():
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(6, activation="relu")(a), layers.Dense(6)(b)])
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    return keras.Model([a, b], [cls, reg])


def _losses_by_hand(model, x, y_cls, y_reg):
    cls, reg = (t.numpy() for t in model(x))
    xent = -np.log(cls[np.arange(len(y_cls)), y_cls]).mean()
    mse = ((reg - y_reg) ** 2).mean()
    return xent, mse


def test_evaluate_gives_the_weighted_sum_and_each_outputs_loss_and_metrics():
    model = two_heads()
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["mae"]])
    logs = model.evaluate([XA, XB], [Y_CLS, Y_REG], verbose=0, return_dict=True)
    xent, mse = _losses_by_hand(model, [XA, XB], Y_CLS, Y_REG)
    assert set(logs) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"}
    np.testing.assert_allclose([logs["cls_loss"], logs["reg_loss"], logs["loss"]],
                               [xent, mse, xent + 0.5 * mse], rtol=1e-5)
    cls, reg = model.predict([XA, XB], verbose=0)
    np.testing.assert_allclose(logs["cls_accuracy"], (cls.argmax(1) == Y_CLS).mean(), rtol=1e-6)
    np.testing.assert_allclose(logs["reg_mae"], np.abs(reg - Y_REG).mean(), rtol=1e-5)


def test_dicts_by_output_name_equal_lists_in_output_order():
    model = two_heads()
    model.compile("sgd", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 2.0, "reg": 1.0}, metrics={"cls": "accuracy"})
    by_dict = model.evaluate({"a": XA, "b": XB}, {"cls": Y_CLS, "reg": Y_REG}, verbose=0,
                             return_dict=True)
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"],
                  loss_weights=[2.0, 1.0], metrics=["accuracy", None])
    by_list = model.evaluate([XA, XB], [Y_CLS, Y_REG], verbose=0, return_dict=True)
    assert by_dict == pytest.approx(by_list)
    assert "reg_mae" not in by_dict and "cls_accuracy" in by_dict


def test_one_loss_serves_every_output_and_an_output_without_a_loss_is_not_trained_on():
    model = two_heads()
    model.compile("sgd", loss={"reg": "mse"})
    logs = model.evaluate([XA, XB], [Y_CLS, Y_REG], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reg_loss"}
    np.testing.assert_allclose(logs["loss"], _losses_by_hand(model, [XA, XB], Y_CLS, Y_REG)[1],
                               rtol=1e-5)
    same = two_heads()
    same.compile("sgd", loss="mse")
    y = [np.eye(3)[Y_CLS], Y_REG]
    logs = same.evaluate([XA, XB], y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["cls_loss"] + logs["reg_loss"], rtol=1e-6)


def test_fit_trains_every_head_compiled_and_predict_returns_one_array_per_output():
    keras.utils.set_random_seed(0)
    model = two_heads()
    model.compile(keras.optimizers.Adam(0.02), loss=["sparse_categorical_crossentropy", "mse"])
    history = model.fit([XA, XB], [Y_CLS, Y_REG], epochs=30, batch_size=16, verbose=0)
    for key in ("loss", "cls_loss", "reg_loss"):
        assert history.history[key][-1] < 0.8 * history.history[key][0], key
    cls, reg = model.predict([XA, XB], batch_size=20, verbose=0)
    assert cls.shape == (48, 3) and reg.shape == (48, 1)
    eager_cls, eager_reg = model([XA, XB])
    np.testing.assert_allclose(cls, eager_cls.numpy(), rtol=1e-5, atol=1e-6)


def test_a_single_output_model_takes_loss_weights():
    a = keras.Input((4,))
    model = keras.Model(a, layers.Dense(1)(a))
    model.compile("sgd", "mse")
    plain = model.evaluate(XA, Y_REG, verbose=0)
    model.compile("sgd", "mse", loss_weights=[3.0])
    np.testing.assert_allclose(model.evaluate(XA, Y_REG, verbose=0), 3 * plain, rtol=1e-6)


@pytest.mark.parametrize("compile_kwargs, message", [
    (dict(loss=["mse"]), "has 1 entries but the model has 2 outputs"),
    (dict(loss={"nope": "mse"}), "names outputs \\['nope'\\]"),
    (dict(loss="mse", loss_weights=2.0), "must be a list with one entry per output"),
    (dict(loss="mse", metrics=["mae"]), "one entry per output"),
    (dict(loss={"cls": None}), "no loss for any of the outputs"),
])
def test_compile_errors_for_several_outputs(compile_kwargs, message):
    with pytest.raises(ValueError, match=message):
        two_heads().compile("sgd", **compile_kwargs)


def test_labels_must_come_one_per_output():
    model = two_heads()
    model.compile("sgd", loss=["sparse_categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match="one array per output"):
        model.evaluate([XA, XB], Y_REG, verbose=0)


def test_compile_argument_forms_for_one_and_several_outputs():
    with pytest.raises(ValueError, match="must be a list or a dict"):
        two_heads().compile("sgd", loss="mse", metrics="mae")
    a = keras.Input((4,))
    single = keras.Model(a, layers.Dense(1)(a))
    with pytest.raises(ValueError, match="dict of 2 entries"):
        single.compile("sgd", loss={"x": "mse", "y": "mae"})
    with pytest.raises(ValueError, match="has 2 entries"):
        single.compile("sgd", loss="mse", loss_weights=[1.0, 2.0])
    single.compile("sgd", loss={"only": "mse"}, loss_weights={"only": 2.0})
    plain = keras.Model(a, layers.Dense(1)(a))
    plain.set_weights(single.get_weights())
    plain.compile("sgd", "mse")
    np.testing.assert_allclose(single.evaluate(XA, Y_REG, verbose=0),
                               2 * plain.evaluate(XA, Y_REG, verbose=0), rtol=1e-6)
