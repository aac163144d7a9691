"""``tf.train.list_variables`` and ``tf.train.load_variable``: look inside a checkpoint."""

from __future__ import annotations

import os

import numpy as np

from neuroflow.train.checkpoint_io import Reader
from neuroflow.train.checkpoint_manager import latest_checkpoint


def _reader(ckpt_dir_or_file) -> Reader:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given "
                             f"directory {path}")
        path = latest
    return Reader(path)


def list_variables(ckpt_dir_or_file) -> list[tuple[str, list[int]]]:
    """The ``(key, shape)`` of every value in a checkpoint (or a folder's latest), sorted."""
    reader = _reader(ckpt_dir_or_file)
    return sorted((key, list(reader.shape(key))) for key in reader.keys())


def load_variable(ckpt_dir_or_file, name: str) -> np.ndarray:
    """The value stored under ``name`` (a key ``list_variables`` gives) as a NumPy array."""
    reader = _reader(ckpt_dir_or_file)
    if name not in reader.specs:
        raise KeyError(f"{name!r} is not a value of checkpoint {reader.prefix}; its values "
                       f"are listed by tf.train.list_variables({reader.prefix!r}).")
    return reader.value(name)
