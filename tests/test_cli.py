"""The ``neuroflow`` command: one clear line on stderr for expected failures, tracebacks for bugs.

Expected failures come from the machine, not the code: no dataset, a damaged file, a
folder that cannot be written. The network is never touched: the dataset cache and
system folders point into tmp_path and the downloader fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error

import numpy as np
import pytest

from neuroflow import cli, config, lab
from neuroflow.keras.datasets import _idx

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """Empty cache and system folders; any download fails as it would offline."""
    monkeypatch.setattr(config.settings, "datasets_dir", tmp_path / "cache")
    monkeypatch.setattr(config.settings, "system_dataset_dirs", (tmp_path / "system",))

    def no_network(url):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(_idx, "_open_url", no_network)


@pytest.fixture
def tiny_data(monkeypatch):
    """The lab on 40 random images instead of Fashion-MNIST (only the output is tested)."""
    rng = np.random.default_rng(0)

    def split(n):
        return rng.random((n, 28, 28)), rng.integers(0, 10, n).astype(np.uint8)

    monkeypatch.setattr(lab, "load_and_split", lambda path, quiet: (split(40), split(8), split(8)))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_error_line(err: str, *expected: str) -> None:
    """One message on stderr, no traceback; ``expected`` pieces in it."""
    assert "Traceback" not in err
    assert err.startswith("neuroflow lab: error: "), err
    for piece in expected:
        assert piece in err, err


# --- usage ------------------------------------------------------------------------------------


def test_help_goes_to_stdout(capsys):
    code, out, err = run(capsys, "--help")
    assert code == 0 and "lab" in out and err == ""


@pytest.mark.parametrize("argv", [[], ["bogus"]], ids=["no command", "unknown command"])
def test_unknown_command_is_a_usage_error_on_stderr(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("neuroflow: ") and "usage: neuroflow COMMAND" in err


def test_bad_option_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["lab", "--verbose", "loud"])
    assert caught.value.code == 2
    assert "must be 0, 1, 2 or auto, not 'loud'" in capsys.readouterr().err


# --- data -------------------------------------------------------------------------------------


def test_missing_data_folder(capsys, tmp_path):
    code, _, err = run(capsys, "lab", "--data", str(tmp_path / "nowhere"))
    assert code == 1
    assert_error_line(err, f"{tmp_path / 'nowhere'} does not exist")


def test_no_dataset_anywhere(capsys):
    code, _, err = run(capsys, "lab")
    assert code == 1
    assert_error_line(err, "Fashion-MNIST is not available", "no network in tests")


def test_corrupt_files(capsys, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for name in FILES:
        (data / name).write_bytes(b"<html>Not Found</html>")
    code, _, err = run(capsys, "lab", "--data", str(data))
    assert code == 1
    assert_error_line(err, f"{data / FILES[0]}: not a gzip file")


# --- the output folder ------------------------------------------------------------------------


@pytest.fixture
def plotting():
    pytest.importorskip("matplotlib")


@pytest.mark.parametrize(
    "where, message",
    [("a-file", "the folder for the pictures (--out) is a file"),
     ("a-file/pictures", "cannot create the folder for the pictures (--out): Not a directory")],
    ids=["out is a file", "out is inside a file"],
)
def test_out_that_is_not_a_folder(capsys, tmp_path, tiny_data, plotting, where, message):
    (tmp_path / "a-file").write_text("taken")
    code, _, err = run(capsys, "lab", "--quiet", "--out", str(tmp_path / where))
    assert code == 1
    assert_error_line(err, f"{tmp_path / where}: {message}")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not bind root")
def test_out_without_write_permission(capsys, tmp_path, tiny_data, plotting):
    out = tmp_path / "out"
    out.mkdir(mode=0o500)
    try:
        code, _, err = run(capsys, "lab", "--quiet", "--out", str(out))
    finally:
        out.chmod(0o700)
    assert code == 1
    assert_error_line(err, f"{out / 'first_image.png'}: Permission denied")


def test_pictures_are_written_whole(capsys, tmp_path, tiny_data, plotting, monkeypatch):
    """An interrupt while saving leaves neither a picture nor a temporary file."""
    out = tmp_path / "out"

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    code, _, err = run(capsys, "lab", "--quiet", "--out", str(out))
    monkeypatch.undo()
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert list(out.iterdir()) == []


# --- bugs and interrupts ----------------------------------------------------------------------


def test_a_bug_keeps_its_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(lab, "run", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["lab", "--quiet"])


def test_ctrl_c_exits_quietly_with_130(capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lab, "run", interrupted)
    code, _, err = run(capsys, "lab")
    assert code == 130
    assert err.strip() == "neuroflow lab: interrupted"


# --- the installed command --------------------------------------------------------------------


def test_command_line_prints_one_line_and_exits_1(tmp_path):
    """Through a real process: what a user sees in the terminal."""
    missing = tmp_path / "nowhere"
    result = subprocess.run([sys.executable, "-m", "neuroflow.cli", "lab", "--data", str(missing)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuroflow lab: error: "), result.stderr
    assert str(missing) in lines[0]
