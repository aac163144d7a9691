"""Lower a graph to plain Python source, one line per node, and compile it.

Each line calls NumPy directly (``v7 = np.matmul(v5, v3, out=B2)``) and ends
with a comment naming the op and the user's line that created it. What a line
says comes from the op's declared lowering (``ops/registry.Lowering``): a
template, an emit function, or, by default, a call of the op's forward. The
source is registered with ``linecache`` under a unique file name, so tracebacks
and debuggers show the generated line (:func:`failing_node` maps it back to the
node). ``emit_source`` is pure: the same graph and plan give the same text
(checked in as golden files).

Nothing from outside the project enters the source as code: graph and op
names become identifiers only after ``str.isidentifier()``; attribute values
become literals only when they are numbers, strings, booleans or tuples of
them (written with ``repr``), and otherwise names bound in the module's
namespace; file names and other text appear only inside comments, escaped.

The compiled function takes its memory plan's buffers as its first argument,
so concurrent calls each use their own (see ``function.py``).

:class:`Instruments` add code to each node's line, on the same line so that
tracebacks still map lines to nodes: a check of each floating-point result
(``tf.debugging.enable_check_numerics``) and a timer (the profiler). Only the
variants ``function.py`` compiles while one of them is on have it; plain plans
are emitted exactly as without it.

A ``jit`` lowering (``graph/jit``, when Numba is installed) is asked first for
each node's statement; the kernels it calls are listed after the function.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neuroflow.abstract import Dim, contains_dim
from neuroflow.backend.blas import GemmUpdate
from neuroflow.graph.fused_ops import ASSIGN_SUB_MATMUL
from neuroflow.graph.ir import ASSIGN, ASSIGN_ADD, Graph, Node
from neuroflow.graph.passes.memory import escaping_reads

_file_ids = itertools.count()
# Names the generated module defines itself (np, values v3 and c1, variables V0, buffers
# B2, attributes A1, forwards P_op_0, ...): the function's own name must not shadow them.
_RESERVED = re.compile(r"np|_buffers|[A-Za-z]\d+|P_\w*")


@dataclass(frozen=True)
class Instruments:
    """Code added to each node's line (see the module's docstring).

    ``check(node_index, result_index, array)`` is called for a floating-point result whose
    sum is not finite, and raises if an element is an infinity or a NaN (a sum of finite
    float16 values may overflow); ``timer(node_index, start)`` is called after each node
    with the ``time.perf_counter()`` it started at.
    """

    check: Callable | None = None
    timer: Callable | None = None

    def wrap(self, em: Emitter, node: Node, index: int, code: str) -> str:
        if self.timer is not None:
            clock, timer = em.bind("T", time.perf_counter), em.bind("T", self.timer)
            code = f"_t = {clock}(); {code}; {timer}({index}, _t)"
        # A view (reshape, transpose, a slice) shows values a check already saw.
        if self.check is not None and node.lowering.result != "view":
            finite, check = em.bind("I", math.isfinite), em.bind("K", self.check)
            # One sum per result decides almost every check without a temporary array.
            code += "".join(f"; {finite}({v.name}.sum()) or {check}({index}, {k}, {v.name})"
                            for k, v in enumerate(node.results) if v.dtype.kind == "f")
        return code


class Emitter:
    """Collects the namespace (constants, attributes, forwards) the generated code uses."""

    def __init__(self, graph: Graph, buffers: dict[str, str], inplace_assigns=frozenset(),
                 escaping_reads=frozenset(), instruments: Instruments | None = None,
                 jit=None):
        self.graph = graph
        self.buffers = buffers  # value name -> buffer name
        self.inplace_assigns = inplace_assigns  # ids of assignment nodes done in place
        self.escaping_reads = escaping_reads  # ids of reads whose value is returned
        self.instruments = instruments
        self.jit = jit  # graph/jit's lowering: kernel calls for the nodes it covers
        self.namespace: dict[str, object] = {"np": np}

    def bind(self, prefix: str, obj) -> str:
        """A name for ``obj`` in the generated module (the same name for the same object)."""
        for name, existing in self.namespace.items():
            if existing is obj and name.startswith(prefix):
                return name
        name = f"{prefix}{sum(1 for n in self.namespace if n.startswith(prefix))}"
        if not name.isidentifier():
            raise ValueError(f"codegen: {name!r} is not an identifier")
        self.namespace[name] = obj
        return name

    def literal(self, value) -> str:
        """Source text for an attribute value: a literal if it is plain data, else a name.

        Sizes only known when the graph runs become expressions reading array shapes
        (``v7.shape[0]``), from where specialisation found them.
        """
        if isinstance(value, np.dtype):
            return _dtype_text(value)
        if _is_plain(value):
            return repr(value)
        if contains_dim(value):
            return self._runtime_sizes(value)
        return self.bind("A", value)

    def _runtime_sizes(self, value) -> str:
        if isinstance(value, Dim):
            names = {symbol: f"{_checked_identifier(name)}.shape[{int(axis)}]"
                     for symbol, (name, axis) in self.graph.size_sources.items()}
            return value.expression(names)
        if isinstance(value, (tuple, list)):
            items = ", ".join(self.literal(v) for v in value)
            return f"({items},)" if isinstance(value, tuple) else f"[{items}]"
        if isinstance(value, slice):
            parts = (value.start, value.stop, value.step)
            return f"slice({', '.join(self.literal(v) for v in parts)})"
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return "{" + ", ".join(f"{k!r}: {self.literal(v)}" for k, v in value.items()) + "}"
        raise ValueError(f"codegen: cannot compute {value!r} when the graph runs")

    def line(self, node: Node, index: int = -1) -> str:
        args = [v.name for v in node.inputs]
        code = _statement(self, node, args)
        if self.instruments is not None:
            code = self.instruments.wrap(self, node, index, code)
        where = f" @ {node.location}" if node.location else ""
        return f"    {code}  # {_comment(node.op + where)}"


def _is_plain(value) -> bool:
    """Whether ``repr(value)`` is a Python literal that evaluates back to ``value``."""
    if value is None or isinstance(value, (bool, int, str)):
        return type(value) in (bool, int, str, type(None))
    if type(value) is float:
        return math.isfinite(value)
    if type(value) in (tuple, list):
        return all(_is_plain(v) for v in value)
    return False


def _comment(text: str) -> str:
    """Text safe inside a ``#`` comment: one line, escaped like a string's repr."""
    return ascii(text)[1:-1]


