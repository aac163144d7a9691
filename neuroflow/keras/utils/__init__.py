"""Keras utilities: progress bar, summaries, seeds, label encoding, image folders."""

from __future__ import annotations

import random as _random

import numpy as np

from neuroflow.keras.data_adapter import (  # noqa: F401 - keras.utils names
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from neuroflow.keras.utils.image_dataset import image_dataset_from_directory
from neuroflow.keras.utils.plot_model import plot_model
from neuroflow.keras.utils.progbar import Progbar
from neuroflow.keras.utils.text_dataset import pad_sequences, text_dataset_from_directory


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and neuroflow at once, as ``keras.utils.set_random_seed``."""
    from neuroflow.ops import random_ops

    # Keras takes only Python integers (bool included); a float, string or None would
    # otherwise seed Python's generator and then fail in NumPy's, or seed nothing at all.
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed} "
                         f"(of type {type(seed)})")
    _random.seed(seed)
    np.random.seed(seed)
    random_ops.set_seed(seed)


def to_categorical(y, num_classes=None, dtype="float32") -> np.ndarray:
    """One-hot encode integer class labels."""
    labels = np.asarray(y, dtype=np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels.reshape(labels.shape[:-1])
    classes = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"to_categorical: labels must be in [0, {classes}), received values "
                         f"from {labels.min()} to {labels.max()}.")
    return np.eye(classes, dtype=dtype)[labels]


__all__ = ["Progbar", "image_dataset_from_directory", "pad_sequences", "plot_model",
           "set_random_seed", "text_dataset_from_directory", "to_categorical"]
