"""Lines of generated code that call Numba kernels, for the fused nodes they cover.

:class:`JitLowering` is what ``codegen.emit_source`` asks first for each node: a
statement calling a kernel (``v7 = B2; J0(v3, v5, v7)``), or ``None`` to emit
the node as without Numba. It covers ``fused_elementwise`` chains (forward and
backward), ``relu_grad``, ``dense``'s bias and ReLU (the matrix product stays
with BLAS), the sparse softmax cross-entropy with its gradient, 2-D max pooling
and its gradient (from the positions of the maxima that the pooling saved, when
both are in the graph), LSTM and GRU sequences and their gradients
(``recurrent.py``), and runs of variable updates (``updates.py``: every member's
line but the last is ``pass``), in float32 and float64 with sizes known when the
plan is compiled. The kernels it used are listed after the function in the
generated source.
"""

from __future__ import annotations

import warnings

import numpy as np

from neuroflow.config import settings
from neuroflow.graph.ir import Node
from neuroflow.graph.jit import cache, convolution, kernels, recurrent, updates
from neuroflow.graph.jit.kernels import KernelSource
from neuroflow.graph.passes.memory import Lifetimes, lifetimes
from neuroflow.ops.nn_ops import _check_labels


def xent_with_grad(kernel, logits: np.ndarray, labels: np.ndarray):
    """``sparse_softmax_xent_with_grad`` through ``kernel``: outputs allocated, rows
    flattened to 2-D, and the op's own error if the kernel found a label out of range.
    (Shapes were checked when the plan was made.)"""
    classes = logits.shape[-1]
    loss = np.empty(labels.shape, logits.dtype)
    grad = np.empty(logits.shape, logits.dtype)
    if kernel(np.ascontiguousarray(logits).reshape(-1, classes), labels.reshape(-1),
              loss.reshape(-1), grad.reshape(-1, classes)):
        _check_labels(np, logits, labels)
    return loss, grad


