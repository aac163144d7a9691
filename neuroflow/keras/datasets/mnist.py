"""MNIST: 70,000 28x28 greyscale images of handwritten digits 0-9.

Same interface as ``keras.datasets.mnist``. Keras publishes MNIST as one
``mnist.npz`` (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``), which
is what gets downloaded; local copies may also be the four original IDX files.
"""

from __future__ import annotations

import os

import numpy as np

from neuroflow.keras.datasets._idx import Dataset, IdxFile, load_dataset

__all__ = ["load_data"]

# Only the npz is downloaded, so it is the only file with a known hash; local
# IDX files are checked by structure (gzip CRC, IDX header, exact sizes).
MNIST = Dataset(
    folder="mnist",
    title="MNIST",
    files=(
        IdxFile("train-images-idx3-ubyte", 60000, images=True),
        IdxFile("train-labels-idx1-ubyte", 60000, images=False),
        IdxFile("t10k-images-idx3-ubyte", 10000, images=True),
        IdxFile("t10k-labels-idx1-ubyte", 10000, images=False),
    ),
    npz_name="mnist.npz",
    npz_sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``.

    ``x_train`` is uint8 ``(60000, 28, 28)``, ``y_train`` uint8 ``(60000,)``,
    ``x_test`` ``(10000, 28, 28)`` and ``y_test`` ``(10000,)``, exactly as
    Keras returns them (writable arrays).

    Args:
        path: an ``.npz`` file, or a folder holding ``mnist.npz`` or the four
            IDX files (``train-images-idx3-ubyte.gz`` ... ``t10k-labels-idx1-ubyte.gz``,
            compressed or not). A bare file name that does not exist here, such
            as Keras's default ``"mnist.npz"``, means the usual search: the
            cache ``settings.datasets_dir / "mnist"``, then
            ``/usr/share/datasets/mnist``, then a download into the cache.

    Raises:
        DatasetNotFoundError: no copy was found and the download failed (the
            message lists where it looked and how to provide the files).
        CorruptDatasetError: the file(s) named by ``path`` are damaged.
    """
    return load_dataset(MNIST, path)
