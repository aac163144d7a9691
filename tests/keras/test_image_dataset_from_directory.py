"""Tests of keras.utils.image_dataset_from_directory (images decoded with Pillow).

Folders of small generated images live in tmp_path. The test marked ``tensorflow``
compares with Keras 3 itself on the same folders.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image", reason="Pillow (neuroflow[image]) is not installed")

import neuroflow as tf  # noqa: E402
from neuroflow.errors import InvalidArgumentError  # noqa: E402
from neuroflow.keras.utils import image_dataset_from_directory  # noqa: E402

CLASSES = ("bird", "cat", "dog")


def save(path: Path, pixels: np.ndarray, mode: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(pixels)
    if mode == "P":
        image = image.convert("P", palette=Image.Palette.ADAPTIVE)
    elif mode:
        image = image.convert(mode)
    image.save(path)


def flat_tree(root: Path, per_class=(3, 2, 4), size=(6, 5)) -> dict[str, np.ndarray]:
    """Images of one colour each (the file's number), so every element names its file.

    Returns {path: pixels} with the paths as the function lists them.
    """
    made, number = {}, 0
    for cls, count in zip(CLASSES, per_class):
        for i in range(count):
            pixels = np.full((*size, 3), 10 * number + 5, np.uint8)
            path = root / cls / f"img{i}.png"
            save(path, pixels)
            made[str(path)] = pixels
            number += 1
    return made


def single_batch(*args, **kwargs):
    """The one batch of a small dataset, as NumPy."""
    (batch,) = image_dataset_from_directory(*args, **kwargs).as_numpy_iterator()
    return batch


def elements(ds):
    """All (image, label) pairs of one pass, unbatched, as NumPy."""
    out = []
    for images, labels in ds.as_numpy_iterator():
        out += list(zip(images, labels))
    return out


# ---------------------------------------------------------------------------
# Listing and labelling


def test_classes_files_and_labels_in_keras_order(tmp_path, capsys):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    names = ["cat/b.png", "cat/a.JPG", "cat/z/deep.bmp", "cat/y.gif", "dog/1.jpeg",
             "bird/x.png", "bird/notes.txt", "bird/x.webp", ".hidden/h.png"]
    for name in names:
        path = root / name
        if path.suffix in (".txt", ".webp"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"not listed")
        else:
            save(path, rng.integers(0, 256, (4, 4, 3), dtype=np.uint8))
    (root / "loose.png").write_bytes(b"files beside the class folders are not listed")
    ds = image_dataset_from_directory(root, shuffle=False, image_size=(4, 4))
    assert capsys.readouterr().out == "Found 6 files belonging to 3 classes.\n"
    assert ds.class_names == ["bird", "cat", "dog"]
    expected = ["bird/x.png", "cat/a.JPG", "cat/b.png", "cat/y.gif", "cat/z/deep.bmp",
                "dog/1.jpeg"]
    assert ds.file_paths == [os.path.join(root, name) for name in expected]
    (images, labels), = ds.as_numpy_iterator()
    assert images.shape == (6, 4, 4, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, [0, 1, 1, 1, 1, 2])
    image_dataset_from_directory(root, image_size=(4, 4), verbose=False, seed=1)
    assert capsys.readouterr().out == ""


def test_pixels_unchanged_at_their_own_size_and_resized_like_tf_image(tmp_path):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    save(tmp_path / "a" / "x.png", pixels)
    ds = image_dataset_from_directory(tmp_path, image_size=(7, 9), verbose=False)
    (images, _), = ds.as_numpy_iterator()
    np.testing.assert_array_equal(images[0], pixels.astype(np.float32))
    for method in ("bilinear", "nearest"):
        ds = image_dataset_from_directory(tmp_path, image_size=(4, 13), interpolation=method,
                                          verbose=False)
        (images, _), = ds.as_numpy_iterator()
        expected = tf.image.resize(pixels, (4, 13), method=method).numpy()
        assert images.dtype == expected.dtype  # nearest keeps uint8, as in TensorFlow
        np.testing.assert_allclose(images[0], expected, rtol=1e-6)


def test_label_modes(tmp_path):
    made = flat_tree(tmp_path)
    ds = image_dataset_from_directory(tmp_path, label_mode="categorical", shuffle=False,
                                      image_size=(6, 5), verbose=False)
    (_, labels), = ds.as_numpy_iterator()
    assert labels.dtype == np.float32
    np.testing.assert_array_equal(labels, np.eye(3)[[0, 0, 0, 1, 1, 2, 2, 2, 2]])
    ds = image_dataset_from_directory(tmp_path, label_mode="binary", class_names=["dog", "cat"],
                                      shuffle=False, image_size=(6, 5), verbose=False)
    (_, labels), = ds.as_numpy_iterator()
    assert labels.dtype == np.float32 and labels.shape == (6, 1)
    np.testing.assert_array_equal(labels[:, 0], [0, 0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="exactly 2"):
        image_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)
    for kwargs in ({"label_mode": None}, {"labels": None}):
        ds = image_dataset_from_directory(tmp_path, shuffle=False, image_size=(6, 5),
                                          verbose=False, **kwargs)
        images, = ds.as_numpy_iterator()
        assert images.shape == (len(made), 6, 5, 3)
    assert ds.class_names is None


def test_explicit_labels(tmp_path, capsys):
    flat_tree(tmp_path)
    mine = [5, 5, 7, 7, 7, 9, 9, 9, 5]
    given = list(mine)
    ds = image_dataset_from_directory(tmp_path, labels=given, image_size=(6, 5), seed=4)
    assert given == mine  # shuffled as a copy
    assert ds.class_names == ["5", "7", "9"]
    assert capsys.readouterr().out == "Found 9 files belonging to 3 classes.\n"
    for image, label in elements(ds):
        number = (int(image[0, 0, 0]) - 5) // 10  # the file's place in sorted order
        assert label == mine[number]
    with pytest.raises(ValueError, match="len\\(labels\\) is 3 while we found 9 files"):
        image_dataset_from_directory(tmp_path, labels=[0, 1, 2], verbose=False)
    with pytest.raises(ValueError, match="class_names"):
        image_dataset_from_directory(tmp_path, labels=mine, class_names=["a"], verbose=False)
    with pytest.raises(ValueError, match="`class_names` cannot be specified"):
        image_dataset_from_directory(tmp_path, labels=mine, class_names=[], verbose=False)
    with pytest.raises(ValueError, match="list/tuple of integer labels"):
        image_dataset_from_directory(tmp_path, labels=np.array(mine), verbose=False)
    with pytest.raises(ValueError, match="list/tuple of integer labels"):
        image_dataset_from_directory(tmp_path, labels="infer", verbose=False)
    with pytest.raises(ValueError, match="labels=None"):
        image_dataset_from_directory(tmp_path, labels=None, class_names=["cat"], verbose=False)


def test_class_names_choose_and_order_the_classes(tmp_path):
    flat_tree(tmp_path)
    ds = image_dataset_from_directory(tmp_path, class_names=["dog", "bird"], shuffle=False,
                                      image_size=(6, 5), verbose=False)
    assert ds.class_names == ["dog", "bird"]
    (_, labels), = ds.as_numpy_iterator()
    np.testing.assert_array_equal(labels, [0, 0, 0, 0, 1, 1, 1])
    assert all("/cat/" not in path for path in ds.file_paths)
    with pytest.raises(ValueError, match="did not match"):
        image_dataset_from_directory(tmp_path, class_names=["dog", "fish"], verbose=False)


# ---------------------------------------------------------------------------
# Shuffling and splitting


def test_shuffle_uses_the_seeded_permutation_and_keeps_pairs(tmp_path):
    made = flat_tree(tmp_path)
    listed = list(made)
    ds = image_dataset_from_directory(tmp_path, image_size=(6, 5), seed=11, batch_size=4,
                                      verbose=False)
    order = np.random.RandomState(11).permutation(len(listed))
    assert ds.file_paths == [listed[i] for i in order]
    seen = elements(ds)
    assert len(seen) == len(listed)
    for image, label in seen:
        number = (int(image[0, 0, 0]) - 5) // 10
        assert CLASSES[label] == Path(listed[number]).parent.name
    assert sorted((int(image[0, 0, 0]) - 5) // 10 for image, _ in seen) == list(range(9))


def test_validation_split_is_disjoint_and_keras_sized(tmp_path, capsys):
    made = flat_tree(tmp_path, per_class=(4, 3, 5))
    kwargs = dict(validation_split=0.25, seed=7, image_size=(6, 5), verbose=False)
    train = image_dataset_from_directory(tmp_path, subset="training", **kwargs)
    val = image_dataset_from_directory(tmp_path, subset="validation", **kwargs)
    assert capsys.readouterr().out == ("Using 9 files for training.\n"
                                       "Using 3 files for validation.\n")
    shuffled = [list(made)[i] for i in np.random.RandomState(7).permutation(len(made))]
    assert train.file_paths == shuffled[:9] and val.file_paths == shuffled[9:]
    both_train, both_val = image_dataset_from_directory(tmp_path, subset="both", **kwargs)
    assert both_train.file_paths == train.file_paths and both_val.file_paths == val.file_paths
    assert both_train.class_names == both_val.class_names == list(CLASSES)
    # The validation half of "both" keeps its order on every pass.
    first = [int(image[0, 0, 0]) for image, _ in elements(both_val)]
    assert first == [int(image[0, 0, 0]) for image, _ in elements(both_val)]
    assert len(elements(both_train)) == 9


def test_a_split_too_small_for_keras_is_reported(tmp_path):
    flat_tree(tmp_path, per_class=(1, 1, 1))
    with pytest.raises(ValueError, match="No training images found"):
        image_dataset_from_directory(tmp_path, validation_split=0.2, subset="both", seed=1,
                                     verbose=False)


# ---------------------------------------------------------------------------
# Decoding, colour modes and resizing options


def test_colour_modes(tmp_path):
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, (5, 6, 4), dtype=np.uint8)
    grey = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    save(tmp_path / "a" / "1rgba.png", rgba)
    save(tmp_path / "a" / "2grey.png", grey)
    kwargs = dict(image_size=(5, 6), shuffle=False, verbose=False, label_mode=None)
    images = single_batch(tmp_path, color_mode="rgba", **kwargs)
    np.testing.assert_array_equal(images[0], rgba)
    np.testing.assert_array_equal(images[1], np.dstack([grey] * 3 + [np.full_like(grey, 255)]))
    images = single_batch(tmp_path, color_mode="rgb", **kwargs)
    np.testing.assert_array_equal(images[0], rgba[..., :3])  # alpha dropped, not blended
    images = single_batch(tmp_path, color_mode="grayscale", **kwargs)
    assert images.shape == (2, 5, 6, 1)
    np.testing.assert_array_equal(images[1, ..., 0], grey)
    luma = rgba[..., :3].astype(float) @ [0.299, 0.587, 0.114]
    assert np.abs(images[0, ..., 0] - luma).max() <= 1.0


def test_sixteen_bit_gif_bmp_and_jpeg(tmp_path):
    rng = np.random.default_rng(3)
    deep = rng.integers(0, 65536, (4, 5), dtype=np.uint16)
    Image.fromarray(deep).save(tmp_path / "a16.png")
    pixels = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    save(tmp_path / "b.bmp", pixels)
    smooth = np.repeat(np.linspace(0, 250, 5, dtype=np.uint8)[None, :, None], 4, 0)
    save(tmp_path / "c.jpg", np.repeat(smooth, 3, axis=2))
    frames = [Image.fromarray(np.full((4, 5, 3), value, np.uint8)) for value in (40, 200)]
    frames[0].save(tmp_path / "d.gif", save_all=True, append_images=frames[1:])
    images = single_batch(tmp_path, labels=None, image_size=(4, 5), shuffle=False,
                          verbose=False)
    np.testing.assert_array_equal(images[0, ..., 0], deep >> 8)  # the high byte, as TF
    np.testing.assert_array_equal(images[1], pixels)
    assert np.abs(images[2] - np.repeat(smooth, 3, axis=2)).max() <= 8  # lossy JPEG
    np.testing.assert_array_equal(images[3], 40)  # an animation's first frame


def test_crop_and_pad_to_aspect_ratio(tmp_path):
    rng = np.random.default_rng(4)
    wide = rng.integers(0, 256, (6, 10, 3), dtype=np.uint8)
    save(tmp_path / "a" / "wide.png", wide)
    kwargs = dict(image_size=(6, 6), label_mode=None, verbose=False)
    images = single_batch(tmp_path, crop_to_aspect_ratio=True, **kwargs)
    np.testing.assert_array_equal(images[0], wide[:, 2:8])  # the central 6x6 window
    kwargs["image_size"] = (10, 10)
    images = single_batch(tmp_path, pad_to_aspect_ratio=True, **kwargs)
    np.testing.assert_array_equal(images[0, 2:8], wide)  # 2 rows of zeros above and below
    assert not images[0, :2].any() and not images[0, 8:].any()
    with pytest.raises(ValueError, match="Only one of"):
        image_dataset_from_directory(tmp_path, pad_to_aspect_ratio=True,
                                     crop_to_aspect_ratio=True, verbose=False)


def test_channels_first_and_unbatched(tmp_path):
    flat_tree(tmp_path, per_class=(1, 1, 1), size=(3, 4))
    ds = image_dataset_from_directory(tmp_path, data_format="channels_first", image_size=(3, 4),
                                      verbose=False)
    (images, _), = ds.as_numpy_iterator()
    assert images.shape == (3, 3, 3, 4)
    ds = image_dataset_from_directory(tmp_path, batch_size=None, image_size=(3, 4),
                                      verbose=False, seed=0)
    image, label = next(iter(ds))
    assert tuple(image.shape) == (3, 4, 3) and tuple(label.shape) == ()


def test_damaged_and_foreign_files_fail_with_their_path(tmp_path):
    save(tmp_path / "a" / "good.png", np.zeros((3, 3, 3), np.uint8))
    bad = tmp_path / "a" / "z_bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n but not really")
    ds = image_dataset_from_directory(tmp_path, image_size=(3, 3), shuffle=False, verbose=False)
    with pytest.raises(InvalidArgumentError, match="z_bad.png"):
        list(ds)
    bad.unlink()
    Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "a" / "z_tiff.png",
                                                        format="TIFF")
    ds = image_dataset_from_directory(tmp_path, image_size=(3, 3), shuffle=False, verbose=False)
    with pytest.raises(InvalidArgumentError, match="One of JPEG, PNG, GIF, BMP required"):
        list(ds)


def test_trains_a_model(tmp_path):
    flat_tree(tmp_path, size=(4, 4))
    train = image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=4, seed=0,
                                         verbose=False)
    model = tf.keras.Sequential([tf.keras.Input((4, 4, 3)), tf.keras.layers.Flatten(),
                                 tf.keras.layers.Dense(3)])
    model.compile("adam", tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(train, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


# ---------------------------------------------------------------------------
# Arguments and environment


@pytest.mark.parametrize("kwargs, error, match", [
    ({"label_mode": "sparse"}, ValueError, "label_mode"),
    ({"color_mode": "RGB"}, ValueError, "color_mode"),
    ({"image_size": (4, 4, 3)}, ValueError, "image_size"),
    ({"interpolation": "cubic"}, ValueError, "interpolation"),
    ({"interpolation": "bicubic"}, NotImplementedError, "bilinear"),
    ({"format": "grain"}, NotImplementedError, 'format="tf"'),
    ({"format": "torch"}, ValueError, "format"),
    ({"validation_split": 1.5, "subset": "training", "seed": 1}, ValueError, "between 0 and 1"),
    ({"subset": "training"}, ValueError, "validation_split` must be set"),
    ({"validation_split": 0.2}, ValueError, "validation_split` must be set"),
    ({"validation_split": 0.2, "subset": "test", "seed": 1}, ValueError, "subset"),
    ({"validation_split": 0.2, "subset": "training"}, ValueError, "seed"),
    ({"data_format": "NHWC"}, ValueError, "data_format"),
])
def test_bad_arguments(tmp_path, kwargs, error, match):
    flat_tree(tmp_path, per_class=(1, 1, 1))
    with pytest.raises(error, match=match):
        image_dataset_from_directory(tmp_path, verbose=False, **kwargs)


def test_missing_or_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        image_dataset_from_directory(tmp_path / "nowhere")
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(tmp_path, verbose=False)


def test_without_pillow_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    flat_tree(tmp_path, per_class=(1, 1, 1))
    monkeypatch.setitem(sys.modules, "PIL", None)  # makes `from PIL import Image` fail
    with pytest.raises(ImportError, match=r"pip install neuroflow\[image\]"):
        image_dataset_from_directory(tmp_path, verbose=False)


def test_exported_and_pillow_not_imported_with_neuroflow():
    assert tf.keras.utils.image_dataset_from_directory is image_dataset_from_directory
    code = "import sys, neuroflow; print('PIL' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------------------
# The oracle: Keras 3 on the same folders


@pytest.fixture
def mixed_tree(tmp_path) -> Path:
    """PNGs of several sizes and pixel modes in three classes, one nested and upper-case."""
    rng = np.random.default_rng(5)
    modes = ["RGB", "RGBA", "L", "P", "LA", "RGB"]
    for c, cls in enumerate(("b", "a", "c")):
        for i, mode in enumerate(modes[c:c + 4]):
            height, width = (int(v) for v in rng.integers(3, 24, 2))
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            name = f"sub/IMG{i}.PNG" if i == 3 else f"img{i}.png"
            save(tmp_path / cls / name, pixels, mode)
    return tmp_path


@pytest.mark.tensorflow
@pytest.mark.parametrize("kwargs", [
    {},
    {"label_mode": "categorical", "color_mode": "grayscale"},
    {"label_mode": "binary", "class_names": ["c", "a"], "color_mode": "rgba"},
    {"labels": [3, 1, 1, 0, 2, 2, 3, 0, 1, 1, 2, 0], "label_mode": "categorical"},
    {"label_mode": None, "crop_to_aspect_ratio": True, "image_size": (9, 17)},
    {"pad_to_aspect_ratio": True, "image_size": (17, 9)},
    {"interpolation": "nearest", "image_size": (5, 8), "batch_size": 5},
    {"validation_split": 0.25, "subset": "validation", "data_format": "channels_first"},
])
def test_same_as_keras(mixed_tree, kwargs, capsys):
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    kwargs = {"image_size": (12, 10), "batch_size": 4, "shuffle": False, **kwargs}
    theirs = keras.utils.image_dataset_from_directory(str(mixed_tree), **kwargs)
    keras_printed = capsys.readouterr().out
    ours = image_dataset_from_directory(str(mixed_tree), **kwargs)
    assert capsys.readouterr().out == keras_printed
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths
    their_batches, our_batches = list(theirs.as_numpy_iterator()), list(ours.as_numpy_iterator())
    assert len(our_batches) == len(their_batches)
    for want, got in zip(their_batches, our_batches):
        want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        for w, g in zip(want, got):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-3)


@pytest.mark.tensorflow
def test_same_split_and_shuffle_as_keras(mixed_tree, capsys):
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    kwargs = dict(validation_split=0.3, seed=123, image_size=(8, 8))
    theirs = keras.utils.image_dataset_from_directory(str(mixed_tree), subset="both", **kwargs)
    ours = image_dataset_from_directory(str(mixed_tree), subset="both", **kwargs)
    for want, got in zip(theirs, ours):
        assert got.file_paths == want.file_paths
        # The per-pass shuffle differs from TensorFlow's; the labels each file gets do not.
        their_labels = np.concatenate([y for _, y in want.as_numpy_iterator()])
        our_labels = np.concatenate([y for _, y in got.as_numpy_iterator()])
        assert sorted(our_labels.tolist()) == sorted(their_labels.tolist())
    np.random.seed(5)
    keras_default = keras.utils.image_dataset_from_directory(str(mixed_tree), verbose=False)
    np.random.seed(5)
    ours_default = image_dataset_from_directory(str(mixed_tree), verbose=False)
    assert ours_default.file_paths == keras_default.file_paths  # seed=None: NumPy's global
