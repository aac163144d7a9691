"""Shared loader for CIFAR-10 and CIFAR-100 (the "python version" files).

Each dataset is a few Python pickles (CIFAR-10: ``data_batch_1`` ...
``data_batch_5`` and ``test_batch``; CIFAR-100: ``train`` and ``test``) in a
folder ``cifar-10-batches-py/`` or ``cifar-100-python/``, published as one
``.tar.gz``. ``load_cifar`` looks for them, in this order:

1. ``path``, when given: the folder holding the pickles, a folder holding
   that folder or the archive, or the archive itself. Nothing else is tried.
2. The cache, ``settings.datasets_dir``.
3. Keras's cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``),
   so files a TensorFlow user already downloaded are reused: Keras 3 keeps
   ``cifar-10-batches-py-target/cifar-10-batches-py/`` and the archive as
   ``cifar-10-batches-py-target_archive``; older Keras ``cifar-10-batches-py/``
   and ``cifar-10-batches-py.tar.gz``.
4. Each of ``settings.system_dataset_dirs``.
5. A download of the official archive into the cache (checked against its
   SHA-256), which is then read in place.

In each folder the extracted files are preferred; an archive is read with
``tarfile`` straight from disk, without extracting anything.

The pickles date from Python 2: dicts with byte-string keys, ``data`` a
uint8 array of shape ``(n, 3072)`` (1024 red, then green, then blue values
of a 32x32 image, row by row) and the labels as lists. They are read with an
unpickler that can build nothing but NumPy arrays (the only globals such a
file names are ``ndarray``, ``dtype`` and ``_reconstruct``), so a tampered
file cannot run code; everything it holds is then checked (keys, dtypes,
shapes, label range) before use.
"""

from __future__ import annotations

import io
import os
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from neuroflow import config
from neuroflow.keras.datasets import _idx
from neuroflow.keras.datasets._idx import CorruptDatasetError, DatasetNotFoundError

Split = tuple[np.ndarray, np.ndarray]
Arrays = tuple[Split, Split]

IMAGE_SHAPE = (3, 32, 32)  # how a row of `data` is laid out: channels first
ROW = 3 * 32 * 32
_MB = 1 << 20


class _BadFile(Exception):
    """Internal: why one file or archive is unusable. The caller adds where it is."""


class RefusedPickleError(pickle.UnpicklingError):
    """A CIFAR pickle asked for something other than a NumPy array."""


@dataclass(frozen=True)
class CifarDataset:
    """Where a CIFAR dataset lives and what its files must hold."""

    title: str  # for messages, e.g. "CIFAR-10"
    inner: str  # the folder inside the archive, e.g. "cifar-10-batches-py"
    train: tuple[str, ...]  # pickle names, concatenated in this order
    test: tuple[str, ...]
    archive: str  # the official archive's name
    url: str
    sha256: str  # of the official archive (the one Keras checks too)
    max_file_mb: int  # no genuine pickle is larger: a bigger file is not read

    def archive_names(self) -> tuple[str, ...]:
        """The names the archive has here, in Keras 3's cache and in older Keras's."""
        names = (self.archive, f"{self.inner}-target_archive", f"{self.inner}.tar.gz")
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class Labels:
    """Which labels to return: the key in the pickles, their range and NumPy dtype."""

    key: str  # "labels", "fine_labels" or "coarse_labels"
    classes: int
    dtype: type  # what Keras returns: uint8 for CIFAR-10, int64 for CIFAR-100


# ---------------------------------------------------------------------------
# Entry point


