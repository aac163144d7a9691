"""``keras.utils.image_dataset_from_directory``: a labelled image dataset from a folder tree.

The files are listed, labelled, ordered, shuffled and split exactly as Keras 3
does (``keras/src/utils/dataset_utils.py``), so the same ``seed`` gives the same
training and validation files. Images are decoded with Pillow (the optional
``image`` extra, imported only when the function is called) into the pixels
TensorFlow's ``decode_image`` gives, and resized with neuroflow's
``tf.image.resize``. Known differences: JPEG pixels may differ by a few levels
(TensorFlow decodes with libjpeg's fast integer DCT, Pillow with the accurate
one), and formats TensorFlow refuses to convert (a greyscale GIF, a BMP read
with one channel) are converted here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroflow.errors import InvalidArgumentError

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# What Pillow calls the formats TensorFlow's decode_image reads (MPO: a JPEG with extras).
_DECODABLE = ("BMP", "GIF", "JPEG", "MPO", "PNG")
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                         "gaussian", "mitchellcubic")
_RESIZE_METHODS = ("bilinear", "nearest")  # the ones neuroflow's tf.image.resize has
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
# libpng's RGB-to-grey weights as TensorFlow's PNG decoder sets them (0.299 and 0.587 in
# 1/32768ths, rounded down; blue takes the rest); libpng truncates the weighted sum.
_GREY_WEIGHTS = (9797, 19234, 32768 - 9797 - 19234)


def image_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: int | tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    format: str = "tf",
    verbose: bool = True,
):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches from image files in subfolders.

    With ``directory/cat/1.png``, ``directory/dog/2.jpg`` ..., the classes are the
    subfolder names in alphanumeric order (label 0 for ``cat``, 1 for ``dog``).
    PNG, JPEG, BMP and GIF files are read (a GIF's first frame); images are
    float32 ``(batch, height, width, channels)`` (uint8 with
    ``interpolation="nearest"``, as in TensorFlow). Labels are int32 ``(batch,)``
    for ``label_mode="int"``, float32 one-hot ``(batch, num_classes)`` for
    ``"categorical"`` and float32 ``(batch, 1)`` for ``"binary"``. The dataset has
    ``class_names`` and ``file_paths`` attributes, as in Keras. Needs Pillow:
    ``pip install neuroflow[image]``.

    Arguments and defaults are Keras 3's: ``labels`` ``"inferred"``, ``None`` or a
    list of integer labels in the sorted order of the files; ``color_mode``
    ``"grayscale"``, ``"rgb"`` or ``"rgba"``; ``batch_size=None`` yields single
    images; ``shuffle=False`` keeps alphanumeric order; ``validation_split`` with
    ``subset`` ``"training"``, ``"validation"`` or ``"both"`` (a pair of datasets)
    needs a ``seed`` when shuffling, so the two subsets are disjoint;
    ``crop_to_aspect_ratio`` / ``pad_to_aspect_ratio`` resize without distortion.
    Of the interpolations only ``"bilinear"`` and ``"nearest"`` are implemented,
    and only ``format="tf"``.

    Example:

    >>> import neuroflow as tf
    >>> train, val = tf.keras.utils.image_dataset_from_directory(
    ...     "photos", validation_split=0.2, subset="both", seed=1,
    ...     image_size=(64, 64))  # doctest: +SKIP
    Found 10 files belonging to 2 classes.
    Using 8 files for training.
    Using 2 files for validation.
    """
    labels, label_mode, class_names = _check_labels(labels, label_mode, class_names)
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    image_size = _check_image_size(image_size)
    interpolation = _check_interpolation(interpolation)
    _check_format(format)
    _check_validation_split(validation_split, subset, shuffle, seed)
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    data_format = _check_data_format(data_format)
    pillow = _import_pillow()

    if seed is None:  # as Keras: drawn from NumPy's global generator
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, ALLOWLIST_FORMATS,
                                                 class_names, shuffle, seed, follow_links,
                                                 verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    loader = _ImageLoader(pillow, image_size, _CHANNELS[color_mode], interpolation,
                          crop_to_aspect_ratio, pad_to_aspect_ratio, data_format)
    make = _DatasetMaker(loader, label_mode, len(class_names) if class_names else 0,
                         batch_size, seed)

    if subset == "both":
        train_paths, train_labels = _split(paths, labels, validation_split, "training")
        val_paths, val_labels = _split(paths, labels, validation_split, "validation")
        for name, subset_paths in (("training", train_paths), ("validation", val_paths)):
            if not subset_paths:
                raise ValueError(f"No {name} images found in directory {directory}. "
                                 f"Allowed formats: {ALLOWLIST_FORMATS}")
        train = make(train_paths, train_labels, shuffle, class_names)
        # Keras never shuffles the validation half of a "both" split.
        return train, make(val_paths, val_labels, False, class_names)
    paths, labels = _split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(f"No images found in directory {directory}. "
                         f"Allowed formats: {ALLOWLIST_FORMATS}")
    return make(paths, labels, shuffle, class_names)


