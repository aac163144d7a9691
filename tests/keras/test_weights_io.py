"""Model.save_weights / load_weights: round trips, mismatches and files of other formats.

Every error names the file; a mismatch names the weight or layer, with what the model
expects and what the file holds; nothing changes in the model when loading fails.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from neuroflow.keras import Sequential, callbacks, layers

RNG = np.random.default_rng(7)


def dense_model(*units: int, use_bias: bool = True) -> Sequential:
    stack = [layers.Dense(n, use_bias=use_bias) for n in units]
    return Sequential([layers.Input((4,)), *stack])


def randomize(model: Sequential) -> list[np.ndarray]:
    values = [RNG.standard_normal(w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(values)
    return values


def assert_weights(model: Sequential, expected: list[np.ndarray]) -> None:
    got = model.get_weights()
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


class ManyWeights(layers.Layer):
    """A layer with ``count`` one-element weights, to test files of 10,000 and more."""

    def __init__(self, count: int, **kwargs):
        super().__init__(**kwargs)
        self.count = count

    def build(self, input_shape):
        self.parts = [self.add_weight(f"w{i}", (1,), initializer="zeros")
                      for i in range(self.count)]

    def call(self, inputs):
        return inputs


# --- round trips ------------------------------------------------------------------------------


def test_round_trip_into_a_model_built_later_in_the_process(tmp_path):
    """Layer names differ ('dense_7' against 'dense_3'): weights match by position."""
    saved_from = dense_model(3, 2)
    values = randomize(saved_from)
    path = tmp_path / "model.weights.npz"
    saved_from.save_weights(path)
    other = dense_model(3, 2)
    other.load_weights(path)
    assert_weights(other, values)


def test_more_than_ten_thousand_weights_keep_their_places(tmp_path):
    """Indexes are compared as numbers: as strings, 10000 would sort before 1001."""
    count = 10_002
    model = Sequential([layers.Input((1,)), ManyWeights(count)])
    values = [np.full((1,), i, np.float32) for i in range(count)]
    model.set_weights(values)
    path = tmp_path / "many.npz"
    model.save_weights(path)
    other = Sequential([layers.Input((1,)), ManyWeights(count)])
    other.load_weights(path)
    got = np.concatenate(other.get_weights())
    np.testing.assert_array_equal(got, np.arange(count, dtype=np.float32))


def test_npz_content_under_an_old_h5_name_still_loads(tmp_path):
    """Earlier versions wrote .npz archives under .weights.h5 names: the content decides."""
    model = dense_model(3)
    values = randomize(model)
    model.save_weights(tmp_path / "w.npz")
    legacy = tmp_path / "legacy.weights.h5"
    legacy.write_bytes((tmp_path / "w.npz").read_bytes())
    other = dense_model(3)
    other.load_weights(legacy)
    assert_weights(other, values)


# --- mismatches -------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    """A file holding the weights of dense_model(3, 2): kernel (4, 3), bias (3,), (3, 2), (2,)."""
    path = tmp_path / "saved.npz"
    dense_model(3, 2).save_weights(path)
    return path


@pytest.mark.parametrize(
    "build, pattern",
    [
        (lambda: dense_model(3, 5),
         r"weight 'dense_\d+/kernel' expects shape \(3, 5\), but the file's weight in its "
         r"place, 'dense_\d+/kernel', has shape \(3, 2\)"),
        (lambda: dense_model(3, 2, use_bias=False),
         r"layer 'dense_\d+' has 1 weight \(kernel \(4, 3\)\), but the file's layer in its "
         r"place, 'dense_\d+', has 2 \(kernel \(4, 3\), bias \(3,\)\)"),
        (lambda: dense_model(3),
         r"the model has 2 weights in 1 layer, the file 4 weights in 2 layers; the file's "
         r"layer 'dense_\d+' has no place in the model"),
        (lambda: dense_model(3, 2, 2),
         r"the model has 6 weights in 3 layers, the file 4 weights in 2 layers; the model's "
         r"layer 'dense_\d+' has no weights in the file"),
        (lambda: Sequential([layers.Dense(3)]),
         r"the model has no weights yet: build it first"),
    ],
    ids=["shape", "weights of a layer", "fewer layers", "more layers", "unbuilt"],
)
def test_mismatch_names_the_weight_and_changes_nothing(saved, build, pattern):
    model = build()
    before = model.get_weights()
    with pytest.raises(ValueError, match=pattern) as caught:
        model.load_weights(saved)
    assert f"Cannot load weights from {saved} into model {model.name!r}" in str(caught.value)
    assert_weights(model, before)


# --- files that are not weights archives ------------------------------------------------------


def hdf5_file(path):
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(500))


def npy_file(path):
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))


def truncated_archive(path):
    dense_model(3).save_weights(path)
    path.write_bytes(path.read_bytes()[:-40])


def foreign_npz(path):
    with open(path, "wb") as handle:
        np.savez(handle, kernel=np.zeros((4, 3)))


def keras_archive(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")


@pytest.mark.parametrize(
    "name, make, pattern",
    [
        ("model.weights.h5", hdf5_file, r"not a readable HDF5 file .*damaged or truncated"),
        ("weights.npy", npy_file, r"is a single NumPy array \(\.npy\)"),
        ("cut.npz", truncated_archive, r"cannot be read .*damaged or truncated"),
        ("empty.npz", lambda path: path.write_bytes(b""), "it is empty"),
        ("notes.npz", lambda path: path.write_text("hello"), "it is not a .npz archive"),
        ("other.npz", foreign_npz, r"not a file save_weights wrote .* named 'kernel'"),
        ("model.keras", keras_archive, r"is a Keras \.keras model archive"),
    ],
    ids=["hdf5", "npy", "truncated zip", "empty", "text", "other npz", "keras archive"],
)
def test_other_formats_are_named_with_a_hint(tmp_path, name, make, pattern):
    path = tmp_path / name
    make(path)
    model = dense_model(3)
    before = model.get_weights()
    with pytest.raises(ValueError, match=pattern) as caught:
        model.load_weights(path)
    assert f"Cannot load weights from {path}: " in str(caught.value)
    assert_weights(model, before)


def test_missing_file_is_named_with_a_hint(tmp_path):
    path = tmp_path / "nowhere.npz"
    with pytest.raises(FileNotFoundError, match="save_weights") as caught:
        dense_model(3).load_weights(path)
    assert caught.value.filename == str(path)
    assert str(path) in str(caught.value)


# --- which names save_weights takes -------------------------------------------------------------


@pytest.mark.parametrize("name, error, pattern", [
    ("model.h5", NotImplementedError, "legacy Keras 2 HDF5 format"),
    ("MODEL.HDF5", NotImplementedError, "legacy Keras 2 HDF5 format"),
    ("model.keras", ValueError, r"must end in `\.weights\.h5`.*model\.save"),
])
def test_saving_weights_to_another_format_name_is_refused(tmp_path, name, error, pattern):
    path = tmp_path / name
    with pytest.raises(error, match=pattern) as caught:
        dense_model(3).save_weights(path)
    assert str(path) in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # nothing misleading was written


def test_weights_h5_round_trip(tmp_path):
    pytest.importorskip("h5py")
    model, other = dense_model(3), dense_model(3)
    model.save_weights(tmp_path / "model.weights.h5")
    other.load_weights(tmp_path / "model.weights.h5")
    assert_weights(other, model.get_weights())


def test_model_checkpoint_refuses_a_legacy_h5_name_before_training(tmp_path):
    with pytest.raises(NotImplementedError, match=r"ckpt-\{epoch:02d\}\.h5"):
        callbacks.ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}.h5")
