"""ModelCheckpoint: whole models by default, Keras 3's file names, epochs or batches, the best."""

from __future__ import annotations

import os

import numpy as np
import pytest

from neuroflow import keras
from neuroflow.keras.callbacks import Callback, ModelCheckpoint

X = np.random.default_rng(0).random((40, 4)).astype("float32")
Y = np.random.default_rng(1).random((40, 2)).astype("float32")

needs_model_save = pytest.mark.skipif(
    not hasattr(keras.Model, "save"),
    reason="Model.save (whole-model .keras files) is not in neuroflow yet")


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile("sgd", "mse")
    return model


class _Recorder:
    """Stands in for model.save / model.save_weights, recording each call."""

    def __init__(self):
        self.calls = []

    def __call__(self, filepath, overwrite=True):
        self.calls.append((os.path.basename(filepath), overwrite))


class _Scores(Callback):
    """Logs a chosen `score` at each epoch's end, before the checkpoint reads it."""

    def __init__(self, scores):
        super().__init__()
        self.scores = list(scores)

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]


def test_whole_model_is_the_default_and_is_saved_with_model_save(tmp_path):
    model = _model()
    model.save = _Recorder()
    checkpoint = ModelCheckpoint(tmp_path / "model-{epoch:02d}.keras")
    assert checkpoint.save_weights_only is False
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert model.save.calls == [("model-01.keras", True), ("model-02.keras", True)]


def test_weights_only_calls_save_weights_and_writes_loadable_files(tmp_path):
    model = _model()
    path = tmp_path / "sub" / "w-{epoch}.npz"  # the folder is created, as Keras does
    model.fit(X, Y, epochs=2, verbose=0,
              callbacks=[ModelCheckpoint(path, save_weights_only=True)])
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["w-1.npz", "w-2.npz"]
    other = _model()
    other.load_weights(tmp_path / "sub" / "w-2.npz")
    for ours, theirs in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


@needs_model_save
def test_whole_model_files_load_back(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "m.keras")])
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name, weights_only, message", [
    ("model.npz", False, "must end in `.keras` (Keras model format). Received: filepath="),
    ("model.weights.npz", False, "save_weights_only=True with a name ending in"),
    ("w.keras", True, "must end in `.weights.h5` (Keras weights format) or `.npz`"),
    ("w.h5", True, "must end in `.weights.h5`"),
])
def test_file_names_follow_keras_3(name, weights_only, message):
    with pytest.raises(ValueError) as caught:
        ModelCheckpoint(name, save_weights_only=weights_only)
    assert message in str(caught.value) and name in str(caught.value)


def test_names_keras_accepts_are_accepted():
    for name, weights_only in (("m.keras", False), ("w.weights.h5", True), ("w.npz", True)):
        ModelCheckpoint(name, save_weights_only=weights_only)


def test_legacy_h5_models_are_refused_before_training():
    with pytest.raises(NotImplementedError, match="legacy Keras 2 HDF5 model format.*'m.keras'"):
        ModelCheckpoint("m.h5")


def test_keras_weights_files_load_back(tmp_path):
    model = _model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[
        ModelCheckpoint(tmp_path / "w-{epoch}.weights.h5", save_weights_only=True)])
    other = _model()
    other.load_weights(tmp_path / "w-2.weights.h5")
    for ours, theirs in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_save_freq_counts_batches_and_fills_batch_fields(tmp_path):
    model = _model()
    model.save_weights = _Recorder()
    checkpoint = ModelCheckpoint(tmp_path / "e{epoch}-b{batch}.npz", save_weights_only=True,
                                 save_freq=3)
    model.fit(X, Y, epochs=2, batch_size=10, verbose=0, callbacks=[checkpoint])
    # 4 batches per epoch: saves after the 3rd, 6th (epoch 2's 2nd batch)...
    assert [name for name, _ in model.save_weights.calls] == ["e1-b3.npz", "e2-b2.npz"]


@pytest.mark.parametrize("bad", ["batch", 0, -2, True, 2.5])
def test_unknown_save_freq_is_refused(bad):
    with pytest.raises(ValueError, match="Unrecognized save_freq: .*'epoch' or integer values"):
        ModelCheckpoint("m.keras", save_freq=bad)


