"""Where ``plot_model`` puts each box, frame and arrow: the picture's geometry, not its drawing.

:func:`layout_model` turns a model into a :class:`Layout`: one :class:`Box` per layer (its
label cells already measured), one :class:`Edge` per connection and, when nested models
are expanded, one :class:`Frame` per nested model. Nothing here imports matplotlib, so the
geometry can be checked without rendering; ``plot_model.py`` only paints it.

The layout is the layered one Graphviz's ``dot`` draws for Keras:

1. **ranks**: each layer sits one rank after the deepest layer it reads (longest path
   from the inputs). An edge that spans several ranks passes through invisible "dummy"
   points, one per rank crossed, so that it runs between the boxes, not over them.
2. **order within a rank**: the model's own layer order, refined by sweeps that sort each
   rank by the mean position of its neighbours (a stable sort, so ties keep the model's
   order) and by swapping neighbours that cross; the order with the fewest crossings is
   kept.
3. **coordinates**: each box is pulled towards its neighbours, long edges most strongly,
   while keeping the boxes of a rank apart (a least-squares fit under order constraints).

Positions are computed along two abstract axes, *o* (across a rank) and *r* (along the
flow), and mapped to the picture at the end: ``TB`` puts *r* downwards, ``BT`` upwards,
``LR`` rightwards and ``RL`` leftwards. Sizes are in points (1/72 inch), as in Graphviz.

An expanded nested model is laid out on its own, recursively, and then takes the place of
a single box in its parent: a framed block, so that nothing else can overlap it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from neuroflow.keras.layers.base import format_shape
from neuroflow.keras.layers.core import InputLayer
from neuroflow.util import layered
from neuroflow.util.layered import EDGE_ROOM, Node

RANKDIRS = ("TB", "LR", "BT", "RL")
TITLE_SIZE = 16.0  # Keras's label fonts: 16 pt for the title row, 14 pt for the others
TEXT_SIZE = 14.0
CELL_PADDING = 10.0  # Keras's cellpadding
CELL_SPACING = 2.0  # black between the cells, which outlines the box
RANK_GAP = 36.0  # Graphviz's default ranksep (0.5 in)
PORT_GAP = 12.0  # between edges meeting a box on the same side
PORT_MARGIN = 10.0  # no edge meets a box closer than this to its corners
LOOP_ROOM = 14.0  # beside a box, for the loop of a layer that reads its own output
FRAME_PADDING = 12.0
MARGIN = 8.0
TRAINABLE_FILL = "forestgreen"
NON_TRAINABLE_FILL = "firebrick"

# Text width in points of (text, font size, bold). The default estimate is close to
# DejaVu Sans; plot_model passes matplotlib's exact measure.
Measure = Callable[[str, float, bool], float]


def estimate_width(text: str, size: float, bold: bool) -> float:
    return len(text) * size * (0.62 if bold else 0.55)


def line_height(size: float) -> tuple[float, float]:
    """(ascent, descent) of a line of text at ``size`` points, as in DejaVu Sans."""
    return 0.76 * size, 0.24 * size


@dataclass(eq=False)
class Cell:
    """One cell of a box: text runs ``(text, bold)``; its rectangle is relative to the box."""

    runs: tuple[tuple[str, bool], ...]
    size: float
    fill: str = "white"
    color: str = "black"
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.runs)


@dataclass(eq=False)
class Box:
    """A layer's box. ``x, y`` is its top-left corner in the picture (y grows downwards);
    ``rank`` and ``order`` are its place in the layering of its own (sub)model."""

    layer: object
    rows: list[list[Cell]]
    width: float
    height: float
    x: float = 0.0
    y: float = 0.0
    rank: int = 0
    order: int = 0
    frame: Frame | None = None

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def texts(self) -> list[str]:
        """The label, one string per row, cells of a row joined by ``" | "``."""
        return [" | ".join(cell.text for cell in row) for row in self.rows]


@dataclass(eq=False)
class Frame:
    """The dashed frame around an expanded nested model, its name at the top left."""

    model: object
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0
    parent: Frame | None = None

    @property
    def label(self) -> str:
        return self.model.name


@dataclass(eq=False)
class Edge:
    """An arrow from ``source`` to ``target``: a polyline whose last point is the tip."""

    source: Box
    target: Box
    points: list[tuple[float, float]]


@dataclass
class Layout:
    boxes: list[Box]
    edges: list[Edge]
    frames: list[Frame]
    width: float
    height: float
    rankdir: str

    def box(self, name: str) -> Box:
        for box in self.boxes:
            if box.name == name:
                return box
        raise KeyError(f"No box for a layer named {name!r}; the boxes are "
                       f"{[b.name for b in self.boxes]}.")

    def edge_names(self) -> list[tuple[str, str]]:
        return [(edge.source.name, edge.target.name) for edge in self.edges]


def layout_model(model, show_shapes=False, show_dtype=False, show_layer_names=False,
                 rankdir="TB", expand_nested=False, show_layer_activations=False,
                 show_trainable=False, measure: Measure | None = None) -> Layout:
    """The geometry of ``plot_model``'s picture of ``model`` (same arguments, see there)."""
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}; received rankdir={rankdir!r}.")
    labels = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                  show_layer_names=show_layer_names,
                  show_layer_activations=show_layer_activations,
                  show_trainable=show_trainable)
    context = _Context(rankdir, labels, measure or estimate_width, expand_nested)
    top = _Level(model, context, nested=False)
    top.place(MARGIN, MARGIN, None)
    total_r = top.depth + 2 * MARGIN
    total_o = top.breadth + 2 * MARGIN
    context.total_r = total_r
    edges = [context.finish_edge(route)
             for route in _settle_ports(top.collect_routes(), rankdir)]
    for box in context.boxes:
        box.x, box.y, _, _ = context.to_picture(box.x, box.y, *_abstract_size(box, rankdir))
    for frame in context.frames:
        frame.x, frame.y, frame.width, frame.height = context.to_picture(
            frame.x, frame.y, frame.width, frame.height)
    width, height = (total_o, total_r) if rankdir in ("TB", "BT") else (total_r, total_o)
    return Layout(context.boxes, edges, context.frames, width, height, rankdir)


