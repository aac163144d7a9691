"""Checks: ops that raise when a tensor breaks a rule, and what their errors report.

* ``check_numerics`` returns its input, or raises ``InvalidArgumentError`` when it holds
  an infinity or a NaN (``tf.debugging.check_numerics``; also its gradient's).
* ``assert_compare`` checks ``x == y`` (``<``, ``<=``, ...) elementwise; ``assert_true``
  checks a scalar condition and shows data when it fails (``tf.debugging.Assert``).

They are stateful effects, as ``tf.print`` is: a compiled function runs them on every
call, in program order, and passes never fold, merge or drop them. Their result (an
empty array) only gives the node a value.

Numeric checking of every op (``tf.debugging.enable_check_numerics``) lives here too: a
watcher of eager ops (``registry.op_watchers``) and the error both it and compiled code
(``graph/codegen.py``) raise, naming the op, the Keras layer it ran in, the user's line
and, under ``fit``/``evaluate``, the epoch and batch. The layer comes from a scope that
``keras/layers/base.py`` enters around each layer call (:func:`enter_scope`), so no
lower layer imports Keras; traces record it on each node.
"""

from __future__ import annotations

import contextvars
import math
import os
import sys
import threading

import numpy as np

from neuroflow.abstract import AbstractArray, user_location
from neuroflow.errors import InvalidArgumentError
from neuroflow.ops import registry
from neuroflow.ops.printing import format_array
from neuroflow.ops.registry import Lowering, primitive
from neuroflow.ops.shape_rules import broadcast_shapes
from neuroflow.tensor import Tensor, host_array

# --- the layer an op runs in ------------------------------------------------------------------

_scope: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "neuroflow_layer_scope", default=())


def enter_scope(name: str) -> contextvars.Token:
    """Ops run until :func:`exit_scope` belong to ``name`` (nested in the current scope)."""
    return _scope.set((*_scope.get(), name))


def exit_scope(token: contextvars.Token) -> None:
    _scope.reset(token)


def current_scope() -> str:
    """``sequential/dense_1``: the layers whose calls are running, outermost first."""
    names = _scope.get()
    return "/".join(names) if names else ""


# --- numeric checking of every op -------------------------------------------------------------


class _NumericsState(threading.local):
    """Whether this thread checks every op's results (TensorFlow's setting is per thread)."""

    enabled = False
    stack_height_limit = 30
    path_length_limit = 50


_numerics = _NumericsState()
_checking_threads: set[int] = set()
_lock = threading.Lock()


