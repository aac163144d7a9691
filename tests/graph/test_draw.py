"""Pictures of traced graphs (``graph/drawing.py``): the geometry, then the files."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.graph import draw
from neuroflow.graph.drawing import graph_items, lay_out


def _traced(fn, *args):
    f = tf.function(fn)
    f(*args)
    return f


def _train_step():
    w = tf.Variable(np.ones((3, 2), np.float32))

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x, w)) - y))
        w.assign_sub(0.1 * tape.gradient(loss, w))
        return loss

    return _traced(step, tf.ones([4, 3]), tf.zeros([4, 2]))


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_boxes_do_not_overlap_and_arrows_join_their_boxes(rankdir):
    graph = _train_step().graph
    items = graph_items(graph)
    width, height, routes = lay_out(items, rankdir)
    for a, b in itertools.combinations(items, 2):
        apart = (a.x + a.width <= b.x + 1e-6 or b.x + b.width <= a.x + 1e-6 or
                 a.y + a.height <= b.y + 1e-6 or b.y + b.height <= a.y + 1e-6)
        assert apart, f"{a.lines[0]} overlaps {b.lines[0]}"
    for item in items:
        assert 0 <= item.x and item.x + item.width <= width + 1e-6
        assert 0 <= item.y and item.y + item.height <= height + 1e-6
    links = [(source, item) for item in items for source in dict.fromkeys(item.sources)]
    assert len(routes) == len(links)
    along = 1 if rankdir == "TB" else 0
    for (source, target), stations in zip(links, routes):
        start, end = stations[0], stations[-1]
        # Each arrow leaves its source's far side and reaches its target's near side.
        assert start[along] == pytest.approx((source.y + source.height) if along
                                             else (source.x + source.width))
        assert end[along] == pytest.approx(target.y if along else target.x)
        assert all(p[along] <= q[along] + 1e-6 for p, q in zip(stations, stations[1:]))


def test_every_node_input_and_result_is_shown():
    f = _train_step()
    graph = f.graph
    items = graph_items(graph)
    texts = [line for item in items for line in item.lines]
    assert sum(1 for item in items if item.kind == "input") == len(graph.inputs)
    for node in graph.nodes:
        for value in node.results:
            assert any(line.startswith(f"{value.name}: ") for line in texts)
    assert any(line.startswith("assign_sub ") for line in texts)
    edges = sum(len(dict.fromkeys(item.sources)) for item in items)
    wanted = sum(len({v.name for v in node.inputs}) for node in graph.nodes) + \
        len({v.name for v in graph.outputs})
    assert edges == wanted


@pytest.mark.parametrize("name, signature", [("g.png", b"\x89PNG"), ("g.svg", b"<?xml"),
                                             ("g.pdf", b"%PDF")])
def test_draw_writes_the_format_its_name_asks_for(tmp_path, name, signature):
    pytest.importorskip("matplotlib")
    f = _traced(lambda x, w: tf.nn.relu(tf.matmul(x, w)) + 1.0, tf.ones([2, 3]),
                tf.ones([3, 4]))
    path = draw(f, tmp_path / name)
    assert open(path, "rb").read()[:len(signature)] == signature


def test_draw_refuses_what_it_cannot_draw(tmp_path):
    f = _traced(lambda x: x * 2.0, tf.ones([2]))
    with pytest.raises(ValueError, match="extension"):
        draw(f.graph, tmp_path / "g.gif")
    with pytest.raises(ValueError, match="rankdir"):
        draw(f.graph, tmp_path / "g.png", rankdir="XY")
    with pytest.raises(TypeError, match="neuroflow graph"):
        draw("not a graph", tmp_path / "g.png")