def _dtype_text(dtype) -> str:
    name = np.dtype(dtype).name
    if name == "bool":
        return "np.bool_"
    if not name.isidentifier() or not hasattr(np, name):
        raise ValueError(f"codegen: unexpected dtype {name!r}")
    return f"np.{name}"


def _statement(em: Emitter, node: Node, args: list[str]) -> str:
    if em.jit is not None:  # a node whose work another line's kernel does
        code = em.jit.planned_statement(node, em)
        if code is not None:
            return code
    if node.assigns:
        return _assignment(em, node, args)
    results = ", ".join(v.name for v in node.results)
    if node.op == "read_variable":
        read = "shared_array" if id(node) in em.escaping_reads else "current_array"
        return f"{results} = V{node.variable}.{read}()"
    lowering = node.lowering
    buffer = em.buffers.get(node.output.name) if node.output is not None else None
    if em.jit is not None:
        code = em.jit.statement(node, args, buffer, em)
        if code is not None:
            return code
    if lowering.emit is not None:
        return lowering.emit(node, args, buffer, em.bind)
    template = lowering.template
    if callable(template):
        template = template(node)
    if template is not None:
        attrs = {key: em.literal(value) for key, value in node.attrs.items()}
        out = f", out={buffer}" if buffer else ""
        return f"{results} = {template.format(*args, out=out, **attrs)}"
    forward = em.bind(f"P_{node.op}_", node.primitive.forward)
    call_args = ", ".join(["np", *args])
    if contains_dim(node.attrs):  # sizes known only when the graph runs: a dict per call
        return f"{results} = {forward}({call_args}, **{em.literal(node.attrs)})"
    if node.attrs:
        return f"{results} = {forward}({call_args}, **{em.bind('A', node.attrs)})"
    return f"{results} = {forward}({call_args})"