def test_save_best_only_writes_only_on_improvement(tmp_path, capsys):
    model = _model()
    model.save = _Recorder()
    checkpoint = ModelCheckpoint(tmp_path / "best.keras", monitor="score", save_best_only=True,
                                 verbose=1)
    model.fit(X, Y, epochs=4, verbose=0, callbacks=[_Scores([2.0, 1.0, 1.5, 0.5]), checkpoint])
    assert len(model.save.calls) == 3 and checkpoint.best == 0.5
    out = capsys.readouterr().out
    assert "Epoch 1: score improved from None to 2.00000, saving model to" in out
    assert "Epoch 3: score did not improve from 1.00000" in out
    assert "Epoch 4: finished saving model to" in out


def test_mode_max_and_initial_threshold(tmp_path):
    model = _model()
    model.save = _Recorder()
    checkpoint = ModelCheckpoint(tmp_path / "m{epoch}.keras", monitor="score", mode="max",
                                 save_best_only=True, initial_value_threshold=0.5)
    model.fit(X, Y, epochs=3, verbose=0, callbacks=[_Scores([0.4, 0.6, 0.55]), checkpoint])
    assert [name for name, _ in model.save.calls] == ["m2.keras"]


def test_save_best_only_without_the_monitored_value_or_with_an_array(tmp_path):
    model = _model()
    model.save = _Recorder()
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        model.fit(X, Y, verbose=0, callbacks=[
            ModelCheckpoint(tmp_path / "m.keras", save_best_only=True)])
    with pytest.warns(UserWarning, match="only when `monitor` is a scalar value"):
        model.fit(X, Y, verbose=0, callbacks=[
            _Scores([np.array([1.0, 2.0])]),
            ModelCheckpoint(tmp_path / "m.keras", monitor="score", save_best_only=True)])
    assert len(model.save.calls) == 2


def test_unknown_field_and_folder_in_the_way_are_reported(tmp_path):
    with pytest.raises(KeyError, match="Failed to format this callback filepath.*Reason: "
                                       ".*acc.*epoch, batch and the logged values: loss"):
        _model().fit(X, Y, batch_size=40, verbose=0, callbacks=[
            ModelCheckpoint(tmp_path / "{acc}.npz", save_weights_only=True, save_freq=1)])
    (tmp_path / "m.keras").mkdir()
    with pytest.raises(OSError, match="non-directory filepath.*existing directory.*"
                                      "checkpoint.keras"):
        _model().fit(X, Y, verbose=0, callbacks=[ModelCheckpoint(tmp_path / "m.keras")])


# --- against Keras 3 --------------------------------------------------------------------------

@pytest.fixture
def K():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _construction(lib, name, weights_only, save_freq="epoch") -> tuple[str, str]:
    try:
        lib.callbacks.ModelCheckpoint(name, save_weights_only=weights_only, save_freq=save_freq)
    except ValueError as error:
        return "ValueError", str(error).split(" Received")[0]
    return "ok", ""


@pytest.mark.tensorflow
@pytest.mark.parametrize("name, weights_only, save_freq", [
    ("m.keras", False, "epoch"), ("m.npz", False, "epoch"), ("w.weights.h5", True, "epoch"),
    ("w.keras", True, "epoch"), ("m.keras", False, 5), ("m.keras", False, "batch")])
def test_file_name_rules_match_keras(K, name, weights_only, save_freq):
    theirs = _construction(K, name, weights_only, save_freq)
    ours = _construction(keras, name, weights_only, save_freq)
    assert ours[0] == theirs[0]
    if theirs[0] == "ValueError" and save_freq == "epoch":
        assert ours[1].startswith(theirs[1].split(" (Keras")[0])


def _saved_names(lib, folder, **options) -> list[str]:
    model = lib.Sequential([lib.Input((4,)), lib.layers.Dense(2)])
    model.compile("sgd", "mse")
    model.fit(X, Y, epochs=3, batch_size=10, verbose=0,
              callbacks=[lib.callbacks.ModelCheckpoint(str(folder / "e{epoch}-b{batch}.weights.h5"),
                                                       save_weights_only=True, **options)])
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.tensorflow
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_batch_frequency_names_the_files_as_keras_does(tmp_path, K):
    (tmp_path / "tf").mkdir()
    (tmp_path / "nf").mkdir()
    assert _saved_names(keras, tmp_path / "nf", save_freq=3) == \
        _saved_names(K, tmp_path / "tf", save_freq=3)
