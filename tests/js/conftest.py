"""TensorFlow.js export tests. ``js_runtime.py`` beside them (finding tfjs, serving a
folder, running Node) is imported by plain name."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
