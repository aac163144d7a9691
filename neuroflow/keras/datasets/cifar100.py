"""CIFAR-100: 60,000 32x32 colour images in 100 classes, grouped in 20 superclasses.

Same interface as ``keras.datasets.cifar100``. CIFAR-100 is by Alex
Krizhevsky (https://www.cs.toronto.edu/~kriz/cifar.html).
"""

from __future__ import annotations

import os

import numpy as np

from neuroflow.keras.datasets._cifar import CifarDataset, Labels, load_cifar

__all__ = ["load_data"]

CIFAR100 = CifarDataset(
    title="CIFAR-100",
    inner="cifar-100-python",
    train=("train",),
    test=("test",),
    archive="cifar-100-python.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    max_file_mb=200,  # the official train file is 155 MB
)

# Keras returns the labels as its pickles' Python lists become in NumPy: int64.
_LABELS = {"fine": Labels("fine_labels", 100, np.int64),
           "coarse": Labels("coarse_labels", 20, np.int64)}


def load_data(
    label_mode: str = "fine",
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-100 as ``((x_train, y_train), (x_test, y_test))``.

    ``x_train`` is uint8 ``(50000, 32, 32, 3)`` (channels last),
    ``y_train`` int64 ``(50000, 1)``, ``x_test`` ``(10000, 32, 32, 3)`` and
    ``y_test`` ``(10000, 1)``, as Keras returns them.

    Args:
        label_mode: ``"fine"`` for the 100 classes (0-99), ``"coarse"`` for
            the 20 superclasses (0-19).
        path: not in Keras: the ``cifar-100-python`` folder, a folder holding
            it or the archive, or the archive ``cifar-100-python.tar.gz``
            itself. Without it the caches are searched and, last, the archive
            is downloaded, as for ``cifar10.load_data``.

    Raises:
        ValueError: ``label_mode`` is neither ``"fine"`` nor ``"coarse"``.
        DatasetNotFoundError: no copy was found and the download failed.
        CorruptDatasetError: what ``path`` names is damaged, or not CIFAR-100.
    """
    if label_mode not in ("fine", "coarse"):  # a tuple: an unhashable value is just wrong
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    return load_cifar(CIFAR100, _LABELS[label_mode], path)
