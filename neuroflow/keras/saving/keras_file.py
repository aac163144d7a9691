"""Keras 3's ``.keras`` files: a zip of ``metadata.json``, ``config.json`` and
``model.weights.h5``; and ``.weights.h5`` files, the last of these alone.

Reading bounds everything a file could inflate: the archive's members are counted and
their names checked (no absolute paths, ``..`` or backslashes, no duplicates; nothing
is ever extracted), each member is read as a stream up to a limit (``config.json`` to
64 MiB, the weights to a few times the model's own size, fixed once the model is built
from the config) and refused if it expands more than a zip bomb would. Writing builds
the archive in memory and puts it in place atomically, so an interrupted save leaves
the previous file whole.
"""

from __future__ import annotations

import errno
import io
import json
import os
import time
import warnings
import zipfile
import zlib

from neuroflow.keras.saving import model_config
from neuroflow.keras.saving.weights_h5 import (
    HDF5_SIGNATURE,
    expected_nbytes,
    read_weights,
    write_weights,
)
from neuroflow.util.files import write_atomically

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# The Keras release whose layout this writer follows (written in metadata.json).
KERAS_VERSION = "3.15.1"
MAX_CONFIG_BYTES = 64 << 20
MAX_METADATA_BYTES = 1 << 20
MAX_MEMBERS = 10_000
# Deflate cannot expand data more than about 1032 times; Keras stores members
# uncompressed. A large member that claims more is a zip bomb.
MAX_EXPANSION = 100
_RATIO_FLOOR = 1 << 20
_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError,
                   NotImplementedError, ValueError)


# --- writing -------------------------------------------------------------------------------


def save_model(model, filepath, overwrite: bool = True, zipped=None, **kwargs) -> None:
    """Write ``model`` (config, weights, optimizer state) to a ``.keras`` file, atomically."""
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    path = os.fspath(filepath)
    if save_format and not path.endswith(".keras"):
        raise ValueError(f"The `save_format` argument is deprecated in Keras 3. Please remove "
                         f"this argument and pass a file path with a `.keras` extension. "
                         f"Received: save_format={save_format}")
    if save_format:
        warnings.warn(f"The `save_format` argument is deprecated in Keras 3; the format is "
                      f"inferred from the file path ({path}). Received: "
                      f"save_format={save_format}", stacklevel=3)
    if zipped is False:
        raise NotImplementedError(f"Cannot save to {path} with zipped=False: neuroflow writes "
                                  f"the zipped .keras file only. Leave zipped at its default.")
    if path.endswith((".h5", ".hdf5")):
        raise NotImplementedError(
            f"Cannot save to {path}: the legacy Keras 2 HDF5 model format (.h5) is not "
            f"supported. Save the model as {path.rsplit('.', 1)[0] + '.keras'!r} (Keras 3's "
            f"format, which Keras reads too), or only its weights with "
            f"model.save_weights('....weights.h5').")
    if not path.endswith(".keras"):
        raise ValueError(f"Invalid filepath extension for saving. Please add a `.keras` "
                         f"extension for the native Keras format. Received: filepath={path}.")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    write_atomically(path, archive_bytes(model, include_optimizer))


def archive_bytes(model, include_optimizer: bool = True) -> bytes:
    """The bytes of a ``.keras`` file for ``model``, members in Keras's order."""
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    members = [(METADATA, json.dumps(metadata).encode()),
               (CONFIG, model_config.to_json(model).encode()),
               (WEIGHTS, write_weights(model, include_optimizer))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Write ``model``'s weights and optimizer state as a Keras 3 ``.weights.h5`` file."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    write_atomically(path, write_weights(model))


# --- reading -------------------------------------------------------------------------------


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model from a ``.keras`` file (Keras 3's or neuroflow's); see the module
    docstring for what is checked. ``safe_mode=False`` allows ``Lambda`` layers whose
    functions are given in ``custom_objects``; Python bytecode is refused regardless."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ValueError(f"Cannot load {path}: it is a folder. neuroflow loads .keras files; a "
                         f"TensorFlow SavedModel folder or an unzipped .keras folder is not "
                         f"supported.")
    kind = file_kind(path, "No such model file (model.save(path) writes one)")
    if kind == "hdf5":
        raise NotImplementedError(
            f"Cannot load {path}: it is an HDF5 file, either a legacy Keras 2 model (.h5), "
            f"which neuroflow does not read, or a weights file, which model.load_weights(path) "
            f"loads into a model built in code. Save the model as .keras with Keras 3.")
    if kind != "zip":
        raise ValueError(f"Cannot load {path}: it is {kind}. File format not supported: "
                         f"neuroflow loads Keras 3 `.keras` files.")
    with _open_archive(path) as archive:
        members = _members(archive, path)
        if CONFIG not in members:
            what = ("a weights archive written by save_weights (.npz); load it with "
                    "model.load_weights(path)" if any(n.endswith(".npy") for n in members)
                    else f"a zip archive without {CONFIG}, not a .keras file")
            raise ValueError(f"Cannot load {path}: it is {what}.")
        if METADATA in members:
            _parse_json(_read(archive, members[METADATA], MAX_METADATA_BYTES, path), path,
                        METADATA)
        config = _parse_json(_read(archive, members[CONFIG], MAX_CONFIG_BYTES, path), path,
                             CONFIG)
        model = model_config.model_from_config(config, custom_objects, compile, safe_mode,
                                               source=path)
        _load_archive_weights(model, archive, members, path)
    return model


