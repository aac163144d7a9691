"""CIFAR-10: 60,000 32x32 colour images in 10 classes.

Same interface as ``keras.datasets.cifar10``. Labels: 0 airplane,
1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.
CIFAR-10 is by Alex Krizhevsky, Vinod Nair and Geoffrey Hinton
(https://www.cs.toronto.edu/~kriz/cifar.html).
"""

from __future__ import annotations

import os

import numpy as np

from neuroflow.keras.datasets._cifar import CifarDataset, Labels, load_cifar

__all__ = ["load_data"]

CIFAR10 = CifarDataset(
    title="CIFAR-10",
    inner="cifar-10-batches-py",
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test=("test_batch",),
    archive="cifar-10-python.tar.gz",
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    max_file_mb=40,  # each official batch is 31 MB
)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``.

    ``x_train`` is uint8 ``(50000, 32, 32, 3)`` (channels last),
    ``y_train`` uint8 ``(50000, 1)``, ``x_test`` ``(10000, 32, 32, 3)`` and
    ``y_test`` ``(10000, 1)``, as Keras returns them.

    Args:
        path: not in Keras (whose ``load_data()`` takes no argument): the
            ``cifar-10-batches-py`` folder, a folder holding it or the archive,
            or the archive ``cifar-10-python.tar.gz`` itself (read without
            extracting it). Without it, the cache ``settings.datasets_dir`` is
            searched, then Keras's cache ``$KERAS_HOME/datasets`` (default
            ``~/.keras/datasets``), then ``/usr/share/datasets``, and last the
            archive is downloaded into the cache.

    Raises:
        DatasetNotFoundError: no copy was found and the download failed (the
            message lists where it looked and how to provide the files).
        CorruptDatasetError: what ``path`` names is damaged, or not CIFAR-10.
    """
    return load_cifar(CIFAR10, Labels("labels", 10, np.uint8), path)