def load_cifar(dataset: CifarDataset, labels: Labels,
               path: str | os.PathLike[str] | None = None) -> Arrays:
    """Find, check and decode ``dataset``: ``((x_train, y_train), (x_test, y_test))``.

    Images are uint8 ``(n, 32, 32, 3)`` (channels last), labels ``(n, 1)`` of
    ``labels.dtype``. See the module docstring for the search order.
    """
    if path is not None:
        return _load_explicit(dataset, labels, Path(path).expanduser())

    looked: list[str] = []
    for root, label in _search_roots():
        sources = _sources(dataset, root)
        for source in sources:
            try:
                return _read_source(dataset, labels, source)
            except _BadFile as error:
                # stacklevel 3: the warning points at the user's load_data call.
                warnings.warn(f"{source}: {error}; ignoring it", RuntimeWarning, stacklevel=3)
                looked.append(f"{source}{label}: {error}")
        if not sources:
            looked.append(_nothing_in(dataset, root, label))

    target = Path(config.settings.datasets_dir).expanduser() / dataset.archive
    try:
        _idx._download(dataset.url, target, dataset.sha256)
    except OSError as error:
        raise DatasetNotFoundError(_not_found_message(dataset, looked, error)) from error
    try:
        return _read_source(dataset, labels, target)
    except _BadFile as error:  # only if the file changed under our feet
        raise CorruptDatasetError(f"{dataset.title}: {target}: {error}, right after its "
                                  f"download. Delete it and try again.") from None


def _search_roots() -> list[tuple[Path, str]]:
    """The folders searched without ``path``, each with a label for messages."""
    roots = [(Path(config.settings.datasets_dir).expanduser(), " (the cache)"),
             (_idx.keras_datasets_dir(), " (Keras's cache)")]
    roots += [(Path(folder), "") for folder in config.settings.system_dataset_dirs]
    return roots


def _sources(dataset: CifarDataset, root: Path) -> list[Path]:
    """What in ``root`` may hold the dataset, best first: extracted folders, then archives."""
    folders = [root / dataset.inner, root / f"{dataset.inner}-target" / dataset.inner]
    found = [folder for folder in folders if _has_any(dataset, folder)]
    return found + [root / name for name in dataset.archive_names() if (root / name).is_file()]


def _has_any(dataset: CifarDataset, folder: Path) -> bool:
    return any((folder / name).is_file() for name in dataset.train + dataset.test)


def _load_explicit(dataset: CifarDataset, labels: Labels, path: Path) -> Arrays:
    """Load from what the caller named; anything wrong raises."""
    if path.is_dir():
        # The pickles' own folder, or a folder that holds it or the archive.
        sources = [path] if _has_any(dataset, path) else _sources(dataset, path)
        if not sources:
            raise DatasetNotFoundError(
                f"{dataset.title}: {path} holds neither the files {', '.join(dataset.train)}, "
                f"{', '.join(dataset.test)} nor a {dataset.inner}/ folder or "
                f"{dataset.archive}. Pass the folder that holds them, or the archive itself.")
        path = sources[0]
    elif not path.exists():
        raise DatasetNotFoundError(
            f"{dataset.title}: {path} does not exist; pass the {dataset.inner}/ folder "
            f"(or the folder that holds it) or the archive {dataset.archive}.")
    try:
        return _read_source(dataset, labels, path)
    except _BadFile as error:
        raise CorruptDatasetError(
            f"{dataset.title}: {path}: {error}. Replace it with an intact copy of "
            f"{dataset.archive} (or its extracted {dataset.inner}/ folder), or leave out "
            f"`path` to search the caches (downloading a copy if none has one).") from None


# ---------------------------------------------------------------------------
# Reading folders and archives


def _read_source(dataset: CifarDataset, labels: Labels, source: Path) -> Arrays:
    """Decode the dataset from a folder of pickles or from an archive file."""
    if source.is_dir():
        batches = {name: _read_file(dataset, source / name)
                   for name in dataset.train + dataset.test}
    else:
        batches = _read_archive(dataset, source)
    decoded = {name: _decode_batch(data, name, labels) for name, data in batches.items()}
    return _assemble(dataset, decoded, labels)


