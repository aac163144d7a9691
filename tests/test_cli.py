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
from pathlib import Path

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


@pytest.fixture
def fixed_tiny_data(monkeypatch):
    """The lab on the same 40 random images every run (only the seed can change a run),
    drawing no pictures."""
    rng = np.random.default_rng(0)

    def split(n):
        return rng.random((n, 28, 28)), rng.integers(0, 10, n).astype(np.uint8)

    data = (split(40), split(8), split(8))
    monkeypatch.setattr(lab, "load_and_split", lambda path, quiet: data)
    # Drawing is most of such a run's time; the pictures have their own tests below.
    monkeypatch.setattr(lab, "save_pictures", lambda x, y, out: [])
    monkeypatch.setattr(lab, "save_curves", lambda history, out: None)


@pytest.fixture
def histories(monkeypatch):
    """The training history of every lab run, in order (``lab.run`` watched)."""
    recorded = []
    original = lab.run

    def watched(*args, **kwargs):
        result = original(*args, **kwargs)
        recorded.append(result["history"])
        return result

    monkeypatch.setattr(lab, "run", watched)
    return recorded


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


@pytest.mark.parametrize("epochs", ["-3", "2.5", "ten"])
def test_epochs_must_be_a_whole_number(capsys, epochs):
    with pytest.raises(SystemExit) as caught:
        cli.main(["lab", "--epochs", epochs])
    assert caught.value.code == 2
    assert (f"neuroflow lab: error: argument --epochs: must be a whole number (0 or more), "
            f"not '{epochs}'; e.g. --epochs 10") in capsys.readouterr().err


@pytest.mark.parametrize("seed", ["-1", "4294967296", "1.5", "seven"])
def test_a_seed_set_random_seed_refuses_is_a_usage_error(capsys, seed):
    # Before, --seed -1 reached NumPy's seeding and ended in a traceback.
    with pytest.raises(SystemExit) as caught:
        cli.main(["lab", "--seed", seed])
    assert caught.value.code == 2
    assert (f"neuroflow lab: error: argument --seed: must be a whole number from 0 to "
            f"2**32 - 1, not '{seed}'; e.g. --seed 42") in capsys.readouterr().err


def test_lab_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["lab", "--help"])
    assert caught.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: neuroflow lab ") and err == ""
    for option in ("--epochs", "--seed", "--out", "--data", "--verbose", "--quiet",
                   "--framework"):
        assert option in out


# --- the seed ---------------------------------------------------------------------------------


def test_lab_seed_makes_the_run_repeat(capsys, tmp_path, fixed_tiny_data, histories):
    for seed in ("3", "3", "4"):
        code, out, err = run(capsys, "lab", "--quiet", "--verbose", "0", "--epochs", "2",
                             "--seed", seed, "--out", str(tmp_path / "out"))
        assert code == 0 and err == "", err
        assert out.startswith("test accuracy: ")
    same, again, other = histories
    assert sorted(same) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(values) == 2 for values in same.values())
    assert same == again, "the same --seed must give the same history"
    assert same["loss"] != other["loss"], "another --seed must give another history"


def test_lab_without_a_seed_differs_between_runs(capsys, tmp_path, fixed_tiny_data,
                                                 histories):
    for _ in range(2):
        code, _, _ = run(capsys, "lab", "--quiet", "--verbose", "0", "--epochs", "1",
                         "--out", str(tmp_path / "out"))
        assert code == 0
    assert histories[0]["loss"] != histories[1]["loss"]


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


def test_zero_epochs_evaluates_the_untrained_model_and_draws_no_curves(capsys, tmp_path,
                                                                       tiny_data, plotting):
    out = tmp_path / "out"
    code, printed, err = run(capsys, "lab", "--quiet", "--verbose", "0", "--epochs", "0",
                             "--out", str(out))
    assert code == 0 and err == ""
    assert printed.startswith("test accuracy: ")
    assert sorted(p.name for p in out.iterdir()) == ["first_image.png", "sample_grid.png"]


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


def command(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``neuroflow ARGV`` run as a user runs it: the installed console script when it is
    next to this Python, ``python -m neuroflow.cli`` otherwise."""
    script = Path(sys.executable).with_name("neuroflow")
    program = [str(script)] if script.is_file() else [sys.executable, "-m", "neuroflow.cli"]
    return subprocess.run([*program, *argv], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("argv, first_line", [
    (["--help"], "usage: neuroflow COMMAND [options]"),
    (["lab", "--help"], "usage: neuroflow lab [-h] [--epochs EPOCHS] [--seed SEED]"),
], ids=["neuroflow", "neuroflow lab"])
def test_command_line_help_exits_0(argv, first_line):
    result = command(*argv)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[0].startswith(first_line), result.stdout
    if argv[0] == "lab":
        for option in ("--epochs", "--seed", "--out", "--data", "--verbose", "--quiet"):
            assert f"  {option}" in result.stdout


@pytest.mark.parametrize("argv, error", [
    (["lab", "--bogus"], "neuroflow lab: error: unrecognized arguments: --bogus"),
    (["lab", "--seed", "-1"], "neuroflow lab: error: argument --seed: must be a whole number "
                              "from 0 to 2**32 - 1, not '-1'; e.g. --seed 42"),
    (["train"], "neuroflow: unknown command 'train'"),
], ids=["unknown option", "negative seed", "unknown command"])
def test_command_line_usage_errors_exit_2(argv, error):
    result = command(*argv)
    assert result.returncode == 2
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert error in result.stderr.splitlines(), result.stderr


def test_command_line_prints_one_line_and_exits_1(tmp_path):
    """Through a real process: what a user sees in the terminal."""
    missing = tmp_path / "nowhere"
    result = command("lab", "--data", str(missing))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuroflow lab: error: "), result.stderr
    assert str(missing) in lines[0]
