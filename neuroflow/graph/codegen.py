"""Lower a graph to plain Python source, one line per node, and compile it.

Each line calls NumPy directly (``v7 = np.matmul(v5, v3, out=B2)``) and ends
with a comment naming the op and the user's line that created it. The source
is registered with ``linecache`` under a unique file name, so tracebacks and
debuggers show the generated line. ``emit_source`` is pure: the same graph and
plan always give the same text (checked in as golden files).
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable

import numpy as np

from neuroflow.graph.ir import Graph, Node

_UNARY_UFUNCS = {
    "negative": "np.negative", "abs": "np.abs", "exp": "np.exp", "log": "np.log",
    "log1p": "np.log1p", "expm1": "np.expm1", "sqrt": "np.sqrt", "square": "np.square",
    "sin": "np.sin", "cos": "np.cos", "tanh": "np.tanh", "sign": "np.sign",
    "floor": "np.floor", "ceil": "np.ceil", "round": "np.rint", "logical_not": "np.logical_not",
    "is_nan": "np.isnan", "is_inf": "np.isinf", "is_finite": "np.isfinite",
}
_BINARY_UFUNCS = {
    "add": "np.add", "subtract": "np.subtract", "multiply": "np.multiply",
    "divide": "np.true_divide", "maximum": "np.maximum", "minimum": "np.minimum",
    "equal": "np.equal", "not_equal": "np.not_equal", "less": "np.less",
    "less_equal": "np.less_equal", "greater": "np.greater", "greater_equal": "np.greater_equal",
    "logical_and": "np.logical_and", "logical_or": "np.logical_or",
    "logical_xor": "np.logical_xor", "floormod": "np.mod", "pow": "np.power",
}
# Ops whose emitted call accepts ``out=`` (the memory planner may give them a buffer).
OUT_CAPABLE = set(_UNARY_UFUNCS) | set(_BINARY_UFUNCS) | {
    "matmul", "relu", "relu_grad", "fused_elementwise", "dense", "cast"}
# Ops whose output may share memory with their first input (views).
VIEW_OPS = {"reshape", "transpose", "getitem", "broadcast_to", "identity", "stop_gradient",
            "read_variable"}
# Elementwise ops may write into the buffer of an input they read for the last time.
IN_PLACE_OK = set(_UNARY_UFUNCS) | set(_BINARY_UFUNCS) | {"relu", "relu_grad",
                                                          "fused_elementwise", "cast"}

_file_ids = itertools.count()


def private_array(variable):
    """The variable's array, copied first if a tensor may share it (copy on write)."""
    if variable._shared:
        variable._value = variable._value.copy()
        variable._shared = False
    return variable._value


class Emitter:
    """Collects the namespace (constants, attributes, primitives) the generated code uses."""

    def __init__(self, graph: Graph, buffers: dict[str, str], inplace_assigns=frozenset()):
        self.graph = graph
        self.buffers = buffers  # value name -> buffer name
        self.inplace_assigns = inplace_assigns  # ids of assignment nodes done in place
        self.namespace: dict[str, object] = {"np": np, "private": private_array}

    def bind(self, prefix: str, obj) -> str:
        for name, existing in self.namespace.items():
            if existing is obj and name.startswith(prefix):
                return name
        name = f"{prefix}{sum(1 for n in self.namespace if n.startswith(prefix))}"
        self.namespace[name] = obj
        return name

    def out(self, node: Node) -> str:
        buffer = self.buffers.get(node.output.name)
        return f", out={buffer}" if buffer else ""

    def line(self, node: Node) -> str:
        args = [v.name for v in node.inputs]
        code = _emit_node(self, node, args)
        where = f" @ {node.location}" if node.location else ""
        return f"    {code}  # {node.op}{where}"


