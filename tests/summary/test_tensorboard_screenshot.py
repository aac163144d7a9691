"""TensorBoard itself shows what ``keras.callbacks.TensorBoard`` wrote: its scalars and
graphs dashboards, served by ``tensorboard --logdir`` and drawn by headless Chromium.

The pictures stay in the test's temporary folder (pytest's ``--basetemp`` keeps them);
README's copies in ``docs/images/`` are made by ``tools/tensorboard_screenshot.py``.
"""

from __future__ import annotations

import importlib.util
import json
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        "tensorboard_screenshot", ROOT / "tools" / "tensorboard_screenshot.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    # Not TensorFlow, Keras or the data: a missing browser or viewer is an ordinary skip.
    for needed in ("tensorboard", "PIL"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"{needed} is not installed: no TensorBoard to take pictures of")
    module = _tool()
    if module.chromium() is None:
        pytest.skip("no Chromium to draw TensorBoard's pages (Debian: apt-get install "
                    "chromium)")
    return module


@pytest.mark.slow
def test_tensorboard_draws_the_scalars_and_graphs_of_a_fit(tool, tmp_path):
    logdir = tmp_path / "logs"
    tool.write_logs(logdir, epochs=4)
    with tool.serve(logdir) as address:
        # What the pages will draw: TensorBoard read Keras's tags for both runs, and a graph.
        with urllib.request.urlopen(f"{address}/data/plugin/scalars/tags") as response:
            tags = json.loads(response.read())
        assert {"epoch_loss", "epoch_accuracy"} <= set(tags["train"])
        assert {"epoch_loss", "epoch_accuracy"} <= set(tags["validation"])
        pictures = {}
        for dashboard in tool.DASHBOARDS:
            path = tmp_path / f"tensorboard_{dashboard}.png"
            problem = None
            for budget in (15000, 30000):  # a slow machine gets a second, longer try
                tool.screenshot(f"{address}/#{dashboard}", path, budget_ms=budget)
                problem = tool.picture_problem(path)
                if problem is None:
                    break
            assert problem is None, problem
            pictures[dashboard] = path
    from PIL import Image

    with Image.open(pictures["scalars"]) as scalars, Image.open(pictures["graphs"]) as graphs:
        assert scalars.size == graphs.size == tool.WINDOW
        # Two dashboards, two different pages (not the same blank frame twice).
        assert scalars.convert("RGB").tobytes() != graphs.convert("RGB").tobytes()


def test_picture_problem_finds_blank_and_tiny_pictures(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    tool = _tool()
    blank = tmp_path / "blank.png"
    Image.new("RGB", tool.WINDOW, "white").save(blank)
    assert "bytes" in tool.picture_problem(blank)
    assert "colours" in tool.picture_problem(blank, min_bytes=0)
    assert "was not written" in tool.picture_problem(tmp_path / "missing.png")
    noise = tmp_path / "noise.png"
    import numpy as np

    pixels = np.random.default_rng(0).integers(0, 256, (*tool.WINDOW[::-1], 3), np.uint8)
    Image.fromarray(pixels).save(noise)
    assert tool.picture_problem(noise) is None
    small = tmp_path / "small.png"
    Image.fromarray(pixels[:100, :100]).save(small)
    assert "not 1280x900" in tool.picture_problem(small)
