"""Lower a graph to plain Python source, one line per node, and compile it.

Each line calls NumPy directly (``v7 = np.matmul(v5, v3, out=B2)``) and ends
with a comment naming the op and the user's line that created it. The source
is registered with ``linecache`` under a unique file name, so tracebacks and
debuggers show the generated line (:func:`failing_node` maps it back to the
node). ``emit_source`` is pure: the same graph and plan always give the same
text (checked in as golden files).
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable

import numpy as np

from neuroflow.backend.blas import GemmUpdate
from neuroflow.graph.ir import Graph, Node
from neuroflow.ops.shape_ops import DYNAMIC_SHAPE_OPS

_UNARY_UFUNCS = {
    "negative": "np.negative", "abs": "np.abs", "exp": "np.exp", "log": "np.log",
    "log1p": "np.log1p", "expm1": "np.expm1", "sqrt": "np.sqrt", "square": "np.square",
    "sin": "np.sin", "cos": "np.cos", "tanh": "np.tanh", "sign": "np.sign",
    "floor": "np.floor", "ceil": "np.ceil", "logical_not": "np.logical_not",
    "is_nan": "np.isnan", "is_inf": "np.isinf", "is_finite": "np.isfinite",
}
_BINARY_UFUNCS = {
    "add": "np.add", "subtract": "np.subtract", "multiply": "np.multiply",
    "divide": "np.true_divide", "maximum": "np.maximum", "minimum": "np.minimum",
    "equal": "np.equal", "not_equal": "np.not_equal", "less": "np.less",
    "less_equal": "np.less_equal", "greater": "np.greater", "greater_equal": "np.greater_equal",
    "logical_and": "np.logical_and", "logical_or": "np.logical_or",
    "logical_xor": "np.logical_xor", "pow": "np.power",
}
# Ops whose emitted call accepts ``out=`` (the memory planner may give them a buffer).
OUT_CAPABLE = set(_UNARY_UFUNCS) | set(_BINARY_UFUNCS) | {
    "matmul", "relu", "relu_grad", "fused_elementwise", "dense", "cast", "reduce_sum"}
# Ops whose output may share memory with their first input (views).
VIEW_OPS = {"reshape", "transpose", "getitem", "broadcast_to", "identity", "stop_gradient",
            "read_variable"}
# Ops whose output is always a new array (or their ``out=`` buffer), never an input's memory.
# Any other primitive may return (a view of) an input: the memory planner assumes it does.
FRESH_OPS = OUT_CAPABLE | {
    "reduce_sum", "where", "concat", "gather", "scatter_add", "scatter_into_zeros", "pad",
    "one_hot", "random", "flat_nonzero", "where_indices", "argmax", "argmin",
    "sparse_softmax_xent", "sparse_softmax_xent_grad", "sparse_softmax_xent_with_grad"}
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


def shared_array(variable):
    """The variable's array, for a read whose value leaves the function (an output)."""
    variable._shared = True
    return variable._value


class ShapeChanged(Exception):
    """Raised by compiled code when a data-dependent shape differs from the traced one."""

    def __init__(self, value: str, shape: tuple, traced: tuple):
        super().__init__(f"{value} has shape {shape}, traced with {traced}")
        self.value, self.shape, self.traced = value, shape, traced


def guard_shape(array, traced: tuple, value: str) -> None:
    if array.shape != traced:
        raise ShapeChanged(value, array.shape, traced)


class Emitter:
    """Collects the namespace (constants, attributes, primitives) the generated code uses."""

    def __init__(self, graph: Graph, buffers: dict[str, str], inplace_assigns=frozenset(),
                 escaping_reads=frozenset()):
        self.graph = graph
        self.buffers = buffers  # value name -> buffer name
        self.inplace_assigns = inplace_assigns  # ids of assignment nodes done in place
        self.escaping_reads = escaping_reads  # ids of reads whose value is returned
        self.namespace: dict[str, object] = {"np": np, "private": private_array,
                                             "shared": shared_array, "guard": guard_shape}

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
        if node.op in DYNAMIC_SHAPE_OPS:
            name = node.output.name
            code += f"; guard({name}, {node.output.shape!r}, {name!r})"
        where = f" @ {node.location}" if node.location else ""
        return f"    {code}  # {node.op}{where}"


