"""Graph control flow: ``tf.cond`` and ``tf.while_loop``, differentiable.

Run eagerly, both are plain Python: ``cond`` calls the branch its predicate picks,
``while_loop`` loops. Inside a trace, a predicate or loop that depends on the
function's inputs cannot be decided by Python (that would freeze one path into the
graph), so each branch, loop condition and loop body is traced into a graph of its
own (``trace.CapturingTracer``), and one node of the enclosing graph runs it: the
``cond`` primitive runs the compiled graph of the branch its predicate picks, the
``while_loop`` primitive runs the body's graph while the condition's graph says so.
Tensors of the enclosing trace that a branch uses are captured: they become inputs
of the node.

Gradients re-run the branch: the gradient of ``cond`` is a ``cond`` of the two
branches' gradients, each computed by replaying the branch's graph under a
GradientTape (:func:`replay`), so it is traced and compiled like any op, and
differentiable again. The gradient of ``while_loop`` is the ``while_loop_grad``
primitive: it runs the loop again, keeping every iteration's loop variables, then
walks back through the iterations with the compiled gradient of the body. Branches
and bodies that draw random numbers would draw different ones when re-run, so their
gradients raise rather than give a wrong answer.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from neuroflow.abstract import AbstractArray, Dim, dims_equal, is_abstract, user_location
from neuroflow.config import settings
from neuroflow.errors import InvalidArgumentError, UnimplementedError
from neuroflow.graph import codegen
from neuroflow.graph.ir import Graph
from neuroflow.graph.passes.specialize import specialize
from neuroflow.graph.trace import CapturingTracer, Tracer, nested_tracing
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.elementwise import equal
from neuroflow.ops.registry import apply, primitive, recording
from neuroflow.ops.shape_ops import reshape, stop_gradient
from neuroflow.tensor import Tensor, convert_to_tensor
from neuroflow.util import nest

# --- a traced graph, compiled per input sizes --------------------------------------------


class Subgraph:
    """A branch, loop condition or loop body: a traced graph the enclosing graph runs.

    It compiles one plan per set of input sizes (bounded like a trace's plans); each
    call takes a buffer set from the plan's pool, so threads may run it at once.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self.stateful = _draws(graph)
        self._static = all(v.is_static for v in graph.inputs)
        self._plans: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        # Dropping the subgraph (with the trace holding it) forgets its generated sources.
        weakref.finalize(self, _release_plans, self._plans)

    def run(self, arrays: list) -> list:
        key = None if self._static else tuple(np.shape(a) for a in arrays)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._compile(key, arrays)
        return plan.run(arrays)

    def _compile(self, key, arrays):
        from neuroflow.graph.function import _Plan  # the compile step tf.function uses

        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                graph = self.graph if self._static else specialize(
                    self.graph, [np.shape(a) for a in arrays])
                plan = _Plan(graph, optimize=True)
                self._plans[key] = plan
                while len(self._plans) > settings.plans_per_trace:
                    codegen.release_source(self._plans.popitem(last=False)[1].compiled)
        return plan

    def __repr__(self) -> str:
        return f"<subgraph {self.graph.name}: {len(self.graph.nodes)} nodes>"


def _draws(graph: Graph) -> bool:
    """Whether running ``graph`` draws random numbers (or runs another stateful op).

    Control-flow nodes are marked stateful so that passes never fold or merge them; they
    draw only if a graph they run does.
    """
    for node in graph.nodes:
        if node.primitive in _CONTROL_FLOW:
            if any(isinstance(a, Subgraph) and a.stateful
                   for value in node.attrs.values()
                   for a in (value if isinstance(value, tuple) else (value,))):
                return True
        elif node.stateful:
            return True
    return False


def _release_plans(plans: OrderedDict) -> None:
    for plan in plans.values():
        codegen.release_source(plan.compiled)


def replay(graph: Graph, inputs: list) -> list:
    """Apply the ops of ``graph`` to ``inputs`` (tensors) one by one, as eager code would:
    active tapes record them and an active trace records them as nodes."""
    env: dict = {name: Tensor(array) for name, array in graph.constants.items()}
    env.update((value.name, tensor) for value, tensor in zip(graph.inputs, inputs))
    for node in graph.nodes:
        made = apply(node.primitive, tuple(env[v.name] for v in node.inputs), node.attrs)
        made = made if node.primitive.multiple_results else (made,)
        env.update((value.name, tensor) for value, tensor in zip(node.results, made))
    return [env[value.name] for value in graph.outputs]


def _trace_branch(name: str, function, inputs: list, parent: Tracer) -> tuple:
    """Trace ``function(*inputs)`` as a subgraph of the trace ``parent``.

    ``inputs`` are ``(shape, dtype)`` of explicit inputs (loop variables). Returns the
    tracer (its ``captured`` tensors follow the explicit inputs), the function's result
    and its flat tensor leaves as values of the subgraph.
    """
    tracer = CapturingTracer(name, parent, recording.tapes)
    with nested_tracing(tracer):
        args = [tracer.add_input(shape, dtype) for shape, dtype in inputs]
        result = function(*args)
        leaves = [convert_to_tensor(leaf) if leaf is not None else leaf
                  for leaf in nest.flatten(result)]
        if any(leaf is None for leaf in leaves):
            raise ValueError(f"{name} returned None inside its result {result!r}; every "
                             f"leaf must be a tensor or a number.")
        tracer.finish(leaves)
    return tracer, result, leaves


def _union(tracers: list) -> tuple[list, list]:
    """The captured tensors of several subgraphs, each once, and per subgraph the position
    in that list of each of its captured inputs."""
    merged, positions, takes = [], {}, []
    for tracer in tracers:
        mine = []
        for tensor in tracer.captured:
            key = id(tensor._value.source)
            if key not in positions:
                positions[key] = len(merged)
                merged.append(tensor)
            mine.append(positions[key])
        takes.append(tuple(mine))
    return merged, takes


# --- tf.cond ------------------------------------------------------------------------------


def cond(pred, true_fn=None, false_fn=None, name=None):
    """``true_fn()`` if ``pred`` else ``false_fn()``, as ``tf.cond``.

    Eagerly (and for a predicate known while tracing) it calls the branch. In a
    ``tf.function`` whose inputs decide the predicate, both branches are traced and the
    graph picks one each time it runs; they must return the same structure of tensors
    of the same dtypes (shapes may differ: the result's size is then unknown).

    >>> import neuroflow as tf
    >>> f = tf.function(lambda x: tf.cond(x > 0, lambda: x * 2.0, lambda: -x))
    >>> float(f(tf.constant(3.0))), float(f(tf.constant(-4.0)))
    (6.0, 4.0)
    """
    if true_fn is None or false_fn is None:
        raise TypeError("tf.cond needs both true_fn and false_fn (callables taking no "
                        "arguments); received "
                        f"true_fn={true_fn!r}, false_fn={false_fn!r}.")
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError(f"true_fn and false_fn must be callable; received "
                        f"{type(true_fn).__name__} and {type(false_fn).__name__}.")
    pred = _predicate(pred)
    if not isinstance(pred, Tensor) or not is_abstract(pred._value):
        return true_fn() if bool(pred) else false_fn()
    tracer = recording.tracer
    where = user_location()
    traced = [_trace_branch(f"cond_{label}", fn, [], tracer)
              for label, fn in (("true", true_fn), ("false", false_fn))]
    (t_tracer, t_result, t_leaves), (f_tracer, f_result, f_leaves) = traced
    _check_same_structure(t_result, f_result, where)
    if not t_leaves:
        return t_result  # nothing computed: the branches returned no tensors
    captured, takes = _union([t_tracer, f_tracer])
    branches = (Subgraph(t_tracer.graph), Subgraph(f_tracer.graph))
    results = _cond(pred, *captured, branches=branches, takes=tuple(takes))
    return nest.pack_sequence_as(t_result, list(results))


def _predicate(pred):
    """A Python bool, or a bool tensor of one element (scalar when traced)."""
    if isinstance(pred, (bool, np.bool_)) or pred is None:
        return bool(pred)
    if hasattr(pred, "_read_for_op"):
        pred = pred._read_for_op()
    pred = as_tensor(pred)
    if not is_abstract(pred._value):
        return pred  # decided now, by Python's truth value, as TensorFlow's eager cond
    if pred._value.dtype != np.bool_:
        raise InvalidArgumentError(
            f"tf.cond: pred must be a bool tensor; received dtype {pred._value.dtype.name}. "
            f"Compare it first, e.g. `x > 0`.", "cond")
    shape = tuple(pred._value.shape)
    if shape and not all(isinstance(d, int) and d == 1 for d in shape):
        raise ValueError(f"tf.cond: pred must be a scalar (shape ()); received shape "
                         f"{_shape_text(shape)}. Reduce it first, e.g. with tf.reduce_all.")
    return reshape(pred, ()) if shape else pred


def _check_same_structure(a, b, where: str) -> None:
    try:
        nest.assert_same_structure(a, b, check_types=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"At {where}: true_fn and false_fn of tf.cond must return the same "
                         f"structure of tensors: {error}") from None
    for x, y in zip(nest.flatten(a), nest.flatten(b)):
        x, y = convert_to_tensor(x), convert_to_tensor(y)
        if x._value.dtype != y._value.dtype:
            raise TypeError(f"At {where}: true_fn and false_fn of tf.cond return tensors of "
                            f"different dtypes, {x._value.dtype.name} and "
                            f"{y._value.dtype.name}; cast one of them.")


def _merged(a: tuple, b: tuple) -> tuple:
    """One shape for a value that is ``a`` or ``b``: sizes they agree on, else unknown."""
    if len(a) != len(b):
        raise ValueError(f"the branches of tf.cond return tensors of different ranks "
                         f"({len(a)} and {len(b)}); their ranks must match.")
    return tuple(x if dims_equal(x, y) else Dim.fresh("c") for x, y in zip(a, b))


def _cond_shape(pred, *captured, branches, takes):
    outs = zip(branches[0].graph.outputs, branches[1].graph.outputs)
    return tuple(AbstractArray(_merged(t.shape, f.shape), t.dtype) for t, f in outs)


@primitive("cond", shape=_cond_shape, save_inputs=True, multiple_results=True, stateful=True,
           effect=False)
def _cond(xp, pred, *captured, branches, takes):
    taken = 0 if bool(pred) else 1
    results = branches[taken].run([captured[i] for i in takes[taken]])
    return results[0] if len(results) == 1 else tuple(results)


@_cond.defvjp
def _cond_vjp(ctx, grads):
    pred, *captured = ctx.inputs
    branches, takes = ctx.attrs["branches"], ctx.attrs["takes"]
    for branch in branches:
        _refuse_stateful(branch, "a tf.cond branch")
    outputs = branches[0].graph.outputs
    seeds = [_seed(g, value) for g, value in zip(grads, outputs)]
    wanted = [i for i, c in enumerate(captured) if _differentiable(c)]

    def gradient_of(taken):
        def branch_gradient():
            mine = takes[taken]
            inputs = [captured[i] for i in mine]
            grads_in = _differentiate(branches[taken].graph, inputs, seeds)
            by_position = {position: g for position, g in zip(mine, grads_in)}
            return tuple(by_position.get(i) if by_position.get(i) is not None
                         else _zeros_like(captured[i]) for i in wanted)
        return branch_gradient

    if not wanted:
        return (None,) * (1 + len(captured))
    found = iter(cond(pred, gradient_of(0), gradient_of(1)))
    found_by_index = {i: next(found) for i in wanted}
    return (None, *(found_by_index.get(i) for i in range(len(captured))))


def switch_case(branch_index, branch_fns, default=None, name=None):
    """Call ``branch_fns[branch_index]()``, as ``tf.switch_case``.

    ``branch_fns`` is a list of callables, of ``(index, callable)`` pairs, or a dict
    from index to callable, the indices ``0 .. n-1``. An index out of range calls
    ``default``, or the last branch when there is none, as TensorFlow does. In a
    ``tf.function`` it is a chain of ``tf.cond``, so it follows the index of each call.

    >>> import neuroflow as tf
    >>> branches = [lambda: tf.constant(10), lambda: tf.constant(20)]
    >>> int(tf.switch_case(tf.constant(1), branches)), int(tf.switch_case(tf.constant(5), branches))
    (20, 20)
    """
    if not isinstance(branch_index, Tensor) and not hasattr(branch_index, "_read_for_op"):
        raise TypeError(f"'branch_index' must be a Tensor, got {type(branch_index)}")
    if hasattr(branch_index, "_read_for_op"):
        branch_index = branch_index._read_for_op()
    if branch_index._value.dtype.kind not in "iu":
        raise TypeError(f"'branch_index' must be an integer Tensor, got "
                        f"{branch_index._value.dtype.name}")
    fns = _indexed_branches(branch_fns)
    if default is None:
        default = fns[-1]
    elif not callable(default):
        raise TypeError(f"default must be callable; received {type(default).__name__}.")
    if not is_abstract(branch_index._value):
        index = int(branch_index)
        return fns[index]() if 0 <= index < len(fns) else default()

    def from_branch(k):
        if k == len(fns):
            return default
        return lambda: cond(equal(branch_index, k), fns[k], from_branch(k + 1))

    return from_branch(0)()


def _indexed_branches(branch_fns) -> list:
    if isinstance(branch_fns, dict):
        pairs = list(branch_fns.items())
    elif isinstance(branch_fns, (list, tuple)) and branch_fns and all(
            isinstance(p, tuple) and len(p) == 2 for p in branch_fns):
        pairs = list(branch_fns)
    elif isinstance(branch_fns, (list, tuple)):
        pairs = list(enumerate(branch_fns))
    else:
        raise TypeError(f"branch_fns must be a list, tuple or dict of callables; received "
                        f"{type(branch_fns).__name__}.")
    if not pairs:
        raise ValueError("branch_fns must not be empty.")
    keys = sorted(k for k, _ in pairs)
    if keys != list(range(len(pairs))):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to "
                         f"{len(pairs)}) but found {{{','.join(map(str, keys))}}}")
    fns = [fn for _, fn in sorted(pairs, key=lambda p: p[0])]
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"branch_fns must hold callables; received {type(fn).__name__}.")
    return fns


