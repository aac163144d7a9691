"""Fashion-MNIST: 70,000 28x28 greyscale images of clothing in 10 classes.

Same interface as ``keras.datasets.fashion_mnist``. Labels: 0 T-shirt/top,
1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt, 7 Sneaker, 8 Bag,
9 Ankle boot. Fashion-MNIST is by Zalando Research, under the MIT license.
"""

from __future__ import annotations

import os

import numpy as np

from neuroflow.keras.datasets._idx import Dataset, IdxFile, load_dataset

__all__ = ["load_data"]

# SHA-256 of the official .gz files (checked on download) and CRC-32 of their
# decompressed content (checked on every load, so Debian's re-headered
# archives, which hash differently, are still accepted).
FASHION_MNIST = Dataset(
    folder="fashion-mnist",
    title="Fashion-MNIST",
    files=(
        IdxFile(
            "train-images-idx3-ubyte",
            60000,
            images=True,
            gz_sha256="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            content_crc32=0xB4F29F28,
        ),
        IdxFile(
            "train-labels-idx1-ubyte",
            60000,
            images=False,
            gz_sha256="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            content_crc32=0x741A4657,
        ),
        IdxFile(
            "t10k-images-idx3-ubyte",
            10000,
            images=True,
            gz_sha256="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            content_crc32=0x678FE0B1,
        ),
        IdxFile(
            "t10k-labels-idx1-ubyte",
            10000,
            images=False,
            gz_sha256="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            content_crc32=0x80142C1F,
        ),
    ),
    apt_package="dataset-fashion-mnist",
)


def load_data(
    path: str | os.PathLike[str] | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    ``x_train`` is uint8 ``(60000, 28, 28)``, ``y_train`` uint8 ``(60000,)``,
    ``x_test`` ``(10000, 28, 28)`` and ``y_test`` ``(10000,)``, in file order,
    exactly as Keras returns them (writable arrays).

    Args:
        path: a folder holding the four files (``train-images-idx3-ubyte.gz``,
            ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
            ``t10k-labels-idx1-ubyte.gz``; uncompressed copies without ``.gz``
            also do). Without it, the cache ``settings.datasets_dir /
            "fashion-mnist"`` is tried, then ``/usr/share/datasets/fashion-mnist``
            (Debian's ``dataset-fashion-mnist``), then a download into the cache.

    Raises:
        DatasetNotFoundError: no copy was found and the download failed (the
            message lists where it looked and how to provide the files).
        CorruptDatasetError: a file in ``path`` is damaged or not the right one.
    """
    return load_dataset(FASHION_MNIST, path)
