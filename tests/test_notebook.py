"""The lab notebook runs top to bottom in a real Jupyter kernel (2 epochs, real data)."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")
# Only looked up, not imported: with ipykernel in sys.modules, progress bars in this
# process (other tests) would take themselves for a notebook's, as Keras's do.
for _needed in ("ipykernel", "matplotlib"):
    if importlib.util.find_spec(_needed) is None:
        pytest.skip(f"{_needed} is not installed", allow_module_level=True)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "examples" / "fashion_mnist_lab.ipynb"
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
EPOCHS = 2
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _data_dir() -> Path:
    for candidate in DATA_CANDIDATES:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    pytest.skip("the Fashion-MNIST files are in neither ../shared/data/fashion-mnist nor "
                "/usr/share/datasets/fashion-mnist")


def _text(output) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "")
    # The progress bar is drawn in bold and colour, as Keras does in notebooks.
    return ANSI.sub("", text)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after nbclient ran it; a cell error fails here with the cell's traceback."""
    data = _data_dir()
    patch = pytest.MonkeyPatch()
    # The kernel is a child process and inherits this environment.
    patch.setenv("FASHION_MNIST_DIR", str(data))
    patch.setenv("LAB_EPOCHS", str(EPOCHS))
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    patch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path_factory.mktemp("notebook"))}})
    try:
        client.execute()
    finally:
        patch.undo()
    return notebook


def _outputs(notebook) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def test_notebook_runs_without_errors(executed):
    errors = [o for o in _outputs(executed) if o.get("output_type") == "error"]
    assert errors == []
    code_cells = [c for c in executed.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code_cells), "every code cell ran"


def test_notebook_shows_the_summary_and_the_epochs(executed):
    text = "".join(_text(o) for o in _outputs(executed))
    assert "(55000, 28, 28)" in text
    assert "Total params: 86,835 (339.20 KB)" in text
    for name in ("flatten (Flatten)", "dense (Dense)", "dense_1 (Dense)", "dense_2 (Dense)"):
        assert name in text
    for epoch in range(1, EPOCHS + 1):
        assert f"Epoch {epoch}/{EPOCHS}" in text
    # However the bar was redrawn, each epoch ends on its full line with validation metrics.
    finals = re.findall(r"1719/1719 \S+ .*? - val_accuracy: (\d\.\d{4})", text)
    assert len(finals) == EPOCHS
    assert all(0.5 < float(v) <= 1.0 for v in finals)
    # model.evaluate's result: [loss, accuracy] of a model trained 2 epochs.
    evaluate = re.search(r"\[(\d+\.\d+), (0\.\d+)\]", text)
    assert evaluate is not None and float(evaluate.group(2)) > 0.7


def test_notebook_draws_its_pictures(executed):
    images = [o for o in _outputs(executed) if "image/png" in o.get("data", {})]
    # The first image, the 4x5 grid, the training curves.
    assert len(images) >= 3
