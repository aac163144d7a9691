"""Keras 3's HDF5 weights layout (``model.weights.h5``, ``*.weights.h5``), through h5py.

Writing puts each object's variables at ``<path>/vars/<i>`` (see ``saveables.py``).
Reading trusts nothing in the file: every group and dataset on the way must be a plain
(hard) link inside the file, each dataset must keep its data in the file (no external
or virtual storage) and have exactly the shape the model expects and a numeric type,
all checked before a byte of data is read, and nothing is assigned until every weight
has been read. So a file cannot make neuroflow read other files or allocate more than
the model's own size.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np

from neuroflow.keras.optimizers.optimizer import Optimizer
from neuroflow.keras.saving.saveables import Saveable, saveables

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def require_h5py():
    """h5py, imported on first use: it is an optional dependency (the ``h5`` extra)."""
    try:
        import h5py
    except ImportError as error:
        raise ImportError("Reading and writing Keras's .keras and .weights.h5 files needs the "
                          "h5py package, which is not installed. Install it with `pip install "
                          "h5py` (or `pip install neuroflow[h5]`).") from error
    return h5py


def write_weights(model, include_optimizer: bool = True) -> bytes:
    """The bytes of an HDF5 file holding ``model``'s variables in Keras 3's layout."""
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        for item in saveables(model, include_optimizer):
            group = handle.create_group(item.group)
            group.attrs["name"] = item.obj.name
            for i, variable in enumerate(item.variables):
                group.create_dataset(str(i), data=variable.numpy())
    return buffer.getvalue()


def expected_nbytes(model, include_optimizer: bool = True) -> tuple[int, int]:
    """(bytes, datasets) of the weights ``model`` would read: bounds for a file's size."""
    total = count = 0
    for item in saveables(model, include_optimizer):
        for variable in item.variables:
            total += int(np.prod(variable.shape.as_list(), dtype=np.int64)) * \
                variable.dtype.np.itemsize
            count += 1
    return total, count


def read_weights(model, source: Any, where: str, member: str | None = None,
                 include_optimizer: bool = True) -> None:
    """Load ``model``'s variables from an HDF5 file (a path or a binary file object), which
    is ``member`` of the archive ``where`` when given, else the file ``where`` itself.

    Raises ``ValueError`` naming ``where`` and the first problem; the model is unchanged
    unless every weight was found and read.
    """
    h5py = require_h5py()
    what = (f"it is a Keras .keras model archive whose {member}" if member else "it")
    try:
        handle = h5py.File(source, "r")
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot load weights from {where}: {what} is not a readable HDF5 "
                         f"file ({error}). Is it damaged or truncated?") from error
    reader = _Reader(h5py, handle, where if member is None else f"{where} ({member})")
    with handle:
        plan: list[tuple[Any, np.ndarray]] = []
        for item in saveables(model, include_optimizer):
            if isinstance(item.obj, Optimizer):
                plan += reader.optimizer(item)
            else:
                plan += reader.layer(item)
    for variable, value in plan:
        variable.assign(value)


class _Reader:
    """Checked access to one open HDF5 file; every error names the file and the path."""

    def __init__(self, h5py, handle, where: str):
        self.h5py = h5py
        self.handle = handle
        self.where = where

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"Cannot load weights from {self.where}: {problem}")

    def layer(self, item: Saveable) -> list[tuple[Any, np.ndarray]]:
        group = self.group(item.group)
        keys = sorted(group.keys(), key=_index_order) if group is not None else []
        expected = item.variables
        if len(keys) != len(expected) or keys != [str(i) for i in range(len(keys))]:
            what = f"layer {item.obj.name!r}" + (f" (group {item.path!r})" if item.path
                                                 else " (the model itself)")
            found = f"datasets {keys[:8]}" if keys else "no weights"
            raise self.fail(f"{what} expects {_count(len(expected))} "
                            f"({_listing(expected)}), but the file has {found} for it "
                            f"under {item.group!r}. Was it saved from a different model?")
        return [(v, self.read(group, str(i), v)) for i, v in enumerate(expected)]

    def optimizer(self, item: Saveable) -> list[tuple[Any, np.ndarray]]:
        group = self.group(item.group)
        if group is None:
            return []  # saved without optimizer state: the optimizer keeps its own
        keys = list(group.keys())
        if len(keys) != len(item.variables):
            # Keras's rule: a mismatched optimizer state is skipped with a warning.
            hint = (" This is likely because the optimizer has not been called/built yet."
                    if not item.obj.built else "")
            warnings.warn(f"Skipping variable loading for optimizer '{item.obj.name}', because "
                          f"it has {len(item.variables)} variables whereas the saved "
                          f"optimizer in {self.where} has {len(keys)} variables.{hint}",
                          stacklevel=5)
            return []
        return [(v, self.read(group, str(i), v)) for i, v in enumerate(item.variables)]

    def group(self, path: str):
        """The group at ``path``, reached through hard links only; None if absent."""
        node = self.handle
        for part in path.split("/"):
            node = self.child(node, part, path)
            if node is None:
                return None
            if not isinstance(node, self.h5py.Group):
                raise self.fail(f"{path!r} should be a group of weights, but {part!r} is a "
                                f"{type(node).__name__}.")
        return node

    def child(self, parent, name: str, path: str):
        link = parent.get(name, getlink=True)
        if link is None:
            return None
        if not isinstance(link, self.h5py.HardLink):
            # External links open other files; soft links alias other places.
            raise self.fail(f"{path!r} goes through a {type(link).__name__} ({name!r}); "
                            f"links to other files or places are refused.")
        return parent[name]

    def read(self, group, key: str, variable) -> np.ndarray:
        path = f"{group.name.lstrip('/')}/{key}"
        dataset = self.child(group, key, path)
        if not isinstance(dataset, self.h5py.Dataset):
            raise self.fail(f"{path!r} should be a dataset, but is a {type(dataset).__name__}.")
        if dataset.external or dataset.is_virtual:
            raise self.fail(f"dataset {path!r} keeps its data outside the file (external or "
                            f"virtual storage); such datasets are refused.")
        expected = tuple(variable.shape.as_list())
        if tuple(dataset.shape) != expected:
            raise self.fail(f"dataset {path!r} has shape {tuple(dataset.shape)}, but the "
                            f"weight {_label(variable)!r} in its place has shape {expected}.")
        if dataset.dtype.kind not in "biuf" or dataset.dtype.names is not None or \
                dataset.attrs.get("dtype") == "bfloat16":
            kind = dataset.attrs.get("dtype") or str(dataset.dtype)
            raise self.fail(f"dataset {path!r} holds {kind} values; weights must be "
                            f"numbers of a NumPy type (float, int or bool).")
        try:
            value = np.asarray(dataset[()])
        except (OSError, ValueError, RuntimeError) as error:
            raise self.fail(f"dataset {path!r} cannot be read ({error}); is the file "
                            f"damaged or truncated?") from error
        return value.astype(variable.dtype.np, copy=False)


def _index_order(key: str):
    return (0, int(key)) if key.isascii() and key.isdigit() else (1, key)


def _label(variable) -> str:
    return getattr(variable, "path", None) or variable.name


def _listing(variables: list, most: int = 4) -> str:
    shown = [f"{_label(v).rpartition('/')[2]} {tuple(v.shape.as_list())}"
             for v in variables[:most]]
    return ", ".join(shown) + (", ..." if len(variables) > most else "") if shown else "none"


def _count(n: int) -> str:
    return f"{n} weight" + ("" if n == 1 else "s")
