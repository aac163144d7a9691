"""Variable updates as one kernel: an optimizer's step over all its variables at once.

An optimizer writes each variable through a few elementwise chains and assignments:
Adam reads the two moments, updates them, then the variable, some seven array calls
a variable, each a pass over memory plus a few microseconds of Python. Every one of
those nodes works element by element at the same index, so the whole run can be one
loop per shape, in one kernel, that keeps each element's intermediates in registers
and writes the variables in place.

:func:`plan` finds such runs. A run (a :class:`Group`) is a stretch of the graph
whose nodes are all

* members: reads of variables, elementwise chains over inputs of their own shape (or
  0-d), and assignments (``assign``, ``assign_add``, ``assign_sub``) after which no
  earlier read of the variable is used (memory planning's test for updating in
  place); or
* 0-d nodes between them (a step count, a bias correction), which run as before and
  reach the kernel as scalars.

The kernel takes the place of the run's last member; the others emit nothing. It
runs each element's statements in the graph's order, so a read after an assignment
sees the new value and one before sees the old, as the separate nodes did. Moving the
assignments to the end of the run is safe because nothing between them reads the
variables they write (the run stops before such a read) and no value a member makes
is used outside the run (the run is cut before such a member). Inputs that are views
of a variable the run writes (a transposed weight) cut the run too: the loop would
read elements it has already written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neuroflow.graph.ir import Graph, Node, Value
from neuroflow.graph.jit import kernels
from neuroflow.graph.passes.fusion import chain_steps
from neuroflow.graph.passes.memory import Lifetimes

_ASSIGNMENTS = {"assign": "", "assign_add": "+", "assign_sub": "-"}


@dataclass
class Group:
    """Node indices of one run's members, in graph order; the kernel goes at the last."""

    members: list[int]
    assigned: set[int] = field(default_factory=set)  # variables written

    @property
    def last(self) -> int:
        return self.members[-1]


def elementwise_steps(node: Node) -> tuple[tuple, list[Value]] | None:
    """``(steps, inputs)`` of an elementwise node (a fused chain or one ufunc), as
    ``kernels.elementwise_chain`` takes them, or None."""
    if node.op == "fused_elementwise":
        return node.attrs["steps"], list(node.inputs)
    if node.lowering.ufunc is None or len(node.results) != 1:
        return None
    return chain_steps([node])  # a chain of one


def _in_place(graph: Graph, inplace: set[int], life: Lifetimes) -> set[int]:
    """Ids of the assignments that may write the variable's array: memory planning's
    (``inplace``, ids) and, by the same test, plain ``assign``s (which codegen does by
    replacing the array)."""
    safe = set(inplace)
    reads: dict[int, list[str]] = {}
    for i, node in enumerate(graph.nodes):
        if node.op == "read_variable":
            reads.setdefault(node.variable, []).append(node.output.name)
        elif node.op == "assign" and all(life.last_use.get(name, -1) <= i
                                         for name in reads.get(node.variable, ())):
            safe.add(id(node))
    return safe


def _fixed(graph: Graph, index: int, value: Value) -> bool:
    """Whether variable ``index`` always holds an array of ``value``'s shape and dtype:
    one declared with a dimension unknown (``shape=[None]``) may be given another shape
    later, which the kernel's loops, sized when it was planned, would not notice."""
    variable = graph.variables[index]
    return variable.shape.is_fully_defined() and \
        tuple(variable.shape.as_list()) == value.shape and \
        variable.current_array().dtype == value.dtype


def _kind(graph: Graph, node: Node, in_place: set[int]) -> str | None:
    """``"read"``, ``"compute"`` or ``"assign"`` for a possible member, ``"scalar"`` for
    a 0-d node that may sit between members, None for a node that ends a run."""
    if node.assigns:
        value = node.inputs[0] if node.inputs else None
        if node.op not in _ASSIGNMENTS or id(node) not in in_place or value is None or \
                not value.is_static or kernels.dtype_name(value.dtype) is None:
            return None
        if not _fixed(graph, node.variable, value):
            return None
        return "assign"
    if node.has_effect or not node.results or not all(v.is_static for v in node.results):
        return None
    if all(v.shape == () for v in node.results):
        return "scalar"
    out = node.output
    if kernels.dtype_name(out.dtype) is None:
        return None
    if node.op == "read_variable":
        return "read" if _fixed(graph, node.variable, out) else None
    found = elementwise_steps(node)
    if found is None:
        return None
    steps, inputs = found
    if any(ufunc not in kernels.SUPPORTED_UFUNCS for ufunc, _ in steps) or \
            any(v.dtype != out.dtype or (v.shape and v.shape != out.shape) or not v.is_static
                for v in inputs):
        return None
    return "compute"


def plan(graph: Graph, inplace: set[int], life: Lifetimes,
         varying: set[str] = frozenset()) -> list[Group]:
    """The runs of ``graph`` worth one kernel each (at least one assignment and two
    members). ``inplace`` holds the ids of the assignments memory planning does in
    place; ``life`` is the graph's ``passes.memory.lifetimes``; ``varying`` names values
    whose shape may change after tracing, which no member reads."""
    nodes = graph.nodes
    in_place = _in_place(graph, inplace, life)
    kinds = [_kind(graph, node, in_place) for node in nodes]
    for i, node in enumerate(nodes):  # a 0-d result has its shape whatever its inputs'
        if kinds[i] != "scalar" and any(v.name in varying for v in node.inputs):
            kinds[i] = None
    consumers: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for value in node.inputs:
            consumers.setdefault(value.name, []).append(i)
    returned = {v.name for v in graph.outputs}
    reads_of: dict[int, set[str]] = {}  # variable -> names of its reads' values
    for node in nodes:
        if node.op == "read_variable":
            reads_of.setdefault(node.variable, set()).add(node.output.name)

    groups = []
    start = 0
    while start < len(nodes):
        if kinds[start] not in ("read", "compute", "assign"):
            start += 1
            continue
        members = _grow(nodes, kinds, start)
        while members:
            cut = _first_escape(nodes, members, consumers, returned, reads_of, life.roots)
            if cut is None:
                break
            members = [i for i in members if i < cut]
        group = Group(members, {nodes[i].variable for i in members if kinds[i] == "assign"})
        if group.assigned and len(members) >= 2:
            groups.append(group)
            start = group.last + 1
        else:
            start += 1
    return groups


