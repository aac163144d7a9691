"""The differential sweep: every public op run under TensorFlow and under neuroflow.

``sweep_specs.py`` generates the cases (dtypes x shapes x value sets, per kind of op);
this module runs each case under both, in one interpreter, and compares what came out:

* outcome: a value on both sides, or an error on both sides;
* error class: TensorFlow's ``tf.errors.X`` must be ``neuroflow.errors.X`` (or a subclass),
  a built-in (``TypeError``, ``ValueError``, ...) the same built-in;
* per output: dtype name, shape and values. Integers and booleans compare exactly;
  floats within a tolerance set by the dtype, with NaN where NaN and infinities of the
  same sign. The sign of a zero is not compared (``-0.0 == 0.0``): where it matters it
  shows up downstream (``1 / -0.0`` is ``-inf``), and those ops are swept with ``-0.0``
  inputs. Value sets named ``subnormal`` use no absolute tolerance, so a subnormal
  flushed to zero counts as a difference;
* gradients (``GradientTape``) for float32/float64 cases of ordinary values: of a fixed
  weighted sum of the float outputs, with respect to every float input; ``None`` against
  a value is a difference;
* NumPy warnings: neuroflow must not leak one where TensorFlow gives a value;
* neuroflow eager against neuroflow compiled (``tf.function``, tensor arguments passed
  as arguments, the rest bound): both must give the same outcome and values. A compiled
  run that refuses a tensor whose value the trace needs (an axis, a count: neuroflow's
  clear "only known when the graph runs" error) is the category ``trace-time``.

Differences that stay are documented in ``known_differences.py`` (the table) and
``docs/tf-differences.md`` (generated from it). Run as a script for a report::

    python tests/oracle/sweep.py [--op PATTERN] [--brief] [--draft] [--write-table]

``--op`` takes a glob on the op's name (``'tf.math.*'``); ``--draft`` prints table entries
for the undocumented differences (to edit: each needs its reason); ``--write-table`` drops
table entries that match no difference and rewrites ``docs/tf-differences.md`` with the
totals.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import neuroflow  # noqa: E402 - after the log level, as TensorFlow is imported beside it
import neuroflow.errors  # noqa: E402

# --- cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dtype:
    """A dtype argument, resolved to ``tf.<name>`` of the module the case runs under."""

    name: str


@dataclass
class Case:
    """One call of one public op: ``op(*args, **kwargs)``.

    NumPy arrays in ``args``/``kwargs`` (also inside lists) become tensors of the module
    under test; ``Dtype`` becomes its dtype; other values pass as they are.
    """

    op: str
    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    grad: bool = False
    exact_subnormals: bool = False
    # Which outputs to compare (all when None): eigenvectors and singular vectors are only
    # defined up to sign, so those cases compare the values alone.
    outputs: tuple | None = None

    @property
    def id(self) -> str:
        return f"{self.op}[{self.label}]"


def resolve(module, qualified: str):
    """``tf.math.floormod`` -> the ``floormod`` attribute of ``module.math``."""
    target = module
    for part in qualified.split(".")[1:]:
        target = getattr(target, part)
    return target


def _array_leaves(value) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _array_leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _array_leaves(item)]
    return []


def _rebuild(module, value, tensors: Iterable):
    """``value`` with each array replaced by the next of ``tensors`` (an iterator)."""
    if isinstance(value, np.ndarray):
        return next(tensors)
    if isinstance(value, Dtype):
        return getattr(module, value.name)
    if isinstance(value, list):
        return [_rebuild(module, item, tensors) for item in value]
    if isinstance(value, tuple):
        return tuple(_rebuild(module, item, tensors) for item in value)
    if isinstance(value, dict):
        return {key: _rebuild(module, item, tensors) for key, item in value.items()}
    return value


def _call(module, case: Case, tensors: list):
    it = iter(tensors)
    args = _rebuild(module, case.args, it)
    kwargs = _rebuild(module, case.kwargs, it)
    result = resolve(module, case.op)(*args, **kwargs)
    if case.outputs is None:
        return result
    flat = _flatten(result)
    return [flat[i] for i in case.outputs]


# --- running a case -------------------------------------------------------------------------


@dataclass
class Leaf:
    dtype: str
    shape: tuple
    value: np.ndarray


@dataclass
class Outcome:
    error: BaseException | None = None
    leaves: list[Leaf] = field(default_factory=list)
    grads: list | None = None  # per float input: an array, None, or the error raised
    warnings: list[str] = field(default_factory=list)


def _to_leaf(module, value) -> Leaf:
    if hasattr(value, "numpy") and hasattr(value, "dtype"):
        array = np.asarray(value.numpy())
        return Leaf(value.dtype.name, tuple(array.shape), array)
    if type(value).__name__ == "IndexedSlices":
        return _to_leaf(module, module.convert_to_tensor(value))
    array = np.asarray(value)
    return Leaf(f"python {type(value).__name__}", tuple(array.shape), array)


def _flatten(value) -> list:
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _weights(shape: tuple, dtype) -> np.ndarray:
    """Fixed, varied weights: a plain sum would hide gradients that sum to zero (softmax)."""
    size = int(np.prod(shape, dtype=np.int64))
    return np.cos(np.arange(size) * 1.3 + 0.5).reshape(shape).astype(dtype)


def _is_float(dtype_name: str) -> bool:
    return dtype_name in ("float16", "float32", "float64", "bfloat16")


def run_case(module, case: Case, *, gradients: bool = True) -> Outcome:
    arrays = _array_leaves((case.args, case.kwargs))
    outcome = Outcome()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tensors = [module.constant(a) for a in arrays]
            result = _call(module, case, tensors)
            outcome.leaves = [_to_leaf(module, r) for r in _flatten(result)]
        except Exception as error:  # the error itself is what gets compared
            outcome.error = error
        if gradients and case.grad and outcome.error is None:
            outcome.grads = _gradients(module, case, arrays)
    outcome.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return outcome


class _NoGradient(Exception):
    """The case has no gradient to compare (no float output, or sizes not known)."""


def _watched(arrays: list[np.ndarray]) -> list[int]:
    return [i for i, a in enumerate(arrays) if a.dtype in (np.float32, np.float64)]


def _gradient_fn(module, case: Case, watched: list[int]) -> Callable:
    """A function of the case's tensors giving the gradients of a weighted sum of the float
    outputs with respect to the watched float inputs (eager, or traced by tf.function)."""

    def gradients(*tensors):
        with module.GradientTape() as tape:
            for i in watched:
                tape.watch(tensors[i])
            outputs = [r for r in _flatten(_call(module, case, list(tensors)))
                       if hasattr(r, "dtype") and _is_float(r.dtype.name)]
            shapes = [tuple(out.shape) for out in outputs]
            if not outputs or not all(isinstance(d, int) for s in shapes for d in s):
                raise _NoGradient
            target = sum(module.reduce_sum(out * module.constant(_weights(shape, out.dtype.name)))
                         for out, shape in zip(outputs, shapes))
        return tape.gradient(target, [tensors[i] for i in watched])

    return gradients


def _gradients(module, case: Case, arrays: list[np.ndarray], compiled: bool = False
               ) -> list | None:
    watched = _watched(arrays)
    if not watched:
        return None
    gradients = _gradient_fn(module, case, watched)
    if compiled:
        gradients = neuroflow.function(gradients)
    try:
        grads = gradients(*[module.constant(a) for a in arrays])
    except _NoGradient:
        return None
    except Exception as error:  # a gradient that fails is compared as an error
        return [error]
    return [None if g is None else _to_leaf(module, g).value for g in grads]


def run_compiled(case: Case) -> Outcome:
    """The case under ``neuroflow.function``: tensors are arguments, the rest is bound.
    Its gradients too are computed in a compiled function (forward and backward traced)."""
    arrays = _array_leaves((case.args, case.kwargs))
    outcome = Outcome()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are checked on the eager run
        try:
            compiled = neuroflow.function(lambda *tensors: _call(neuroflow, case, list(tensors)))
            result = compiled(*[neuroflow.constant(a) for a in arrays])
            outcome.leaves = [_to_leaf(neuroflow, r) for r in _flatten(result)]
        except Exception as error:  # compared with the eager outcome
            outcome.error = error
        if case.grad and outcome.error is None:
            outcome.grads = _gradients(neuroflow, case, arrays, compiled=True)
    return outcome


# --- comparing ------------------------------------------------------------------------------

# (relative, absolute) by dtype: a few units in the last place, since both sides compute
# the same formulas; the absolute part only for results that cancel to near zero.
# Gradients chain more rounding, so they get more room.
TOLERANCE = {"float16": (1e-3, 1e-5), "bfloat16": (1e-2, 1e-4),
             "float32": (4e-6, 1e-8), "float64": (1e-12, 1e-15)}
GRAD_TOLERANCE = {"float32": (1e-4, 1e-6), "float64": (1e-10, 1e-13)}


@dataclass
class Difference:
    case: str
    op: str
    # outcome, error-class, missing-kernel, dtype, shape, value, gradient, warning,
    # compiled, trace-time
    category: str
    tensorflow: str
    neuroflow: str

    def __str__(self) -> str:
        if self.category in ("compiled", "trace-time"):  # neuroflow against itself
            return (f"{self.case} [{self.category}]\n    neuroflow {self.tensorflow}\n"
                    f"    neuroflow {self.neuroflow}")
        return (f"{self.case} [{self.category}]\n    TensorFlow: {self.tensorflow}\n"
                f"    neuroflow:  {self.neuroflow}")


def describe_error(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:160]}"


def expected_error_class(tf_error: BaseException) -> type | None:
    """The class neuroflow's error must be an instance of, for TensorFlow's ``tf_error``."""
    cls = type(tf_error)
    if cls.__module__.startswith("tensorflow"):
        return getattr(neuroflow.errors, cls.__name__, None)
    return cls


def _is_missing_kernel(error: BaseException) -> bool:
    """TensorFlow's NotFoundError for a dtype its CPU has no kernel of (no such class in
    neuroflow.errors: neuroflow refuses the dtype with its own dtype error)."""
    return (type(error).__name__ == "NotFoundError"
            and "Could not find device for node" in str(error))


def _short(array: np.ndarray, limit: int = 8) -> str:
    flat = array.reshape(-1)
    text = np.array2string(flat[:limit], precision=7, separator=", ")
    return text[:-1] + ", ...]" if flat.size > limit else text


def values_differ(want: np.ndarray, got: np.ndarray, dtype: str, *,
                  exact_subnormals: bool = False, tolerance=TOLERANCE) -> str | None:
    """Why ``got`` differs from ``want`` (None when they agree)."""
    if want.shape != got.shape:
        return "shape"
    if not (_is_float(dtype) or dtype.startswith("complex")):
        if want.dtype.kind in "fc" or got.dtype.kind in "fc":
            same = np.array_equal(want, got, equal_nan=True)
        else:
            same = np.array_equal(want, got)
        return None if same else "values"
    want = want.astype(np.complex128 if dtype.startswith("complex") else np.float64)
    got = got.astype(want.dtype)
    nan_w, nan_g = np.isnan(want), np.isnan(got)
    if not np.array_equal(nan_w, nan_g):
        return "NaN positions"
    inf_w, inf_g = np.isinf(want), np.isinf(got)
    if not np.array_equal(inf_w, inf_g) or not np.array_equal(want[inf_w], got[inf_g]):
        return "infinities"
    finite = ~(nan_w | inf_w)
    rtol, atol = tolerance.get(dtype, (1e-6, 1e-7))
    if exact_subnormals:
        atol = 0.0
    with np.errstate(all="ignore"):
        close = np.isclose(got[finite], want[finite], rtol=rtol, atol=atol)
    return None if close.all() else "values"


def compare(case: Case, tf_out: Outcome, nf_out: Outcome, nf_compiled: Outcome | None
            ) -> list[Difference]:
    found: list[Difference] = []

    def differ(category: str, tensorflow: str, neuroflow_: str) -> None:
        found.append(Difference(case.id, case.op, category, tensorflow, neuroflow_))

    if tf_out.error is not None or nf_out.error is not None:
        if tf_out.error is None:
            differ("outcome", _describe_leaves(tf_out), describe_error(nf_out.error))
        elif nf_out.error is None:
            differ("outcome", describe_error(tf_out.error), _describe_leaves(nf_out))
        else:
            wanted = expected_error_class(tf_out.error)
            if wanted is None or not isinstance(nf_out.error, wanted):
                category = ("missing-kernel" if _is_missing_kernel(tf_out.error) and isinstance(
                    nf_out.error, (neuroflow.errors.InvalidArgumentError, TypeError))
                    else "error-class")
                differ(category, describe_error(tf_out.error), describe_error(nf_out.error))
    else:
        _compare_values(case, tf_out, nf_out, differ)
        if nf_out.warnings:
            differ("warning", "no warning", "; ".join(nf_out.warnings))
        _compare_gradients(tf_out, nf_out, differ)
    if nf_compiled is not None:
        _compare_compiled(nf_out, nf_compiled, differ)
    return found


def _describe_leaves(out: Outcome) -> str:
    return "; ".join(f"{leaf.dtype}{list(leaf.shape)} {_short(leaf.value)}"
                     for leaf in out.leaves) or "no outputs"


def _compare_values(case: Case, tf_out: Outcome, nf_out: Outcome, differ) -> None:
    if len(tf_out.leaves) != len(nf_out.leaves):
        differ("shape", f"{len(tf_out.leaves)} outputs", f"{len(nf_out.leaves)} outputs")
        return
    for index, (want, got) in enumerate(zip(tf_out.leaves, nf_out.leaves)):
        where = f"output {index}: " if len(tf_out.leaves) > 1 else ""
        if want.dtype != got.dtype:
            differ("dtype", where + want.dtype, where + got.dtype)
        elif want.shape != got.shape:
            differ("shape", f"{where}{list(want.shape)}", f"{where}{list(got.shape)}")
        elif values_differ(want.value, got.value, want.dtype,
                           exact_subnormals=case.exact_subnormals):
            differ("value", where + _short(want.value), where + _short(got.value)
                   + _first_mismatch(want.value, got.value,
                                     exact_subnormals=case.exact_subnormals))


def _first_mismatch(want: np.ndarray, got: np.ndarray, tolerance=TOLERANCE,
                    exact_subnormals: bool = False) -> str:
    """Where two arrays first differ beyond the tolerance, with every digit."""
    flat_w, flat_g = want.reshape(-1), got.reshape(-1)
    dtype = want.dtype.name
    for i, (w, g) in enumerate(zip(flat_w, flat_g)):
        if values_differ(np.array([w]), np.array([g]), dtype, tolerance=tolerance,
                         exact_subnormals=exact_subnormals):
            return f" (first difference at flat index {i}: TensorFlow {w!r}, neuroflow {g!r})"
    return ""


def _compare_gradients(tf_out: Outcome, nf_out: Outcome, differ) -> None:
    if tf_out.grads is None and nf_out.grads is None:
        return
    tf_grads, nf_grads = tf_out.grads or [], nf_out.grads or []
    if len(tf_grads) != len(nf_grads):
        differ("gradient", _describe_grads(tf_grads), _describe_grads(nf_grads))
        return
    for index, (want, got) in enumerate(zip(tf_grads, nf_grads)):
        where = f"input {index}: "
        if isinstance(want, BaseException) or isinstance(got, BaseException):
            if type(want) is not type(got) and not (isinstance(want, BaseException)
                                                   and isinstance(got, BaseException)):
                show = [describe_error(g) if isinstance(g, BaseException) else
                        ("None" if g is None else _short(g)) for g in (want, got)]
                differ("gradient", where + show[0], where + show[1])
        elif (want is None) != (got is None):
            differ("gradient", where + ("None" if want is None else _short(want)),
                   where + ("None" if got is None else _short(got)))
        elif want is not None:
            dtype = want.dtype.name
            if values_differ(want, got, dtype, tolerance=GRAD_TOLERANCE):
                differ("gradient", where + _short(want),
                       where + _short(got) + _first_mismatch(want, got, GRAD_TOLERANCE))


def _describe_grads(grads: list) -> str:
    return "; ".join(describe_error(g) if isinstance(g, BaseException) else
                     ("None" if g is None else _short(g)) for g in grads) or "no gradients"


def _needs_value_at_trace(error: BaseException) -> bool:
    """neuroflow's refusal of a tensor whose value a trace needs (an axis, a count)."""
    from neuroflow.abstract import SymbolicValueError

    text = str(error)
    return (isinstance(error, SymbolicValueError) or "only known when" in text
            or "must be known when the function is traced" in text)