# ---------------------------------------------------------------------------
# Arguments


def _check_labels(labels: Any, label_mode: Any, class_names: Any) -> tuple[Any, Any, Any]:
    if not (isinstance(labels, str) and labels == "inferred") and labels is not None:
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                "as the number of image files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains images '
                f"(no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        return None, None, class_names
    return labels, label_mode, class_names


def _check_image_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError("Invalid `image_size` value. Expected a tuple of 2 integers. "
                         f"Received: image_size={image_size}")
    return tuple(image_size)


def _check_interpolation(interpolation: Any) -> str:
    method = str(getattr(interpolation, "value", interpolation)).lower()
    if method not in _KERAS_INTERPOLATIONS:
        raise ValueError(f"Argument `interpolation` should be one of {_KERAS_INTERPOLATIONS}. "
                         f"Received: interpolation={interpolation}")
    if method not in _RESIZE_METHODS:
        raise NotImplementedError(
            f"image_dataset_from_directory: interpolation={method!r} is not implemented in "
            f"neuroflow's tf.image.resize; use one of {_RESIZE_METHODS}.")
    return method


def _check_format(format: Any) -> None:
    if format == "grain":
        raise NotImplementedError('image_dataset_from_directory: format="grain" needs Google\'s '
                                  'Grain library; neuroflow returns tf.data datasets only. Pass '
                                  'format="tf".')
    if format != "tf":
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def _check_validation_split(validation_split: Any, subset: Any, shuffle: Any,
                            seed: Any) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def _check_data_format(data_format: Any) -> str:
    if data_format is None:
        from neuroflow.keras import backend

        return backend.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of "
                         "{'channels_first', 'channels_last'}. "
                         f"Received: data_format={data_format}")
    return value


def _import_pillow() -> Any:
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("image_dataset_from_directory decodes images with Pillow, which is "
                          "not installed. Install it with `pip install neuroflow[image]` (or "
                          "`pip install Pillow`).") from error
    return Image


# ---------------------------------------------------------------------------
# Listing, labelling and splitting the files (as Keras's dataset_utils)


