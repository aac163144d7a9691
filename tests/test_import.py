"""``import neuroflow`` is silent and fast, and leaves Keras, tf.data and extras unimported."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="default")
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_import_prints_nothing():
    # PYTHONWARNINGS=default shows warnings that are hidden by default (Deprecation...).
    result = _python("-c", "import neuroflow")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_import_is_fast():
    # The measured figure goes in the benchmark script; this bound only catches regressions
    # such as importing Keras, SciPy or matplotlib eagerly.
    result = _python("-X", "importtime", "-c", "import neuroflow")
    lines = [line for line in result.stderr.splitlines() if re.search(r"\|\s*neuroflow$", line)]
    assert lines, result.stderr[-2000:]
    cumulative_us = int(lines[-1].split("|")[1])
    assert cumulative_us < 1_000_000, f"import neuroflow took {cumulative_us / 1e6:.2f} s"


def test_import_leaves_heavy_modules_unimported():
    code = ("import sys, neuroflow; print(sorted(m for m in sys.modules if m.startswith("
            "('neuroflow.keras', 'neuroflow.data', 'scipy', 'matplotlib', 'cupy'))))")
    result = _python("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
