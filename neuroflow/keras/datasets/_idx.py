"""Shared loader for the MNIST-style datasets (MNIST and Fashion-MNIST).

Both datasets are four IDX files (images and labels, train and test); MNIST
is also published by Keras as one ``mnist.npz``. ``load_dataset`` looks for
them, in this order:

1. ``path``, when given: a folder (or, for MNIST, an ``.npz`` file). Nothing
   else is tried; a missing or damaged file there is an error.
2. The cache, ``settings.datasets_dir / <name>``.
3. Keras's cache (see ``keras_datasets_dir``), so a TensorFlow user's
   downloads are reused: Keras keeps ``mnist.npz`` in that folder itself and
   Fashion-MNIST's files in its ``fashion-mnist/`` sub-folder.
4. Each of ``settings.system_dataset_dirs / <name>`` (Debian's
   ``dataset-fashion-mnist`` package installs into ``/usr/share/datasets``).
5. A download from the Keras mirror into the cache.

Every file is checked before use, so a damaged copy is reported, never
silently loaded. Local copies are checked for their content rather than by
the SHA-256 of the ``.gz``: Debian re-writes the gzip header (file name and
time stamp), so its archives hash differently while holding the same bytes.
The checks are:

* gzip's own CRC-32 and length trailer (zlib verifies both while
  decompressing), which catches truncated and bit-flipped archives;
* the IDX header: magic number, count, 28x28, and a body of exactly the
  declared size. The header is read first and decompression stops one byte
  past the size it declares, so a file that would inflate to gigabytes (a
  "gzip bomb") costs no more memory than the genuine file;
* where known (Fashion-MNIST), the CRC-32 of the decompressed file, which
  also catches a file of another dataset in the wrong folder: MNIST and
  Fashion-MNIST use the very same file names and format.

A download must match the official SHA-256 before it is moved into the cache.
"""

from __future__ import annotations

import math
import os
import struct
import sys
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from neuroflow import config

#: The mirror Keras downloads MNIST and Fashion-MNIST from.
KERAS_MIRROR = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

Split = tuple[np.ndarray, np.ndarray]
Arrays = tuple[Split, Split]

IMAGE_MAGIC = 2051  # IDX magic: unsigned bytes, 3 dimensions
LABEL_MAGIC = 2049  # IDX magic: unsigned bytes, 1 dimension
IMAGE_SIDE = 28
NUM_CLASSES = 10
SPLITS = ("x_train", "y_train", "x_test", "y_test")  # also the keys of mnist.npz

_DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(OSError):
    """A dataset could not be loaded."""


class DatasetNotFoundError(DatasetError):
    """No usable copy of a dataset was found, and none could be downloaded."""


class CorruptDatasetError(DatasetError):
    """A dataset file exists but is damaged or is not the expected file."""


class DownloadError(DatasetError):
    """A download failed, or its bytes did not match the expected SHA-256."""


class _BadFile(Exception):
    """Internal: why one file is unusable. The caller adds the file name."""


@dataclass(frozen=True)
class IdxFile:
    """One of the four IDX files of an MNIST-style dataset."""

    name: str  # file name without ".gz", e.g. "train-images-idx3-ubyte"
    count: int  # how many images or labels it must hold
    images: bool  # True for images (count x 28 x 28), False for labels
    gz_sha256: str | None = None  # of the official .gz: checked on download
    content_crc32: int | None = None  # of the decompressed file: checked on every load

    @property
    def gz_name(self) -> str:
        return self.name + ".gz"

    @property
    def magic(self) -> int:
        return IMAGE_MAGIC if self.images else LABEL_MAGIC

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.count, IMAGE_SIDE, IMAGE_SIDE) if self.images else (self.count,)