# --- labels ---------------------------------------------------------------------------------


def _make_box(layer, facts: tuple[str, str, str], labels: dict, measure: Measure) -> Box:
    """A box labelled as Keras labels it: title row, activation row, then a row of cells."""
    class_name = type(layer).__name__
    title = ((layer.name, True), (f" ({class_name})", False)) if labels["show_layer_names"] \
        else ((class_name, True),)
    rows = [[Cell(title, TITLE_SIZE, fill="black", color="white")]]
    activation = getattr(layer, "activation", None)
    if labels["show_layer_activations"] and activation is not None:
        rows.append([Cell((("Activation: ", False), (_activation_name(activation), True)),
                          TEXT_SIZE)])
    input_shape, output_shape, dtype = facts
    cells = []
    if labels["show_shapes"]:
        if not isinstance(layer, InputLayer):
            cells.append(Cell((("Input shape: ", False), (input_shape, True)), TEXT_SIZE))
        cells.append(Cell((("Output shape: ", False), (output_shape, True)), TEXT_SIZE))
    if labels["show_dtype"]:
        cells.append(Cell((("Output dtype: ", False), (dtype, True)), TEXT_SIZE))
    # Keras tells trainable from frozen only for layers that have weights to freeze.
    if labels["show_trainable"] and layer.weights:
        text, fill = ("Trainable", TRAINABLE_FILL) if layer.trainable \
            else ("Non-trainable", NON_TRAINABLE_FILL)
        cells.append(Cell(((text, True),), TEXT_SIZE, fill=fill, color="white"))
    if cells:
        rows.append(cells)
    width, height = _size_cells(rows, measure)
    return Box(layer, rows, width, height)