class JitLowering:
    """Chooses kernels for a graph's nodes and remembers them, in order, for the listing."""

    def __init__(self):
        self.parallel = settings.jit_threads > 1
        self.used: dict[str, KernelSource] = {}  # binding name -> kernel
        self._life: Lifetimes | None = None
        self._updates: dict[int, str] | None = None  # id of a run's member -> its line
        # id of an elementwise node -> the reduce_sum over its rows that its kernel does
        self._column_sums: dict[int, Node] = {}
        self._summed: set[int] = set()  # ids of those reduce_sums, once a kernel did them
        # id of a max_pool_grad -> id of the max_pool whose input and output it reads, and
        # id of such a max_pool -> its saved positions' name, once its kernel wrote them
        self._pooled_by: dict[int, int] = {}
        self._positions: dict[int, str] = {}
        self._varying: set[str] | None = None

    def overlaps(self, node: Node, buffer: str | None, em) -> bool:
        """Whether an input of ``node`` is a view (transposed, broadcast, sliced) of the
        buffer it writes. NumPy's ufuncs copy such inputs first; a kernel's loop would
        read elements it has already written, so those nodes stay with NumPy. An input
        that is the buffer itself, read at the index written, is safe."""
        if buffer is None:
            return False
        roots_of = self._lifetimes(em).roots
        owners = {name for name, b in em.buffers.items() if b == buffer}
        for value in node.inputs:
            roots = roots_of.get(value.name, frozenset((value.name,)))
            if roots & owners and not (roots == {value.name} and
                                       value.shape == node.output.shape):
                return True
        return False

    def varying(self, em) -> set[str]:
        """Values whose shape may differ from the plan's when the function runs: reads of
        a variable declared with an unknown dimension (``shape=[None]``), which may be
        given another shape after tracing, and everything computed from them. Kernels
        loop over the plan's sizes and would read past or short of such an array, where
        NumPy raises; these values stay with NumPy."""
        if self._varying is None:
            graph, varying = em.graph, set()
            for node in graph.nodes:
                if any(v.name in varying for v in node.inputs) or (
                        node.op == "read_variable" and
                        not graph.variables[node.variable].shape.is_fully_defined()):
                    varying.update(v.name for v in node.results)
            self._varying = varying
        return self._varying

    def _lifetimes(self, em) -> Lifetimes:
        if self._life is None:
            self._life = lifetimes(em.graph)
        return self._life

    def planned_statement(self, node: Node, em) -> str | None:
        """The line of a node whose work another line does: a member of a run of variable
        updates (``updates.py``; the run's kernel is called at its last member, the others
        are ``pass``), or a column sum done by the kernel of the node it sums. None for
        other nodes. The first call plans the whole graph."""
        if self._updates is None:
            self._updates = {}
            # Checking numerics names the node whose result is not finite: every node of
            # an update then keeps its own line and its result.
            checked = em.instruments is not None and em.instruments.check is not None
            try:
                if not checked:
                    self._plan_updates(em)
            except OSError as error:
                self._updates = {}
                _warn_unwritable(error)
            if not self.parallel:
                self._column_sums = _column_sum_pairs(em.graph)
            self._pooled_by = _pool_pairs(em.graph)
        if id(node) in self._summed:
            return "pass"
        return self._updates.get(id(node))

    def _plan_updates(self, em) -> None:
        lines = {}
        for group in updates.plan(em.graph, em.inplace_assigns, self._lifetimes(em),
                                  self.varying(em)):
            kernel = updates.UpdateKernel(em.graph, group)
            name = self._bind(em, kernel.source(self.parallel))
            for i in group.members:
                lines[id(em.graph.nodes[i])] = "pass"
            lines[id(em.graph.nodes[group.last])] = f"{name}({', '.join(kernel.arguments)})"
        self._updates = lines

    def statement(self, node: Node, args: list[str], buffer: str | None, em) -> str | None:
        emit = _EMITTERS.get(node.op)
        if emit is None and id(node) in self._column_sums:
            emit = _elementwise  # one ufunc whose output's columns are summed next
        if emit is None or not all(v.is_static for v in (*node.inputs, *node.results)) or \
                any(v.name in self.varying(em) for v in node.inputs) or \
                self.overlaps(node, buffer, em):
            return None
        try:
            return emit(self, node, args, buffer, em)
        except OSError as error:  # an unwritable cache folder: the NumPy path still works
            _warn_unwritable(error)
            return None

    def _bind(self, em, kernel: KernelSource) -> str:
        """The generated module's name for ``kernel``'s compiled function."""
        name = em.bind("J", cache.load(kernel))
        self.used[name] = kernel
        return name

    def listing(self) -> str:
        """The kernels' source, for the end of the generated module."""
        if not self.used:
            return ""
        parts = ["", "", "# Numba kernels called above (@numba.njit, cached on disk by source):"]
        for name, kernel in self.used.items():
            parts += [f"# {name} = {kernel.name}", kernel.text]
        return "\n".join(parts)


_warned: set[str] = set()


def _warn_unwritable(error: OSError) -> None:
    _warn_once(f"neuroflow: Numba kernels are off: cannot write the kernel cache "
               f"{settings.jit_cache_dir} ({error}). Set NEUROFLOW_HOME to a "
               f"writable folder, or NEUROFLOW_JIT=0 to silence this.")


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)


def _result(node: Node, buffer: str | None, em) -> str:
    """``v7 = B2`` or ``v7 = np.empty(...)``: the array a kernel writes into."""
    out = node.output
    if buffer is not None:
        return f"{out.name} = {buffer}"
    return f"{out.name} = np.empty({em.literal(out.shape)}, {em.literal(out.dtype)})"


def _column_sum_pairs(graph) -> dict[int, Node]:
    """``reduce_sum(x, axis=0)`` of a 2-D ``x`` (a dense layer's bias gradient) made by an
    elementwise node: id of that node -> the sum, which its kernel can do as it writes
    ``x``. The first such sum of each ``x``; rows known and at least one."""
    producers = {v.name: node for node in graph.nodes for v in node.results}
    pairs: dict[int, Node] = {}
    for node in graph.nodes:
        if node.op != "reduce_sum" or node.attrs["keepdims"] or \
                tuple(node.attrs["axes"] or ()) not in ((0,), (-2,)):
            continue
        x = node.inputs[0]
        source = producers.get(x.name)
        if source is None or id(source) in pairs or len(x.shape) != 2 or not x.is_static or \
                x.shape[0] < 1 or node.output.dtype != x.dtype or \
                not (source.op in ("relu_grad", "fused_elementwise") or
                     updates.elementwise_steps(source) is not None):
            continue
        pairs[id(source)] = node
    return pairs