def _read_file(dataset: CifarDataset, file: Path) -> bytes:
    try:
        size = file.stat().st_size
        if size > dataset.max_file_mb * _MB:
            raise _BadFile(f"{file.name} is {size / _MB:.0f} MB, larger than any "
                           f"{dataset.title} file (at most {dataset.max_file_mb} MB)")
        return file.read_bytes()
    except FileNotFoundError:
        raise _BadFile(f"{file.name} is missing") from None
    except OSError as error:  # e.g. no permission: a reason to try elsewhere, not to crash
        raise _BadFile(f"{file.name} cannot be read ({error.strerror or error})") from None


def _read_archive(dataset: CifarDataset, archive: Path) -> dict[str, bytes]:
    """Read the pickles out of a tar archive (any compression) without extracting it.

    The archive is read as a stream, in one pass. Only regular files named
    ``<inner>/<pickle>`` are read, each at most ``max_file_mb``; a member
    with an absolute path or ``..`` in it means the file is not the official
    archive, whose members all sit in ``<inner>/``.
    """
    import tarfile  # imported on use: the package import stays cheap

    wanted = {f"{dataset.inner}/{name}": name for name in dataset.train + dataset.test}
    found: dict[str, bytes] = {}
    try:
        with open(archive, "rb") as handle, tarfile.open(fileobj=handle, mode="r|*") as tar:
            for member in tar:
                name = _member_name(member.name)
                if name not in wanted:
                    continue
                short = wanted[name]
                if short in found:
                    raise _BadFile(f"the archive holds {name} twice")
                if not member.isreg():
                    raise _BadFile(f"the archive's {name} is not a regular file")
                if member.size > dataset.max_file_mb * _MB:
                    raise _BadFile(f"the archive's {name} is {member.size / _MB:.0f} MB, larger "
                                   f"than any {dataset.title} file")
                reader = tar.extractfile(member)
                assert reader is not None  # a regular file always has data
                found[short] = reader.read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise _BadFile(f"not a readable tar archive ({error})") from None
    missing = [name for name in wanted if wanted[name] not in found]
    if missing:
        raise _BadFile(f"the archive has no {', '.join(missing)}")
    return found


def _member_name(name: str) -> str:
    """A member's path without a leading ``./``; unsafe paths are refused outright."""
    posix = PurePosixPath(name)
    if posix.is_absolute() or ".." in posix.parts or "\\" in name or "\0" in name:
        raise _BadFile(f"the archive has a member with an unsafe path {name!r}, which the "
                       "official archive never has")
    return str(posix)


# ---------------------------------------------------------------------------
# Decoding the pickles


# Exactly what rebuilding a NumPy array needs: ``_reconstruct`` under NumPy 1's
# module name (all official files, written by Python 2) and NumPy 2's, plus
# ``ndarray`` and ``dtype``. The function is taken from ``ndarray.__reduce__``
# rather than imported, as NumPy 2 moved it and warns about the old module.
_RECONSTRUCT = np.empty(0).__reduce__()[0]
_ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds plain data and NumPy arrays, and refuses any other global."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedPickleError(
                f"refused to load it: its pickle asks for `{module}.{name}`, which a CIFAR "
                f"file never needs (only NumPy arrays may be rebuilt). The file may have been "
                f"tampered with; delete it and use an intact copy") from None


def _unpickle(data: bytes, name: str) -> Any:
    try:
        # encoding="bytes": Python 2 strings stay bytes (decoding them as text would
        # mangle the arrays' raw pixel data).
        return _ArraysOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except RefusedPickleError as error:
        raise _BadFile(f"{name}: {error}") from None
    except Exception as error:  # a damaged pickle fails in many ways, all meaning the same
        raise _BadFile(f"{name}: not a readable pickle ({type(error).__name__}: {error})") from None