# --- tf.while_loop ------------------------------------------------------------------------


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10,
               back_prop=True, swap_memory=False, maximum_iterations=None, name=None):
    """Repeat ``body`` while ``cond`` holds, as ``tf.while_loop``; returns the loop variables.

    ``cond(*loop_vars)`` gives a bool scalar, ``body(*loop_vars)`` the next loop
    variables, in the same structure. Eagerly it is a Python loop. In a
    ``tf.function``, the condition and the body are traced once and the graph loops;
    a loop variable keeps its shape unless ``shape_invariants`` gives a less specific
    one (``None`` for a size that changes). ``maximum_iterations`` bounds the loop.

    >>> import neuroflow as tf
    >>> f = tf.function(lambda n: tf.while_loop(lambda i, s: i < n,
    ...                                         lambda i, s: (i + 1, s + i), (0, 0))[1])
    >>> int(f(tf.constant(5)))
    10
    """
    if not callable(cond) or not callable(body):
        raise TypeError(f"tf.while_loop: cond and body must be callable; received "
                        f"{type(cond).__name__} and {type(body).__name__}.")
    if not isinstance(parallel_iterations, int) or parallel_iterations <= 0:
        raise ValueError(f"tf.while_loop: parallel_iterations must be a positive integer; "
                         f"received {parallel_iterations!r}.")
    packed = not isinstance(loop_vars, (list, tuple))
    structure = [loop_vars] if packed else loop_vars
    if not nest.flatten(structure):
        raise ValueError("tf.while_loop: loop_vars must not be empty.")
    if maximum_iterations is not None:
        maximum_iterations = as_tensor(maximum_iterations)
        if maximum_iterations._value.dtype.kind not in "iu" or maximum_iterations._value.ndim:
            raise ValueError(f"tf.while_loop: maximum_iterations must be an integer scalar; "
                             f"received {maximum_iterations!r}.")
    if recording.tracer is None:
        result = _python_loop(cond, body, list(structure), maximum_iterations)
    else:
        result = _graph_loop(cond, body, structure, shape_invariants, maximum_iterations)
    if not back_prop:  # deprecated in TensorFlow, which suggests tf.stop_gradient
        result = nest.map_structure(stop_gradient, result)
    if packed:
        return result[0]
    return tuple(result) if type(loop_vars) is tuple else result