def load_weights(model, filepath) -> None:
    """Load weights (and optimizer state) from a ``.weights.h5`` or ``.keras`` file."""
    path = os.fspath(filepath)
    kind = file_kind(path, "No such weights file (model.save_weights(path) writes one)")
    if kind == "hdf5":
        # Read in place: every dataset's shape is checked before it is read.
        read_weights(model, path, path)
        return
    if kind != "zip":
        raise ValueError(f"Cannot load weights from {path}: it is {kind}; a .weights.h5 file "
                         f"is an HDF5 file, as model.save_weights(path) writes it.")
    with _open_archive(path) as archive:
        _load_archive_weights(model, archive, _members(archive, path), path)


def is_keras_weights_file(path: str) -> bool:
    """Whether ``load_weights`` should read ``path`` as Keras's (HDF5 or ``.keras``)
    rather than as neuroflow's ``.npz`` archive: by its content, then its name."""
    try:
        kind = file_kind(path, "")
    except FileNotFoundError:
        return False
    name = path.lower()
    return kind == "hdf5" or (kind == "zip" and name.endswith(".keras")) or (
        kind != "zip" and name.endswith(".weights.h5"))


def file_kind(path: str, missing: str) -> str:
    """"zip", "hdf5", or a description of what else the file is."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(8)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, missing, path) from None
    if start.startswith(HDF5_SIGNATURE):
        return "hdf5"
    if start.startswith(b"PK"):
        return "zip"
    return "empty" if not start else "neither a .keras zip archive nor an HDF5 file"


def _load_archive_weights(model, archive, members: dict, path: str) -> None:
    info = members.get(WEIGHTS)
    if info is None:
        other = "model.weights.npz" in members
        if other or model.weights:
            what = ("its weights are in the .npz layout, which neuroflow does not read; save "
                    "it with Keras's default weights_format='h5'" if other
                    else f"it has no {WEIGHTS}")
            raise ValueError(f"Cannot load weights from {path}: {what}.")
        return
    nbytes, count = expected_nbytes(model)
    # The optimizer's state is in the file even when the model is not compiled here, and
    # HDF5 spends some bytes per group and dataset.
    limit = 5 * nbytes + 64 * 1024 * count + (16 << 20)
    read_weights(model, io.BytesIO(_read(archive, info, limit, path)), path, member=WEIGHTS)


def _open_archive(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except _ARCHIVE_ERRORS as error:
        raise ValueError(f"Cannot load {path}: the zip archive cannot be read ({error}); is "
                         f"it damaged or truncated?") from error


def _members(archive: zipfile.ZipFile, path: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name, after checking every name and flag."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ValueError(f"Cannot load {path}: the archive holds {len(infos):,} members; a "
                         f".keras file holds a few.")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ".." in parts \
                or (len(name) > 1 and name[1] == ":"):
            raise ValueError(f"Cannot load {path}: the archive has a member named {name!r}, a "
                             f"path that leaves the archive (path traversal); the file was "
                             f"tampered with. Nothing was extracted.")
        if name in members:
            raise ValueError(f"Cannot load {path}: the archive holds {name!r} twice; the file "
                             f"was tampered with.")
        if info.flag_bits & 0x1:
            raise ValueError(f"Cannot load {path}: member {name!r} is encrypted; .keras files "
                             f"are not.")
        members[name] = info
    return members


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: str) -> bytes:
    """A member's bytes, at most ``limit`` of them whatever the data holds."""
    name = info.filename
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # bzip2 and LZMA streams inflate a whole read at once, unbounded: refused.
        raise ValueError(f"Cannot load {path}: member {name!r} uses compression method "
                         f"{info.compress_type}; .keras files are stored or deflated.")
    if info.file_size > limit:
        raise ValueError(f"Cannot load {path}: member {name!r} declares {info.file_size:,} "
                         f"bytes, more than the {limit:,} it can need; refusing to read it.")
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_EXPANSION * info.compress_size:
        raise ValueError(f"Cannot load {path}: member {name!r} expands {info.compress_size:,} "
                         f"bytes to {info.file_size:,} (a zip bomb?); refusing to read it.")
    # Read in 1 MiB steps: zipfile then inflates at most that much per step and stops at
    # the declared size (failing on a CRC mismatch), so a member whose header understates
    # its data costs no more memory than the declared size. (One read() would inflate up
    # to 2 GiB in a single step before cutting it.)
    chunks = []
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(1 << 20):
                chunks.append(chunk)
    except _ARCHIVE_ERRORS as error:
        raise ValueError(f"Cannot load {path}: member {name!r} cannot be read ({error}); is "
                         f"the file damaged or truncated?") from error
    return b"".join(chunks)


def _parse_json(data: bytes, path: str, member: str):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"Cannot load {path}: {member} is not valid JSON ({error}).") from error
    except RecursionError:
        raise ValueError(f"Cannot load {path}: {member} is nested too deeply.") from None