def enable_numerics_checks(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Check the floating-point results of every op this thread runs, eager or compiled."""
    _numerics.enabled = True
    _numerics.stack_height_limit = stack_height_limit
    _numerics.path_length_limit = path_length_limit
    with _lock:
        _checking_threads.add(threading.get_ident())
        if _watch_numerics not in registry.op_watchers:
            registry.op_watchers.append(_watch_numerics)


def disable_numerics_checks() -> None:
    _numerics.enabled = False
    with _lock:
        _checking_threads.discard(threading.get_ident())
        if not _checking_threads and _watch_numerics in registry.op_watchers:
            registry.op_watchers.remove(_watch_numerics)


def numerics_checked() -> bool:
    """Whether this thread checks every op's results."""
    return _numerics.enabled


def all_finite(array) -> bool:
    """Whether ``array`` holds no infinity and no NaN.

    One sum decides most arrays without a temporary: a NaN or an infinity makes the sum
    non-finite, so a finite sum means finite elements. Only a non-finite sum (which a
    large finite float16 array can also give) looks element by element.
    """
    if array.size == 0:
        return True
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the question
        if math.isfinite(array.sum()):
            return True
    return bool(np.isfinite(array).all())


def _watch_numerics(prim, arrays, out, start, end) -> None:
    if not _numerics.enabled:
        return
    results = out if type(out) is tuple else (out,)
    for index, result in enumerate(results):
        if result.dtype.kind == "f" and not all_finite(result):
            raise numerics_error(prim.name, index, len(results), result,
                                 layer=current_scope(), location=user_location(),
                                 inputs=arrays)


def numerics_error(op: str, index: int, count: int, array, *, graph: str | None = None,
                   layer: str = "", location: str = "", inputs=None) -> InvalidArgumentError:
    """The error of a floating-point result holding an infinity or a NaN, in TensorFlow's
    words, with neuroflow's additions: the Keras layer, the user's line, the Keras step.

    ``graph`` names the compiled function the op ran in (None: it ran eagerly).
    """
    host = np.asarray(host_array(array))
    counts = {"-Inf": int(np.count_nonzero(np.isneginf(host))),
              "+Inf": int(np.count_nonzero(np.isposinf(host))),
              "NaN": int(np.count_nonzero(np.isnan(host)))}
    kind = "eagerly-executing" if graph is None else "graph"
    lines = [f'!!! Detected Infinity or NaN in output {index} of {kind} op "{op}" '
             f"(# of outputs: {count}) !!!",
             f"  dtype: <dtype: '{host.dtype.name}'>",
             f"  shape: {tuple(host.shape)}"]
    # TensorFlow's labels, its "+NaN" included.
    lines += [f"  # of {'+NaN' if what == 'NaN' else what} elements: {n}"
              for what, n in counts.items() if n]
    lines.append("")
    if graph is not None:
        lines.append(f'  Graph name: "{graph}"')
    if layer:
        inner = layer.rsplit("/", 1)[-1]
        lines.append(f'  Keras layer: "{inner}"' + (f" (in {layer})" if inner != layer else ""))
    position = training_position()
    if position:
        lines.append(f"  Keras {position}")
    if location and _numerics.stack_height_limit > 0:
        lines.append(f"  {'Created' if graph is not None else 'Called'} at: "
                     f"{_shorten(location, _numerics.path_length_limit)}")
    if inputs is not None:
        if lines[-1]:
            lines.append("")
        lines.append(f"  Input tensors ({len(inputs)}):")
        lines += [f"         {i}: {str(Tensor(np.asarray(host_array(a))))}"
                  for i, a in enumerate(inputs)]
    found = [what for what, n in counts.items() if n]
    lines += ["", f" : Tensor had {_join(found)} values"]
    return InvalidArgumentError("\n".join(lines), "CheckNumericsV2")


def _join(words: list[str]) -> str:
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + ", and " + words[-1]


def _shorten(path: str, limit: int) -> str:
    return path if len(path) <= limit else "..." + path[len(path) - limit + 3:]


# The Keras loops that run batches, and the local variables holding the batch and epoch.
_KERAS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras")
_BATCH_LOOPS = {"_run_epoch": "fit", "_evaluate_batches": "evaluate",
                "_predict_batches": "predict"}


def training_position() -> str:
    """``fit: epoch 1, batch 17`` when a Keras loop is running this op, else ``""``.

    It is read off the stack (the loop's own ``epoch`` and ``step``) only when an error
    is raised, so that batches pay nothing to keep it.
    """
    frame = sys._getframe(1)
    loop = epoch = step = None
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_KERAS_DIR):
            names = frame.f_locals
            if loop is None and code.co_name in _BATCH_LOOPS and "step" in names:
                loop, step = _BATCH_LOOPS[code.co_name], names["step"]
            if epoch is None and isinstance(names.get("epoch"), int):
                epoch = names["epoch"]
        frame = frame.f_back
    if loop is None or not isinstance(step, int):
        return ""
    where = f"batch {step}" if epoch is None else f"epoch {epoch + 1}, batch {step}"
    return f"{'fit' if epoch is not None else loop}: {where}"


# --- check_numerics ---------------------------------------------------------------------------


def _check_numerics_shape(x, *, message):
    if x.dtype.kind != "f":
        raise ValueError(f"Value for attr 'T' of {x.dtype.name} is not in the list of allowed "
                         f"values: bfloat16, half, float, double")
    return AbstractArray(x.shape, x.dtype)


@primitive("check_numerics", shape=_check_numerics_shape, stateful=True, effect=True,
           lowering=Lowering(result="any"))