def _emit_node(em: Emitter, node: Node, args: list[str]) -> str:
    op, out_name = node.op, node.output.name if node.output is not None else None
    if op == "read_variable":
        return f"{out_name} = V{node.variable}._value"
    if op == "assign":
        return f"V{node.variable}._value = np.array({args[0]})"
    if op in ("assign_add", "assign_sub"):
        var = f"V{node.variable}"
        if id(node) in em.inplace_assigns:
            ufunc = "np.add" if op == "assign_add" else "np.subtract"
            return f"{ufunc}(private({var}), {args[0]}, out={var}._value)"
        sign = "+" if op == "assign_add" else "-"
        return f"{var}._value = np.asarray({var}._value {sign} {args[0]})"
    if op in ("dense", "fused_elementwise"):
        return _SPECIAL[op](em, node, args)
    special = _SPECIAL.get(op)
    if special is not None:
        return f"{out_name} = {special(em, node, args)}"
    if op in _UNARY_UFUNCS:
        return f"{out_name} = {_UNARY_UFUNCS[op]}({args[0]}{em.out(node)})"
    if op in _BINARY_UFUNCS:
        return f"{out_name} = {_BINARY_UFUNCS[op]}({args[0]}, {args[1]}{em.out(node)})"
    forward = em.bind(f"P_{op}_", node.primitive.forward)
    call_args = ", ".join(["np", *args])
    if node.attrs:
        attrs = em.bind("A", node.attrs)
        return f"{out_name} = {forward}({call_args}, **{attrs})"
    return f"{out_name} = {forward}({call_args})"


def _matmul(em, node, args):
    return f"np.matmul({args[0]}, {args[1]}{em.out(node)})"


def _reshape(em, node, args):
    return f"{args[0]}.reshape({node.attrs['shape']!r})"


def _transpose(em, node, args):
    return f"{args[0]}.transpose({node.attrs['perm']!r})"


def _broadcast_to(em, node, args):
    return f"np.broadcast_to({args[0]}, {node.attrs['shape']!r})"


def _getitem(em, node, args):
    return f"{args[0]}[{em.bind('K', node.attrs['key'])}]"


def _passthrough(em, node, args):
    return args[0]


def _relu(em, node, args):
    return f"np.maximum({args[0]}, 0{em.out(node)})"


def _relu_grad(em, node, args):
    return f"np.multiply({args[0]}, {args[1]} > 0{em.out(node)})"


def _reduce_sum(em, node, args):
    a = node.attrs
    dtype = node.output.dtype.name
    return (f"np.sum({args[0]}, axis={a['axes']!r}, keepdims={a['keepdims']!r}, "
            f"dtype=np.{dtype})")


def _cast(em, node, args):
    dtype = node.attrs["dtype"]
    buffer = em.buffers.get(node.output.name)
    if buffer:
        return f"np.copyto({buffer}, {args[0]}, casting='unsafe') or {buffer}"
    return f"{args[0]}.astype(np.{np.dtype(dtype).name})"


def _where(em, node, args):
    return f"np.where({args[0]}, {args[1]}, {args[2]})"


def _fused_elementwise(em, node, args):
    from neuroflow.graph.passes.fusion import emit_chain

    return emit_chain(em, node, args)


def _dense(em, node, args):
    from neuroflow.graph.passes.fusion import emit_dense

    return emit_dense(em, node, args)


_SPECIAL: dict[str, Callable] = {
    "matmul": _matmul, "reshape": _reshape, "transpose": _transpose,
    "broadcast_to": _broadcast_to, "getitem": _getitem, "identity": _passthrough,
    "stop_gradient": _passthrough, "relu": _relu, "relu_grad": _relu_grad,
    "reduce_sum": _reduce_sum, "cast": _cast, "where": _where,
    "fused_elementwise": _fused_elementwise, "dense": _dense,
}


def emit_source(graph: Graph, plan=None) -> tuple[str, dict]:
    """The Python source of ``graph`` (with a memory plan, if given) and its namespace."""
    buffers = plan.buffers if plan is not None else {}
    buffer_specs = plan.specs if plan is not None else {}
    inplace = {id(graph.nodes[i]) for i in plan.inplace_assigns} if plan is not None else set()
    em = Emitter(graph, buffers, inplace)
    for name, array in graph.constants.items():
        em.namespace[name] = array
    for index, variable in enumerate(graph.variables):
        em.namespace[f"V{index}"] = variable
    for name, (shape, dtype) in buffer_specs.items():
        em.namespace[name] = np.empty(shape, dtype=dtype)
    params = ", ".join(v.name for v in graph.inputs)
    lines = [f"def {_identifier(graph.name)}({params}):"]
    lines += [em.line(node) for node in graph.nodes]
    results = ", ".join(f"np.asarray({v.name})" for v in graph.outputs)
    lines.append(f"    return [{results}]")
    return "\n".join(lines) + "\n", em.namespace


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"fn_{cleaned}"


def compile_source(source: str, namespace: dict, name: str) -> Callable:
    """Compile generated source under a linecache-registered file name."""
    filename = f"<neuroflow-generated {name} #{next(_file_ids)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    code = compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - the source is generated by neuroflow from a graph
    function = namespace[_identifier(name)]
    function.__neuroflow_filename__ = filename
    return function