def index_directory(directory: Any, labels: Any, formats: tuple, class_names: Any,
                    shuffle: bool, seed: int, follow_links: bool, verbose: bool,
                    caller: str = "image_dataset_from_directory"
                    ) -> tuple[list[str], Any, Any]:
    """The files with one of ``formats``, their labels and the class names, as Keras lists
    them (classes are sorted subfolders; files sorted within sorted folders), shuffled with
    ``seed`` if asked. Shared by the image and text dataset makers."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{caller}: the directory {directory} does not exist (or is "
                                f"not a directory).")
    if labels == "inferred":
        subdirs = [name for name in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)  # the caller's order sets the labels
    else:
        subdirs = [""]  # the whole tree, labelled by the caller or not at all
        if class_names is not None:
            if labels is None:
                raise ValueError("When `labels=None` (no labels), argument `class_names` "
                                 "cannot be specified.")
            raise ValueError("When argument `labels` is specified, argument `class_names` "
                             "cannot be specified (the `class_names` will be the sorted list "
                             "of labels).")

    files: list[str] = []
    found: list[int] = []
    for index, subdir in enumerate(subdirs):
        names = _files_under(os.path.join(directory, subdir), follow_links, formats)
        files += names
        found += [index] * len(names)

    if labels == "inferred":
        labels, class_names = np.asarray(found, dtype=np.int32), subdirs
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(files):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(files)} files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = list(labels)  # shuffled below: never the caller's own list
    if verbose:
        if labels is None:
            print(f"Found {len(files)} files.")
        else:
            print(f"Found {len(files)} files belonging to {len(class_names)} classes.")

    paths = [os.path.join(directory, name) for name in files]
    if shuffle:
        # Keras shuffles paths and labels with two generators of the same seed: the same
        # permutation, and the same files as Keras in each subset.
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, class_names


def _files_under(folder: str, follow_links: bool, formats: tuple) -> list[str]:
    """Files below ``folder``, relative to its parent, in Keras's order.

    Folders are visited in sorted order of their path, files sorted within
    each; only the extensions in ``formats`` count (in any case).
    """
    prefix = os.path.basename(folder)  # "" when listing the whole tree (folder ends in /)
    names = []
    for root, _, filenames in sorted(os.walk(folder, followlinks=follow_links),
                                     key=lambda entry: entry[0]):
        for filename in sorted(filenames):
            if filename.lower().endswith(formats):
                relative = os.path.relpath(os.path.join(root, filename), folder)
                names.append(os.path.join(prefix, relative))
    return names


def _split(paths: list[str], labels: Any, validation_split: Any,
           subset: Any) -> tuple[list[str], Any]:
    """The training or validation part: the validation files are the last ones."""
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    # As Keras: with `count` 0, [:-0] leaves no training files, which is then reported.
    if subset == "training":
        print(f"Using {len(paths) - count} files for training.")
        part = slice(None, -count)
    else:
        print(f"Using {count} files for validation.")
        part = slice(-count, None)
    return paths[part], None if labels is None else labels[part]


# ---------------------------------------------------------------------------
# The dataset


class _DatasetMaker:
    """Builds one dataset of (image, label) elements from file paths, as Keras does."""

    def __init__(self, loader: _ImageLoader, label_mode: str | None, num_classes: int,
                 batch_size: int | None, seed: int):
        self.loader, self.label_mode, self.num_classes = loader, label_mode, num_classes
        self.batch_size, self.seed = batch_size, seed

    def __call__(self, paths: list[str], labels: Any, shuffle: bool, class_names: Any):
        from neuroflow import data

        # Datasets hold numbers only, so elements carry the index of their file.
        indices = np.arange(len(paths), dtype=np.int64)
        if self.label_mode:
            ds = data.Dataset.from_tensor_slices((indices, self._encode(labels)))
        else:
            ds = data.Dataset.from_tensor_slices(indices)
        if shuffle:
            buffer = self.batch_size * 8 if self.batch_size is not None else 1024
            ds = ds.shuffle(buffer_size=buffer, seed=self.seed)
        load = self.loader
        if self.label_mode:
            ds = ds.map(lambda index, label: (load(paths[int(index.numpy())]), label))
        else:
            ds = ds.map(lambda index: load(paths[int(index.numpy())]))
        if self.batch_size is not None:
            ds = ds.batch(self.batch_size)
        ds = ds.prefetch(data.AUTOTUNE)
        ds.class_names = class_names
        ds.file_paths = paths
        return ds

    def _encode(self, labels: Any) -> np.ndarray:
        import neuroflow as tf

        # Converted as TensorFlow converts a Python list (ints become int32).
        values = tf.convert_to_tensor(labels)
        if self.label_mode == "binary":
            return tf.expand_dims(tf.cast(values, "float32"), axis=-1).numpy()
        if self.label_mode == "categorical":
            return tf.one_hot(values, self.num_classes).numpy()
        return values.numpy()


class _ImageLoader:
    """Reads one file into the array Keras's loader makes of it: decoded, then resized."""

    def __init__(self, pillow: Any, image_size: tuple[int, int], channels: int,
                 interpolation: str, crop: bool, pad: bool, data_format: str):
        self.pillow, self.size, self.channels = pillow, image_size, channels
        self.interpolation, self.crop, self.pad = interpolation, crop, pad
        self.data_format = data_format

    def __call__(self, path: str) -> np.ndarray:
        image = self._decode(path)
        if self.crop:
            image = _central_crop(image, self.size)
        if self.pad:
            resized = _resize_with_pad(image, self.size, self.interpolation)
        else:
            resized = _resize(image, self.size, self.interpolation)
        return resized.transpose(2, 0, 1) if self.data_format == "channels_first" else resized

    def _decode(self, path: str) -> np.ndarray:
        """uint8 ``(height, width, channels)``, as ``tf.image.decode_image`` gives."""
        try:
            with self.pillow.open(path) as image:
                if image.format not in _DECODABLE:
                    raise InvalidArgumentError(
                        f"Unknown image file format. One of JPEG, PNG, GIF, BMP required. "
                        f"{path} is {image.format}.", "DecodeImage")
                return _channels(image, self.channels)
        except OSError as error:  # Pillow's UnidentifiedImageError and damaged files
            raise InvalidArgumentError(f"Unknown image file format or damaged image: {path} "
                                       f"({error}). One of JPEG, PNG, GIF, BMP required.",
                                       "DecodeImage") from None


