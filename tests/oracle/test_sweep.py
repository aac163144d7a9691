"""The generated differential sweep: every public op agrees with TensorFlow, or the
difference is documented.

``sweep_specs.py`` generates the cases, ``sweep.py`` runs and compares them (see its
docstring for what is compared), ``known_differences.py`` is the table of differences
that stay, with their reasons (``docs/tf-differences.md`` is generated from it).

* ``test_op_agrees_with_tensorflow[op]`` fails for each difference the table does not
  cover, naming the case, what TensorFlow gave and what neuroflow gave;
* ``test_no_stale_known_differences`` fails for a table entry that covers no difference
  (an op was fixed: remove the entry, or run ``sweep.py --write-table``);
* ``test_every_public_op_is_swept_or_listed`` fails for a public op with no spec in
  ``sweep_specs.SPECS`` and no reason in ``sweep_specs.NOT_SWEPT``.
"""

from __future__ import annotations

import functools
from collections import Counter

import pytest

tensorflow = pytest.importorskip("tensorflow")

import known_differences  # noqa: E402 - after the skip
import sweep  # noqa: E402
import sweep_specs  # noqa: E402

pytestmark = pytest.mark.tensorflow
tensorflow.get_logger().setLevel("ERROR")  # deprecation notices of swept ops

KNOWN = known_differences.KNOWN


@functools.cache
def _cases(op: str) -> tuple:
    return tuple(sweep_specs.SPECS[op]())


@functools.cache
def _differences(op: str) -> tuple:
    return tuple(d for case in _cases(op) for d in sweep.sweep_case(tensorflow, case))


@pytest.mark.parametrize("op", sorted(sweep_specs.SPECS))
def test_op_agrees_with_tensorflow(op):
    undocumented = [d for d in _differences(op) if sweep.documented_by(d, KNOWN) is None]
    shown = "\n".join(str(d) for d in undocumented[:20])
    more = f"\n... and {len(undocumented) - 20} more" if len(undocumented) > 20 else ""
    assert not undocumented, (
        f"{len(undocumented)} difference(s) of {op} from TensorFlow are not in "
        f"tests/oracle/known_differences.py (fix the op, or document the difference "
        f"with its reason; `python tests/oracle/sweep.py --op {op}` lists them all):\n"
        + shown + more)


def test_no_stale_known_differences():
    differences = [d for op in sorted(sweep_specs.SPECS) for d in _differences(op)]
    used = {id(sweep.documented_by(d, KNOWN)) for d in differences}
    stale = [entry for entry in KNOWN if id(entry) not in used]
    assert not stale, (
        "these entries of tests/oracle/known_differences.py match no differing case any "
        "more (fixed?): remove them, or run `python tests/oracle/sweep.py --write-table`:\n"
        + "\n".join(f"  {e.pattern} [{e.category}]: {e.what}" for e in stale))


def test_every_public_op_is_swept_or_listed():
    surface = sweep.public_surface()
    listed = {*sweep_specs.SPECS, *sweep_specs.NOT_SWEPT}
    stray = sorted(name for name in listed if name not in surface)
    assert not stray, f"these names of SPECS/NOT_SWEPT are not public neuroflow ops: {stray}"
    covered = {id(surface[name]) for name in listed}
    missing: dict[int, list[str]] = {}
    for name, obj in surface.items():
        if id(obj) not in covered:
            missing.setdefault(id(obj), []).append(name)
    assert not missing, (
        "public ops the sweep neither runs nor lists: "
        + "; ".join(" = ".join(names) for names in missing.values())
        + ". Add a spec to SPECS in tests/oracle/sweep_specs.py (or a reason to NOT_SWEPT)")


def test_specs_name_tensorflow_ops():
    """A spec runs its op by name in both modules: the name must exist in TensorFlow."""
    missing = []
    for op in sweep_specs.SPECS:
        try:
            sweep.resolve(tensorflow, op)
        except AttributeError:
            missing.append(op)
    assert not missing, f"specs named by names TensorFlow lacks (use its alias): {missing}"