@dataclass(frozen=True)
class Dataset:
    """Where an MNIST-style dataset lives and how to recognise its files."""

    folder: str  # sub-folder of the cache and system folders, e.g. "fashion-mnist"
    title: str  # for messages, e.g. "Fashion-MNIST"
    files: tuple[IdxFile, IdxFile, IdxFile, IdxFile]  # x_train, y_train, x_test, y_test
    npz_name: str | None = None  # single-file form, when there is one (MNIST)
    npz_sha256: str | None = None  # when set, downloads fetch the npz, not the IDX files
    apt_package: str | None = None  # Debian package that installs the files
    base_url: str = KERAS_MIRROR

    def file_list(self) -> str:
        """The accepted files, for messages."""
        idx = ", ".join(spec.gz_name for spec in self.files)
        if self.npz_name:
            return f"{self.npz_name}, or the four IDX files {idx}"
        return idx


@dataclass
class _Scan:
    """What one folder holds for one dataset."""

    folder: Path
    arrays: Arrays | None = None  # set when the folder holds a complete, valid copy
    decoded: dict[str, np.ndarray] = field(default_factory=dict)  # valid IDX files by name
    missing: list[str] = field(default_factory=list)  # IDX names with no file at all
    problems: list[str] = field(default_factory=list)  # "file: what is wrong"

    def describe(self, dataset: Dataset, label: str = "") -> str:
        """One line saying why this folder did not do, for the not-found error."""
        where = f"{self.folder}{label}"
        if not self.folder.is_dir():
            return f"{where}: no such folder"
        found = list(self.problems)
        if self.missing:
            wanted = ", ".join(name + "[.gz]" for name in self.missing)
            npz_absent = dataset.npz_name and not (self.folder / dataset.npz_name).exists()
            prefix = f"no {dataset.npz_name} and " if npz_absent else ""
            found.append(f"{prefix}missing {wanted}")
        return f"{where}: " + "; ".join(found)


# ---------------------------------------------------------------------------
# Entry point


def load_dataset(dataset: Dataset, path: str | os.PathLike[str] | None = None) -> Arrays:
    """Find, check and decode ``dataset``: ``((x_train, y_train), (x_test, y_test))``.

    The arrays are writable uint8, images ``(n, 28, 28)``, labels ``(n,)``,
    in the order of the files. See the module docstring for the search order.
    """
    if path is not None and not _is_keras_cache_name(dataset, path):
        return _load_explicit(dataset, Path(path).expanduser())

    cache = _cache_folder(dataset)
    cached = _scan(dataset, cache)
    _warn_problems(cached, "ignoring it (a fresh copy is downloaded if none is found)")
    if cached.arrays is not None:
        return cached.arrays
    looked = [cached.describe(dataset, " (the cache)")]

    keras = _Scan(_keras_cache_folder(dataset))
    if keras.folder.is_dir():  # most users have none; its absence is then just reported
        keras = _scan(dataset, keras.folder)
        _warn_problems(keras, "ignoring it")
        if keras.arrays is not None:
            return keras.arrays
    looked.append(keras.describe(dataset, " (Keras's cache)"))

    for root in config.settings.system_dataset_dirs:
        scan = _scan(dataset, Path(root) / dataset.folder)
        _warn_problems(scan, "ignoring it")
        if scan.arrays is not None:
            return scan.arrays
        looked.append(scan.describe(dataset))

    try:
        _download_dataset(dataset, cache, have=cached.decoded)
    except OSError as error:
        raise DatasetNotFoundError(_not_found_message(dataset, looked, error)) from error
    fresh = _scan(dataset, cache)
    if fresh.arrays is None:  # only if the cache changed under our feet
        raise CorruptDatasetError(
            f"{dataset.title}: the cache {cache} is still unusable after a download: "
            + "; ".join(fresh.problems or fresh.missing)
            + f". Delete the folder {cache} and try again."
        )
    return fresh.arrays


def _cache_folder(dataset: Dataset) -> Path:
    # Read the setting at call time so that tests (and users) can change it.
    return Path(config.settings.datasets_dir).expanduser() / dataset.folder