def _channels(image: Any, channels: int) -> np.ndarray:
    """The pixels with ``channels`` channels (an open GIF is at its first frame)."""
    if image.mode.startswith("I"):
        from PIL import Image

        # 16-bit greyscale: TensorFlow's uint8 decode keeps the high byte of each value
        # (Pillow's own conversion to 8 bits would clip instead).
        grey = (np.asarray(image, dtype=np.int64) >> 8).clip(0, 255).astype(np.uint8)
        image = Image.fromarray(grey)
    if channels == 1:
        if image.mode in ("1", "L"):
            return np.asarray(image.convert("L"))[..., None]
        return _to_grey(np.asarray(image.convert("RGB")))[..., None]
    return np.asarray(image.convert("RGB" if channels == 3 else "RGBA"))


def _to_grey(rgb: np.ndarray) -> np.ndarray:
    """libpng's conversion, as in TensorFlow's PNG decoder: a grey pixel stays as it is."""
    wide = rgb.astype(np.int32)
    red, green, blue = wide[..., 0], wide[..., 1], wide[..., 2]
    weighted = (_GREY_WEIGHTS[0] * red + _GREY_WEIGHTS[1] * green
                + _GREY_WEIGHTS[2] * blue) >> 15
    return np.where((red == green) & (green == blue), red, weighted).astype(np.uint8)


def _resize(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    from neuroflow.ops import image_ops

    return image_ops.resize(image, size, method=method).numpy()


def _central_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The largest central window with the aspect ratio of ``size`` (Keras's smart_resize).

    Computed in float32 and truncated, as Keras does in the TensorFlow graph,
    so the window is the same pixel for pixel.
    """
    height, width = image.shape[:2]
    target_height, target_width = size
    f32 = np.float32
    crop_height = max(min(height, int(f32(width * target_height) / f32(target_width))), 1)
    crop_width = max(min(width, int(f32(height * target_width) / f32(target_height))), 1)
    top = int(f32(height - crop_height) / f32(2))
    left = int(f32(width - crop_width) / f32(2))
    return image[top:top + crop_height, left:left + crop_width]


def _resize_with_pad(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """Resize to fit inside ``size`` keeping the aspect ratio, then zero-pad around it.

    The sizes and offsets follow ``tf.image.resize_with_pad``, in float32 as it does.
    """
    f32 = np.float32
    height, width = f32(image.shape[0]), f32(image.shape[1])
    target_height, target_width = f32(size[0]), f32(size[1])
    ratio = max(width / target_width, height / target_height)
    new_height, new_width = height / ratio, width / ratio
    resized = _resize(image, (int(np.floor(new_height)), int(np.floor(new_width))), method)
    top = max(0, int(np.floor((target_height - new_height) / f32(2))))
    left = max(0, int(np.floor((target_width - new_width) / f32(2))))
    out = np.zeros((size[0], size[1], resized.shape[2]), dtype=resized.dtype)
    out[top:top + resized.shape[0], left:left + resized.shape[1]] = resized
    return out