def _assignment(em: Emitter, node: Node, args: list[str]) -> str:
    """Variable updates, through the Variable's graph API (``variables.py``)."""
    var = f"V{node.variable}"
    in_place = id(node) in em.inplace_assigns
    if node.primitive is ASSIGN:
        return f"{var}.replace_array(np.array({args[0]}))"
    if node.primitive is ASSIGN_SUB_MATMUL:
        if in_place:
            update = em.bind("G", GemmUpdate())  # one per node: it caches data pointers
            return f"{update}({var}.writable_array(), {', '.join(args)})"
        delta = f"np.multiply(np.matmul({args[0]}, {args[1]}), {args[2]})"
        return f"{var}.replace_array(np.asarray({var}.current_array() - {delta}))"
    ufunc = "np.add" if node.primitive is ASSIGN_ADD else "np.subtract"
    if in_place:
        # writable_array() copies first if a tensor may hold the array (copy on write).
        return f"{ufunc}({var}.writable_array(), {args[0]}, out={var}.current_array())"
    return f"{var}.replace_array(np.asarray({ufunc}({var}.current_array(), {args[0]})))"


def emit_source(graph: Graph, plan=None, instruments: Instruments | None = None,
                jit=None) -> tuple[str, dict]:
    """The Python source of ``graph`` (with a memory plan, if given) and its namespace.

    The function's first parameter is the tuple of buffers the plan asks for.
    """
    buffers = plan.buffers if plan is not None else {}
    buffer_names = list(plan.specs) if plan is not None else []
    inplace = {id(graph.nodes[i]) for i in plan.inplace_assigns} if plan is not None else set()
    escaping = {id(graph.nodes[i]) for i in escaping_reads(graph)}
    em = Emitter(graph, buffers, inplace, escaping, instruments, jit)
    for name, array in graph.constants.items():
        em.namespace[_checked_identifier(name)] = array
    for index, variable in enumerate(graph.variables):
        em.namespace[f"V{index}"] = variable
    params = ", ".join(["_buffers", *(_checked_identifier(v.name) for v in graph.inputs)])
    lines = [f"def {function_name(graph.name)}({params}):"]
    if buffer_names:
        names = ", ".join(buffer_names) + ("," if len(buffer_names) == 1 else "")
        lines.append(f"    {names} = _buffers")
    lines += [em.line(node, index) for index, node in enumerate(graph.nodes)]
    results = ", ".join(f"np.asarray({v.name})" for v in graph.outputs)
    lines.append(f"    return [{results}]")
    if jit is not None and jit.used:
        lines.append(jit.listing())
    return "\n".join(lines) + "\n", em.namespace


def first_node_line(source: str) -> int:
    """The line number (1-based) of the first node's line in generated source."""
    second = source.split("\n", 2)[1] if "\n" in source else ""
    return 3 if second.strip().endswith("= _buffers") else 2


def function_name(name: str) -> str:
    """An identifier for the generated function, derived from a user's function name."""
    cleaned = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in name)
    if not cleaned or cleaned[0].isdigit() or keyword.iskeyword(cleaned) or \
            _RESERVED.fullmatch(cleaned):
        cleaned = f"fn_{cleaned}"
    return cleaned  # ASCII letters, digits and _, not starting with a digit: an identifier


def _checked_identifier(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"codegen: {name!r} is not an identifier")
    return name


def compile_source(source: str, namespace: dict, name: str) -> Callable:
    """Compile generated source under a linecache-registered file name."""
    filename = f"<neuroflow-generated {_comment(name)} #{next(_file_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - the source is generated by neuroflow from a graph
    function = namespace[function_name(name)]
    function.__neuroflow_filename__ = filename
    return function


def release_source(function: Callable) -> None:
    """Forget the linecache entry of a compiled function (when its trace is dropped)."""
    linecache.cache.pop(getattr(function, "__neuroflow_filename__", None), None)


def failing_node(graph: Graph, compiled: Callable, source: str, traceback) -> Node | None:
    """The node whose generated line raised, from the traceback of an error."""
    filename = getattr(compiled, "__neuroflow_filename__", None)
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    index = None if line is None else line - first_node_line(source)
    return graph.nodes[index] if index is not None and 0 <= index < len(graph.nodes) else None
