"""Every registered primitive has tests: forward vs NumPy, and gradients if differentiable.

The family test modules keep their cases in ``FORWARD`` and ``GRADIENTS``
tables keyed by primitive name, and each case asserts that its primitive
really runs; this module checks that the tables cover the whole registry, so a
new primitive cannot land without tests.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import neuroflow.graph.control_flow  # noqa: F401 - registers cond and while_loop
import neuroflow.ops
from neuroflow.ops.registry import REGISTRY

# Some families register their primitives only when first used (strings, recurrent
# layers): import them all, so what is checked does not depend on which tests ran first.
for _module in pkgutil.iter_modules(neuroflow.ops.__path__):
    importlib.import_module(f"neuroflow.ops.{_module.name}")


def _families() -> tuple:
    """The test modules beside this one that keep a ``FORWARD`` table."""
    modules = (importlib.import_module(path.stem)
               for path in sorted(Path(__file__).parent.glob("test_*.py"))
               if path.stem != Path(__file__).stem and "\nFORWARD" in path.read_text())
    return tuple(module for module in modules if hasattr(module, "FORWARD"))


FAMILIES = _families()


def _union(table_name: str) -> dict[str, list]:
    union: dict[str, list] = {}
    for module in FAMILIES:
        for name, cases in getattr(module, table_name).items():
            union.setdefault(name, []).extend(cases)
    return union


FORWARD = _union("FORWARD")
GRADIENTS = _union("GRADIENTS")
ELSEWHERE = {name: test for module in FAMILIES
             for name, test in getattr(module, "COVERED_ELSEWHERE", {}).items()}


def _differentiable():
    return sorted(name for name, prim in REGISTRY.items() if prim.differentiable)


@pytest.mark.parametrize("name", _differentiable())
def test_differentiable_primitive_has_a_gradient_rule(name):
    assert REGISTRY[name].vjp is not None, (
        f"primitive {name!r} is marked differentiable but has no vjp; attach one with "
        f"@{name}.defvjp or mark it differentiable=False")


@pytest.mark.parametrize("name", _differentiable())
def test_differentiable_primitive_has_gradient_tests(name):
    covered = GRADIENTS.get(name) or name in ELSEWHERE
    assert covered, (f"primitive {name!r} has no gradient test: add a Grad case under "
                     f"{name!r} to the GRADIENTS table of its family's test module")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_primitive_has_forward_tests(name):
    covered = FORWARD.get(name) or name in ELSEWHERE
    assert covered, (f"primitive {name!r} has no forward test: add a Fwd case under {name!r} "
                     f"to the FORWARD table of its family's test module")


def test_tables_name_only_registered_primitives():
    unknown = (set(FORWARD) | set(GRADIENTS) | set(ELSEWHERE)) - set(REGISTRY)
    assert not unknown, f"test tables name primitives that are not registered: {unknown}"


def test_non_differentiable_primitives_have_no_gradient_rule():
    stray = [name for name, prim in REGISTRY.items()
             if not prim.differentiable and prim.vjp is not None]
    assert not stray, f"these primitives have a vjp but are marked non-differentiable: {stray}"
