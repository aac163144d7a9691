"""``keras.utils.text_dataset_from_directory`` and ``keras.utils.pad_sequences``.

The text files are listed, labelled, shuffled and split as Keras 3 does (the same steps
as ``image_dataset_from_directory``, whose argument checks and split this module
shares), so the same ``seed`` gives the same training and validation files. Each file
is read as bytes, whole or cut to ``max_length`` bytes, into a ``tf.string`` element.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuroflow.keras.utils.image_dataset import (
    _check_validation_split,
    _split,
    index_directory,
)

_FORMATS = (".txt",)


def text_dataset_from_directory(
    directory: str | os.PathLike[str],
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    format: str = "tf",
    verbose: bool = True,
):
    """A ``tf.data.Dataset`` of ``(texts, labels)`` batches from ``.txt`` files in subfolders.

    With ``directory/neg/1.txt``, ``directory/pos/2.txt`` ..., the classes are the subfolder
    names in alphanumeric order. Texts are ``tf.string`` of shape ``(batch,)``; labels are
    int32 ``(batch,)`` (``label_mode="int"``), float32 one-hot ``(batch, num_classes)``
    (``"categorical"``) or float32 ``(batch, 1)`` (``"binary"``). The dataset has a
    ``class_names`` attribute. Arguments and defaults are Keras 3's; only ``format="tf"``.

    >>> import neuroflow as tf
    >>> train, val = tf.keras.utils.text_dataset_from_directory(
    ...     "reviews", validation_split=0.2, subset="both", seed=1)  # doctest: +SKIP
    Found 10 files belonging to 2 classes.
    Using 8 files for training.
    Using 2 files for validation.
    """
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                "as the number of text files in the target directory. If you wish to infer the "
                "labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains text '
                f"samples (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if format == "grain":
        raise NotImplementedError('text_dataset_from_directory: format="grain" needs Google\'s '
                                  'Grain library; neuroflow returns tf.data datasets only. Pass '
                                  'format="tf".')
    if format != "tf":
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    _check_validation_split(validation_split, subset, shuffle, seed)
    if seed is None:  # as Keras: drawn from NumPy's global generator
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, _FORMATS, class_names,
                                                 shuffle, seed, follow_links, verbose,
                                                 caller="text_dataset_from_directory")
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    buffer = batch_size * 8 if batch_size is not None else 1024
    classes = len(class_names) if class_names else 0

    def make(part_paths, part_labels, part_shuffle):
        ds = _paths_to_dataset(part_paths, part_labels, label_mode, classes, max_length,
                               part_shuffle, buffer, seed)
        if batch_size is not None:
            ds = ds.batch(batch_size)
        from neuroflow import data

        ds = ds.prefetch(data.AUTOTUNE)
        ds.class_names = class_names
        return ds

    if subset == "both":
        train_paths, train_labels = _split(paths, labels, validation_split, "training")
        val_paths, val_labels = _split(paths, labels, validation_split, "validation")
        for name, part in (("training", train_paths), ("validation", val_paths)):
            if not part:
                raise ValueError(f"No {name} text files found in directory {directory}. "
                                 f"Allowed format: .txt")
        # Keras never shuffles the validation half of a "both" split.
        return [make(train_paths, train_labels, shuffle), make(val_paths, val_labels, False)]
    paths, labels = _split(paths, labels, validation_split, subset)
    if not paths:
        raise ValueError(f"No text files found in directory {directory}. Allowed format: .txt")
    return make(paths, labels, shuffle)


def _paths_to_dataset(paths: list[str], labels: Any, label_mode: str | None, classes: int,
                      max_length: int | None, shuffle: bool, buffer: int, seed: int):
    import neuroflow as tf

    ds = tf.data.Dataset.from_tensor_slices(paths)
    if label_mode:
        values = tf.convert_to_tensor(labels)  # as TF converts a list: ints become int32
        if label_mode == "binary":
            values = tf.expand_dims(tf.cast(values, "float32"), axis=-1)
        elif label_mode == "categorical":
            values = tf.one_hot(values, classes)
        ds = tf.data.Dataset.zip((ds, tf.data.Dataset.from_tensor_slices(values)))
    if shuffle:
        ds = ds.shuffle(buffer_size=buffer, seed=seed)

    def read(path):
        with open(path.numpy().decode(), "rb") as f:
            text = f.read() if max_length is None else f.read(max_length)
        return tf.constant(text)

    if label_mode:
        return ds.map(lambda path, label: (read(path), label))
    return ds.map(read)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0) -> np.ndarray:
    """Pad (and cut) sequences to one length, as ``keras.utils.pad_sequences``.

    Sequences longer than ``maxlen`` lose their start (``truncating="pre"``) or end
    (``"post"``); shorter ones are filled with ``value`` before (``padding="pre"``) or
    after (``"post"``). ``maxlen`` defaults to the longest sequence. Items may be arrays
    (all of one shape); strings need ``dtype=object``.

    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2).tolist()
    [[2, 3], [0, 4]]
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths = []
    sample_shape: tuple = ()
    shape_known = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as error:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: "
                             f"{x}") from error
        if not shape_known and len(x):
            # The first non-empty sequence sets the shape of each item.
            sample_shape = np.asarray(x).shape[1:]
            shape_known = True
    if maxlen is None:
        if not lengths:
            raise ValueError("zero-size array to reduction operation maximum which has no "
                             "identity")
        maxlen = int(np.max(lengths))
    text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         f"strings.")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence):
            continue
        if truncating == "pre":
            kept = sequence[-maxlen:] if maxlen else sequence[:0]
        elif truncating == "post":
            kept = sequence[:maxlen]
        else:
            raise ValueError(f'Truncating type "{truncating}" not understood')
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position "
                             f"{index} is different from expected shape {sample_shape}")
        if padding == "post":
            out[index, :len(kept)] = kept
        elif padding == "pre":
            if len(kept):
                out[index, -len(kept):] = kept
        else:
            raise ValueError(f'Padding type "{padding}" not understood')
    return out