def _python_loop(cond, body, structure: list, maximum_iterations) -> list:
    limit = None if maximum_iterations is None else int(maximum_iterations)
    count = 0
    while limit is None or count < limit:
        if not bool(_predicate_of(cond(*structure))):
            break
        structure = _next_vars(body(*structure), structure)
        count += 1
    return structure


def _predicate_of(value):
    if hasattr(value, "_read_for_op"):
        value = value._read_for_op()
    return value


def _next_vars(made, previous) -> list:
    """The body's result as a list like ``previous`` (a lone tensor for one variable)."""
    if len(previous) == 1 and not isinstance(made, (list, tuple)):
        made = [made]
    try:
        nest.assert_same_structure(list(previous), list(made), check_types=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"tf.while_loop: body must return the structure of loop_vars: "
                         f"{error}") from None
    return list(made)


def _graph_loop(cond_fn, body_fn, structure, shape_invariants, maximum_iterations):
    where = user_location()
    tracer = recording.tracer
    initial = [convert_to_tensor(v._read_for_op() if hasattr(v, "_read_for_op") else v)
               for v in nest.flatten(structure)]
    ours: set = set()  # the unknown sizes the loop itself introduces
    shapes = _invariant_shapes(initial, shape_invariants, structure, where, ours)
    dtypes = [t._value.dtype for t in initial]

    def pack(args):
        return nest.pack_sequence_as(structure, list(args))

    while True:  # once more when the body changes a size the trace did not know
        specs = list(zip(shapes, dtypes))
        c_tracer, c_result, c_leaves = _trace_branch(
            "while_cond", lambda *a: cond_fn(*pack(a)), specs, tracer)
        if len(c_leaves) != 1 or c_leaves[0]._value.dtype != np.bool_ or \
                len(c_leaves[0]._value.shape) != 0:
            raise InvalidArgumentError(f"At {where}: the cond of tf.while_loop must return a "
                                       f"bool scalar tensor; it returned {c_result!r}.",
                                       "while_loop")
        b_tracer, b_result, b_leaves = _trace_branch(
            "while_body", lambda *a: _next_vars(body_fn(*pack(a)), structure), specs, tracer)
        relaxed = _check_loop_shapes(shapes, dtypes, b_leaves, where, ours)
        # Relaxed sizes are the loop's own, never relaxed again: the second trace is final.
        if all(a is b for old, new in zip(shapes, relaxed) for a, b in zip(old, new)):
            break
        shapes = relaxed
    captured, takes = _union([c_tracer, b_tracer])
    extra = [] if maximum_iterations is None else [maximum_iterations]
    results = _while_loop(*initial, *captured, *extra, cond=Subgraph(c_tracer.graph),
                          body=Subgraph(b_tracer.graph), count=len(initial),
                          takes=tuple(takes), limited=maximum_iterations is not None)
    return pack(results)