def keras_datasets_dir() -> Path:
    """Keras's download cache (``settings.keras_datasets_dir``: ``$KERAS_HOME/datasets``,
    else ``~/.keras/datasets``), read at call time so tests can change the setting."""
    return Path(config.settings.keras_datasets_dir).expanduser()


def _keras_cache_folder(dataset: Dataset) -> Path:
    # Keras downloads a single-file dataset (mnist.npz) into its datasets folder itself,
    # and multi-file ones (Fashion-MNIST's four .gz files) into a sub-folder of our name.
    base = keras_datasets_dir()
    return base if dataset.npz_name else base / dataset.folder


def _is_keras_cache_name(dataset: Dataset, path: str | os.PathLike[str]) -> bool:
    """True for Keras's ``mnist.load_data(path="mnist.npz")``.

    In Keras, ``path`` names a file inside the cache; such a bare name that is
    not a file or folder here means "the usual place", i.e. the normal search.
    """
    text = os.fspath(path)
    return (
        dataset.npz_name is not None
        and os.sep not in text
        and "/" not in text
        and not Path(text).exists()
    )


def _load_explicit(dataset: Dataset, path: Path) -> Arrays:
    """Load from a folder (or npz file) the caller named; anything wrong raises."""
    if dataset.npz_name and path.suffix == ".npz" and path.is_file():
        try:
            return _read_npz(path)
        except _BadFile as error:
            raise CorruptDatasetError(
                f"{dataset.title}: {path}: {error}. Replace it with an intact copy, or leave "
                f"out `path` to use the cache (downloading a copy if it has none)."
            ) from None
    if not path.is_dir():
        what = "is not a folder" if path.exists() else "does not exist"
        raise DatasetNotFoundError(
            f"{dataset.title}: {path} {what}; pass the folder that holds {dataset.file_list()}"
        )
    scan = _scan(dataset, path)
    if scan.arrays is not None:
        _warn_problems(scan, "using the other copy", stacklevel=5)
        return scan.arrays
    error = CorruptDatasetError if scan.problems else DatasetNotFoundError
    raise error(f"{dataset.title} cannot be loaded from {scan.describe(dataset)}. Pass a "
                f"folder with intact copies of {dataset.file_list()}, or leave out `path` to "
                f"use the cache (downloading a copy if it has none).")


def _warn_problems(scan: _Scan, consequence: str, stacklevel: int = 4) -> None:
    # The default stacklevel points at the user's call: load_data -> load_dataset -> here.
    for problem in scan.problems:
        warnings.warn(f"{problem}; {consequence}", RuntimeWarning, stacklevel=stacklevel)


# ---------------------------------------------------------------------------
# Reading and checking local files


def _scan(dataset: Dataset, folder: Path) -> _Scan:
    """Check and decode whatever copy of ``dataset`` the folder holds."""
    scan = _Scan(folder)
    if not folder.is_dir():
        return scan
    if dataset.npz_name:
        npz = folder / dataset.npz_name
        if npz.is_file():
            try:
                scan.arrays = _read_npz(npz)
                return scan
            except _BadFile as error:
                scan.problems.append(f"{npz}: {error}")
    for spec in dataset.files:
        # Debian may ship the files compressed or not; prefer the .gz, the official form.
        present = [f for f in (folder / spec.gz_name, folder / spec.name) if f.is_file()]
        if not present:
            scan.missing.append(spec.name)
        for file in present:
            try:
                scan.decoded[spec.name] = _read_idx(file, spec)
                break
            except _BadFile as error:
                scan.problems.append(f"{file}: {error}")
    if len(scan.decoded) == len(dataset.files):
        x_train, y_train, x_test, y_test = (scan.decoded[spec.name] for spec in dataset.files)
        scan.arrays = ((x_train, y_train), (x_test, y_test))
    return scan