def _grow(nodes: list[Node], kinds: list[str | None], start: int) -> list[int]:
    """Members of the longest run from ``start``: it ends before a node that is neither a
    member nor a 0-d node, and before a 0-d node's read of a variable the run writes
    (the read would come before the kernel's write). A 0-d read before the assignment
    is fine: an in-place assignment comes after every use of earlier reads."""
    members: list[int] = []
    assigned: set[int] = set()
    for i in range(start, len(nodes)):
        node, kind = nodes[i], kinds[i]
        if kind == "scalar":
            if node.op == "read_variable" and node.variable in assigned:
                break
            continue
        if kind is None:
            break
        if kind == "assign":
            assigned.add(node.variable)
        members.append(i)
    while members and kinds[members[-1]] != "assign":
        members.pop()  # trailing reads and chains feed nothing in the run
    return members


def _first_escape(nodes: list[Node], members: list[int], consumers: dict[str, list[int]],
                  returned: set[str], reads_of: dict[int, set[str]],
                  roots: dict[str, frozenset[str]]) -> int | None:
    """The first member that cannot join: its value is used outside the run (or
    returned), or it reads a view of a variable the run writes."""
    inside = set(members)
    written = set().union(*(reads_of.get(nodes[i].variable, set()) for i in members
                            if nodes[i].assigns))
    made = {v.name for i in members for v in nodes[i].results}
    for i in members:
        node = nodes[i]
        for value in node.results:
            used = consumers.get(value.name, ())
            if value.name in returned or any(c not in inside for c in used):
                return i
        for value in node.inputs:
            if value.name in made:
                continue
            shared = roots.get(value.name, frozenset((value.name,)))
            if shared & written and shared != {value.name}:
                return i
    return None


class UpdateKernel:
    """The kernel of one :class:`Group`: its source and the arguments to call it with."""

    def __init__(self, graph: Graph, group: Group):
        self._graph = graph
        self._group = group
        self.arguments: list[str] = []  # call-site expressions, in the kernel's order
        self._parameters: list[str] = []
        self._names: dict[str, str] = {}  # call-site expression -> parameter name
        self._locals: set[str] = set()  # values computed inside the kernel

    def _parameter(self, expression: str, prefix: str) -> str:
        name = self._names.get(expression)
        if name is None:
            name = f"{prefix}{sum(1 for p in self._parameters if p.startswith(prefix))}"
            self._names[expression] = name
            self._parameters.append(name)
            self.arguments.append(expression)
        return name

    def _variable(self, index: int) -> str:
        """The parameter holding variable ``index``'s array (writable if the run writes it:
        copied first if a tensor may share it)."""
        read = "writable_array" if index in self._group.assigned else "current_array"
        return self._parameter(f"V{index}.{read}()", "w")

    def _operand(self, value: Value, at: str) -> str:
        if value.name in self._locals:
            return value.name
        if not value.shape:
            return self._parameter(f"{value.name}[()]", "s")  # a 0-d array or a scalar
        return f"{self._parameter(value.name, 'a')}[{at}]"

    def source(self, parallel: bool) -> kernels.KernelSource:
        """One loop nest per shape among the members, each element's statements in graph
        order."""
        by_shape: dict[tuple, list[str]] = {}
        bounds: dict[tuple, str] = {}
        for i in self._group.members:
            node = self._graph.nodes[i]
            shape = node.inputs[0].shape if node.assigns else node.output.shape
            at = ", ".join(f"i{axis}" for axis in range(len(shape))) or "()"
            lines = by_shape.setdefault(shape, [])
            lines += self._statements(node, at)
            if shape not in bounds:
                bounds[shape] = self._bound(node, shape)
        loops = [(bounds[shape], len(shape), lines) for shape, lines in by_shape.items()]
        return kernels.variable_updates(self._parameters, loops, parallel)

    def _bound(self, node: Node, shape: tuple) -> str:
        """A parameter with ``shape``, whose ``.shape`` the loops read."""
        if node.assigns or node.op == "read_variable":
            return self._variable(node.variable)
        return next(self._names[v.name] for v in node.inputs
                    if v.shape == shape and v.name in self._names)

    def _statements(self, node: Node, at: str) -> list[str]:
        if node.op == "read_variable":
            self._locals.add(node.output.name)
            return [f"{node.output.name} = {self._variable(node.variable)}[{at}]"]
        if node.assigns:
            target = f"{self._variable(node.variable)}[{at}]"
            value = self._operand(node.inputs[0], at)
            if node.op == "assign":
                return [f"{target} = {value}"]
            return [f"{target} = {target} {_ASSIGNMENTS[node.op]} {value}"]
        steps, inputs = elementwise_steps(node)
        out = node.output.name
        dtype = kernels.dtype_name(node.output.dtype)
        lines = []
        for ufunc, operands in steps:
            names = [out if o == -1 else (f"np.{dtype}(0)" if o == "zero" else
                                          self._operand(inputs[o], at)) for o in operands]
            lines.append(f"{out} = {kernels.scalar_step(ufunc, names)}")
        self._locals.add(out)
        return lines