def _invariant_shapes(initial, shape_invariants, structure, where, ours: set) -> list[tuple]:
    if shape_invariants is None:
        return [tuple(t._value.shape) for t in initial]
    invariants = _flatten_up_to(structure, shape_invariants)
    shapes = []
    for tensor, invariant in zip(initial, invariants):
        invariant = tuple(invariant.as_list() if hasattr(invariant, "as_list") else invariant)
        have = tuple(tensor._value.shape)
        if len(invariant) != len(have) or any(
                w is not None and isinstance(h, int) and w != h
                for w, h in zip(invariant, have)):
            raise ValueError(f"At {where}: the shape invariant {invariant} does not fit the "
                             f"loop variable's initial shape {have}.")
        shapes.append(tuple(_loop_size(ours) if w is None else h
                            for w, h in zip(invariant, have)))
    return shapes


def _flatten_up_to(structure, shapes) -> list:
    """The leaves of ``shapes`` where ``structure`` has leaves (a shape is a list itself)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure)
                for leaf in _flatten_up_to(structure[key], shapes[key])]
    if isinstance(structure, (list, tuple)):
        if not isinstance(shapes, (list, tuple)) or len(shapes) != len(structure):
            raise ValueError(f"tf.while_loop: shape_invariants must have the structure of "
                             f"loop_vars; received {shapes!r}.")
        return [leaf for s, sh in zip(structure, shapes) for leaf in _flatten_up_to(s, sh)]
    return [shapes]


def _check_loop_shapes(shapes, dtypes, leaves, where, ours: set) -> list[tuple]:
    """The loop variables' shapes, relaxed where the body changes a size the trace did not
    know; a change of a known size or of a dtype is an error, as in TensorFlow."""
    relaxed = []
    for index, (shape, dtype, leaf) in enumerate(zip(shapes, dtypes, leaves)):
        got = tuple(leaf._value.shape)
        if leaf._value.dtype != dtype:
            raise TypeError(f"At {where}: loop variable {index} enters the loop as "
                            f"{np.dtype(dtype).name} but the body returns "
                            f"{leaf._value.dtype.name}; the dtype must stay the same.")
        if len(got) != len(shape) or any(isinstance(s, int) and not dims_equal(s, g)
                                          for s, g in zip(shape, got)):
            raise ValueError(
                f"At {where}: loop variable {index} enters the loop with shape "
                f"{_shape_text(shape)}, but has shape {_shape_text(got)} after one iteration. "
                f"To allow the shape to vary across iterations, use the `shape_invariants` "
                f"argument of tf.while_loop to specify a less-specific shape.")
        # A size the trace does not know (the batch) that the body may change becomes a
        # size of the loop's own, known only when the loop runs.
        relaxed.append(tuple(
            s if dims_equal(s, g) or (isinstance(s, Dim) and s.symbol in ours)
            else _loop_size(ours) for s, g in zip(shape, got)))
    return relaxed


def _loop_size(ours: set) -> Dim:
    """A new unknown size of the loop's own (``ours`` remembers it)."""
    size = Dim.fresh("w")
    ours.add(size.symbol)
    return size


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if not isinstance(d, int) else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _while_shape(*arrays, cond, body, count, takes, limited):
    return tuple(AbstractArray(v.shape, v.dtype) for v in body.graph.inputs[:count])


