"""neuroflow's checkpoint files: a JSON index and one NumPy ``.npz`` archive, nothing pickled.

A checkpoint with prefix ``ckpt-3`` is two files:

* ``ckpt-3.index``: JSON holding the object graph (each node's children by name, and
  the key of its value if it has one), each value's dtype and shape, and the name,
  size and SHA-256 of the data file;
* ``ckpt-3.data-<8 hex digits>.npz``: the values, written with ``np.savez`` and read
  with ``allow_pickle=False``.

Each file is written to a temporary file in the same folder and renamed into place,
data first, index last; the data file's name is new at every write. So a process
killed at any moment leaves the old index pointing at the old data (still there), or
the new index pointing at the new data: never an index whose data is missing or half
written. The data files an index no longer names are removed after it is replaced.

TensorFlow's own checkpoint format (a table index and ``.data-00000-of-00001``
shards) is neither written nor read.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import secrets
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neuroflow.errors import DataLossError, NotFoundError
from neuroflow.util.files import write_atomically

FORMAT = "neuroflow-checkpoint"
VERSION = 1
_ARCHIVE_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)


@dataclass
class SavedGraph:
    """The object graph of a checkpoint: node 0 is the root."""

    children: list[dict[str, int]] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # each node's value key, or None
    paths: list[str] = field(default_factory=list)  # each node's first path, for messages


def write(prefix: str, graph: SavedGraph, values: dict[str, np.ndarray]) -> None:
    """Write the checkpoint ``prefix``: the data file, then the index naming it."""
    folder, name = os.path.split(os.path.abspath(prefix))
    buffer = io.BytesIO()
    members = {f"{i}": array for i, array in enumerate(values.values())}
    np.savez(buffer, **members)
    data = buffer.getvalue()
    data_name = f"{name}.data-{secrets.token_hex(4)}.npz"
    write_atomically(os.path.join(folder, data_name), data)
    index = {
        "format": FORMAT, "version": VERSION,
        "data": {"file": data_name, "bytes": len(data),
                 "sha256": hashlib.sha256(data).hexdigest()},
        "nodes": [{"children": kids, **({"value": key} if key is not None else {}),
                   "path": path}
                  for kids, key, path in zip(graph.children, graph.keys, graph.paths)],
        "values": {key: {"member": f"{i}", "dtype": array.dtype.str, "shape": list(array.shape)}
                   for i, (key, array) in enumerate(values.items())},
    }
    write_atomically(os.path.join(folder, f"{name}.index"),
                     json.dumps(index, indent=1).encode("utf-8"))
    _remove_other_data_files(folder, name, keep=data_name)


def _remove_other_data_files(folder: str, name: str, keep: str) -> None:
    """Data files of ``name`` that its index no longer names (from earlier writes)."""
    for path in glob.glob(os.path.join(glob.escape(folder), glob.escape(name) + ".data-*.npz")):
        if os.path.basename(path) != keep:
            remove_quietly(path)


def copy(source: str, target: str) -> None:
    """Copy the checkpoint ``source`` to ``target``, atomically as ``write`` does."""
    index = _read_index(source)
    folder = os.path.dirname(os.path.abspath(source))
    entry = index["data"]
    data = _verified_bytes(source, os.path.join(folder, entry["file"]), int(entry["bytes"]),
                           entry["sha256"])
    target_folder, name = os.path.split(os.path.abspath(target))
    index["data"]["file"] = f"{name}.data-{secrets.token_hex(4)}.npz"
    write_atomically(os.path.join(target_folder, index["data"]["file"]), data)
    write_atomically(os.path.join(target_folder, f"{name}.index"),
                     json.dumps(index, indent=1).encode("utf-8"))
    _remove_other_data_files(target_folder, name, keep=index["data"]["file"])


def remove(prefix: str) -> None:
    """Delete the checkpoint ``prefix``: its index first, so it never looks complete half-gone."""
    folder, name = os.path.split(os.path.abspath(prefix))
    remove_quietly(os.path.join(folder, f"{name}.index"))
    _remove_other_data_files(folder, name, keep="")


def remove_quietly(path: str) -> None:
    # Deleting what is already gone (another process cleaned up first) is not an error.
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def exists(prefix: str) -> bool:
    return os.path.isfile(os.fspath(prefix) + ".index")


class Reader:
    """The values of one checkpoint, checked whole before anything is restored from it."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        index = _read_index(prefix)
        try:
            self.graph = SavedGraph([{k: int(v) for k, v in node["children"].items()}
                                     for node in index["nodes"]],
                                    [node.get("value") for node in index["nodes"]],
                                    [node.get("path", "") for node in index["nodes"]])
            self.specs: dict[str, dict] = index["values"]
            data = index["data"]
            data_path = os.path.join(os.path.dirname(os.path.abspath(prefix)), data["file"])
            expected_size, expected_hash = int(data["bytes"]), data["sha256"]
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise _damaged(prefix, f"its index lacks an entry ({error!r})") from None
        self._archive = _read_data(prefix, data_path, expected_size, expected_hash)

    def keys(self) -> list[str]:
        return list(self.specs)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.specs[key]["shape"])

    def dtype(self, key: str) -> np.dtype:
        return np.dtype(self.specs[key]["dtype"])

    def value(self, key: str) -> np.ndarray:
        try:
            return self._archive[self.specs[key]["member"]]
        except _ARCHIVE_ERRORS + (KeyError,) as error:
            raise _damaged(self.prefix, f"the value of {key} cannot be read ({error})") from None