def _compare_compiled(eager: Outcome, compiled: Outcome, differ) -> None:
    if eager.error is not None or compiled.error is not None:
        if (eager.error is None) != (compiled.error is None):
            show = [describe_error(o.error) if o.error is not None else _describe_leaves(o)
                    for o in (eager, compiled)]
            refused = compiled.error is not None and _needs_value_at_trace(compiled.error)
            differ("trace-time" if refused else "compiled", "eager " + show[0],
                   "compiled " + show[1])
        return
    if len(eager.leaves) != len(compiled.leaves):
        differ("compiled", f"eager {len(eager.leaves)} outputs",
               f"compiled {len(compiled.leaves)} outputs")
        return
    for want, got in zip(eager.leaves, compiled.leaves):
        if (want.dtype != got.dtype or want.shape != got.shape
                or values_differ(want.value, got.value, want.dtype)):
            differ("compiled", f"eager {want.dtype}{list(want.shape)} {_short(want.value)}",
                   f"compiled {got.dtype}{list(got.shape)} {_short(got.value)}")
    if compiled.grads is not None:  # None: sizes only known at run time, no weights
        _compare_gradients(eager, compiled, lambda _, eager_, compiled_: differ(
            "compiled", "eager gradient " + eager_, "compiled gradient " + compiled_))