def _read_idx(file: Path, spec: IdxFile) -> np.ndarray:
    """Read, check and decode one IDX file (gzip or plain) into a writable array.

    The header is read and checked first; then exactly the number of bytes it
    declares is read, straight into the array, and one byte more to find out
    whether the file holds more than that. A damaged or hostile file, such as
    a gzip bomb that would inflate to gigabytes, therefore never costs more
    memory than the genuine file does.
    """
    try:
        with open(file, "rb") as handle:
            return _decode_idx(_idx_stream(handle, file), spec)
    except OSError as error:  # e.g. no permission: a reason to try elsewhere, not to crash
        raise _BadFile(f"cannot be read ({error.strerror or error})") from None


def _idx_stream(handle: BinaryIO, file: Path) -> _Stream:
    """What to read the IDX bytes from: a decompressing stream for gzip, else the file."""
    start = handle.read(4)
    handle.seek(0)
    if start[:2] == _GZIP_MAGIC:
        return _GzipStream(handle)
    if file.suffix == ".gz" and not _starts_like_idx(start):
        raise _BadFile("not a gzip file (it does not start with the gzip signature 1f 8b)")
    # Browsers often decompress on the fly but keep the ".gz" name: plain IDX is fine.
    return handle


def _starts_like_idx(data: bytes) -> bool:
    return data[:4] in (struct.pack(">I", IMAGE_MAGIC), struct.pack(">I", LABEL_MAGIC))


class _Stream(Protocol):
    """Where IDX bytes come from: an open plain file, or a _GzipStream."""

    def read(self, size: int, /) -> bytes:
        """At most ``size`` bytes; ``b""`` only at the end."""


class _GzipStream:
    """The decompressed bytes of an open gzip file, inflated on demand.

    ``read(size)`` inflates at most ``size`` bytes, so a reader that stops at
    the size it expects holds no more than that, whatever the file would
    inflate to. Like ``gzip``, it reads every member of a multi-member file and
    allows zero padding after the last one. zlib checks each member's CRC-32
    and length trailer; it is also faster than ``gzip``, which computes the
    CRC-32 a second time.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        # wbits=31: expect gzip's header and trailer. None once the last member has ended.
        self._inflater = zlib.decompressobj(wbits=31)
        self._input = b""  # compressed bytes read from the file but not inflated yet
        self._file_ended = False

    def read(self, size: int) -> bytes:
        while self._inflater is not None:
            if not self._input and not self._file_ended:
                self._input = self._handle.read(_CHUNK)
                self._file_ended = not self._input
            try:
                out = self._inflater.decompress(self._input, size)
            except zlib.error as error:
                raise _BadFile(f"damaged gzip data ({error})") from None
            self._input = self._inflater.unconsumed_tail
            if self._inflater.eof:
                self._next_member(self._inflater.unused_data)
            elif not out and not self._input and self._file_ended:
                raise _BadFile(
                    "truncated gzip file: it ends before the compressed data does "
                    "(an interrupted copy or download?)"
                )
            if out:
                return out
        return b""

    def _next_member(self, rest: bytes) -> None:
        """Start inflating the member after the one that just ended, if there is one."""
        rest = rest.lstrip(b"\0")  # like gzip, allow zero padding after the last member
        while not rest and not self._file_ended:
            rest = self._handle.read(_CHUNK)
            self._file_ended = not rest
            rest = rest.lstrip(b"\0")
        self._input = rest
        self._inflater = zlib.decompressobj(wbits=31) if rest else None


def _read_into(stream: _Stream, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``stream`` as far as it goes; return how many bytes it got."""
    filled = 0
    while filled < len(buffer):
        piece = stream.read(min(len(buffer) - filled, _CHUNK))
        if not piece:
            break
        buffer[filled : filled + len(piece)] = piece
        filled += len(piece)
    return filled