def _size_cells(rows: list[list[Cell]], measure: Measure) -> tuple[float, float]:
    """Give every cell its rectangle; return the box's size. Each row spans the full width,
    the cells of a row sharing out whatever width the widest row leaves them."""
    for row in rows:
        for cell in row:
            ascent, descent = line_height(cell.size)
            cell.width = sum(measure(t, cell.size, b) for t, b in cell.runs) + 2 * CELL_PADDING
            cell.height = ascent + descent + 2 * CELL_PADDING
    inner = max(sum(c.width for c in row) + CELL_SPACING * (len(row) - 1) for row in rows)
    y = CELL_SPACING
    for row in rows:
        extra = (inner - sum(c.width for c in row) - CELL_SPACING * (len(row) - 1)) / len(row)
        x = CELL_SPACING
        height = max(cell.height for cell in row)
        for cell in row:
            cell.width += extra
            cell.x, cell.y, cell.height = x, y, height
            x += cell.width + CELL_SPACING
        y += height + CELL_SPACING
    return inner + 2 * CELL_SPACING, y


def _activation_name(activation) -> str:
    if hasattr(activation, "name"):
        return str(activation.name)
    return getattr(activation, "__name__", str(activation))


def _shape_text(shapes: list) -> str:
    """One shape as ``(None, 3)``; several as a list, ``[(None, 3), (None, 4)]`` (Keras's)."""
    if len(shapes) == 1:
        return format_shape(shapes[0])
    return "[" + ", ".join(format_shape(s) for s in shapes) + "]"


def _layer_facts(layer, chained_input=None) -> tuple[str, str, str]:
    """(input shape, output shape, output dtype) as Keras shows them, ``?`` where unknown.

    Keras reads them from the layer's first call on Keras tensors, whichever model that
    call belongs to. Layers of a Sequential model are never called on Keras tensors here,
    so their shapes come from the model's build: ``chained_input`` is what reaches the
    layer, its output the shape the build recorded.
    """
    nodes = getattr(layer, "_inbound_nodes", None)
    if nodes:
        node = nodes[0]
        outputs = node.output_tensors
        dtypes = [t.dtype for t in outputs]
        return (_shape_text([t.shape for t in node.input_tensors]),
                _shape_text([t.shape for t in outputs]),
                dtypes[0] if len(dtypes) == 1 else str(dtypes))
    output = getattr(layer, "_output_shape_for_summary", None)
    if chained_input is None or output is None:
        return "?", "?", "?"
    as_list = list(output) if output and isinstance(output[0], (list, tuple)) else [output]
    return _shape_text([chained_input]), _shape_text(as_list), str(layer.dtype)


# --- the graph of one (sub)model ------------------------------------------------------------


def _model_classes():
    from neuroflow.keras.models.functional import Functional
    from neuroflow.keras.models.sequential import Sequential

    return Functional, Sequential


def _members(model) -> tuple[list, list[tuple], list[tuple]]:
    """The layers drawn for ``model``, their facts, and its connections as
    ``(source layer, target layer, source's output index, target's input index)``.

    A functional model connects what its nodes read (the calls in this model only, as the
    summary's "Connected to" column does); a Sequential model chains its layers (Keras 3
    draws no box for its Input); any other model is a single box.
    """
    functional, sequential = _model_classes()
    if isinstance(model, functional):
        layers = model.layers
        in_model = model._node_set
        links = []
        for layer in layers:
            for node in layer._inbound_nodes:
                if node not in in_model:
                    continue
                for input_index, tensor in enumerate(node.input_tensors):
                    source, _, output_index = tensor._keras_history
                    links.append((source, layer, output_index, input_index))
        return layers, [_layer_facts(layer) for layer in layers], links
    if isinstance(model, sequential):
        layers = model.layers
        facts, shape = [], model._build_input_shape
        for layer in layers:
            facts.append(_layer_facts(layer, shape))
            shape = getattr(layer, "_output_shape_for_summary", None)
        return layers, facts, [(a, b, 0, 0) for a, b in zip(layers, layers[1:])]
    return [model], [_layer_facts(model)], []


