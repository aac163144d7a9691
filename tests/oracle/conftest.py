"""The TensorFlow oracle tests: neuroflow compared with TensorFlow in one interpreter.

Every module here is marked ``tensorflow`` and skips itself where TensorFlow is not
installed (``pytest.importorskip("tensorflow")``). The sweep's own modules
(``sweep.py``, ``sweep_specs.py``, ``known_differences.py``) are imported by plain name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# TensorFlow logs its start-up to stderr unless told before it is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
