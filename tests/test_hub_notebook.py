"""The hub fine-tuning notebook runs top to bottom in a real Jupyter kernel (a short setting,
real data): the extractor is published, loaded frozen, its head trained, then fine-tuned,
saved and loaded back."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("h5py")
if importlib.util.find_spec("ipykernel") is None:
    pytest.skip("ipykernel is not installed", allow_module_level=True)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "examples" / "hub_fine_tuning.ipynb"
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
    folder = tmp_path_factory.mktemp("hub-notebook")
    patch = pytest.MonkeyPatch()
    patch.setenv("FASHION_MNIST_DIR", str(data))
    patch.setenv("HUB_BASE_EPOCHS", "1")
    patch.setenv("HUB_TRAIN_SAMPLES", "3000")
    patch.setenv("HUB_HEAD_EPOCHS", "2")
    # A local folder handle needs no cache; pointing it here keeps any stray write out of ~.
    patch.setenv("NEUROFLOW_HUB_CACHE", str(folder / "cache"))
    patch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    finally:
        patch.undo()
    return notebook, folder


def _text(notebook) -> str:
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    return ANSI.sub("", "".join(
        o.get("text", "") if o.get("output_type") == "stream"
        else o.get("data", {}).get("text/plain", "") for o in outputs))


@pytest.mark.slow
def test_hub_notebook_publishes_freezes_fine_tunes_and_reloads(executed):
    notebook, folder = executed
    text = _text(notebook)
    published = folder / "hub_models" / "fashion_features"
    assert sorted(p.name for p in published.iterdir()) == ["model.keras", "model.keras.sha256"]
    # The frozen extractor: the two convolutions' weights are not trained, the head's are.
    assert "fashion_features (KerasLayer)" in text and "(None, 1600)" in text
    assert "Trainable params: 16,010" in text and "Non-trainable params: 18,816" in text
    assert "extractor weights unchanged: True" in text
    assert "trainable weights: 34,826" in text
    head = float(re.search(r"new head on frozen features: (\d\.\d+)", text).group(1))
    tuned = float(re.search(r"fine-tuned: (\d\.\d+)", text).group(1))
    assert 0.4 < head <= 1.0 and 0.4 < tuned <= 1.0  # short runs on few images
    assert "restored layer: KerasLayer" in text
    difference = float(re.search(r"after loading: (\S+)", text).group(1))
    assert difference < 1e-5
    assert not (folder / "cache").exists()  # a folder handle is never copied