def _emit_node(em: Emitter, node: Node, args: list[str]) -> str:
    op, out_name = node.op, ", ".join(v.name for v in node.results) or None
    if op == "read_variable":
        if id(node) in em.escaping_reads:
            return f"{out_name} = shared(V{node.variable})"
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
    if op == "assign_sub_matmul":
        var = f"V{node.variable}"
        if id(node) in em.inplace_assigns:
            update = em.bind("G", GemmUpdate())  # one per node: it keeps data pointers
            return f"{update}(private({var}), {', '.join(args)})"
        delta = f"np.multiply(np.matmul({args[0]}, {args[1]}), {args[2]})"
        return f"{var}._value = np.asarray({var}._value - {delta})"
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
    # np.add.reduce, not np.sum: the same C loop without np.sum's Python wrapper.
    a = node.attrs
    return (f"np.add.reduce({args[0]}, axis={a['axes']!r}, "
            f"dtype={_dtype_text(node.output.dtype)}, keepdims={a['keepdims']!r}"
            f"{em.out(node)})")


def _reduce_extremum(em, node, args):
    a = node.attrs
    if 0 in node.inputs[0].shape:  # empty: the primitive knows TF's -inf/+inf answer
        return f"{em.bind('P_' + node.op + '_', node.primitive.forward)}(np, {args[0]}, **" \
               f"{em.bind('A', node.attrs)})"
    ufunc = "np.maximum" if node.op == "reduce_max" else "np.minimum"
    return f"{ufunc}.reduce({args[0]}, axis={a['axes']!r}, keepdims={a['keepdims']!r})"


def _argmax(em, node, args):
    found = f"np.argmax({args[0]}, axis={node.attrs['axis']!r})"
    if node.output.dtype == np.dtype(np.intp):
        return found
    return f"{found}.astype({_dtype_text(node.output.dtype)})"


def _cast(em, node, args):
    buffer = em.buffers.get(node.output.name)
    if buffer:
        return f"np.copyto({buffer}, {args[0]}, casting='unsafe') or {buffer}"
    return f"np.asarray({args[0]}).astype({_dtype_text(node.attrs['dtype'])})"


def _dtype_text(dtype) -> str:
    name = np.dtype(dtype).name
    return "np.bool_" if name == "bool" else f"np.{name}"


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
    "reduce_sum": _reduce_sum, "reduce_max": _reduce_extremum,
    "reduce_min": _reduce_extremum, "argmax": _argmax, "cast": _cast, "where": _where,
    "fused_elementwise": _fused_elementwise, "dense": _dense,
}


def emit_source(graph: Graph, plan=None) -> tuple[str, dict]:
    """The Python source of ``graph`` (with a memory plan, if given) and its namespace."""
    from neuroflow.graph.passes.memory import escaping_reads

    buffers = plan.buffers if plan is not None else {}
    buffer_specs = plan.specs if plan is not None else {}
    inplace = {id(graph.nodes[i]) for i in plan.inplace_assigns} if plan is not None else set()
    escaping = {id(graph.nodes[i]) for i in escaping_reads(graph)}
    em = Emitter(graph, buffers, inplace, escaping)
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


def failing_node(graph: Graph, compiled: Callable, traceback) -> Node | None:
    """The node whose generated line raised, from the traceback of an error."""
    filename = getattr(compiled, "__neuroflow_filename__", None)
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == filename:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    index = None if line is None else line - 2  # line 1 is the ``def``
    return graph.nodes[index] if index is not None and 0 <= index < len(graph.nodes) else None