@dataclass(eq=False)
class _Link:
    source: Node
    target: Node
    source_box: Box
    target_box: Box
    reversed: bool = False
    dummies: list = field(default_factory=list)


class _Context:
    """What every level shares: options, text measure, and everything made so far."""

    def __init__(self, rankdir: str, labels: dict, measure: Measure, expand: bool):
        self.rankdir, self.labels, self.measure, self.expand = rankdir, labels, measure, expand
        self.boxes: list[Box] = []
        self.frames: list[Frame] = []
        self.total_r = 0.0

    def to_picture(self, o: float, r: float, breadth: float, depth: float):
        """An abstract rectangle as (x, y, width, height) in the picture."""
        if self.rankdir == "TB":
            return o, r, breadth, depth
        if self.rankdir == "BT":
            return o, self.total_r - r - depth, breadth, depth
        if self.rankdir == "LR":
            return r, o, depth, breadth
        return self.total_r - r - depth, o, depth, breadth

    def point(self, o: float, r: float) -> tuple[float, float]:
        x, y, _, _ = self.to_picture(o, r, 0.0, 0.0)
        return x, y

    def finish_edge(self, route) -> Edge:
        source, target, stations = route
        points = []
        for o, r in stations:
            point = self.point(o, r)
            if not points or points[-1] != point:
                points.append(point)
        return Edge(source, target, points)


def _abstract_size(box: Box, rankdir: str) -> tuple[float, float]:
    return (box.width, box.height) if rankdir in ("TB", "BT") else (box.height, box.width)