def test_public_names_exist_in_tensorflow():
    extra = []
    for name in sweep.public_surface():
        try:
            sweep.resolve(tensorflow, name)
        except AttributeError:
            extra.append(name)
    unlisted = sorted(set(extra) - set(known_differences.EXTRA_NAMES))
    stale = sorted(set(known_differences.EXTRA_NAMES) - set(extra))
    assert not unlisted, (f"public neuroflow names TensorFlow 2.21 lacks: {unlisted}; remove "
                          f"them or list them in EXTRA_NAMES of known_differences.py")
    assert not stale, f"EXTRA_NAMES lists names that are gone or now in TensorFlow: {stale}"


def test_case_ids_are_unique_and_name_their_op():
    ids = Counter(case.id for op in sweep_specs.SPECS for case in _cases(op))
    assert [i for i, n in ids.items() if n > 1] == []
    assert all(case.op == op for op in sweep_specs.SPECS for case in _cases(op))


def test_the_documented_table_lists_every_entry():
    text = known_differences.TABLE_DOC.read_text()
    missing = [e.pattern for e in KNOWN if f"`{e.pattern}`" not in text]
    assert not missing, (f"docs/tf-differences.md lacks {missing}: regenerate it with "
                         f"`python tests/oracle/sweep.py --write-table`")


def test_a_difference_names_the_case_and_both_results():
    case = sweep.Case("tf.math.floormod", "float32,vector,ordinary")
    tf_side = sweep.Outcome(leaves=[sweep.Leaf("float32", (1,), sweep.np.array([1.0]))])
    nf_side = sweep.Outcome(leaves=[sweep.Leaf("float32", (1,), sweep.np.array([2.0]))])
    (difference,) = sweep.compare(case, tf_side, nf_side, None)
    text = str(difference)
    assert "tf.math.floormod[float32,vector,ordinary] [value]" in text
    assert "TensorFlow: [1.]" in text and "neuroflow:  [2.]" in text


def test_command_line_report_prints_totals_and_differences(capsys):
    status = sweep.main(["--op", "tf.math.floordiv", "--brief"])
    out = capsys.readouterr().out
    assert out.startswith("cases: ") and "matching: " in out
    assert "undocumented differences: " in out
    assert status in (0, 1)
    assert sweep.main(["--op", "tf.math.floordiv", "--write-table"]) == 2
    assert "needs the whole sweep" in capsys.readouterr().out


def test_the_generated_table_has_every_entry_and_the_totals():
    difference = sweep.Difference("tf.abs[float32,vector,subnormal]", "tf.abs", "value", "a",
                                  "b")
    summary = sweep.summarize([sweep.Case("tf.abs", "float32,vector,subnormal")],
                              [difference], KNOWN)
    text = known_differences.render_doc(KNOWN, summary)
    assert "| 1 | 0 | 1 | 0 |" in text
    assert all(f"`{entry.pattern}`" in text for entry in KNOWN)
    assert all(f"`{name}`" in text for name in known_differences.EXTRA_NAMES)
    assert all(f"`{name}`" in text for name in sweep_specs.NOT_SWEPT)


def test_known_entries_round_trip_through_the_writer():
    source = known_differences._render_entries(KNOWN)
    namespace = {"Known": known_differences.Known}
    exec(source, namespace)
    assert namespace["KNOWN"] == KNOWN
    assert max(len(line) for line in source.splitlines()) <= 100


def test_the_sweep_catches_a_wrong_op(monkeypatch):
    """A relu off by one part in a thousand, or with a lost gradient, does not pass."""
    import neuroflow

    relu = neuroflow.nn.relu
    monkeypatch.setattr(neuroflow.nn, "relu", lambda x, name=None: relu(x) * 1.001)
    cases = [c for c in sweep_specs.SPECS["tf.nn.relu"]() if c.label.endswith("ordinary")]
    categories = {d.category for c in cases for d in sweep.sweep_case(tensorflow, c)}
    assert {"value", "gradient"} <= categories
    monkeypatch.setattr(neuroflow.nn, "relu",
                        lambda x, name=None: relu(neuroflow.stop_gradient(x)))
    found = [d for c in cases for d in sweep.sweep_case(tensorflow, c)]
    assert {d.category for d in found} == {"gradient"}
    assert any("None" in d.neuroflow for d in found)
