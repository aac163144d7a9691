"""Files and folders written whole or not at all: the atomic-write routines every layer
shares."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a hidden temporary file in the same folder (so the same file
    system), which ``os.replace`` then renames over ``path``. On any failure,
    KeyboardInterrupt included, the temporary file is removed and ``path`` is
    untouched. The file gets the mode ``open`` would give it (0o666 less the umask),
    not the owner-only mode of ``tempfile.mkstemp``.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = None
    try:
        while temp is None:
            # The name is set before the file exists, so that an interrupt right after
            # creating it still finds it to remove.
            temp = _temporary_name(path)
            try:
                fd = _create(temp, path)
            except FileExistsError:  # another writer drew the same name: not ours to remove
                temp = None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        temp = None
    finally:
        if temp is not None:
            _remove_quietly(temp)


@contextlib.contextmanager
def folder_written_atomically(path: str | os.PathLike[str], replace: bool = False
                              ) -> Iterator[str]:
    """Fill a folder that appears at ``path`` whole, or not at all.

    Yields a new hidden folder beside ``path`` (same file system) to write into; when the
    block ends without error it is renamed to ``path``, which readers then see complete.
    On any failure, KeyboardInterrupt included, the hidden folder and all it holds are
    removed. If ``path`` exists by then (another writer finished first), the new folder
    is discarded and ``FileExistsError`` raised, unless ``replace`` is true: the old
    folder is then moved aside and removed, so ``path`` is missing only for the instant
    between two renames, never half written.
    """
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temp = None
    try:
        while temp is None:
            temp = _temporary_name(path)
            try:
                os.mkdir(temp)
            except FileExistsError:  # another writer drew the same name: not ours to remove
                temp = None
        yield temp
        _rename_folder(temp, path, replace)
        temp = None
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


def _rename_folder(temp: str, path: str, replace: bool) -> None:
    try:
        # Renaming a folder over an existing non-empty one fails on every system, which
        # is what tells a finished rival apart.
        os.rename(temp, path)
        return
    except OSError:
        if not os.path.exists(path):
            raise
    if not replace:
        raise FileExistsError(17, "a folder already exists here", path)
    old = _temporary_name(path)
    os.rename(path, old)
    os.rename(temp, path)
    shutil.rmtree(old, ignore_errors=True)


def _temporary_name(path: str) -> str:
    """A fresh hidden name in the folder of ``path`` (same file system, so renames are atomic)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")


def _create(temp: str, path: str) -> int:
    """Create the new file ``temp`` for writing; errors name ``path``, the file asked for."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        # 0o666: the umask then decides the mode, as for any file a program creates.
        return os.open(temp, flags, 0o666)
    except FileExistsError:
        raise
    except OSError as error:
        raise OSError(error.errno, error.strerror, path) from error


def _remove_quietly(temp: str) -> None:
    # The original error matters more than a failure to clean up after it.
    try:
        os.unlink(temp)
    except OSError:
        pass