def _pool_pairs(graph) -> dict[int, int]:
    """id of each ``max_pool_grad`` -> id of the ``max_pool`` it is the gradient of (same
    input, its output, the same windows): that pooling's kernel saves each window's
    position of the maximum for it."""
    pools = {node.output.name: node for node in graph.nodes if node.op == "max_pool"}
    pairs = {}
    for node in graph.nodes:
        pool = pools.get(node.inputs[1].name) if node.op == "max_pool_grad" else None
        if pool is not None and pool.inputs[0].name == node.inputs[0].name and all(
                node.attrs.get(k) == pool.attrs.get(k) for k in ("kernel", "strides", "pads")):
            pairs[id(node)] = id(pool)
    return pairs


def _column_sums(lowering: JitLowering, node: Node, em) -> tuple[list[str], str]:
    """The kernel's extra output if it also sums ``node``'s output's columns (none or
    one name), and the statement making that array."""
    total = lowering._column_sums.get(id(node))
    if total is None:
        return [], ""
    lowering._summed.add(id(total))
    return [total.output.name], f"{_result(total, None, em)}; "


def _elementwise(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    dtype = kernels.dtype_name(node.output.dtype)
    steps, inputs = updates.elementwise_steps(node)
    if dtype is None or any(v.dtype != node.output.dtype for v in inputs) or \
            any(ufunc not in kernels.SUPPORTED_UFUNCS for ufunc, _ in steps):
        return None
    sums, make_sums = _column_sums(lowering, node, em)
    kernel = kernels.elementwise_chain(steps, [v.shape for v in inputs], node.output.shape,
                                       dtype, lowering.parallel, column_sums=bool(sums))
    name = lowering._bind(em, kernel)
    # A 0-d input may be an array or a NumPy scalar: [()] makes both a scalar. (``inputs``
    # lists a value used twice once, so the call is built from it, not from ``args``.)
    args = [f"{v.name}[()]" if not v.shape else v.name for v in inputs]
    call = ", ".join([*args, node.output.name, *sums])
    return f"{_result(node, buffer, em)}; {make_sums}{name}({call})"


def _relu_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    dtype = kernels.dtype_name(node.output.dtype)
    if dtype is None or any(v.shape != node.output.shape or v.dtype != node.output.dtype
                            for v in node.inputs) or not node.output.shape:
        return None
    sums, make_sums = _column_sums(lowering, node, em)
    name = lowering._bind(em, kernels.relu_grad(len(node.output.shape), dtype, lowering.parallel,
                                                column_sums=bool(sums)))
    call = ", ".join([*args, node.output.name, *sums])
    return f"{_result(node, buffer, em)}; {make_sums}{name}({call})"


def _dense(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    dtype = kernels.dtype_name(node.output.dtype)
    if dtype is None or len(node.output.shape) != 2:
        return None
    x, w, b = args
    name = lowering._bind(em, kernels.bias_activation(node.attrs["activation"], dtype,
                                                      lowering.parallel))
    out = node.output.name
    target = f", out={buffer}" if buffer else ""
    return f"{out} = np.matmul({x}, {w}{target}); {name}({out}, {b})"


def _xent_with_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    """Shapes that do not match, or no classes, stay with NumPy, which raises the op's
    error; labels out of range are counted by the kernel."""
    logits, labels = node.inputs
    dtype = kernels.dtype_name(logits.dtype)
    if dtype is None or not logits.shape or labels.dtype.kind not in "iu" or \
            labels.shape != logits.shape[:-1] or logits.shape[-1] == 0:
        return None
    name = lowering._bind(em, kernels.softmax_xent_with_grad(dtype, lowering.parallel))
    loss, grad = (v.name for v in node.results)
    return f"{loss}, {grad} = {em.bind('X', xent_with_grad)}({name}, {args[0]}, {args[1]})"


def _argmax_of_softmax(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    """Rows of a 2-D ``z`` (with at least one class)."""
    z = node.inputs[0]
    if kernels.dtype_name(z.dtype) is None or len(z.shape) != 2 or z.shape[1] == 0 or \
            node.attrs["axis"] % 2 != 1 or node.output.dtype.kind not in "iu":
        return None
    name = lowering._bind(em, kernels.argmax_of_softmax(lowering.parallel))
    return f"{_result(node, buffer, em)}; {name}({args[0]}, {node.output.name})"


def _pool_arguments(node: Node) -> str | None:
    """``kh, kw, sh, sw, ph, pw`` of a 2-D pooling node over NHWC, else None."""
    kernel, strides, pads = (node.attrs.get(k) for k in ("kernel", "strides", "pads"))
    if kernel is None or len(kernel) != 2 or len(node.inputs[0].shape) != 4:
        return None
    return ", ".join(str(int(v)) for v in (*kernel, *strides, pads[0][0], pads[1][0]))


def _max_pool(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    """The maxima, and each one's position in its window (``{output}_at``) when the
    graph also holds this pooling's gradient."""
    dtype = kernels.dtype_name(node.output.dtype)
    sizes = _pool_arguments(node)
    if dtype is None or sizes is None:
        return None
    result = _result(node, buffer, em)
    out = node.output.name
    if id(node) not in lowering._pooled_by.values():
        name = lowering._bind(em, kernels.max_pool(dtype, lowering.parallel))
        return f"{result}; {name}({args[0]}, {out}, {sizes})"
    positions = f"{out}_at"
    index = kernels.index_dtype(dtype)
    name = lowering._bind(em, kernels.max_pool_with_index(dtype, lowering.parallel))
    lowering._positions[id(node)] = positions
    return (f"{result}; {positions} = np.empty({em.literal(node.output.shape)}, np.{index}); "
            f"{name}({args[0]}, {out}, {positions}, {sizes})")


def _max_pool_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    """From the positions the pooling's kernel saved, when it did; else by finding each
    window's maximum again in the input. Windows that tile the input (strides equal to
    the window) write each position once; others accumulate into a zeroed gradient."""
    dtype = kernels.dtype_name(node.output.dtype)
    sizes = _pool_arguments(node)
    if dtype is None or sizes is None or any(v.dtype != node.output.dtype for v in node.inputs):
        return None
    tiled = tuple(node.attrs["strides"]) == tuple(node.attrs["kernel"])
    result, out = _result(node, buffer, em), node.output.name
    positions = lowering._positions.get(lowering._pooled_by.get(id(node)))
    if positions is not None:
        kernel = kernels.max_pool_grad_from_index(dtype, lowering.parallel, tiled)
        name = lowering._bind(em, kernel)
        return f"{result}; {name}({positions}, {args[2]}, {out}, {sizes})"
    write = kernels.max_pool_grad_tiled if tiled else kernels.max_pool_grad
    name = lowering._bind(em, write(dtype, lowering.parallel))
    return f"{result}; {name}({', '.join(args)}, {out}, {sizes})"


# Below this many input channels the primitive's col2im runs along output rows a channel
# at a time, faster than a gather over so few channels; the kernel is for the others.
_COL2IM_CHANNELS = 10


def _conv_input_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    g, w = node.inputs
    dtype = kernels.dtype_name(node.output.dtype)
    if dtype is None or len(node.attrs["spatial"]) != 2 or g.dtype != w.dtype or \
            w.shape[-2] < _COL2IM_CHANNELS:
        return None
    name = lowering._bind(em, kernels.col2im(dtype, lowering.parallel))
    attrs = ", ".join(em.literal(node.attrs[key]) for key in ("strides", "dilations", "pads"))
    call = f"{em.bind('C', convolution.input_grad)}({name}, {args[0]}, {args[1]}, " \
           f"{node.output.name}, {attrs})"
    return f"{_result(node, buffer, em)}; {call}"


def _recurrent_call(lowering: JitLowering, node: Node, args, em, driver, *step_kernels,
                    **keywords) -> str:
    """``hs, ... = R(J, x_proj, ...)``: a driver of ``recurrent.py`` with its step
    kernels."""
    names = [lowering._bind(em, kernel) for kernel in step_kernels]
    results = ", ".join(v.name for v in node.results)
    extra = "".join(f", {key}={value!r}" for key, value in keywords.items())
    return f"{results} = {em.bind('R', driver)}({', '.join([*names, *args])}{extra})"


def _recurrent_dtype(node: Node) -> str | None:
    dtype = kernels.dtype_name(node.inputs[0].dtype)
    return dtype if all(v.dtype == node.inputs[0].dtype for v in node.results) else None


def _sequence(lowering: JitLowering, node: Node, args, em, by_exp, by_exp_kernels, by_step,
              step_kernel) -> str | None:
    """A forward LSTM or GRU: with Keras's default activations (tanh, sigmoid) the driver
    ``by_exp`` leaves ``exp`` and ``tanh`` to NumPy between ``by_exp_kernels``;
    activations without them run ``by_step`` with one ``step_kernel`` a step; other mixes
    stay with NumPy."""
    dtype = _recurrent_dtype(node)
    if dtype is None:
        return None
    activations = (node.attrs["activation"], node.attrs["recurrent_activation"])
    masked = len(node.inputs) > 4  # after x_proj, h0, c0, kernel (LSTM) or x_proj, h0, kernel, bias
    if activations == ("tanh", "sigmoid"):
        return _recurrent_call(lowering, node, args, em, by_exp,
                               *by_exp_kernels(masked, dtype, lowering.parallel))
    if not set(activations) <= kernels.ARITHMETIC_ACTIVATIONS:
        return None
    return _recurrent_call(lowering, node, args, em, by_step,
                           step_kernel(*activations, masked, dtype, lowering.parallel))


def _lstm_by_exp_kernels(masked: bool, dtype: str, parallel: bool) -> tuple:
    return (kernels.scaled_inputs(dtype, parallel), kernels.lstm_gates_from_exp(dtype, parallel),
            kernels.lstm_output(masked, dtype, parallel))


def _gru_by_exp_kernels(masked: bool, dtype: str, parallel: bool) -> tuple:
    return (kernels.gru_inputs(dtype, parallel), kernels.gru_gates_from_exp(dtype, parallel),
            kernels.gru_output(masked, dtype, parallel))


def _lstm(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    return _sequence(lowering, node, args, em, recurrent.lstm_by_exp, _lstm_by_exp_kernels,
                     recurrent.lstm, kernels.lstm_step)


def _lstm_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    dtype = _recurrent_dtype(node)
    if dtype is None:
        return None
    cell_gradient = node.attrs["cell_gradient"]
    masked = len(node.inputs) > (9 if cell_gradient else 8)
    kernel = kernels.lstm_step_grad(node.attrs["activation"], node.attrs["recurrent_activation"],
                                    masked, cell_gradient, dtype, lowering.parallel)
    return _recurrent_call(lowering, node, args, em, recurrent.lstm_grad, kernel,
                           cell_gradient=cell_gradient)


def _gru(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    """Reset after the product (Keras's default) only: reset before needs a second product
    inside the step, and stays with NumPy."""
    if not node.attrs["reset_after"]:
        return None
    return _sequence(lowering, node, args, em, recurrent.gru_by_exp, _gru_by_exp_kernels,
                     recurrent.gru, kernels.gru_step)


def _gru_grad(lowering: JitLowering, node: Node, args, buffer, em) -> str | None:
    dtype = _recurrent_dtype(node)
    if dtype is None or not node.attrs["reset_after"]:
        return None
    kernel = kernels.gru_step_grad(node.attrs["activation"], node.attrs["recurrent_activation"],
                                   len(node.inputs) > 5, dtype, lowering.parallel)
    return _recurrent_call(lowering, node, args, em, recurrent.gru_grad, kernel)


_EMITTERS = {"fused_elementwise": _elementwise, "relu_grad": _relu_grad, "dense": _dense,
             "sparse_softmax_xent_with_grad": _xent_with_grad,
             "argmax_of_softmax": _argmax_of_softmax, "max_pool": _max_pool,
             "max_pool_grad": _max_pool_grad, "conv_input_grad": _conv_input_grad,
             "lstm_sequence": _lstm,
             "lstm_sequence_grad": _lstm_grad, "gru_sequence": _gru,
             "gru_sequence_grad": _gru_grad}
