"""tf.Module: variables and modules found in attributes, in TensorFlow's order."""

from __future__ import annotations

import pytest

import neuroflow as tf
from neuroflow import keras


class Inner(tf.Module):
    def __init__(self):
        super().__init__(name="inner")
        self.v = tf.Variable(6.0, name="v")
        self.deeper = tf.Module()


class Outer(tf.Module):
    def __init__(self):
        super().__init__()
        self.b = tf.Variable(1.0, name="b")
        self.a = [tf.Variable(2.0, name="a0"),
                  {"y": tf.Variable(3.0, name="ay"),
                   "x": tf.Variable(4.0, name="ax", trainable=False)}]
        self.sub = Inner()
        self.z = tf.Variable(5.0, name="z")
        self.again = self.b  # the same variable twice counts once


def _names(variables):
    return [v.name.split(":")[0] for v in variables]


def test_variables_and_submodules_in_tensorflows_order():
    # The order TensorFlow 2.21 gives for the same module (test_module_matches_tensorflow).
    module = Outer()
    assert _names(module.variables) == ["a0", "ax", "ay", "b", "z", "v"]
    assert _names(module.trainable_variables) == ["a0", "ay", "b", "z", "v"]
    assert _names(module.non_trainable_variables) == ["ax"]
    assert [m.name for m in module.submodules] == ["inner", "module"]
    assert module.name == "outer" and module.name_scope.name == "outer/"


@pytest.mark.parametrize("cls_name, expected", [("MyModule", "my_module"),
                                                ("HTTPServer", "http_server"),
                                                ("M", "m"), ("Layer2D", "layer2_d")])
def test_default_names(cls_name, expected):
    assert type(cls_name, (tf.Module,), {})().name == expected


def test_bad_name():
    with pytest.raises(ValueError, match="valid Python identifiers"):
        tf.Module(name="bad name")


def test_keras_layers_count_with_their_weights():
    class Holder(tf.Module):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)
            self.dense.build((None, 3))
            self.scale = tf.Variable(1.0)

    holder = Holder()
    assert len(holder.trainable_variables) == 3  # kernel, bias, scale
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(holder.dense(tf.ones([1, 3])) * holder.scale)
    grads = tape.gradient(y, holder.trainable_variables)
    assert all(g is not None for g in grads)


@pytest.mark.tensorflow
def test_module_matches_tensorflow():
    real = pytest.importorskip("tensorflow")

    def build(lib):
        class In(lib.Module):
            def __init__(self):
                super().__init__(name="inner")
                self.v = lib.Variable(6.0, name="v")
                self.deeper = lib.Module()

        class Out(lib.Module):
            def __init__(self):
                super().__init__()
                self.b = lib.Variable(1.0, name="b")
                self.a = [lib.Variable(2.0, name="a0"),
                          {"y": lib.Variable(3.0, name="ay"),
                           "x": lib.Variable(4.0, name="ax", trainable=False)}]
                self.sub = In()
                self.z = lib.Variable(5.0, name="z")
        return Out()

    ours, theirs = build(tf), build(real)
    for what in ("variables", "trainable_variables", "non_trainable_variables"):
        assert _names(getattr(ours, what)) == _names(getattr(theirs, what))
    assert [m.name for m in ours.submodules] == [m.name for m in theirs.submodules]
    assert ours.name == theirs.name and ours.name_scope.name == theirs.name_scope.name