def _check_numerics(xp, x, *, message):
    if not all_finite(x):
        host = np.asarray(host_array(x))
        found = [what for what, present in (("Inf", np.isinf(host).any()),
                                            ("NaN", np.isnan(host).any())) if present]
        raise InvalidArgumentError(f"{message} : Tensor had {' and '.join(found)} values",
                                   "CheckNumerics")
    return x


@_check_numerics.defvjp
def _check_numerics_vjp(ctx, g):
    # TensorFlow's words, the message shown as Python bytes included.
    message = ("Not a number (NaN) or infinity (Inf) values detected in gradient. "
               f"{ctx.attrs['message'].encode()!r}")
    return (_check_numerics(g, message=message),)


def check_numerics(tensor: Tensor, message: str) -> Tensor:
    """``tensor``, checked: an infinity or a NaN raises InvalidArgumentError."""
    if tensor._value.dtype.kind != "f":
        raise InvalidArgumentError(
            f"Value for attr 'T' of {tensor.dtype.name} is not in the list of allowed values: "
            f"bfloat16, half, float, double", "CheckNumerics")
    return _check_numerics(tensor, message=str(message))


# --- assertions -------------------------------------------------------------------------------

_RELATIONS = {"equal": ("==", np.equal), "not_equal": ("!=", np.not_equal),
              "less": ("<", np.less), "less_equal": ("<=", np.less_equal),
              "greater": (">", np.greater), "greater_equal": (">=", np.greater_equal)}


def _empty(*avals, **attrs) -> AbstractArray:
    return AbstractArray((0,), np.int32)


def _compare_shape(x, y, *, relation, message, summarize, style):
    broadcast_shapes(x.shape, y.shape)  # raises for shapes that do not broadcast
    return _empty()


@primitive("assert_compare", shape=_compare_shape, stateful=True, effect=True,
           differentiable=False, lowering=Lowering(result="fresh"))
def _assert_compare(xp, x, y, *, relation, message, summarize, style):
    symbol, compare = _RELATIONS[relation]
    x, y = np.asarray(host_array(x)), np.asarray(host_array(y))
    holds = compare(x, y)
    if not holds.all():
        text = {"eager": _eager_comparison_text, "static": _static_comparison_text,
                "graph": _graph_comparison_text}[style](symbol, x, y, holds, message, summarize)
        raise InvalidArgumentError(text)
    return np.zeros((0,), np.int32)


def _eager_comparison_text(symbol, x, y, holds, message, summarize) -> str:
    """TensorFlow's eager text: the first differing indices and values, then the first
    elements of each side."""
    lines = [message] if message else []
    lines.append(f"Condition x {symbol} y did not hold.")
    if x.shape == y.shape and x.ndim:
        where = np.argwhere(~holds)[:summarize]
        lines += [f"Indices of first {len(where)} different values:", str(where),
                  "Corresponding x values:", str(x[tuple(where.T)]),
                  "Corresponding y values:", str(y[tuple(where.T)])]
    for name, side in (("x", x), ("y", y)):
        first = side.ravel()[:summarize]
        lines += [f"First {first.size} elements of {name}:", str(first)]
    return "\n".join(lines)


def _static_comparison_text(symbol, x, y, holds, message, summarize) -> str:
    """TensorFlow's text when values known while tracing break the condition."""
    prefix = f"{message}\n" if message else ""
    return (f"{prefix}Condition x {symbol} y did not hold element-wise:\n"
            f"x = \n{format_array(x, summarize)}\ny = \n{format_array(y, summarize)}")


def _graph_comparison_text(symbol, x, y, holds, message, summarize) -> str:
    """TensorFlow's text for a failed assertion in a compiled function: each datum in
    brackets."""
    data = [message] if message else []
    data += [f"Condition x {symbol} y did not hold element-wise:", "x = ",
             format_array(x, summarize), "y = ", format_array(y, summarize)]
    return "assertion failed: " + " ".join(f"[{d}]" for d in data)