def _iterate(arrays, cond, body, count, takes, limited, keep=None):
    """Run the loop on arrays (loop variables, captured, limit); ``keep`` collects the loop
    variables each iteration starts from."""
    state = list(arrays[:count])
    captured = arrays[count:len(arrays) - 1] if limited else arrays[count:]
    limit = int(arrays[-1]) if limited else None
    cond_in = [captured[i] for i in takes[0]]
    body_in = [captured[i] for i in takes[1]]
    iterations = 0
    while (limit is None or iterations < limit) and bool(cond.run(state + cond_in)[0]):
        if keep is not None:
            keep.append(state)
        state = body.run(state + body_in)
        iterations += 1
    return state, captured


@primitive("while_loop", shape=_while_shape, save_inputs=True, save_output=True,
           multiple_results=True, stateful=True, effect=False)
def _while_loop(xp, *arrays, cond, body, count, takes, limited):
    state, _ = _iterate(arrays, cond, body, count, takes, limited)
    return state[0] if len(state) == 1 else tuple(state)


@_while_loop.defvjp
def _while_loop_vjp(ctx, grads):
    attrs = ctx.attrs
    count, body = attrs["count"], attrs["body"]
    _refuse_stateful(body, "a tf.while_loop body")
    _refuse_stateful(attrs["cond"], "a tf.while_loop condition")
    inputs = list(ctx.inputs)
    captured = inputs[count:len(inputs) - 1] if attrs["limited"] else inputs[count:]
    loop_float = [i for i in range(count) if _differentiable(inputs[i])]
    body_captured = [captured[i] for i in attrs["takes"][1]]
    captured_float = [i for i, c in enumerate(body_captured) if _differentiable(c)]
    if not loop_float and not captured_float:
        return (None,) * len(inputs)
    seeds = [grads[i] if grads[i] is not None else _zeros_like(ctx.output[i])
             for i in loop_float]
    step = Subgraph(_body_gradient_graph(body.graph, count, loop_float, captured_float))
    made = _while_loop_grad(*inputs, *seeds, cond=attrs["cond"], body=body, count=count,
                            takes=attrs["takes"], limited=attrs["limited"], step=step,
                            loop_float=tuple(loop_float), captured_float=tuple(captured_float))
    made = iter(made)
    result = [None] * len(inputs)
    for i in loop_float:
        result[i] = next(made)
    offset = count
    for i in captured_float:
        position = offset + attrs["takes"][1][i]
        g = next(made)
        result[position] = g if result[position] is None else result[position] + g
    return tuple(result)


