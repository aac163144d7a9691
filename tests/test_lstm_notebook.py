"""The LSTM notebook runs top to bottom in a real Jupyter kernel (a short setting, real data)."""

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
NOTEBOOK = REPO / "examples" / "fashion_mnist_lstm.ipynb"
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _data_dir() -> Path:
    for candidate in DATA_CANDIDATES:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    pytest.skip("the Fashion-MNIST files are in neither ../shared/data/fashion-mnist nor "
                "/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    data = _data_dir()
    patch = pytest.MonkeyPatch()
    patch.setenv("FASHION_MNIST_DIR", str(data))
    patch.setenv("LSTM_EPOCHS", "1")
    patch.setenv("LSTM_TRAIN_SAMPLES", "3000")
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    patch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("lstm-notebook"))}})
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
def test_lstm_notebook_runs_trains_and_draws(executed):
    outputs = _outputs(executed)
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    text = "".join(_text(o) for o in outputs)
    assert "((3000, 28, 28), (5000, 28, 28), (10000, 28, 28))" in text
    # Keras's summary: LSTM(128) on 28 features has 4 * (28 * 128 + 128 * 128 + 128)
    # parameters, the softmax layer 128 * 10 + 10.
    assert "lstm (LSTM)" in text and "(None, 128)" in text
    assert "Total params: 81,674 (319.04 KB)" in text
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", text).group(1))
    assert 0.4 < accuracy <= 1.0  # one short epoch on 3,000 images
    assert "taken for" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the training curves and the confusion matrix
