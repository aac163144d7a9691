"""Safe extraction of the ``.tar.gz`` and ``.zip`` archives model handles point to.

Everything an archive could use against the folder it is extracted into is refused
before a byte of that member is written: names that leave the folder (absolute, ``..``,
backslashes, drive letters, NUL), symbolic and hard links, devices and pipes, duplicated
names and encrypted members. Sizes are bounded as the data streams, never trusted from
the headers: at most ``MAX_MEMBERS`` members and ``MAX_EXTRACTED_BYTES`` in all, and no
more than ``MAX_EXPANSION`` times the archive's own size (a compression bomb). Files are
created new (never over an existing one) with the default mode: no member's permission
bits, owner or times are applied.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

MAX_MEMBERS = 10_000
MAX_EXTRACTED_BYTES = 16 << 30
# gzip and deflate expand at most about 1032 times; model weights compress little.
MAX_EXPANSION = 100
_RATIO_FLOOR = 64 << 20
_CHUNK = 1 << 20


def archive_kind(path: str) -> str:
    """"keras" (a ``.keras`` zip), "zip", "tar", or "other", by the file's content."""
    import tarfile

    with open(path, "rb") as handle:
        start = handle.read(4)
    if start.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "other"
        return "keras" if "config.json" in names else "zip"
    try:
        return "tar" if tarfile.is_tarfile(path) else "other"
    except (OSError, EOFError):
        return "other"


def extract(path: str, folder: str, kind: str, source: str) -> None:
    """Extract the archive at ``path`` (``kind`` "zip" or "tar") into the existing empty
    ``folder``; ``source`` names the archive in errors."""
    budget = _Budget(os.path.getsize(path), source)
    if kind == "zip":
        _extract_zip(path, folder, budget, source)
    else:
        _extract_tar(path, folder, budget, source)


class _Budget:
    """Bytes and members extracted so far, against the limits."""

    def __init__(self, archive_bytes: int, source: str):
        self.limit = min(MAX_EXTRACTED_BYTES, max(_RATIO_FLOOR, MAX_EXPANSION * archive_bytes))
        self.used = 0
        self.members = 0
        self.source = source

    def member(self) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise ValueError(f"Cannot extract {self.source}: it holds more than {MAX_MEMBERS:,} "
                             f"members; a model archive holds a few.")

    def take(self, nbytes: int, name: str) -> None:
        self.used += nbytes
        if self.used > self.limit:
            raise ValueError(f"Cannot extract {self.source}: member {name!r} takes the "
                             f"extracted size past {self.limit:,} bytes (at most "
                             f"{MAX_EXPANSION} times the archive, and "
                             f"{MAX_EXTRACTED_BYTES:,} in all); a compression bomb? Nothing "
                             f"was kept.")


def _extract_zip(path: str, folder: str, budget: _Budget, source: str) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValueError(f"Cannot extract {source}: the zip archive cannot be read "
                         f"({error}).") from error
    with archive:
        seen: set[tuple[str, ...]] = set()
        for info in archive.infolist():
            budget.member()
            parts = _checked_parts(info.filename, seen, source)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise _link(info.filename, source)
            if info.is_dir():
                _make_folder(folder, parts, info.filename, source)
                continue
            if kind not in (0, stat.S_IFREG):  # 0: written by a tool that keeps no mode
                raise _special(info.filename, source)
            if info.flag_bits & 0x1:
                raise ValueError(f"Cannot extract {source}: member {info.filename!r} is "
                                 f"encrypted.")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # bzip2 and LZMA inflate a whole read at once, unbounded.
                raise ValueError(f"Cannot extract {source}: member {info.filename!r} uses "
                                 f"compression method {info.compress_type}; only stored and "
                                 f"deflated members are read.")
            try:
                with archive.open(info) as stream:
                    _write_member(stream, folder, parts, info.filename, budget, source)
            except (zipfile.BadZipFile, EOFError, RuntimeError, OSError) as error:
                raise ValueError(f"Cannot extract {source}: member {info.filename!r} cannot "
                                 f"be read ({error}); is the archive damaged?") from error


def _extract_tar(path: str, folder: str, budget: _Budget, source: str) -> None:
    import tarfile

    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"Cannot extract {source}: the tar archive cannot be read "
                         f"({error}).") from error
    with archive:
        seen: set[tuple[str, ...]] = set()
        try:
            # Members one at a time, as the stream gives them: nothing is listed ahead.
            for member in _tar_members(archive):
                budget.member()
                parts = _checked_parts(member.name, seen, source)
                if member.issym() or member.islnk():
                    raise _link(member.name, source)
                if member.isdir():
                    _make_folder(folder, parts, member.name, source)
                    continue
                if not member.isfile():
                    raise _special(member.name, source)
                stream = archive.extractfile(member)
                _write_member(stream, folder, parts, member.name, budget, source)
        except (tarfile.TarError, EOFError, OSError) as error:
            raise ValueError(f"Cannot extract {source}: the tar archive cannot be read "
                             f"({error}); is it damaged or truncated?") from error


def _tar_members(archive) -> Iterator:
    while (member := archive.next()) is not None:
        yield member


def _checked_parts(name: str, seen: set[tuple[str, ...]], source: str) -> tuple[str, ...]:
    """The member's path as folder names below the extraction folder, or an error."""
    if name.startswith("/") or "\\" in name or "\x00" in name or \
            (len(name) > 1 and name[1] == ":"):
        raise _traversal(name, source)
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise _traversal(name, source)
    if parts in seen:
        raise ValueError(f"Cannot extract {source}: it holds {name!r} twice; the archive was "
                         f"tampered with. Nothing was kept.")
    seen.add(parts)
    return parts


def _make_folder(folder: str, parts: tuple[str, ...], name: str, source: str) -> None:
    try:
        os.makedirs(os.path.join(folder, *parts), exist_ok=True)
    except OSError as error:
        raise ValueError(f"Cannot extract {source}: folder {name!r} cannot be made "
                         f"({error}).") from error


def _write_member(stream: BinaryIO, folder: str, parts: tuple[str, ...], name: str,
                  budget: _Budget, source: str) -> None:
    if not parts:
        raise ValueError(f"Cannot extract {source}: member {name!r} has no file name.")
    target = os.path.join(folder, *parts)
    _make_folder(folder, parts[:-1], name, source)
    try:
        # "x": a file is never written over another (a duplicate under another spelling).
        with open(target, "xb") as out:
            while chunk := stream.read(_CHUNK):
                budget.take(len(chunk), name)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except (FileExistsError, IsADirectoryError, NotADirectoryError) as error:
        raise ValueError(f"Cannot extract {source}: member {name!r} collides with another "
                         f"member ({error}).") from error


def _traversal(name: str, source: str) -> ValueError:
    return ValueError(f"Cannot extract {source}: it has a member named {name!r}, a path that "
                      f"leaves the archive's folder (path traversal); the archive was "
                      f"tampered with. Nothing was extracted outside the cache, and nothing "
                      f"was kept.")


def _link(name: str, source: str) -> ValueError:
    return ValueError(f"Cannot extract {source}: member {name!r} is a link; model archives "
                      f"hold plain files and folders only, and a link could point outside the "
                      f"folder. Nothing was kept.")


def _special(name: str, source: str) -> ValueError:
    return ValueError(f"Cannot extract {source}: member {name!r} is a device, pipe or other "
                      f"special file; model archives hold plain files and folders only.")