def _body_gradient_graph(graph: Graph, count: int, loop_float: list, captured_float: list):
    """The graph of one backward step of the loop: from an iteration's loop variables, the
    body's captured inputs and the gradient reaching its results, the gradient reaching
    its loop variables and (to be summed over iterations) its captured inputs."""
    from neuroflow.autodiff.tape import GradientTape

    tracer = Tracer("while_body_grad")
    with nested_tracing(tracer):
        inputs = [tracer.add_input(v.shape, v.dtype) for v in graph.inputs]
        seeds = [tracer.add_input(graph.outputs[i].shape, graph.outputs[i].dtype)
                 for i in loop_float]
        sources = [inputs[i] for i in loop_float] + [inputs[count + i] for i in captured_float]
        with GradientTape() as tape:
            tape.watch(sources)
            outs = replay(graph, inputs)
        grads = tape.gradient([outs[i] for i in loop_float], sources, output_gradients=seeds,
                              unconnected_gradients="zero")
        tracer.finish(grads)
    return tracer.graph


def _while_grad_shape(*arrays, cond, body, count, takes, limited, step, loop_float,
                      captured_float):
    ins = body.graph.inputs
    return tuple(AbstractArray(ins[i].shape, ins[i].dtype) for i in loop_float) + tuple(
        AbstractArray(ins[count + i].shape, ins[count + i].dtype) for i in captured_float)


