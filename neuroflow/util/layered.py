"""The layered layout Graphviz's ``dot`` draws, on generic nodes: ranks, order, places.

``keras/utils/model_layout.py`` lays out Keras models with it and ``graph/drawing.py``
traced graphs. A :class:`Node` is a box (or a nested block, or an edge's invisible dummy
point) of some breadth across its rank and depth along the flow; ``connect`` links
nodes of consecutive ranks. Then :func:`order_ranks` orders each rank to cross few
edges and :func:`place_across` gives each node its place across the rank. Ranks are
computed by the caller (:func:`topological` gives an order to compute them in;
:func:`back_links` finds the links that close a cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field

NODE_GAP = 18.0  # Graphviz's default nodesep (0.25 in)
EDGE_ROOM = 8.0  # room an edge takes where it passes through a rank
ORDER_SWEEPS = 16


@dataclass(eq=False)
class Node:
    """A box, an expanded nested model, or a dummy point of an edge, in one rank."""

    breadth: float
    depth: float
    box: object = None  # what the node draws (None: a dummy point)
    level: object = None  # a nested block drawn in its place
    index: int = 0  # place in the model's layer order
    rank: int = 0
    o: float = 0.0  # centre across the rank
    r: float = 0.0  # start along the flow
    up: list = field(default_factory=list)  # (neighbour in the rank before, weight)
    down: list = field(default_factory=list)


def connect(a: Node, b: Node) -> None:
    # Straight long edges matter most: Graphviz weighs a pull 1 between two boxes, 2 between
    # a box and an edge's dummy point, 8 between two dummy points.
    dummies = (a.box is None and a.level is None) + (b.box is None and b.level is None)
    weight = (1, 2, 8)[dummies]
    a.down.append((b, weight))
    b.up.append((a, weight))


def gap(a: Node, b: Node) -> float:
    real = (a.box is not None or a.level is not None) and (b.box is not None or
                                                           b.level is not None)
    return (a.breadth + b.breadth) / 2 + (NODE_GAP if real else EDGE_ROOM)


def back_links(nodes: list[Node], links: list) -> set[int]:
    """Indices of the links that close a cycle (a shared layer can make one): depth-first
    from each node in model order; a link back to a node still being visited is one."""
    outgoing: dict[Node, list] = {n: [] for n in nodes}
    for i, link in enumerate(links):
        outgoing[link.source].append((link.target, i))
    state: dict[Node, int] = {}  # 1: being visited, 2: done
    back = set()
    for root in nodes:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            node, pending = stack[-1]
            for target, i in pending:
                if state.get(target) == 1:
                    back.add(i)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(outgoing[target])))
                    break
            else:
                state[node] = 2
                stack.pop()
    return back


def topological(nodes: list[Node], edges: list[tuple[Node, Node]]) -> list[Node]:
    waiting = {n: 0 for n in nodes}
    after: dict[Node, list[Node]] = {n: [] for n in nodes}
    for source, target in edges:
        waiting[target] += 1
        after[source].append(target)
    result = [n for n in nodes if waiting[n] == 0]
    for node in result:  # grows while it is read: each node once all before it are in
        for target in after[node]:
            waiting[target] -= 1
            if waiting[target] == 0:
                result.append(target)
    return result


def crossings(ranks: list[list[Node]]) -> int:
    count = 0
    for upper, lower in zip(ranks, ranks[1:]):
        place = {n: i for i, n in enumerate(upper)}
        pairs = [(place[a], i) for i, b in enumerate(lower) for a, _ in b.up]
        count += sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
                     if (a1 - a2) * (b1 - b2) < 0)
    return count


def straighten(chain: list[Node], ranks: list[list[Node]]) -> None:
    """Put an edge's dummy points in one line across the ranks when there is room: at their
    mean, or else at one of their own places, the first that fits between the neighbours."""
    if len(chain) < 2:
        return
    room = []
    for dummy in chain:
        rank = ranks[dummy.rank]
        i = rank.index(dummy)
        low = rank[i - 1].o + gap(rank[i - 1], dummy) if i else float("-inf")
        high = rank[i + 1].o - gap(dummy, rank[i + 1]) if i + 1 < len(rank) else float("inf")
        room.append((low, high))
    for o in [sum(d.o for d in chain) / len(chain)] + [d.o for d in chain]:
        if all(low <= o <= high for low, high in room):
            for dummy in chain:
                dummy.o = o
            return


def transpose(ranks: list[list[Node]], even_ties: bool) -> None:
    """Swap neighbours in a rank while that removes crossings (Graphviz's last step of
    ordering), a bounded number of rounds. With ``even_ties``, a pair that crosses swaps
    also when swapping crosses as much: that moves the crossing elsewhere, where the next
    sweep may remove it."""
    for _ in range(len(ranks) + 4):
        improved = False
        for k, rank in enumerate(ranks):
            above = {n: i for i, n in enumerate(ranks[k - 1])} if k else {}
            below = {n: i for i, n in enumerate(ranks[k + 1])} if k + 1 < len(ranks) else {}
            for i in range(len(rank) - 1):
                left, right = rank[i], rank[i + 1]
                now = pair_crossings(left, right, above, below)
                swapped = pair_crossings(right, left, above, below)
                if swapped < now or (even_ties and now and swapped == now):
                    rank[i], rank[i + 1] = right, left
                    improved = improved or swapped < now
        if not improved:
            return


def pair_crossings(left: Node, right: Node, above: dict, below: dict) -> int:
    """Crossings between the edges of two neighbours, ``left`` placed before ``right``."""
    count = 0
    for mine, theirs, place in ((left.up, right.up, above), (left.down, right.down, below)):
        count += sum(1 for a, _ in mine for b, _ in theirs if place[a] > place[b])
    return count


def fit_in_order(targets: list[float], gaps: list[float]) -> list[float]:
    """Positions as close as possible to ``targets`` (least squares), in the same order and
    at least ``gaps[i]`` apart: shifted by the gaps, this is an isotonic regression, solved
    by pooling adjacent violators."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [mean, count]
    for target, offset in zip(targets, offsets):
        blocks.append([target - offset, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            previous = blocks[-1]
            previous[0] = (previous[0] * previous[1] + mean * count) / (previous[1] + count)
            previous[1] += count
    values = [mean for mean, count in blocks for _ in range(count)]
    return [value + offset for value, offset in zip(values, offsets)]


def order_ranks(ranks: list[list[Node]]) -> list[list[Node]]:
    """The order within each rank with the fewest crossings found: the given order (by
    ``index``), refined by sweeps that sort each rank by the mean position of its
    neighbours (a stable sort, so ties keep the order) and by swapping neighbours that
    cross."""
    ranks = [list(rank) for rank in ranks]
    for rank in ranks:
        rank.sort(key=lambda n: n.index)
    best, fewest = [list(r) for r in ranks], crossings(ranks)
    for sweep in range(ORDER_SWEEPS):
        if fewest == 0:
            break
        downwards = sweep % 2 == 0
        order = range(1, len(ranks)) if downwards else range(len(ranks) - 2, -1, -1)
        for k in order:
            place = {n: i for i, n in enumerate(ranks[k - 1 if downwards else k + 1])}
            rank = ranks[k]
            keys = {}
            for i, node in enumerate(rank):
                near = [place[m] for m, _ in (node.up if downwards else node.down)]
                # A node with no neighbours on that side keeps its place.
                # Ties keep their order, or swap on every other pair of sweeps, so
                # that a tie cannot trap the order (as Graphviz alternates too).
                keys[node] = (sum(near) / len(near) if near else i,
                              -i if sweep % 4 >= 2 else i)
            rank.sort(key=keys.__getitem__)
        transpose(ranks, even_ties=sweep % 4 >= 2)
        count = crossings(ranks)
        if count < fewest:
            best, fewest = [list(r) for r in ranks], count
    return best


def place_across(ranks: list[list[Node]], chains: list[list[Node]]) -> None:
    """Set each node's ``o`` (its centre across its rank): pulled towards its neighbours,
    long edges most strongly, while keeping the nodes of a rank apart and in order (a
    least-squares fit under order constraints); then each chain of an edge's dummy points
    straightened where there is room."""
    for rank in ranks:
        o = 0.0
        for i, node in enumerate(rank):
            if i:
                o += gap(rank[i - 1], node)
            node.o = o
        for node in rank:
            node.o -= o / 2
    for sweep in range(12):
        # Alternate pulls towards the rank before and after, then both at once.
        towards = ("up", "down")[sweep % 2] if sweep < 10 else "both"
        for rank in (ranks if towards != "down" else ranks[::-1]):
            targets = []
            for node in rank:
                near = node.up if towards == "up" else node.down if towards == "down" \
                    else node.up + node.down
                total = sum(w for _, w in near)
                targets.append(sum(m.o * w for m, w in near) / total if total else node.o)
            gaps = [gap(a, b) for a, b in zip(rank, rank[1:])]
            for node, o in zip(rank, fit_in_order(targets, gaps)):
                node.o = o
    for chain in chains:
        straighten(chain, ranks)
