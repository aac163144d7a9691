"""The text-classification notebook runs top to bottom in a real Jupyter kernel (a short
setting, its own small corpus)."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
for _needed in ("ipykernel", "matplotlib"):
    if importlib.util.find_spec(_needed) is None:
        pytest.skip(f"{_needed} is not installed", allow_module_level=True)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "examples" / "text_classification.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("TEXT_EPOCHS", "6")
    patch.setenv("TEXT_SAMPLES", "600")
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    patch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("text-notebook"))}})
    try:
        client.execute()
    finally:
        patch.undo()
    return notebook


def _outputs(notebook) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def _text(output) -> str:
    text = output.get("text", "") if output.get("output_type") == "stream" else \
        output.get("data", {}).get("text/plain", "")
    return ANSI.sub("", text)


@pytest.mark.slow
def test_text_notebook_runs_trains_and_draws(executed):
    outputs = _outputs(executed)
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    text = "".join(_text(o) for o in outputs)
    assert "Found 600 files belonging to 2 classes." in text
    assert "Using 480 files for training." in text
    assert "bidirectional (Bidirectional)" in text and "(None, 32)" in text
    # Embedding 40 x 16 (38 words + padding + OOV), two LSTM(16) on 16 features
    # (4 * (16 * 16 + 16 * 16 + 16) each), Dense 32 + 1; after fit, the total also holds
    # Adam's two slots per weight and its iteration count (Keras's summary).
    assert "Trainable params: 4,897 (19.13 KB)" in text
    assert "Total params: 14,693 (57.40 KB)" in text
    accuracy = float(re.search(r"validation accuracy: (\d\.\d+)", text).group(1))
    assert 0.8 < accuracy <= 1.0  # six short epochs on 480 sentences
    predictions = re.findall(r"(sport|cooking) \(\d\.\d\d\): (.+)", text)
    assert [label for label, _ in predictions] == ["sport", "cooking", "sport", "cooking"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the training curves
