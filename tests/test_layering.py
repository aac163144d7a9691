"""The package's layers import only from the layers below them (README, "Layout").

Every import in every module is read from its source (function-level imports too),
so a new upward import fails here, naming the module and the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "neuroflow"

# Bottom to top; a module may import from its own layer and the ones before it.
LAYERS = [
    ("config", ["config", "errors", "util"]),
    ("backend", ["backend"]),
    ("tensors", ["abstract", "dtypes", "tensor"]),
    ("ops", ["ops"]),
    ("profiler", ["profiler"]),
    ("variables", ["variables", "module"]),
    ("autodiff", ["autodiff"]),
    ("graph", ["graph"]),
    ("export", ["export"]),
    ("data", ["data"]),
    ("train", ["train"]),
    ("summary", ["summary"]),
    ("distribute", ["distribute"]),
    ("keras", ["keras"]),
    ("public", ["__init__", "__main__", "math", "nn", "random", "linalg", "image", "cli",
                "lab", "hub", "debugging", "debug_dump", "strings", "ragged", "lite", "js",
                "serving", "keras_hub"]),
]
RANK = {part: rank for rank, (_, parts) in enumerate(LAYERS) for part in parts}


def _layer_of(module: str) -> int:
    """The rank of ``neuroflow.x.y`` (its first component names the layer)."""
    first = module.split(".")[1] if "." in module else "__init__"
    if first not in RANK:
        raise AssertionError(f"neuroflow.{first} belongs to no layer: add it to LAYERS and "
                             f"to README's layout table")
    return RANK[first]


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts), path


def _imports(path: Path, module: str):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = module.split(".")[: -node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            names = [name]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name == "neuroflow" or name.startswith("neuroflow."):
                yield name, node.lineno


@pytest.mark.parametrize("module,path", list(_modules()), ids=lambda v: str(v))
def test_module_imports_only_from_layers_below(module, path):
    own = _layer_of(module) if module != "neuroflow.__init__" else RANK["__init__"]
    upward = [f"line {line}: {name}" for name, line in _imports(path, module)
              if name != "neuroflow" and _layer_of(name) > own]
    assert not upward, f"{module} ({LAYERS[own][0]} layer) imports from above: {upward}"