def _decode_batch(data: bytes, name: str, labels: Labels) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle and check one batch: images ``(n, 3072)`` uint8 and labels ``(n,)``."""
    content = _unpickle(data, name)
    if not isinstance(content, dict):
        raise _BadFile(f"{name} holds a {type(content).__name__}, expected a dict")
    # Python 2 wrote the keys as byte strings; a re-saved file may have text keys.
    entries = {key.decode("latin-1") if isinstance(key, bytes) else key: value
               for key, value in content.items()}
    missing = [key for key in ("data", labels.key) if key not in entries]
    if missing:
        keys = ", ".join(sorted(str(key) for key in entries))
        raise _BadFile(f"{name} has no {' or '.join(missing)} (its keys: {keys})")
    images = _images(entries["data"], name)
    targets = _labels(entries[labels.key], name, labels)
    if len(targets) != len(images):
        raise _BadFile(f"{name} has {len(images)} images but {len(targets)} {labels.key}")
    return images, targets


def _images(value: Any, name: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        if value.dtype != np.uint8:
            raise _BadFile(f"{name}: data is {value.dtype}, expected uint8")
        images = value
    else:  # a list of rows: check the values before narrowing them to uint8
        try:
            wide = np.asarray(value)
        except (ValueError, TypeError) as error:
            raise _BadFile(f"{name}: data is not an array of pixel values ({error})") from None
        if wide.dtype.kind not in "iu" or (wide.size and (wide.min() < 0 or wide.max() > 255)):
            raise _BadFile(f"{name}: data must hold integers 0..255, received {wide.dtype}")
        images = wide.astype(np.uint8)
    if images.ndim != 2 or images.shape[1] != ROW:
        raise _BadFile(f"{name}: data has shape {images.shape}, expected (n, {ROW})")
    return images


def _labels(value: Any, name: str, labels: Labels) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise _BadFile(f"{name}: {labels.key} is not a list of integers ({error})") from None
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise _BadFile(f"{name}: {labels.key} must be a list of integers, received "
                       f"{array.dtype} of shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= labels.classes):
        raise _BadFile(f"{name}: {labels.key} holds {array.min()}..{array.max()}, expected "
                       f"0..{labels.classes - 1}")
    return array.astype(labels.dtype)


def _assemble(dataset: CifarDataset, decoded: dict[str, tuple[np.ndarray, np.ndarray]],
              labels: Labels) -> Arrays:
    """Concatenate the batches of each split into Keras's layout."""

    def split(names: tuple[str, ...]) -> Split:
        rows = np.concatenate([decoded[name][0] for name in names])
        x = rows.reshape((-1, *IMAGE_SHAPE)).transpose(0, 2, 3, 1)
        y = np.concatenate([decoded[name][1] for name in names]).reshape(-1, 1)
        # A fresh C-ordered array: the transposed view would be slow to batch from.
        return np.ascontiguousarray(x), y.astype(labels.dtype)

    return split(dataset.train), split(dataset.test)


# ---------------------------------------------------------------------------
# Messages


def _nothing_in(dataset: CifarDataset, root: Path, label: str) -> str:
    if not root.is_dir():
        return f"{root}{label}: no such folder"
    return (f"{root}{label}: no {dataset.inner}/ folder (nor Keras 3's "
            f"{dataset.inner}-target/{dataset.inner}/) and no archive "
            f"({', '.join(dataset.archive_names())})")


def _not_found_message(dataset: CifarDataset, looked: list[str], error: BaseException) -> str:
    cache = Path(config.settings.datasets_dir).expanduser()
    return "\n".join([
        f"{dataset.title} is not available: no usable copy was found and the download failed.",
        "Looked in:",
        *(f"  - {place}" for place in looked),
        f"Download: {error}",
        "To provide the files, do one of:",
        f"  - download {dataset.url} elsewhere and pass load_data(path=ARCHIVE), or the "
        f"folder it extracts to ({dataset.inner}/);",
        f"  - copy {dataset.archive}, or its extracted {dataset.inner}/ folder, into the "
        f"cache folder {cache} (set NEUROFLOW_DATASETS to use another folder);",
        f"  - or into Keras's cache {_idx.keras_datasets_dir()}, where TensorFlow's "
        f"keras.datasets finds it too.",
    ])
