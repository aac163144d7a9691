"""Pictures of TensorBoard showing logs that ``keras.callbacks.TensorBoard`` wrote.

Trains a tiny model for a few epochs with the callback, serves the logs with
``tensorboard --logdir``, and has headless Chromium take a picture of the scalars and
the graphs dashboards. ``tests/summary/test_tensorboard_screenshot.py`` runs it and
checks the pictures; README's pictures (``docs/images/``) are made with

    python tools/tensorboard_screenshot.py docs/images

Needs the ``tensorboard`` package, Pillow and Chromium (Debian: ``apt-get install
chromium``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np

DASHBOARDS = ("scalars", "graphs")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1280, 900)


def chromium() -> str | None:
    """The path of a Chromium (or Chrome) executable, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def tensorboard_command() -> list[str] | None:
    """How to start TensorBoard with this Python's package, or None when it is missing."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        return None
    # The console script sits beside this interpreter; `python -m tensorboard.main` works
    # wherever the package is importable.
    return [sys.executable, "-m", "tensorboard.main"]


def write_logs(logdir: Path, epochs: int = 8) -> None:
    """Logs of a tiny classifier trained with ``keras.callbacks.TensorBoard``."""
    import neuroflow as tf

    tf.keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x[:, :4].sum(axis=1) > 0).astype("int32")
    model = tf.keras.Sequential([tf.keras.Input((8,)),
                                 tf.keras.layers.Dense(16, activation="relu"),
                                 tf.keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.25, verbose=0,
              callbacks=[tf.keras.callbacks.TensorBoard(log_dir=str(logdir),
                                                        histogram_freq=1)])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def serve(logdir: Path, timeout: float = 120.0) -> Iterator[str]:
    """Run ``tensorboard --logdir logdir`` on a free port; yield its address once it
    lists both dashboards' data."""
    command = tensorboard_command()
    if command is None:
        raise RuntimeError("the tensorboard package is not installed: pip install tensorboard")
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    log = tempfile.TemporaryFile()
    # Started beside the logs and given their name alone, so that the page shows "logs",
    # not a temporary folder's path.
    logdir = Path(logdir).resolve()
    server = subprocess.Popen([*command, "--logdir", logdir.name, "--host", "127.0.0.1",
                               "--port", str(port), "--reload_interval", "1"],
                              cwd=logdir.parent, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_data(address, server, log, timeout)
        yield address
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_for_data(address: str, server: subprocess.Popen, log, timeout: float) -> None:
    """Poll until TensorBoard has loaded the scalars and the graph: the page shows an empty
    dashboard until then."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"tensorboard exited with status {server.returncode}:\n"
                               f"{log.read().decode(errors='replace')[-2000:]}")
        try:
            scalars = _get_json(f"{address}/data/plugin/scalars/tags")
            graphs = _get_json(f"{address}/data/plugin/graphs/info")
            if any(scalars.values()) and graphs:
                return
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError, TimeoutError):
            pass  # not listening yet, or still loading
        if time.monotonic() > deadline:
            raise TimeoutError(f"tensorboard at {address} had no data after {timeout:.0f} s")
        time.sleep(0.5)


def screenshot(url: str, out: Path, *, budget_ms: int = 15000, timeout: float = 120.0) -> Path:
    """Have headless Chromium save a picture of ``url`` to ``out``.

    ``--virtual-time-budget`` lets the page's scripts and requests run for that long
    (in the browser's clock) before the picture is taken: TensorBoard's frontend draws its
    charts only after several requests.
    """
    browser = chromium()
    if browser is None:
        raise RuntimeError(f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)}); "
                           f"on Debian: apt-get install chromium")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        # --no-sandbox: Chromium refuses to run as root with its sandbox on.
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--no-first-run", f"--user-data-dir={profile}",
                        f"--window-size={WINDOW[0]},{WINDOW[1]}",
                        f"--virtual-time-budget={budget_ms}", f"--screenshot={out}", url],
                       check=True, capture_output=True, timeout=timeout)
    return out


def picture_problem(path: Path, min_bytes: int = 10_000, min_colours: int = 16) -> str | None:
    """Why the PNG at ``path`` is not a picture of a drawn page, or None when it is one."""
    from PIL import Image

    if not path.is_file():
        return f"{path} was not written"
    size = path.stat().st_size
    if size < min_bytes:
        return f"{path} holds only {size} bytes"
    with Image.open(path) as image:
        if image.size != WINDOW:
            return f"{path} is {image.size[0]}x{image.size[1]}, not {WINDOW[0]}x{WINDOW[1]}"
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    if colours is not None and len(colours) < min_colours:
        return f"{path} has only {len(colours)} colours: a blank or half-drawn page"
    return None


def take(logdir: Path, out_dir: Path, *, attempts: int = 3) -> dict[str, Path]:
    """``tensorboard_<dashboard>.png`` in ``out_dir`` for each dashboard, served from
    ``logdir``; a picture taken before the page drew is taken again with more time."""
    out_dir = Path(out_dir)
    pictures = {}
    with serve(logdir) as address:
        for dashboard in DASHBOARDS:
            path = out_dir / f"tensorboard_{dashboard}.png"
            problem = None
            for attempt in range(attempts):
                screenshot(f"{address}/#{dashboard}", path, budget_ms=15000 * (attempt + 1))
                problem = picture_problem(path)
                if problem is None:
                    break
            if problem is not None:
                raise RuntimeError(f"the {dashboard} dashboard did not draw: {problem}")
            pictures[dashboard] = path
    return pictures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="where the PNG files go (docs/images)")
    parser.add_argument("--logdir", type=Path,
                        help="logs to show (default: a tiny model's, written to a "
                             "temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        logdir = args.logdir
        if logdir is None:
            logdir = Path(scratch) / "logs"
            write_logs(logdir)
        for dashboard, path in take(logdir, args.out_dir).items():
            print(f"{dashboard}: {path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main())