class _Level:
    """The layering of one model's layers; nested expanded models are single nodes."""

    def __init__(self, model, context: _Context, nested: bool):
        self.model, self.context, self.nested = model, context, nested
        self.frame = Frame(model) if nested else None
        layers, facts, links = _members(model)
        self.nodes: dict[int, Node] = {}
        for index, (layer, fact) in enumerate(zip(layers, facts)):
            self.nodes[id(layer)] = self._node_for(layer, fact, index)
        self.links: list[_Link] = []
        seen = set()
        for source, target, output_index, input_index in links:
            s, t = self.nodes[id(source)], self.nodes[id(target)]
            s_box = s.level.exit_box(output_index) if s.level else s.box
            t_box = t.level.entry_box(input_index) if t.level else t.box
            if (s_box, t_box) not in seen:  # one arrow per pair of boxes, as in Keras
                seen.add((s_box, t_box))
                self.links.append(_Link(s, t, s_box, t_box))
                if s is t:  # room for the loop, on both sides to keep the box centred
                    s.breadth += 2 * LOOP_ROOM
        self.exit_paths: dict[Box, tuple[Node, list[Node]]] = {}
        self._rank()
        self._order()
        self._coordinates()

    def _node_for(self, layer, facts, index: int) -> Node:
        functional, sequential = _model_classes()
        context = self.context
        if context.expand and isinstance(layer, (functional, sequential)) and layer.layers:
            level = _Level(layer, context, nested=True)
            return Node(level.breadth, level.depth, level=level, index=index)
        box = _make_box(layer, facts, context.labels, context.measure)
        context.boxes.append(box)
        return Node(*_abstract_size(box, context.rankdir), box=box, index=index)

    # --- which box an arrow into or out of this (nested) model reaches -------------------
    def _node_of(self, layer) -> Node:
        return self.nodes[id(layer)]

    def exit_box(self, output_index: int) -> Box:
        node, index = self._exit(output_index)
        return node.level.exit_box(index) if node.level else node.box

    def _exit(self, output_index: int) -> tuple[Node, int]:
        functional, _ = _model_classes()
        if isinstance(self.model, functional):
            layer, _, index = self.model.outputs[output_index]._keras_history
            return self._node_of(layer), index
        return self._node_of(self.model.layers[-1]), output_index

    def entry_box(self, input_index: int) -> Box:
        functional, _ = _model_classes()
        if isinstance(self.model, functional):
            return self._node_of(self.model.inputs[input_index]._keras_history[0]).box
        node = self._node_of(self.model.layers[0])
        return node.level.entry_box(input_index) if node.level else node.box

    # --- 1. ranks ---------------------------------------------------------------------------
    def _rank(self) -> None:
        nodes = list(self.nodes.values())
        back = layered.back_links(nodes, self.links)
        for i in back:
            self.links[i].reversed = True
        forward = [(lk.target, lk.source) if lk.reversed else (lk.source, lk.target)
                   for lk in self.links if lk.source is not lk.target]
        before: dict[Node, list[Node]] = {n: [] for n in nodes}
        for source, target in forward:
            before[target].append(source)
        for node in layered.topological(nodes, forward):
            node.rank = max((s.rank + 1 for s in before[node]), default=0)
        self.ranks: list[list[Node]] = [[] for _ in range(max(n.rank for n in nodes) + 1)]
        for node in nodes:
            self.ranks[node.rank].append(node)
        for link in self.links:
            if link.source is link.target:
                continue
            start, end = (link.target, link.source) if link.reversed else \
                (link.source, link.target)
            link.dummies = self._chain(start, end.rank, end)
        if self.nested:
            # Arrows leave a nested model at its far side: an output computed before the
            # last rank gets a path through the later ranks, kept clear like an edge's.
            for output_index in range(self._output_count()):
                node, _ = self._exit(output_index)
                box = self.exit_box(output_index)
                if box not in self.exit_paths:
                    self.exit_paths[box] = (node, self._chain(node, len(self.ranks), None))

    def _output_count(self) -> int:
        functional, _ = _model_classes()
        return len(self.model.outputs) if isinstance(self.model, functional) else 1

    def _chain(self, start: Node, end_rank: int, end: Node | None) -> list[Node]:
        """Dummy nodes on the ranks strictly between ``start`` and ``end_rank``, linked."""
        previous, dummies = start, []
        for rank in range(start.rank + 1, end_rank):
            dummy = Node(EDGE_ROOM, 0.0, index=start.index, rank=rank)
            self.ranks[rank].append(dummy)
            layered.connect(previous, dummy)
            dummies.append(dummy)
            previous = dummy
        if end is not None:
            layered.connect(previous, end)
        return dummies

    # --- 2. order within the ranks ----------------------------------------------------------
    def _order(self) -> None:
        self.ranks = layered.order_ranks(self.ranks)
        for rank in self.ranks:
            for i, node in enumerate(rank):
                if node.box is not None:
                    node.box.rank, node.box.order = node.rank, i

    # --- 3. coordinates ---------------------------------------------------------------------
    def _coordinates(self) -> None:
        chains = [link.dummies for link in self.links] + \
            [dummies for _, dummies in self.exit_paths.values()]
        layered.place_across(self.ranks, chains)
        low = min(n.o - n.breadth / 2 for rank in self.ranks for n in rank)
        high = max(n.o + n.breadth / 2 for rank in self.ranks for n in rank)
        self.rank_depths = [max(n.depth for n in rank) for rank in self.ranks]
        content_r = sum(self.rank_depths) + RANK_GAP * (len(self.ranks) - 1)
        self.inset = self._insets(high - low, content_r)
        o_before, o_after, r_before, r_after = self.inset
        for rank in self.ranks:
            for node in rank:
                node.o += o_before - low
        self.breadth = o_before + (high - low) + o_after
        self.depth = r_before + content_r + r_after

    def _insets(self, breadth: float, depth: float) -> tuple[float, float, float, float]:
        """Room around the content: none at the top level; for a nested model, padding and
        a band for its name on the picture's top side, wide enough to show the name."""
        if not self.nested:
            return 0.0, 0.0, 0.0, 0.0
        pad = FRAME_PADDING
        ascent, descent = line_height(TEXT_SIZE)
        band = ascent + descent + pad / 2
        o_before = o_after = r_before = r_after = pad
        rankdir = self.context.rankdir
        if rankdir == "TB":
            r_before += band
        elif rankdir == "BT":
            r_after += band
        else:
            o_before += band
        # The frame is at least as wide, in the picture, as its name needs.
        needed = self.context.measure(self.model.name, TEXT_SIZE, False) + 2 * pad
        if rankdir in ("TB", "BT") and breadth + 2 * pad < needed:
            o_before = o_after = (needed - breadth) / 2
        elif rankdir in ("LR", "RL") and depth + r_before + r_after < needed:
            r_before = r_after = (needed - depth) / 2
        return o_before, o_after, r_before, r_after

    def place(self, o0: float, r0: float, parent: Frame | None) -> None:
        """Move everything to its final abstract position, the level's corner at (o0, r0)."""
        self.origin = (o0, r0)
        if self.frame is not None:
            self.frame.x, self.frame.y = o0, r0
            self.frame.width, self.frame.height = self.breadth, self.depth
            self.frame.parent = parent
            self.context.frames.append(self.frame)
            parent = self.frame
        self.rank_starts = []
        r = r0 + self.inset[2]
        for depth in self.rank_depths:
            self.rank_starts.append(r)
            r += depth + RANK_GAP
        for k, rank in enumerate(self.ranks):
            for node in rank:
                node.o += o0
                node.r = self.rank_starts[k] + (self.rank_depths[k] - node.depth) / 2
                if node.box is not None:
                    breadth = _abstract_size(node.box, self.context.rankdir)[0]
                    node.box.x, node.box.y = node.o - breadth / 2, node.r
                    node.box.frame = parent
                elif node.level is not None:
                    node.level.place(node.o - node.breadth / 2, node.r, parent)

    def _rank_end(self, rank: int) -> float:
        return self.rank_starts[rank] + self.rank_depths[rank]

    # --- edges --------------------------------------------------------------------------------
    def collect_routes(self) -> list[tuple]:
        """(source box, target box, stations) for every edge, in this level and below.

        A station is ``(o, r)``; ``o`` may still be ``"S"`` or ``"T"``, the places where the
        edge leaves its source box and reaches its target box, settled last (see
        :func:`_settle_ports`) once all edges at a box are known.
        """
        routes = []
        for node in self.nodes.values():
            if node.level is not None:
                routes += node.level.collect_routes()
        for link in self.links:
            if link.source is link.target:
                routes.append((link.source_box, link.target_box, _loop(link.source_box, self)))
                continue
            if link.reversed:
                start, end, start_box, end_box = link.target, link.source, link.target_box, \
                    link.source_box
            else:
                start, end, start_box, end_box = link.source, link.target, link.source_box, \
                    link.target_box
            direct = link.reversed  # an arrow against the flow skips nested models' paths
            stations = self._leave(start, start_box, direct)
            for dummy in link.dummies:
                stations += [(dummy.o, self.rank_starts[dummy.rank]),
                             (dummy.o, self._rank_end(dummy.rank))]
            stations += self._enter(end, end_box, direct)
            routes.append((start_box, end_box, stations, link.reversed))
        return routes

    def _leave(self, node: Node, box: Box, direct: bool) -> list:
        if node.box is not None or direct:
            stations = [("S", _box_r(box, self.context.rankdir)[1])]
        else:
            stations = node.level.exit_route(box)
        return stations + [(stations[-1][0], self._rank_end(node.rank))]

    def _enter(self, node: Node, box: Box, direct: bool) -> list:
        stations = [("T", self.rank_starts[node.rank])]
        if node.box is not None or direct:
            return stations + [("T", _box_r(box, self.context.rankdir)[0])]
        return stations + node.level.entry_route(box)

    def exit_route(self, box: Box) -> list:
        node, dummies = self.exit_paths[box]
        stations = self._leave(node, box, False)
        for dummy in dummies:
            stations += [(dummy.o, self.rank_starts[dummy.rank]),
                         (dummy.o, self._rank_end(dummy.rank))]
        return stations + [(stations[-1][0], self.origin[1] + self.depth)]

    def entry_route(self, box: Box) -> list:
        # Entries are Inputs or a Sequential's first layer: nothing comes before them, so
        # they are in the first rank.
        node = next(n for n in self.ranks[0]
                    if n.box is box or (n.level is not None and n.level.contains(box)))
        return [("T", self.origin[1])] + self._enter(node, box, False)

    def contains(self, box: Box) -> bool:
        return any(n.box is box or (n.level is not None and n.level.contains(box))
                   for n in self.nodes.values())