@primitive("while_loop_grad", shape=_while_grad_shape, multiple_results=True, stateful=True,
           effect=False)
def _while_loop_grad(xp, *arrays, cond, body, count, takes, limited, step, loop_float,
                     captured_float):
    forward = arrays[:len(arrays) - len(loop_float)]
    seeds = list(arrays[len(forward):])
    states: list = []
    _, captured = _iterate(forward, cond, body, count, takes, limited, keep=states)
    body_in = [captured[i] for i in takes[1]]
    totals = [np.zeros(np.shape(body_in[i]), body_in[i].dtype) for i in captured_float]
    for state in reversed(states):
        made = step.run(list(state) + body_in + seeds)
        seeds = made[:len(loop_float)]
        totals = [t + g for t, g in zip(totals, made[len(loop_float):])]
    results = [np.asarray(s) for s in seeds] + totals
    return results[0] if len(results) == 1 else tuple(results)


@_while_loop_grad.defvjp
def _while_loop_grad_vjp(ctx, grads):
    raise UnimplementedError("Second derivatives through tf.while_loop are not supported.",
                             "while_loop_grad")


# --- shared helpers -------------------------------------------------------------------

_CONTROL_FLOW = (_cond, _while_loop, _while_loop_grad)



def _refuse_stateful(branch: Subgraph, what: str) -> None:
    if branch.stateful:
        raise UnimplementedError(
            f"The gradient of {what} that draws random numbers (or has another stateful "
            f"op) is not supported: computing it runs the branch again, which would draw "
            f"different numbers. Draw them outside and pass them in.", "cond")


def _differentiable(tensor: Tensor) -> bool:
    return tensor._value.dtype.kind in "fc"


def _seed(grad, value):
    """The gradient reaching a result (None where none did, and for integer results)."""
    return grad if np.dtype(value.dtype).kind in "fc" else None


def _zeros_like(tensor: Tensor) -> Tensor:
    from neuroflow.ops import creation

    return creation.zeros_like(tensor)


def _differentiate(graph: Graph, inputs: list, seeds: list) -> list:
    """The gradient of ``graph``'s outputs (weighted by ``seeds``) with respect to its
    inputs, by replaying it under a tape (None for integer inputs)."""
    from neuroflow.autodiff.tape import GradientTape

    floats = [t for t in inputs if _differentiable(t)]
    with GradientTape() as tape:
        tape.watch(floats)
        outs = replay(graph, inputs)
    targets = [o for o, s in zip(outs, seeds) if s is not None]
    weights = [s for s in seeds if s is not None]
    if not targets or not floats:
        return [None] * len(inputs)
    found = iter(tape.gradient(targets, floats, output_gradients=weights,
                               unconnected_gradients="zero"))
    return [next(found) if _differentiable(t) else None for t in inputs]


__all__ = ["Subgraph", "cond", "replay", "switch_case", "while_loop"]
