"""Small standard datasets, with the interface of ``keras.datasets``.

``cifar10.load_data()``, ``cifar100.load_data()``, ``fashion_mnist.load_data()``
and ``mnist.load_data()`` return ``((x_train, y_train), (x_test, y_test))``
like Keras. Files are looked for in the cache (``NEUROFLOW_DATASETS``, default
``~/.neuroflow/datasets``), in Keras's cache (``~/.keras/datasets``) and in
``/usr/share/datasets`` before being downloaded; importing this package
is cheap (NumPy and the standard library only, no network code).
"""

from neuroflow.keras.datasets import cifar10, cifar100, fashion_mnist, mnist
from neuroflow.keras.datasets._idx import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    DownloadError,
)

__all__ = [
    "CorruptDatasetError",
    "DatasetError",
    "DatasetNotFoundError",
    "DownloadError",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "mnist",
]