# --- known differences ----------------------------------------------------------------------


def pattern_regex(pattern: str) -> re.Pattern:
    """A case-id glob: ``*`` matches anything, every other character itself."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def documented_by(difference: Difference, known: list) -> object | None:
    for entry in known:
        if (entry.category in ("*", difference.category)
                and pattern_regex(entry.pattern).match(difference.case)):
            return entry
    return None


# --- the public surface ---------------------------------------------------------------------

PUBLIC_MODULES = ("tf", "tf.math", "tf.nn", "tf.random", "tf.linalg")


def public_surface() -> dict[str, object]:
    """Every public function or primitive of neuroflow's op namespaces, by qualified name."""
    import inspect

    from neuroflow.ops.registry import Primitive

    surface = {}
    for name in neuroflow._LAZY_NAMES:  # names that load on first use: load them now
        getattr(neuroflow, name)
    for prefix in PUBLIC_MODULES:
        for name, obj in sorted(vars(resolve(neuroflow, prefix)).items()):
            if name.startswith("_"):
                continue
            if isinstance(obj, Primitive) or (inspect.isfunction(obj)
                                              and obj.__module__.startswith("neuroflow")):
                surface[f"{prefix}.{name}"] = obj
    return surface


# --- the sweep ------------------------------------------------------------------------------


