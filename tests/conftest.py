"""Suite-wide rule: under CI, a missing oracle or dataset fails the run instead of skipping.

Locally, tests that need TensorFlow (the oracle, marked ``tensorflow``) or the
Fashion-MNIST files skip when those are absent, so a fresh clone tests with NumPy alone.
Under ``CI=true`` the same skip is a failure: a CI run that silently skipped its oracle or
its data would pass without checking what it claims to check. ``.ci/run`` runs the
``tensorflow`` tests in a separate environment that has TensorFlow.
"""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

# Skip reasons that mean "the oracle or the data is missing" (importorskip's reason names
# the module; the data tests name the dataset).
_MISSING = ("tensorflow", "keras", "fashion-mnist")


def _skip_reason(report) -> str | None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return None
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason if any(word in reason.lower() for word in _MISSING) else None


def _fail_instead(report) -> None:
    reason = _skip_reason(report)
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
    _fail_instead(outcome.get_result())