def _decode_idx(stream: _Stream, spec: IdxFile) -> np.ndarray:
    """Read the IDX header and body from ``stream``, checking both against ``spec``."""
    header = bytearray(4 + 4 * len(spec.shape))
    got = _read_into(stream, memoryview(header))
    if got < len(header):
        raise _BadFile(f"only {got} bytes, less than an IDX header ({len(header)} bytes)")
    _check_header(bytes(header), spec)
    expected = math.prod(spec.shape)  # the size the header declares, now that it matches spec
    body = np.empty(expected, np.uint8)
    got = _read_into(stream, memoryview(body))
    if got < expected:
        raise _BadFile(f"truncated: {got} bytes after the header, the header declares {expected}")
    if stream.read(1):  # one byte tells; inflating the rest could take gigabytes
        raise _BadFile(
            f"trailing bytes: the file holds more than the {expected} bytes after the header "
            "that the header declares"
        )
    if spec.content_crc32 is not None:
        crc = zlib.crc32(body, zlib.crc32(header))
        if crc != spec.content_crc32:
            raise _BadFile(
                f"content differs from the official file (CRC-32 {crc:08x}, expected "
                f"{spec.content_crc32:08x}): a file of another dataset, such as MNIST?"
            )
    array = body.reshape(spec.shape)
    if not spec.images:
        _check_labels(array)
    return array


def _check_header(header: bytes, spec: IdxFile) -> None:
    """Check the IDX magic number and dimensions against ``spec``."""
    magic, *shape = struct.unpack(f">{1 + len(spec.shape)}I", header)
    if magic != spec.magic:
        kind = "images" if spec.images else "labels"
        hint = ""
        if magic in (IMAGE_MAGIC, LABEL_MAGIC):
            hint = f" (it is an IDX {'image' if magic == IMAGE_MAGIC else 'label'} file)"
        raise _BadFile(f"IDX magic number is {magic}{hint}, expected {spec.magic} for {kind}")
    if tuple(shape) != spec.shape:
        raise _BadFile(f"IDX header declares shape {tuple(shape)}, expected {spec.shape}")


def _check_labels(labels: np.ndarray) -> None:
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise _BadFile(f"label {int(labels.max())} is out of range 0..{NUM_CLASSES - 1}")


def _read_npz(file: Path) -> Arrays:
    """Read an ``mnist.npz`` (keys x_train, y_train, x_test, y_test) and check it.

    Counts are not fixed here: an npz records each array's shape, and zip's
    per-member CRC-32 catches damage, so a smaller (e.g. test) file is fine.
    """
    import zipfile  # imported on use, like hashlib and http below: cheap package import

    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [key for key in SPLITS if key not in npz.files]
            if missing:
                raise _BadFile(
                    f"no array {', '.join(missing)} in it (it has {', '.join(npz.files)})"
                )
            arrays = {key: npz[key] for key in SPLITS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise _BadFile(f"not a readable .npz file ({error})") from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise _BadFile(f"{split} arrays are {x.dtype}/{y.dtype}, expected uint8")
        if x.ndim != 3 or x.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise _BadFile(f"x_{split} has shape {x.shape}, expected (n, 28, 28)")
        if y.shape != (len(x),):
            raise _BadFile(f"y_{split} has shape {y.shape}, expected ({len(x)},) like x_{split}")
        _check_labels(y)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


# ---------------------------------------------------------------------------
# Downloading


def _download_dataset(dataset: Dataset, cache: Path, have: dict[str, np.ndarray]) -> None:
    """Download into ``cache`` what it lacks: the npz, or the IDX files not in ``have``."""
    if dataset.npz_name and dataset.npz_sha256:
        _download(dataset.base_url + dataset.npz_name, cache / dataset.npz_name, dataset.npz_sha256)
        return
    for spec in dataset.files:
        if spec.name not in have:
            assert spec.gz_sha256, f"no SHA-256 known for {spec.gz_name}"
            _download(dataset.base_url + spec.gz_name, cache / spec.gz_name, spec.gz_sha256)


def _download(url: str, dest: Path, sha256: str) -> None:
    """Download ``url`` to ``dest`` atomically, after checking its SHA-256.

    The bytes go to a hidden temporary file beside ``dest`` (same folder, so
    same file system) and are renamed with ``os.replace`` only once verified:
    an interrupted or altered download never appears under the real name,
    and concurrent downloads cannot interleave.
    """
    import http.client  # imported here: http and ssl are too slow to load at import time

    part = dest.with_name(f".{dest.name}.{os.urandom(4).hex()}.part")
    try:
        try:
            with _open_url(url) as response:
                # Only now: an offline attempt should not leave an empty cache folder.
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(part, "xb") as out:
                    digest = _copy_with_progress(response, out, url)
                    out.flush()
                    os.fsync(out.fileno())
        except (OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", None) or error
            raise DownloadError(f"could not download {url} into {dest.parent}: {reason}") from error
        if digest != sha256:
            raise DownloadError(
                f"the download of {url} has SHA-256 {digest}, expected {sha256}; discarded it "
                "(a proxy or captive portal may have altered it)"
            )
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)  # gone already after a successful os.replace


def _open_url(url: str) -> BinaryIO:
    """Open ``url`` for reading: the one place that touches the network (tests replace it)."""
    import urllib.request  # imported here: it pulls in http, email and ssl

    return urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S)