def import_tensorflow():
    import tensorflow

    tensorflow.get_logger().setLevel("ERROR")  # deprecation notices of swept ops
    return tensorflow


def sweep_case(tensorflow, case: Case) -> list[Difference]:
    tf_out = run_case(tensorflow, case)
    nf_out = run_case(neuroflow, case)
    return compare(case, tf_out, nf_out, run_compiled(case))


def select(cases: list[Case], op_pattern: str | None) -> list[Case]:
    if not op_pattern:
        return cases
    regex = pattern_regex(op_pattern)
    return [case for case in cases if regex.match(case.op)]


def summarize(cases: list[Case], differences: list[Difference], known: list,
              find_stale: bool = True) -> dict:
    by_case: dict[str, list[Difference]] = defaultdict(list)
    for d in differences:
        by_case[d.case].append(d)
    undocumented = [d for d in differences if documented_by(d, known) is None]
    undocumented_cases = {d.case for d in undocumented}
    used = {id(documented_by(d, known)) for d in differences} - {id(None)}
    # An entry is stale when it covers no difference (judged on the whole sweep only: a
    # sweep of some ops says nothing of entries about the others).
    stale = [entry for entry in known if id(entry) not in used] if find_stale else []
    return {
        "cases": len(cases),
        "matching": len(cases) - len(by_case),
        "documented": len(set(by_case) - undocumented_cases),
        "undocumented": len(undocumented_cases),
        "undocumented_differences": undocumented,
        "documented_differences": [d for d in differences if d not in undocumented],
        "stale": stale,
    }


