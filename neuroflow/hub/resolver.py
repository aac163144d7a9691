"""From a handle to a local ``.keras`` file: local paths as they are, URLs through the cache.

A URL's model is downloaded once into ``config.settings.hub_cache_dir`` (set with
``NEUROFLOW_HUB_CACHE``; default ``~/.neuroflow/hub``), in a folder named after the
SHA-256 of the URL (without its ``#`` part)::

    <cache>/<sha256 of the URL>/handle.json   the URL, the download's SHA-256, verified or not
    <cache>/<sha256 of the URL>/model/        the .keras file, or the archive's files

The folder is filled under a hidden name and renamed into place whole
(``util.files.folder_written_atomically``), so an interrupted, cut short or refused
download leaves nothing a later call could take for the model. Before anything is
extracted the download's SHA-256 must match the one given with the handle
(``URL#sha256=<hex>``) or else the one published beside it (``<URL>.sha256``, in
``sha256sum``'s format); with neither, the download is refused unless ``verify=False``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from neuroflow import config
from neuroflow.hub import archives
from neuroflow.util.files import folder_written_atomically, write_atomically

DOWNLOAD_TIMEOUT_S = 60
MAX_DOWNLOAD_BYTES = 16 << 30
_MAX_DIGEST_FILE_BYTES = 4096
_CHUNK = 1 << 20
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_HEX64 = re.compile(r"[0-9a-fA-F]{64}\Z")
DESCRIPTOR, MODEL_FOLDER = "handle.json", "model"


class DownloadError(OSError):
    """A model could not be downloaded: the server refused it, or the transfer broke."""


class ChecksumError(ValueError):
    """A download's SHA-256 is not the one expected, or none is known to check it with."""


@dataclass(frozen=True)
class _Url:
    url: str  # without the fragment: what is fetched, and what keys the cache
    sha256: str | None  # pinned with the handle


def is_url(handle: str) -> bool:
    return "://" in handle


def resolve(handle, verify: bool = True) -> str:
    """The local path ``handle`` stands for: a local path as given, a URL's cached folder
    (downloaded first when it is not in the cache)."""
    if not isinstance(handle, (str, os.PathLike)):
        raise TypeError(f"A hub handle is a path or a URL string; received "
                        f"{type(handle).__name__} {handle!r}.")
    text = os.fspath(handle)
    if not is_url(text):
        path = os.path.expanduser(text)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such model file or folder (a hub handle is a "
                                       "local .keras file, a folder holding one, or an "
                                       "https:// URL)", path)
        return path
    return str(_cached(_parse_url(text), verify) / MODEL_FOLDER)


def keras_file(path: str, source: str) -> str:
    """The one ``.keras`` file at ``path``: the file itself, or the only one in the folder."""
    if not os.path.isdir(path):
        kind = archives.archive_kind(path)
        if kind in ("zip", "tar"):
            raise ValueError(f"Cannot load {source}: it is a .{kind} archive on disk. Extract "
                             f"it and pass the folder, or serve it by URL to have it "
                             f"extracted into the cache.")
        return path
    found, saved_model, seen = [], False, 0
    for root, folders, files in os.walk(path):  # links to folders are not followed
        seen += len(files) + len(folders)
        if seen > archives.MAX_MEMBERS:
            # A handle in a saved config could name "/": never walk a whole disk.
            raise ValueError(f"Cannot load {source}: the folder holds more than "
                             f"{archives.MAX_MEMBERS:,} files and folders; a model folder "
                             f"holds a few. Point the handle at the .keras file.")
        folders.sort()
        found += [os.path.join(root, name) for name in sorted(files) if name.endswith(".keras")]
        saved_model = saved_model or "saved_model.pb" in files
    if len(found) == 1:
        return found[0]
    if found:
        names = [os.path.relpath(f, path) for f in found]
        raise ValueError(f"Cannot load {source}: it holds {len(found)} .keras files "
                         f"({', '.join(names)}); a hub handle holds one model. Point the "
                         f"handle at the one you want.")
    what = ("a TensorFlow SavedModel (saved_model.pb), which neuroflow does not read; save "
            "the model with Keras 3 as .keras" if saved_model else "no .keras file")
    raise ValueError(f"Cannot load {source}: it holds {what}.")


# --- URLs --------------------------------------------------------------------------------


def _parse_url(handle: str) -> _Url:
    from urllib.parse import urlsplit

    url, _, fragment = handle.partition("#")
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise ValueError(f"Refusing to download {url} over plain http: its content and its "
                         f"checksum could be altered on the way. Use an https:// URL "
                         f"(http:// is accepted only from this machine, 127.0.0.1).")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Unsupported hub handle {handle!r}: expected a local path or an "
                         f"https:// URL. For a local file, pass its path.")
    sha256 = None
    if fragment:
        key, _, value = fragment.partition("=")
        if key != "sha256" or not _HEX64.match(value):
            raise ValueError(f"The handle {handle!r} ends in '#{fragment}'; the only part a "
                             f"handle may carry after '#' is 'sha256=' and the 64 hex digits "
                             f"of the file's SHA-256.")
        sha256 = value.lower()
    return _Url(url, sha256)


