"""Running the example notebooks in a real Jupyter kernel, for their tests.

``execute(path, settings, tmp_dir)`` runs a notebook top to bottom with ``settings`` as
environment variables (the short settings each notebook reads) and this checkout on the
kernel's path; ``outputs`` and ``text`` read what its cells printed.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]  # tests/helpers/ -> the repository
DATA_CANDIDATES = (REPO.parent / "shared" / "data" / "fashion-mnist",
                   Path("/usr/share/datasets/fashion-mnist"))
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def require_jupyter():
    """Skip the calling test module unless nbclient, nbformat, ipykernel and matplotlib are
    installed (the ``notebook`` and ``plot`` extras)."""
    for needed in ("nbclient", "nbformat", "ipykernel", "matplotlib"):
        if importlib.util.find_spec(needed) is None:
            pytest.skip(f"{needed} is not installed", allow_module_level=True)


def fashion_mnist_dir() -> Path:
    for candidate in DATA_CANDIDATES:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    pytest.skip("the Fashion-MNIST files are in neither ../shared/data/fashion-mnist nor "
                "/usr/share/datasets/fashion-mnist")


def execute(notebook_path: Path, settings: dict[str, str], workdir: Path, timeout: int = 900):
    """The notebook after running all its cells in ``workdir`` with ``settings`` set."""
    import nbclient
    import nbformat

    patch = pytest.MonkeyPatch()
    for name, value in settings.items():
        patch.setenv(name, value)
    patch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    patch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(workdir)}})
    try:
        client.execute()
    finally:
        patch.undo()
    return notebook


def outputs(notebook) -> list:
    return [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]


def text(output) -> str:
    """What an output shows as text, without terminal colours."""
    shown = output.get("text", "") if output.get("output_type") == "stream" else \
        output.get("data", {}).get("text/plain", "")
    return _ANSI.sub("", shown)