def print_report(summary: dict, seconds: float, verbose: bool = True) -> None:
    print(f"cases: {summary['cases']}  matching: {summary['matching']}  "
          f"documented differences: {summary['documented']}  "
          f"undocumented differences: {summary['undocumented']}  ({seconds:.0f} s)")
    groups: dict[tuple, list[Difference]] = defaultdict(list)
    for d in summary["undocumented_differences"]:
        groups[(d.op, d.category)].append(d)
    if groups:
        print("\nUNDOCUMENTED, by op and category:")
    for (op, category), items in sorted(groups.items()):
        print(f"\n== {op} [{category}]: {len(items)} case(s)")
        for d in items[: (None if verbose else 3)]:
            print(f"  {d}")
    counts = Counter((d.op, d.category) for d in summary["documented_differences"])
    if counts:
        print("\ndocumented, by op and category:")
        for (op, category), n in sorted(counts.items()):
            print(f"  {op} [{category}]: {n}")
    for entry in summary["stale"]:
        print(f"STALE table entry (matches no difference): {entry.pattern} [{entry.category}]")


def draft_entries(differences: list[Difference]) -> str:
    """Source of ``Known`` entries covering ``differences``, one per op and category: the
    case id when one case differs, else every case of the op. The reasons are left to write."""
    groups: dict[tuple, list[Difference]] = defaultdict(list)
    for d in differences:
        groups[(d.op, d.category)].append(d)
    lines = []
    for (op, category), items in sorted(groups.items()):
        cases = sorted({d.case for d in items})
        pattern = cases[0] if len(cases) == 1 else f"{op}[*"
        first = items[0]
        what = f"{first.case}: TensorFlow {first.tensorflow[:60]}; neuroflow {first.neuroflow[:60]}"
        lines.append(f"    Known({pattern!r}, {category!r},\n          {what!r},\n"
                     f"          'WHY: open (to fix) or the reason it stays'),")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import known_differences
    import sweep_specs

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--op", help="glob on op names, e.g. 'tf.math.*'")
    parser.add_argument("--write-table", action="store_true",
                        help="drop stale entries and rewrite docs/tf-differences.md")
    parser.add_argument("--brief", action="store_true", help="at most 3 cases per group")
    parser.add_argument("--draft", action="store_true",
                        help="print table entries for the undocumented differences, to edit "
                             "(each needs its reason) and paste into known_differences.py")
    options = parser.parse_args(argv)
    tensorflow = import_tensorflow()
    cases = select(sweep_specs.all_cases(), options.op)
    start = time.perf_counter()
    differences = [d for case in cases for d in sweep_case(tensorflow, case)]
    summary = summarize(cases, differences, known_differences.KNOWN,
                        find_stale=not options.op)
    print_report(summary, time.perf_counter() - start, verbose=not options.brief)
    if options.draft:
        print("\n" + draft_entries(summary["undocumented_differences"]))
    if options.write_table:
        if options.op:
            print("--write-table needs the whole sweep (no --op): table left as it is")
            return 2
        known_differences.write(summary)
        print(f"wrote {known_differences.TABLE_DOC} and {known_differences.__file__}")
    return 1 if summary["undocumented"] else 0


if __name__ == "__main__":
    # Run the module as ``sweep``, the name the spec modules import, so their Case and
    # Dtype are this module's classes (not copies made under ``__main__``).
    import sweep

    sys.exit(sweep.main())