def _copy_with_progress(response: BinaryIO, out: BinaryIO, url: str) -> str:
    """Copy ``response`` to ``out`` with a progress bar; return the SHA-256 hex digest."""
    import hashlib

    headers = getattr(response, "headers", None)
    length = headers.get("Content-Length") if headers is not None else None
    progress = _ProgressBar(url.rsplit("/", 1)[-1], int(length) if length else None)
    sys.stderr.write(f"Downloading data from {url}\n")
    digest, done = hashlib.sha256(), 0
    while chunk := response.read(_CHUNK):
        digest.update(chunk)
        out.write(chunk)
        done += len(chunk)
        progress.update(done)
    progress.finish(done)
    return digest.hexdigest()


class _ProgressBar:
    """A one-line text progress bar on stderr, e.g. ``x.gz [#####.....] 50% 13.2/26.4 MB``.

    On a terminal the line is redrawn in place (at most 10 times a second);
    elsewhere (logs, CI) only the final line is written, to keep logs short.
    """

    WIDTH = 30

    def __init__(self, label: str, total: int | None) -> None:
        self.label, self.total = label, total
        self.live = sys.stderr.isatty()
        self.drawn_at = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.live and now - self.drawn_at >= 0.1:
            self.drawn_at = now
            sys.stderr.write("\r" + self._line(done))
            sys.stderr.flush()

    def finish(self, done: int) -> None:
        sys.stderr.write(("\r" if self.live else "") + self._line(done) + "\n")
        sys.stderr.flush()

    def _line(self, done: int) -> str:
        if not self.total:
            return f"{self.label} {done / 1e6:.1f} MB"
        fraction = min(done / self.total, 1.0)
        filled = int(self.WIDTH * fraction)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        return f"{self.label} [{bar}] {fraction:4.0%} {done / 1e6:.1f}/{self.total / 1e6:.1f} MB"


# ---------------------------------------------------------------------------
# Messages


def _not_found_message(dataset: Dataset, looked: list[str], error: BaseException) -> str:
    cache = _cache_folder(dataset)
    lines = [
        f"{dataset.title} is not available: no usable copy was found and the download failed.",
        "Looked in:",
        *(f"  - {place}" for place in looked),
        f"Download: {error}",
        "To provide the files, do one of:",
        f"  - pass load_data(path=FOLDER), FOLDER holding {dataset.file_list()};",
        f"  - copy those files into the cache folder {cache};",
        f"  - set NEUROFLOW_DATASETS to a folder whose {dataset.folder}/ sub-folder holds them;",
    ]
    if dataset.apt_package:
        system = " or ".join(
            str(Path(d) / dataset.folder) for d in config.settings.system_dataset_dirs
        )
        lines.append(
            f"  - on Debian or Ubuntu: apt-get install {dataset.apt_package} (into {system})."
        )
    return "\n".join(lines)
