"""Suite-wide rule: under CI, a missing oracle or dataset fails the run instead of skipping.

Locally, tests that need TensorFlow (the oracle, marked ``tensorflow``) or the
Fashion-MNIST files skip when those are absent, so a fresh clone tests with NumPy alone.
Under ``CI=true`` the same skip is a failure: a CI run that silently skipped its oracle or
its data would pass without checking what it claims to check. ``.ci/run`` runs the
``tensorflow`` tests in a separate environment that has TensorFlow.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Shared helper modules (helpers/notebooks.py) are imported by plain name. Only that
# folder goes on sys.path: with tests/ itself there, `import keras` would find tests/keras
# as a namespace package where Keras is not installed.
HELPERS = str(Path(__file__).parent / "helpers")
if HELPERS not in sys.path:
    sys.path.insert(0, HELPERS)

STRICT = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# Skip reasons that mean "the oracle or the data is missing": importorskip's reason for
# TensorFlow or Keras, and the data tests' reason naming the dataset's files. Other skips
# that mention TensorFlow (a case it cannot compare) are ordinary skips.
_MISSING = ("could not import 'tensorflow'", "could not import 'keras'",
            "fashion-mnist files")


def _skip_reason(report) -> str | None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason if any(word in reason.lower() for word in _MISSING) else None


def _oracle_selected(config) -> bool:
    """Whether this run's ``-m`` expression selects the tests marked ``tensorflow`` (the run
    with NumPy alone deselects them; a module that skips at import is then no loss)."""
    expression = config.getoption("markexpr") or ""
    if not expression:
        return True
    try:
        from _pytest.mark.expression import Expression

        return Expression.compile(expression).evaluate(lambda name: name == "tensorflow")
    except Exception:  # another pytest: read the common form
        return "not tensorflow" not in expression


def _fail_instead(report, config=None) -> None:
    reason = _skip_reason(report)
    if reason is not None and config is not None and "fashion-mnist" not in reason.lower() \
            and not _oracle_selected(config):
        return
    if STRICT and reason is not None:
        report.outcome = "failed"
        report.longrepr = (f"skipped under CI=true, where this must run: {reason}. Install the "
                           f"oracle (.ci/run does) or provide the data, or unset CI to skip.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_instead(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_instead(outcome.get_result(), collector.config)