def _box_r(box: Box, rankdir: str) -> tuple[float, float]:
    """Start and end of a box along the flow, in abstract coordinates (before mapping)."""
    depth = _abstract_size(box, rankdir)[1]
    return box.y, box.y + depth


def _box_o(box: Box, rankdir: str) -> tuple[float, float]:
    return box.x, box.x + _abstract_size(box, rankdir)[0]


def _loop(box: Box, level: _Level) -> list:
    """A small loop on the far side of a box, for a layer that reads its own output."""
    rankdir = level.context.rankdir
    o_end = _box_o(box, rankdir)[1]
    start, end = _box_r(box, rankdir)
    quarter = (end - start) / 4
    middle = (start + end) / 2
    out = o_end + LOOP_ROOM * 0.8
    return [(o_end, middle - quarter), (out, middle - quarter), (out, middle + quarter),
            (o_end, middle + quarter)]


def _settle_ports(routes: list, rankdir: str) -> list[tuple]:
    """Replace ``"S"``/``"T"`` by where each edge leaves and reaches its boxes.

    The edges at one side of a box keep the order of where they head, so that they do not
    cross right at the box. Each goes straight where it can, at the place it heads to (its
    first bend, or the other box's port) when that is inside the box; the others are spread
    evenly. Sources are settled first, then targets, aiming at the settled sources.
    """
    finished = [r for r in routes if len(r) == 3]  # loops: nothing to settle
    routes = [r for r in routes if len(r) == 4]
    sides: dict[tuple[str, Box], list[int]] = {}
    for i, (start, end, _, _) in enumerate(routes):
        sides.setdefault(("S", start), []).append(i)
        sides.setdefault(("T", end), []).append(i)
    ports: dict[tuple[str, int], float] = {}
    for i, (start, end, _, _) in enumerate(routes):  # until settled: the box centres
        ports["S", i] = sum(_box_o(start, rankdir)) / 2
        ports["T", i] = sum(_box_o(end, rankdir)) / 2

    def heading(i: int, side: str) -> float:
        stations = routes[i][2] if side == "S" else routes[i][2][::-1]
        return next((o for o, _ in stations if not isinstance(o, str)),
                    ports["T" if side == "S" else "S", i])

    for settling in ("S", "T"):
        for (side, box), indices in sides.items():
            if side != settling:
                continue
            indices.sort(key=lambda i, side=side: heading(i, side))
            low, high = _box_o(box, rankdir)
            spread = [low + (high - low) * (k + 1) / (len(indices) + 1)
                      for k in range(len(indices))]
            inner = (low + PORT_MARGIN, high - PORT_MARGIN)
            goals = [g if inner[0] <= g <= inner[1] else d
                     for g, d in zip((heading(i, side) for i in indices), spread)]
            fitted = layered.fit_in_order(goals, [PORT_GAP] * (len(indices) - 1))
            if fitted and not (low < fitted[0] and fitted[-1] < high):
                fitted = spread
            for i, o in zip(indices, fitted):
                ports[side, i] = o
    for i, (start, end, stations, reversed_) in enumerate(routes):
        settled = [(ports[o, i] if isinstance(o, str) else o, r) for o, r in stations]
        finished.append((end, start, settled[::-1]) if reversed_ else (start, end, settled))
    return finished


# --- graph helpers ----------------------------------------------------------------------------


