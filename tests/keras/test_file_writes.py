"""write_atomically: whole files or none, no temporary left behind, the umask's mode."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from neuroflow.keras.callbacks import logging
from neuroflow.keras.callbacks.logging import write_atomically


@pytest.fixture
def umask():
    """Set the process umask for one test; restored afterwards."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)],
                         ids=["umask 022", "umask 027", "umask 077"])
def test_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, mask, mode):
    umask(mask)
    path = tmp_path / "weights.npz"
    write_atomically(path, b"data")
    assert path.read_bytes() == b"data"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "file.bin"
    write_atomically(str(path), b"x")
    assert path.read_bytes() == b"x"


@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError(errno.ENOSPC, "No space left")])
def test_failure_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, stage, error):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise error

    if stage == "write":
        monkeypatch.setattr(logging.os, "fdopen", lambda fd, mode: _FailingWriter(fd, error))
    else:
        monkeypatch.setattr(logging.os, stage, fail)
    with pytest.raises(type(error) if isinstance(error, OSError) else error):
        write_atomically(path, b"new" * 1000)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]
    assert path.read_bytes() == b"old"


class _FailingWriter:
    """A file object over ``fd`` whose write fails (the descriptor is still closed)."""

    def __init__(self, fd: int, error: BaseException):
        self.fd, self.error = fd, error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        return False

    def write(self, data):
        raise self.error


def test_error_names_the_file_asked_for_not_the_temporary(tmp_path, monkeypatch):
    real_open = os.open

    def refuse(name, flags, mode=0o777, **kwargs):
        if str(name).endswith(".tmp"):
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, flags, mode, **kwargs)

    monkeypatch.setattr(logging.os, "open", refuse)
    path = tmp_path / "first_image.png"
    with pytest.raises(PermissionError) as caught:
        write_atomically(path, b"png")
    assert caught.value.filename == str(path)
    assert list(tmp_path.iterdir()) == []
