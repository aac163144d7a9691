"""Pictures of traced graphs: ``neuroflow.graph.draw(fn.graph, "step.png")``.

Each node of the IR is a box naming its op and the types of what it makes (``matmul``,
``f32[32,100]``); the function's inputs, the constants and variables it reads, and its
results are boxes too, and arrows follow the values. The boxes are placed by the layered
layout ``plot_model`` uses (``util/layered.py``: ranks by longest path, few crossings,
long arrows kept straight through the ranks they cross) and painted with matplotlib (the
optional ``plot`` extra) on a canvas of its own, so a user's pyplot state is untouched.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field

from neuroflow.graph.ir import Graph, type_string
from neuroflow.util import layered
from neuroflow.util.files import write_atomically

FORMATS = ("png", "svg", "pdf")
RANKDIRS = ("TB", "LR")
TEXT_SIZE = 10.0  # points, in DejaVu Sans Mono (ships with matplotlib)
CHAR_WIDTH = 0.61  # of a monospaced character, in ems
PADDING = 6.0
RANK_GAP = 30.0
MARGIN = 8.0
# Fill colours by what a box is.
FILLS = {"input": "#cfe2f3", "const": "#eeeeee", "variable": "#d9ead3", "op": "#ffffff",
         "effect": "#fce5cd", "fused": "#e6ddf3", "output": "#cfe2f3"}


@dataclass(eq=False)
class Item:
    """One box of the picture: its text lines, kind, size and place (top-left corner)."""

    lines: list[str]
    kind: str
    width: float = 0.0
    height: float = 0.0
    x: float = 0.0
    y: float = 0.0
    sources: list[Item] = field(default_factory=list)


def draw(graph, to_file: str | os.PathLike = "graph.png", rankdir: str = "TB",
         dpi: float = 150, show_types: bool = True) -> str:
    """Draw ``graph`` (a neuroflow IR :class:`Graph`, or a ``tf.function``/concrete
    function, whose ``graph`` is drawn) and save it to ``to_file``; returns the path.

    The extension picks the format (``.png``, ``.svg`` or ``.pdf``); ``rankdir`` is
    ``"TB"`` (top to bottom) or ``"LR"``; ``show_types`` adds each value's dtype and shape.

    ```python
    step = tf.function(lambda x, w: tf.nn.relu(tf.matmul(x, w)))
    step(tf.ones([2, 3]), tf.ones([3, 4]))
    neuroflow.graph.draw(step.graph, "step.svg")
    ```
    """
    graph = getattr(graph, "graph", graph)
    if not isinstance(graph, Graph):
        raise TypeError(f"draw expects a neuroflow graph (fn.graph) or a tf.function; "
                        f"received {type(graph).__name__}.")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}; received rankdir={rankdir!r}.")
    path = os.fspath(to_file)
    extension = os.path.splitext(path)[1][1:].lower() or "png"
    if extension not in FORMATS:
        raise ValueError(f"draw writes {', '.join(FORMATS)} pictures, chosen by the extension "
                         f"of to_file; received to_file={path!r}. Use a name ending in .png, "
                         f".svg or .pdf.")
    items = graph_items(graph, show_types)
    width, height, routes = lay_out(items, rankdir)
    write_atomically(path, _render(items, routes, width, height, extension, float(dpi)))
    return path


def graph_items(graph: Graph, show_types: bool = True) -> list[Item]:
    """The boxes of ``graph`` in program order, each knowing the boxes it reads."""
    def typed(name: str, value) -> str:
        return f"{name}: {type_string(value.shape, value.dtype)}" if show_types else name

    producer: dict[str, Item] = {}
    items: list[Item] = []
    for value in graph.inputs:
        producer[value.name] = Item([f"input {value.name}", typed("", value).lstrip(": ")],
                                    "input")
        items.append(producer[value.name])
    used = {v.name for node in graph.nodes for v in node.inputs} | \
        {v.name for v in graph.outputs}
    for name, array in graph.constants.items():
        if name in used:
            shape = f": {type_string(array.shape, array.dtype)}" if show_types else ""
            producer[name] = Item([f"const {name}{shape}"], "const")
            items.append(producer[name])
    for node in graph.nodes:
        title = node.op
        if node.variable >= 0:
            title = f"{node.op} {graph.variable_label(node.variable)}"
        kind = "effect" if node.has_effect else "op"
        if node.op == "read_variable":
            kind = "variable"
        elif not hasattr(node.primitive, "vjp") and not node.assigns:
            kind = "fused"  # a GraphOp: made by fusion
        lines = [title] + ([typed(v.name, v) for v in node.results] if node.results else [])
        item = Item(lines, kind, sources=[producer[v.name] for v in node.inputs
                                          if v.name in producer])
        items.append(item)
        for value in node.results:
            producer[value.name] = item
    if graph.outputs:
        items.append(Item(["return " + ", ".join(v.name for v in graph.outputs)], "output",
                          sources=[producer[v.name] for v in graph.outputs
                                   if v.name in producer]))
    for item in items:
        widest = max(len(line) for line in item.lines)
        item.width = widest * TEXT_SIZE * CHAR_WIDTH + 2 * PADDING
        item.height = len(item.lines) * TEXT_SIZE * 1.3 + 2 * PADDING
    return items


def lay_out(items: list[Item], rankdir: str = "TB") -> tuple[float, float, list]:
    """Place the boxes; returns the picture's width and height and one polyline per arrow
    (a list of ``(x, y)`` points from the source box to the target box)."""
    across = "TB" == rankdir
    nodes = {id(item): layered.Node(item.width if across else item.height,
                                    item.height if across else item.width, box=item, index=i)
             for i, item in enumerate(items)}
    links = [(nodes[id(source)], nodes[id(item)]) for item in items
             for source in dict.fromkeys(item.sources)]
    ordered = layered.topological(list(nodes.values()), links)
    before: dict = {node: [] for node in nodes.values()}
    for source, target in links:
        before[target].append(source)
    for node in ordered:
        node.rank = max((s.rank + 1 for s in before[node]), default=0)
    # A constant or a variable read sits just before its first reader, not at the top.
    after: dict = {node: [] for node in nodes.values()}
    for source, target in links:
        after[source].append(target)
    for node in nodes.values():
        if node.box.kind in ("const", "variable") and not before[node] and after[node]:
            node.rank = min(t.rank for t in after[node]) - 1
    ranks: list[list] = [[] for _ in range(max(n.rank for n in nodes.values()) + 1)]
    for node in nodes.values():
        ranks[node.rank].append(node)
    chains = []
    for source, target in links:
        previous, dummies = source, []
        for rank in range(source.rank + 1, target.rank):
            dummy = layered.Node(layered.EDGE_ROOM, 0.0, index=source.index, rank=rank)
            ranks[rank].append(dummy)
            layered.connect(previous, dummy)
            dummies.append(dummy)
            previous = dummy
        layered.connect(previous, target)
        chains.append(dummies)
    ranks = layered.order_ranks(ranks)
    layered.place_across(ranks, chains)
    low = min(n.o - n.breadth / 2 for rank in ranks for n in rank)
    high = max(n.o + n.breadth / 2 for rank in ranks for n in rank)
    depths = [max(n.depth for n in rank) for rank in ranks]
    starts = [MARGIN + sum(depths[:k]) + RANK_GAP * k for k in range(len(ranks))]

    def point(o: float, along: float) -> tuple[float, float]:
        o = o - low + MARGIN
        return (o, along) if across else (along, o)

    for node in nodes.values():
        item = node.box
        item.x, item.y = point(node.o - node.breadth / 2,
                               starts[node.rank] + (depths[node.rank] - node.depth) / 2)
    routes = []
    for (source, target), dummies in zip(links, chains):
        s_end = starts[source.rank] + (depths[source.rank] + source.depth) / 2
        t_start = starts[target.rank] + (depths[target.rank] - target.depth) / 2
        stations = [point(source.o, s_end)]
        for dummy in dummies:
            stations += [point(dummy.o, starts[dummy.rank]),
                         point(dummy.o, starts[dummy.rank] + depths[dummy.rank])]
        stations.append(point(target.o, t_start))
        routes.append(stations)
    breadth = high - low + 2 * MARGIN
    length = starts[-1] + depths[-1] + MARGIN
    return (breadth, length, routes) if across else (length, breadth, routes)


def _render(items: list[Item], routes: list, width: float, height: float, fmt: str,
            dpi: float) -> bytes:
    try:
        from matplotlib import figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.patches import FancyArrowPatch, Rectangle
    except ImportError as error:
        raise ImportError("draw paints with matplotlib, which is not installed. Install it "
                          "with `pip install matplotlib` (or the extra: `pip install "
                          "neuroflow[plot]`).") from error
    fig = figure.Figure(figsize=(width / 72, height / 72))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    for stations in routes:
        xs, ys = zip(*stations)
        ax.plot(xs[:-1], ys[:-1], color="#555555", linewidth=1.0)
        ax.add_patch(FancyArrowPatch(stations[-2], stations[-1], arrowstyle="-|>",
                                     mutation_scale=10, color="#555555", linewidth=1.0,
                                     shrinkA=0, shrinkB=0))
    for item in items:
        ax.add_patch(Rectangle((item.x, item.y), item.width, item.height,
                               facecolor=FILLS[item.kind], edgecolor="black", linewidth=1.0))
        for k, line in enumerate(item.lines):
            ax.text(item.x + item.width / 2, item.y + PADDING + (k + 0.5) * TEXT_SIZE * 1.3,
                    line, ha="center", va="center", fontsize=TEXT_SIZE,
                    family="DejaVu Sans Mono", fontweight="bold" if k == 0 else "normal")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi if fmt == "png" else 72)
    return buffer.getvalue()