def _cached(url: _Url, verify: bool) -> Path:
    entry = Path(config.settings.hub_cache_dir) / hashlib.sha256(url.url.encode()).hexdigest()
    record = _record(entry)
    if record is not None and _usable(record, url, verify, entry):
        return entry
    expected = url.sha256 or (_published_sha256(url.url) if verify else None)
    if expected is None and verify:
        raise ChecksumError(
            f"No SHA-256 to check {url.url} against: none was given with the handle and "
            f"{url.url}.sha256 does not exist. Give it as '{url.url}#sha256=<hex digest>', "
            f"or pass verify=False to load it unchecked (only from a source you trust).")
    try:
        # A stale or unreadable entry is replaced; a fresh one is only ever added.
        with folder_written_atomically(entry, replace=entry.exists()) as temp:
            _fill(Path(temp), url.url, expected)
    except FileExistsError:
        if _record(entry) is None:
            raise
        # Another process cached it meanwhile, checked the same way: theirs serves.
    return entry


def _record(entry: Path) -> dict | None:
    try:
        record = json.loads((entry / DESCRIPTOR).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and (entry / MODEL_FOLDER).is_dir() else None


def _usable(record: dict, url: _Url, verify: bool, entry: Path) -> bool:
    """Whether the cached copy serves; an unverified copy is checked now if asked to."""
    digest = record.get("sha256")
    if url.sha256 is not None:
        return digest == url.sha256  # else the publisher changed the file: fetch it anew
    if record.get("verified") or not verify:
        return True
    published = _published_sha256(url.url)
    if published is None:
        raise ChecksumError(
            f"The cached copy of {url.url} was downloaded with verify=False, and there is "
            f"still no SHA-256 to check it against ({url.url}.sha256 does not exist). Give "
            f"it with the handle as '#sha256=<hex digest>', or pass verify=False.")
    if published != digest:
        return False
    write_atomically(entry / DESCRIPTOR, json.dumps({**record, "verified": True}).encode())
    return True


def _fill(folder: Path, url: str, expected: str | None) -> None:
    """Download ``url`` into ``folder``, check it, and lay out the cache entry there."""
    download = folder / "download"
    digest, nbytes = _download(url, download)
    if expected is not None and digest != expected:
        raise ChecksumError(f"The download of {url} has SHA-256 {digest}, but {expected} was "
                            f"expected; it was discarded. The file was altered, or the "
                            f"checksum is not the file's.")
    model = folder / MODEL_FOLDER
    model.mkdir()
    kind = archives.archive_kind(str(download))
    if kind == "keras":
        os.replace(download, model / "model.keras")
    elif kind in ("zip", "tar"):
        archives.extract(str(download), str(model), kind, url)
        download.unlink()
    else:
        raise ValueError(f"Cannot load {url}: the download is neither a .keras file nor a "
                         f".tar.gz or .zip archive of one.")
    keras_file(str(model), url)  # refuse an archive without its one model before caching
    write_atomically(folder / DESCRIPTOR, json.dumps(
        {"url": url, "sha256": digest, "bytes": nbytes,
         "verified": expected is not None}).encode())


def _open(url: str):
    """The response for ``url``; the one place that touches the network."""
    import urllib.request  # here: it pulls in http, email and ssl, too slow at import

    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)


def _download(url: str, path: Path) -> tuple[str, int]:
    """Stream ``url`` into the new file ``path``; its SHA-256 and length."""
    import http.client
    import urllib.error

    sys.stderr.write(f"Downloading {url}\n")
    digest, done, declared = hashlib.sha256(), 0, None
    try:
        with _open(url) as response, open(path, "xb") as out:
            declared = _declared_length(response, url)
            while chunk := response.read(_CHUNK):
                done += len(chunk)
                if done > MAX_DOWNLOAD_BYTES:
                    raise DownloadError(f"The download of {url} exceeds "
                                        f"{MAX_DOWNLOAD_BYTES:,} bytes; refusing the rest.")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as error:
        error.close()
        raise DownloadError(f"Could not download {url}: the server answered {error.code} "
                            f"{error.reason}.") from error
    except (OSError, http.client.HTTPException) as error:
        if isinstance(error, DownloadError):
            raise
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"Could not download {url}: {reason}.") from error
    # http.client ends a body cut short quietly, as if it were complete.
    if declared is not None and done != declared:
        raise DownloadError(f"The download of {url} stopped after {done:,} of {declared:,} "
                            f"bytes; nothing was kept. Try again.")
    return digest.hexdigest(), done


def _declared_length(response, url: str) -> int | None:
    length = response.headers.get("Content-Length")
    if length is None or not length.strip().isdigit():
        return None
    if int(length) > MAX_DOWNLOAD_BYTES:
        raise DownloadError(f"{url} is {int(length):,} bytes, more than the "
                            f"{MAX_DOWNLOAD_BYTES:,} a model download may take.")
    return int(length)


def _published_sha256(url: str) -> str | None:
    """The SHA-256 at ``<url>.sha256`` (``sha256sum``'s format), None when there is none."""
    import http.client
    import urllib.error

    try:
        with _open(url + ".sha256") as response:
            text = response.read(_MAX_DIGEST_FILE_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code in (404, 410):
            return None
        raise DownloadError(f"Could not fetch {url}.sha256: the server answered "
                            f"{error.code} {error.reason}.") from error
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", None) or error
        raise DownloadError(f"Could not fetch {url}.sha256: {reason}.") from error
    words = text.decode("ascii", "replace").split()
    if len(text) > _MAX_DIGEST_FILE_BYTES or not words or not _HEX64.match(words[0]):
        raise ChecksumError(f"{url}.sha256 does not hold a SHA-256 (64 hex digits, as "
                            f"sha256sum writes it); received {text[:80]!r}.")
    return words[0].lower()