def assert_compare(relation: str, x: Tensor, y: Tensor, message: str | None,
                   summarize: int | None) -> None:
    """Raise InvalidArgumentError unless ``x <relation> y`` holds for every element.

    Concrete values are checked at once (as TensorFlow checks eagerly, or while tracing
    when the values are known); symbolic ones when the compiled function runs.
    """
    if x._value.dtype != y._value.dtype:
        raise InvalidArgumentError(
            f"cannot compute {relation} as input #1(zero-based) was expected to be a "
            f"{x.dtype.name} tensor but is a {y.dtype.name} tensor", relation)
    if relation not in ("equal", "not_equal") and x._value.dtype.kind not in "fiu":
        raise InvalidArgumentError(
            f"Value for attr 'T' of {x.dtype.name} is not in the list of allowed values: "
            f"float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, "
            f"uint64", relation)
    summarize = 3 if summarize is None else int(summarize)
    attrs = dict(relation=relation, message="" if message is None else str(message),
                 summarize=summarize)
    if _symbolic(x) or _symbolic(y):
        _assert_compare(x, y, style="graph", **attrs)
        return
    style = "eager" if registry.executing_eagerly() else "static"
    with registry.init_scope():
        _assert_compare(x, y, style=style, **attrs)


def _true_shape(condition, *data, pieces, summarize, style, condition_is_tensor):
    if condition.shape != ():
        raise ValueError("The truth value of an array with more than one element is "
                         "ambiguous. Use a.any() or a.all()")
    return _empty()


@primitive("assert_true", shape=_true_shape, stateful=True, effect=True, differentiable=False,
           lowering=Lowering(result="fresh"))
def _assert_true(xp, condition, *data, pieces, summarize, style, condition_is_tensor):
    holds = np.asarray(host_array(condition))
    if not bool(holds):
        arrays = iter(np.asarray(host_array(a)) for a in data)
        values = [next(arrays) if kind == "tensor" else piece for kind, piece in pieces]
        if style == "graph":
            texts = [format_array(v, summarize) if isinstance(v, np.ndarray) else str(v)
                     for v in values]
            text = "assertion failed: " + " ".join(f"[{t}]" for t in texts)
        else:
            # TensorFlow shows the condition as str() shows what was passed.
            shown = str(Tensor(holds)) if condition_is_tensor else str(holds)
            summary = "\n".join(_summarized(v, summarize) for v in values)
            text = f"Expected '{shown}' to be true. Summarized data: {summary}"
        raise InvalidArgumentError(text)
    return np.zeros((0,), np.int32)


def _summarized(value, summarize: int) -> str:
    """A datum as TensorFlow's eager Assert lists it: its first elements, comma-separated."""
    array = np.asarray(value)
    if array.dtype.kind == "U":
        array = np.char.encode(array)  # text is shown as the bytes TensorFlow holds
    flat = array.ravel()
    shown = flat if summarize < 0 else flat[:summarize]
    text = ", ".join(str(v) for v in shown)
    return text + (", ..." if shown.size < flat.size else "")


def assert_true(condition, data: list, summarize: int | None) -> None:
    """``tf.debugging.Assert``: raise InvalidArgumentError showing ``data`` unless the
    scalar ``condition`` holds. ``data`` holds tensors and Python values."""
    from neuroflow.ops.convert import as_tensor

    tensors, pieces = [], []
    for value in data:
        if isinstance(value, Tensor):
            tensors.append(value)
            pieces.append(("tensor", None))
        elif isinstance(value, np.ndarray):
            tensors.append(as_tensor(value))
            pieces.append(("tensor", None))
        else:
            pieces.append(("value", value))
    attrs = dict(pieces=tuple(pieces), summarize=3 if summarize is None else int(summarize),
                 condition_is_tensor=isinstance(condition, Tensor))
    condition = as_tensor(condition)
    if _symbolic(condition) or any(_symbolic(t) for t in tensors):
        _assert_true(condition, *tensors, style="graph", **attrs)
        return
    with registry.init_scope():
        _assert_true(condition, *tensors, style="eager", **attrs)


def _symbolic(tensor: Tensor) -> bool:
    return type(tensor._value) is AbstractArray


__all__ = ["all_finite", "assert_compare", "assert_true", "check_numerics", "current_scope",
           "disable_numerics_checks", "enable_numerics_checks", "enter_scope", "exit_scope",
           "numerics_checked", "numerics_error", "training_position"]
