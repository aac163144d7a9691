"""Errors of neuroflow.keras: Keras's error class where Keras raises for the same input, and a
message that says what was expected, what was received and how to fix it. One row per raise."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import neuroflow as tf
from neuroflow import config, keras
from neuroflow.keras import layers
from neuroflow.keras.callbacks import logging as callback_logging
from neuroflow.keras.datasets import CorruptDatasetError, _idx, fashion_mnist, mnist
from neuroflow.util import files

X = np.ones((4, 2), np.float32)
Y = np.ones((4, 1), np.float32)
ONE_HOT, PROBS = np.eye(3, dtype=np.float32)[[0, 1]], np.full((2, 4), 0.25, np.float32)
Dataset = tf.data.Dataset


@pytest.fixture(autouse=True)
def fresh_names():
    keras.backend.clear_session()


def _model(compiled: bool = True) -> keras.Sequential:
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    if compiled:
        model.compile(optimizer="sgd", loss="mse")
    return model


def _compiled_without_loss() -> keras.Sequential:
    model = _model(compiled=False)
    model.compile(optimizer="sgd")
    return model


def _pairs() -> Dataset:
    return Dataset.from_tensor_slices((X, Y)).batch(2)


def _built_sgd(count: int = 1) -> keras.optimizers.SGD:
    optimizer = keras.optimizers.SGD()
    optimizer.build([tf.Variable(1.0) for _ in range(count)])
    return optimizer


def _fit_with(callback) -> None:
    _model().fit(X, Y, epochs=1, verbose=0, callbacks=[callback])


def _folder(path):
    """``path`` created as a folder (a name a file was expected at)."""
    path.mkdir()
    return path


CASES = [
    # (id, call, error, phrases in the message)
    # losses
    ("cce-axis-bool", lambda: keras.losses.categorical_crossentropy(ONE_HOT, ONE_HOT, axis=True),
     ValueError, ["must be of type `int`", "axis=True", "axis=-1"]),
    ("cce-shape", lambda: keras.losses.categorical_crossentropy(ONE_HOT, PROBS), ValueError,
     ["target.shape=(2, 3), output.shape=(2, 4)", "sparse_categorical_crossentropy"]),
    ("scce-ignore-class",
     lambda: keras.losses.sparse_categorical_crossentropy([0, 1], PROBS, ignore_class=1),
     NotImplementedError, ["ignore_class is not supported", "ignore_class=1", "sample_weight 0"]),
    ("scce-axis", lambda: keras.losses.sparse_categorical_crossentropy([0, 1], PROBS, axis=0),
     ValueError, ["Only axis=-1", "axis=0", "class axis last"]),
    ("scce-label-count",
     lambda: keras.losses.sparse_categorical_crossentropy([0, 1, 2], PROBS), ValueError,
     ["target.shape=(3,)", "output.shape=(2, 4)", "one class index per sample"]),
    ("bce-shape", lambda: keras.losses.binary_crossentropy(np.ones((4,)), np.ones((4, 1))),
     ValueError, ["target.shape=(4,), output.shape=(4, 1)", "y.reshape(-1, 1)"]),
    ("loss-without-call", lambda: keras.losses.Loss()(Y, Y), NotImplementedError,
     ["Loss must implement call(y_true, y_pred)", "per-sample losses"]),
    ("loss-identifier", lambda: keras.losses.get(3), ValueError,
     ["Could not interpret loss identifier: 3", "such as 'mse'"]),
    ("loss-serialize-lambda", lambda: keras.losses.serialize(lambda y, p: y), ValueError,
     ["not a built-in loss", "Loss subclass"]),
    # optimizers and schedules
    ("optimizer-unknown-argument", lambda: keras.optimizers.SGD(lr=0.1), ValueError,
     ["not recognized: {'lr': 0.1}", "Check the spelling"]),
    ("optimizer-ema", lambda: keras.optimizers.SGD(use_ema=True), NotImplementedError,
     ["not supported yet", "use_ema=True", "Leave them at their defaults"]),
    ("apply-before-build", lambda: keras.optimizers.SGD().apply([tf.constant(1.0)]),
     ValueError, ["must already be built", "optimizer.build(trainable_variables)"]),
    ("apply-gradient-count", lambda: _built_sgd(1).apply([tf.constant(1.0)] * 2), ValueError,
     ["list of 2 gradients", "tracking 1 trainable", "apply(grads, variables)"]),
    ("optimizer-without-update-step",
     lambda: keras.optimizers.Optimizer(0.1).apply([tf.constant(1.0)], [tf.Variable(1.0)]),
     NotImplementedError, ["Optimizer must implement update_step(", "subclass defines"]),
    ("exclude-after-build", lambda: _built_sgd().exclude_from_weight_decay(var_names=["b"]),
     ValueError, ["before the optimizer is built", "already is", "right after creating"]),
    ("optimizer-identifier", lambda: keras.optimizers.get(3), ValueError,
     ["Could not interpret optimizer identifier: 3", "such as 'adam'"]),
    ("schedule-without-call", lambda: keras.optimizers.schedules.LearningRateSchedule()(1),
     NotImplementedError, ["'LearningRateSchedule' must override `__call__(self, step)`"]),
    ("schedule-without-config",
     lambda: keras.optimizers.schedules.LearningRateSchedule().get_config(),
     NotImplementedError, ["must override `get_config()`", "serializable"]),
    ("decay-steps-zero", lambda: keras.optimizers.schedules.ExponentialDecay(0.1, 0, 0.9),
     ValueError, ["must be > 0", "decay_steps=0", "decay_steps=1000"]),
    ("schedule-unknown-class",
     lambda: keras.optimizers.schedules.deserialize({"class_name": "Cosine"}), ValueError,
     ["Unknown learning rate schedule: 'Cosine'", "'ExponentialDecay'", "serialize() wrote"]),
    ("sgd-momentum", lambda: keras.optimizers.SGD(momentum=2), ValueError,
     ["between [0, 1]", "momentum=2", "0.9"]),
    # training loop and data
    ("fit-before-compile", lambda: _model(compiled=False).fit(X, Y, verbose=0), ValueError,
     ["must call `compile()` before using `fit()`", "model.compile(optimizer="]),
    ("fit-without-loss", lambda: _compiled_without_loss().fit(X, Y, verbose=0), ValueError,
     ["`fit()` needs a loss", "called without one", "Pass e.g. loss="]),
    ("validation-split-of-dataset", lambda: _model().fit(_pairs(), validation_split=0.5,
                                                         verbose=0),
     ValueError, ["only supported for NumPy arrays", "BatchDataset", "validation_data"]),
    ("predict-empty-dataset",
     lambda: _model().predict(Dataset.from_tensor_slices(X[:0]).batch(2), verbose=0),
     ValueError, ["received no data", "yielded no batches", "at least one sample"]),
    ("sample-and-class-weight", lambda: _model().fit(X, Y, sample_weight=np.ones(4),
                                                     class_weight={0: 1.0}, verbose=0),
     ValueError, ["cannot be specified at the same time", "Pass only one"]),
    ("class-weight-of-dataset", lambda: _model().fit(_pairs(), class_weight={0: 1.0},
                                                     verbose=0),
     ValueError, ["needs array labels `y`", "y=None", "(x, y, sample_weight)"]),
    ("list-of-none", lambda: _model().fit([[None, None]] * 4, Y, verbose=0), ValueError,
     ["holding NoneType values such as None", "Expected numbers", "np.array(rows"]),
    ("validation-split-above-one", lambda: _model().fit(X, Y, validation_split=1.5,
                                                        verbose=0),
     ValueError, ["between 0 and 1, received 1.5", "e.g. 0.2"]),
    ("validation-split-too-large", lambda: _model().fit(X, Y, validation_split=0.8,
                                                        verbose=0),
     ValueError, ["leaves no samples", "out of 4", "between 0.25 and 0.75"]),
    ("dataset-and-y", lambda: _model().fit(_pairs(), Y, verbose=0), ValueError,
     ["`y` argument is not supported when using a dataset", "yield (x, y) pairs"]),
    ("predict-none", lambda: _model().predict(None, verbose=0), ValueError,
     ["needs input data `x`; received None", "model.predict(x_train"]),
    # callbacks
    ("checkpoint-save-freq",
     lambda: keras.callbacks.ModelCheckpoint("m.keras", save_freq="batch"), ValueError,
     ["Unrecognized save_freq: 'batch'", "'epoch' or integer values"]),
    ("checkpoint-unknown-field",
     lambda: _fit_with(keras.callbacks.ModelCheckpoint("w_{acc}.npz", save_weights_only=True)),
     KeyError,
     ["Failed to format this callback filepath", "Reason: 'acc'", "epoch and the logged",
      "loss"]),
    ("lambda-callback-hook", lambda: keras.callbacks.LambdaCallback(at_end=print), TypeError,
     ["unknown hook 'at_end'", "on_epoch_end=fn"]),
    ("early-stopping-mode", lambda: keras.callbacks.EarlyStopping(mode="lowest"), ValueError,
     ["'auto', 'min' or 'max', received 'lowest'", "'min' for a loss"]),
    # initializers, metrics, regularizers, activations, backend
    ("initializer-without-call", lambda: keras.initializers.Initializer()((2,)),
     NotImplementedError, ["Initializer must implement __call__(shape, dtype)"]),
    ("identity-of-3d", lambda: keras.initializers.Identity()((2, 3, 4)), ValueError,
     ["only be used for 2D matrices", "rank 3", "another initializer"]),
    ("initializer-seed", lambda: keras.initializers.GlorotUniform(seed=1.5), ValueError,
     ["should be an integer", "seed=1.5", "seed=42"]),
    ("initializer-identifier", lambda: keras.initializers.get(3), ValueError,
     ["Could not interpret initializer identifier: 3", "'glorot_uniform'"]),
    ("metric-without-update", lambda: keras.metrics.Metric().update_state(1),
     NotImplementedError, ["Metric must implement update_state()", "accumulates"]),
    ("metric-without-result", lambda: keras.metrics.Metric().result(), NotImplementedError,
     ["Metric must implement result()", "computes its value"]),
    ("metric-identifier", lambda: keras.metrics.get(3), ValueError,
     ["Could not interpret metric identifier: 3", "'accuracy'"]),
    ("regularizer-identifier", lambda: keras.regularizers.get(3), ValueError,
     ["Could not interpret regularizer identifier: 3", "'l2'"]),
    ("activation-serialize-object", lambda: keras.activations.serialize(object()), TypeError,
     ["no name and no get_config()", "such as 'relu'"]),
    ("activation-config", lambda: keras.activations.deserialize(3), ValueError,
     ["activation config 3", "expected a name such as 'relu'"]),
    ("floatx-float64", lambda: keras.backend.set_floatx("float64"), ValueError,
     ["float32 only", "received 'float64'", "Leave floatx at 'float32'"]),
    # layers and models
    ("functional-model", lambda: keras.Model(keras.Input((2,)), layers.Dense(1)),
     ValueError, ["outputs of a functional model must be KerasTensors", "Dense"]),
    ("build-without-input",
     lambda: keras.Sequential([layers.Dense(1)]).build(), ValueError,
     ["provide an `input_shape`", "received none", "model.build((None, 784))"]),
    ("sequential-input-shape", lambda: keras.Sequential([layers.Dense(1)]).input_shape,
     AttributeError, ["has no input shape yet", "start it with an Input"]),
    ("layer-input-shape", lambda: layers.Dense(1).input_shape, AttributeError,
     ["never been called", "no defined input shape", "layer.build(input_shape)"]),
    ("input-shape-and-batch-shape",
     lambda: layers.InputLayer(shape=(2,), batch_shape=(None, 2)), ValueError,
     ["both `shape` and `batch_shape`", "shape=(2,), batch_shape=(None, 2)", "Pass only one"]),
    ("dense-built-on-a-vector", lambda: layers.Dense(2).build((3,)), ValueError,
     ["(batch, ..., features)", "received shape (3,)", "layer.build((None, 784))"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in CASES])
def test_error_class_and_message(call, error, phrases):
    with pytest.raises(error) as info:
        call()
    message = info.value.args[0] if isinstance(info.value, KeyError) else str(info.value)
    for phrase in phrases:
        assert phrase in message


# --- files -----------------------------------------------------------------------------------

def _weights_archive(path, members: dict[str, bytes]) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(path)


def _npy(array) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


FILE_CASES = [
    # (id, call taking tmp_path, error, phrases in the message)
    ("weights-member-damaged", lambda tmp: _model().load_weights(_weights_archive(
        tmp / "w.npz", {"0:kernel.npy": b"garbage", "1:bias.npy": _npy(np.zeros(1))})),
     ValueError, ["the archive cannot be read", "damaged or truncated",
                  "model.save_weights(path)"]),
    ("weights-not-numbered-in-order", lambda tmp: _model().load_weights(_weights_archive(
        tmp / "w.npz", {"0:kernel.npy": _npy(np.zeros((2, 1))),
                        "2:bias.npy": _npy(np.zeros(1))})),
     ValueError, ["not numbered 0 to 1", "model.save_weights(path)"]),
    ("checkpoint-into-a-folder", lambda tmp: _fit_with(keras.callbacks.ModelCheckpoint(
        str(_folder(tmp / "w.npz")), save_weights_only=True)), OSError,
     ["non-directory filepath", "existing directory", "checkpoint.npz"]),
]


@pytest.mark.parametrize("call, error, phrases",
                         [pytest.param(*row[1:], id=row[0]) for row in FILE_CASES])
def test_file_error_class_and_message(call, error, phrases, tmp_path):
    with pytest.raises(error) as info:
        call(tmp_path)
    for phrase in phrases:
        assert phrase in str(info.value)


def test_atomic_write_draws_another_name_when_one_is_taken(tmp_path, monkeypatch):
    taken = tmp_path / ".w.npz.taken.tmp"
    taken.write_bytes(b"someone else's")
    names = iter([str(taken), str(tmp_path / ".w.npz.free.tmp")])
    monkeypatch.setattr(files, "_temporary_name", lambda path: next(names))
    callback_logging.write_atomically(tmp_path / "w.npz", b"data")
    assert (tmp_path / "w.npz").read_bytes() == b"data"
    assert taken.read_bytes() == b"someone else's"


# --- datasets --------------------------------------------------------------------------------

@pytest.fixture
def cache(tmp_path, monkeypatch):
    """Cache and system folders in tmp_path; any download fails the test."""
    monkeypatch.setattr(config.settings, "datasets_dir", tmp_path / "cache")
    monkeypatch.setattr(config.settings, "system_dataset_dirs", (tmp_path / "system",))

    def no_network(url):
        raise AssertionError(f"the test tried to download {url}")

    monkeypatch.setattr(_idx, "_open_url", no_network)
    return tmp_path / "cache"


def _mnist_npz(path, **changes):
    arrays = {"x_train": np.zeros((3, 28, 28), np.uint8), "y_train": np.zeros(3, np.uint8),
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.zeros(2, np.uint8)}
    np.savez(path, **{**arrays, **changes})
    return path


@pytest.mark.parametrize("changes, phrase", [
    pytest.param({"y_train": np.array([0, 10, 1], np.uint8)}, "label 10 is out of range 0..9",
                 id="label-out-of-range"),
    pytest.param({"x_test": np.zeros((2, 28, 28), np.float32)},
                 "test arrays are float32/uint8, expected uint8", id="dtype"),
    pytest.param({"x_train": np.zeros((3, 28, 27), np.uint8)},
                 "x_train has shape (3, 28, 27), expected (n, 28, 28)", id="image-shape"),
    pytest.param({"y_test": np.zeros(5, np.uint8)},
                 "y_test has shape (5,), expected (2,) like x_test", id="label-count"),
])
def test_bad_mnist_npz(cache, tmp_path, changes, phrase):
    path = _mnist_npz(tmp_path / "mnist.npz", **changes)
    with pytest.raises(CorruptDatasetError) as info:
        mnist.load_data(path=path)
    assert phrase in str(info.value) and "Replace it with an intact copy" in str(info.value)


def test_unreadable_idx_files(cache, tmp_path, monkeypatch):
    folder = tmp_path / "fashion"
    folder.mkdir()
    for spec in fashion_mnist.FASHION_MNIST.files:
        (folder / spec.gz_name).write_bytes(b"")

    def no_permission(file, mode="r"):
        raise PermissionError(13, "Permission denied", os.fspath(file))

    monkeypatch.setattr(_idx, "open", no_permission, raising=False)
    with pytest.raises(CorruptDatasetError) as info:
        fashion_mnist.load_data(path=folder)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz: cannot be read (Permission denied)" in message
    assert "Pass a folder with intact copies" in message


def test_cache_still_empty_after_a_download(cache, monkeypatch):
    monkeypatch.setattr(_idx, "_download_dataset", lambda *args, **kwargs: None)
    with pytest.raises(CorruptDatasetError) as info:
        mnist.load_data()
    message = str(info.value)
    assert f"the cache {cache / 'mnist'} is still unusable after a download" in message
    assert f"Delete the folder {cache / 'mnist'} and try again" in message