def _read_index(prefix: str) -> dict[str, Any]:
    path = prefix + ".index"
    if not os.path.isfile(path):
        if os.path.isdir(prefix):
            raise DataLossError(f"Unable to open checkpoint {prefix}: it is a directory. Pass "
                                f"the checkpoint's prefix, e.g. "
                                f"tf.train.latest_checkpoint({prefix!r}).")
        raise NotFoundError(f"Error when restoring from checkpoint at {prefix}: Failed to find "
                            f"any matching files for {prefix} (no {path}).\nPlease double-check "
                            f"that the path is correct. You may be missing the checkpoint "
                            f"suffix (e.g. the '-1' in 'path/to/ckpt-1').")
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        index = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DataLossError(f"Unable to read checkpoint {prefix}: {path} is not a neuroflow "
                            f"checkpoint index. TensorFlow's own checkpoint format is not read; "
                            f"save the checkpoint again with neuroflow.") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise DataLossError(f"Unable to read checkpoint {prefix}: {path} is JSON but not a "
                            f"neuroflow checkpoint index (no \"format\": \"{FORMAT}\").")
    if index.get("version") != VERSION:
        raise DataLossError(f"Unable to read checkpoint {prefix}: it has format version "
                            f"{index.get('version')!r}, this neuroflow reads version {VERSION}. "
                            f"Read it with the neuroflow that wrote it.")
    return index


def _read_data(prefix: str, path: str, size: int, sha256: str) -> np.lib.npyio.NpzFile:
    data = _verified_bytes(prefix, path, size, sha256)
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except _ARCHIVE_ERRORS as error:
        raise _damaged(prefix, f"its data file {path} cannot be read ({error})") from None


def _verified_bytes(prefix: str, path: str, size: int, sha256: str) -> bytes:
    """The data file's bytes, if they are the ones its index was written with."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise _damaged(prefix, f"its data file {path} is missing") from None
    if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
        raise _damaged(prefix, f"its data file {path} has {len(data):,} bytes whose SHA-256 "
                               f"does not match the index ({size:,} bytes expected)")
    return data


def _damaged(prefix: str, what: str) -> DataLossError:
    return DataLossError(f"Unable to restore checkpoint {prefix}: {what}. The files were changed "
                         f"or damaged after they were written; restore an earlier checkpoint.")
