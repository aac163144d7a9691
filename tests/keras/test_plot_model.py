"""``keras.utils.plot_model``: the layout (no rendering) and the pictures it writes.

The layout tests check the geometry against facts read from the model by other routes
(its config's ``inbound_nodes``, its layers' shapes); they need NumPy only. The rendering
tests need matplotlib (the ``plot`` extra). The tests marked ``tensorflow`` compare the
signature, the box labels and the edges with Keras 3 (labels and edges need pydot, which
Keras draws with).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import neuroflow as tf
from neuroflow.keras.utils import model_layout
from neuroflow.keras.utils.model_layout import layout_model
from neuroflow.keras.utils.plot_model import plot_model, text_measure

keras = tf.keras
L = keras.layers


# --- models --------------------------------------------------------------------------------


def _sequential(depth: int = 3, k=keras):
    layers = [k.Input((8,), name="features")]
    layers += [k.layers.Dense(4 + i, activation="relu", name=f"dense_{i}") for i in range(depth)]
    return k.Sequential(layers, name="stack")


def _branchy(k=keras):
    layers = k.layers
    inputs = layers.Input((16,), name="features")
    hidden = layers.Dense(32, activation="relu", name="hidden")(inputs)
    left = layers.Dense(16, activation="tanh", name="left")(hidden)
    left2 = layers.Dense(16, name="left2")(left)
    right = layers.Dense(16, activation="relu", name="right")(hidden)
    merged = layers.Add(name="merge")([left2, right])
    outputs = layers.Dense(1, activation="sigmoid", name="out")(merged)
    return k.Model(inputs, outputs, name="branchy")


def _multi(k=keras):
    """Two inputs, two outputs, a layer shared by two calls, a long skip connection."""
    layers = k.layers
    a = layers.Input((3,), name="a")
    b = layers.Input((4,), name="b")
    shared = layers.Dense(5, activation="relu", name="shared")
    x = shared(a)
    y = layers.Dense(5, name="frozen")(b)
    y2 = shared(layers.Dense(3, name="narrow")(b))
    merged = layers.Concatenate(name="cat")([x, y, y2])
    deep = layers.Dense(4, name="deep")(layers.Dense(4, name="deeper")(merged))
    skip = layers.Concatenate(name="skip")([deep, x])
    first = layers.Dense(1, name="first")(skip)
    second = layers.Dense(2, activation="softmax", name="second")(merged)
    model = k.Model([a, b], [first, second], name="multi")
    model.get_layer("frozen").trainable = False
    return model


def _nested(k=keras):
    layers = k.layers
    seq = k.Sequential([layers.Input((4,)), layers.Dense(3, name="s1"),
                        layers.Dense(2, name="s2")], name="seq")
    inner_in = layers.Input((2,), name="ii")
    ih = layers.Dense(2, name="ih")(inner_in)
    io = layers.Dense(1, name="io")(layers.Dense(3, name="imid")(ih))
    inner = k.Model(inner_in, [ih, io], name="inner")
    x = layers.Input((4,), name="x")
    h = seq(x)
    p, q = inner(h)
    out = layers.Concatenate(name="c")([p, q, h])
    return k.Model(x, out, name="outer")


def _config_edges(model) -> set[tuple[str, str]]:
    """(source, target) layer names read from the model's config, not from its graph."""
    edges = set()
    for entry in model.get_config()["layers"]:
        for node in entry["inbound_nodes"]:
            for leaf in _tensors(node["args"]):
                edges.add((leaf["config"]["keras_history"][0], entry["name"]))
    return edges


def _tensors(value):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


def _longest_paths(edges: set[tuple[str, str]], names: list[str]) -> dict[str, int]:
    rank = {name: 0 for name in names}
    for _ in names:  # Bellman-Ford style relaxation: enough rounds for any DAG
        for source, target in edges:
            rank[target] = max(rank[target], rank[source] + 1)
    return rank


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and \
        b[1] < a[1] + a[3]


def _rect(item):
    return item.x, item.y, item.width, item.height


def _on_border(point, box, tolerance=0.5) -> bool:
    x, y = point
    inside_x = box.x - tolerance <= x <= box.x + box.width + tolerance
    inside_y = box.y - tolerance <= y <= box.y + box.height + tolerance
    on_x = min(abs(x - box.x), abs(x - box.x - box.width)) <= tolerance
    on_y = min(abs(y - box.y), abs(y - box.y - box.height)) <= tolerance
    return inside_x and inside_y and (on_x or on_y)


def _check_geometry(layout) -> None:
    """No two boxes overlap; every box and frame is inside the picture; a frame holds its
    boxes and meets no other box; edges start and end on their boxes' borders."""
    for a, b in itertools.combinations(layout.boxes, 2):
        assert not _overlap(_rect(a), _rect(b)), (a.name, b.name)
    for item in layout.boxes + layout.frames:
        assert item.x >= 0 and item.y >= 0
        assert item.x + item.width <= layout.width + 1e-6
        assert item.y + item.height <= layout.height + 1e-6
    for frame in layout.frames:
        for box in layout.boxes:
            holder = box.frame
            while holder is not None and holder is not frame:
                holder = holder.parent
            if holder is frame:
                fx, fy, fw, fh = _rect(frame)
                assert fx < box.x and box.x + box.width < fx + fw
                assert fy < box.y and box.y + box.height < fy + fh
            else:
                assert not _overlap(_rect(frame), _rect(box)), (frame.label, box.name)
    for edge in layout.edges:
        assert _on_border(edge.points[0], edge.source), edge
        assert _on_border(edge.points[-1], edge.target), edge


# --- layout: graph ----------------------------------------------------------------------------


def test_sequential_is_a_chain_without_input_box():
    model = _sequential(4)
    layout = layout_model(model)
    names = [layer.name for layer in model.layers]
    assert [box.name for box in layout.boxes] == names  # Keras 3 draws no Input box
    assert layout.edge_names() == list(zip(names, names[1:]))
    assert [box.rank for box in layout.boxes] == list(range(len(names)))
    _check_geometry(layout)


def test_functional_edges_and_ranks_follow_the_config():
    for model in (_branchy(), _multi()):
        layout = layout_model(model)
        expected = _config_edges(model)
        assert sorted(layout.edge_names()) == sorted(expected)  # one arrow per pair
        assert {box.name for box in layout.boxes} == {layer.name for layer in model.layers}
        ranks = _longest_paths(expected, [layer.name for layer in model.layers])
        assert {box.name: box.rank for box in layout.boxes} == ranks
        _check_geometry(layout)


def test_order_within_a_rank_is_a_permutation_and_positions_follow_it():
    layout = layout_model(_multi(), rankdir="TB")
    by_rank: dict[int, list] = {}
    for box in layout.boxes:
        by_rank.setdefault(box.rank, []).append(box)
    for boxes in by_rank.values():
        boxes.sort(key=lambda b: b.order)
        xs = [b.x for b in boxes]
        assert xs == sorted(xs)
        ys = {round(b.y + b.height / 2, 6) for b in boxes}
        assert len(ys) == 1  # a rank is one row, boxes centred on it


def test_layout_is_deterministic():
    first = layout_model(_multi(), show_shapes=True)
    second = layout_model(_multi(), show_shapes=True)
    assert [(_rect(b), b.texts) for b in first.boxes] == [(_rect(b), b.texts) for b in
                                                          second.boxes]
    assert [e.points for e in first.edges] == [e.points for e in second.edges]


@pytest.mark.parametrize("rankdir", ["TB", "LR", "BT", "RL"])
def test_rankdir_sets_the_flow(rankdir):
    layout = layout_model(_sequential(3), rankdir=rankdir)
    centres = [(b.x + b.width / 2, b.y + b.height / 2) for b in layout.boxes]
    along = {"TB": 1, "BT": 1, "LR": 0, "RL": 0}[rankdir]
    sign = -1 if rankdir in ("BT", "RL") else 1
    flow = [sign * c[along] for c in centres]
    assert flow == sorted(flow) and len(set(flow)) == len(flow)
    across = {round(c[1 - along], 6) for c in centres}
    assert len(across) == 1  # a chain is straight
    for edge in layout.edges:  # a straight chain's arrows run along the flow only
        assert len({round(p[1 - along], 6) for p in edge.points}) == 1
    _check_geometry(layout)


def test_lr_is_tb_transposed():
    tb = layout_model(_multi(), rankdir="TB")
    lr = layout_model(_multi(), rankdir="LR")
    for a, b in zip(tb.boxes, lr.boxes):
        assert (a.name, a.rank, a.order) == (b.name, b.rank, b.order)
        assert (a.width, a.height) == (b.width, b.height)  # labels stay horizontal
    rank_of = {b.name: b.rank for b in lr.boxes}
    for a, b in itertools.combinations(lr.boxes, 2):
        if rank_of[a.name] < rank_of[b.name]:
            assert a.x + a.width < b.x


def test_a_long_edge_runs_between_boxes():
    layout = layout_model(_multi())
    edge = next(e for e in layout.edges if (e.source.name, e.target.name) == ("shared", "skip"))
    between = [b for b in layout.boxes if edge.source.rank < b.rank < edge.target.rank]
    assert between
    for (x0, y0), (x1, y1) in zip(edge.points, edge.points[1:]):
        segment = (min(x0, x1) - 1, min(y0, y1) - 1, abs(x1 - x0) + 2, abs(y1 - y0) + 2)
        for box in between:
            assert not _overlap(segment, _rect(box)), box.name


def test_shared_layer_reading_its_own_output_makes_a_loop():
    a = L.Input((4,), name="a")
    dense = L.Dense(4, name="again")
    after = L.Dense(4, name="after")
    model = keras.Model(a, dense(after(dense(dense(a)))))
    layout = layout_model(model, show_layer_names=True)
    assert sorted(layout.edge_names()) == sorted(_config_edges(model))
    assert ("again", "again") in layout.edge_names()
    assert ("after", "again") in layout.edge_names()
    _check_geometry(layout)


def test_nested_models_are_single_boxes_unless_expanded():
    model = _nested()
    flat = layout_model(model, show_shapes=True, show_layer_names=True)
    assert [b.name for b in flat.boxes] == ["x", "seq", "inner", "c"]
    assert flat.box("inner").texts[0] == "inner (Functional)"
    assert flat.box("seq").texts[0] == "seq (Sequential)"
    assert flat.box("inner").texts[1] == "Input shape: (None, 2) | " \
                                         "Output shape: [(None, 2), (None, 1)]"
    assert sorted(flat.edge_names()) == sorted(_config_edges(model))
    assert flat.frames == []

    expanded = layout_model(model, expand_nested=True, show_layer_names=True)
    assert {b.name for b in expanded.boxes} == {"x", "s1", "s2", "ii", "ih", "imid", "io", "c"}
    # Arrows into a nested model reach its Input (functional) or first layer (Sequential);
    # arrows out of it leave the layer computing that output, as Keras draws them.
    assert sorted(expanded.edge_names()) == sorted([
        ("x", "s1"), ("s1", "s2"), ("s2", "ii"), ("ii", "ih"), ("ih", "imid"),
        ("imid", "io"), ("ih", "c"), ("io", "c"), ("s2", "c")])
    assert sorted(f.label for f in expanded.frames) == ["inner", "seq"]
    frame_of = {b.name: b.frame.label if b.frame else None for b in expanded.boxes}
    assert frame_of == {"x": None, "c": None, "s1": "seq", "s2": "seq", "ii": "inner",
                        "ih": "inner", "imid": "inner", "io": "inner"}
    _check_geometry(expanded)
    _check_geometry(layout_model(model, expand_nested=True, rankdir="LR"))


def test_nested_twice_and_nested_sequential_in_sequential():
    inner = keras.Sequential([L.Dense(3, name="deep1"), L.Dense(3, name="deep2")],
                             name="deepest")
    middle = keras.Sequential([L.Dense(3, name="mid"), inner], name="middle")
    model = keras.Sequential([keras.Input((5,)), L.Dense(3, name="first"), middle,
                              L.Dense(1, name="last")], name="top")
    layout = layout_model(model, expand_nested=True, show_shapes=True)
    assert sorted(layout.edge_names()) == sorted([
        ("first", "mid"), ("mid", "deep1"), ("deep1", "deep2"), ("deep2", "last")])
    deep = layout.box("deep1")
    assert deep.frame.label == "deepest" and deep.frame.parent.label == "middle"
    assert deep.texts[1] == "Input shape: (None, 3) | Output shape: (None, 3)"
    _check_geometry(layout)
    flat = layout_model(model)
    assert [b.name for b in flat.boxes] == ["first", "middle", "last"]


# --- layout: labels ---------------------------------------------------------------------------


def test_default_label_is_the_class_name():
    layout = layout_model(_branchy())
    for box, layer in zip(layout.boxes, _branchy().layers):
        assert box.texts == [type(layer).__name__]


def test_labels_show_what_is_asked():
    model = _multi()
    layout = layout_model(model, show_shapes=True, show_dtype=True, show_layer_names=True,
                          show_layer_activations=True, show_trainable=True)
    for layer in model.layers:
        box = layout.box(layer.name)
        assert box.texts[0] == f"{layer.name} ({type(layer).__name__})"
        node = layer._inbound_nodes[0]
        outputs = [tuple(t.shape) for t in node.output_tensors]
        cells = []
        if not isinstance(layer, L.InputLayer):
            inputs = [tuple(t.shape) for t in node.input_tensors]
            cells.append(f"Input shape: {inputs[0] if len(inputs) == 1 else inputs}")
        cells.append(f"Output shape: {outputs[0]}")
        cells.append("Output dtype: float32")
        if layer.weights:
            cells.append("Trainable" if layer.trainable else "Non-trainable")
        activation = getattr(layer, "activation", None)
        expected = [box.texts[0]]
        if activation is not None:
            expected.append(f"Activation: {activation.__name__}")
        assert box.texts == expected + [" | ".join(cells)]
    assert layout.box("frozen").rows[-1][-1].fill == model_layout.NON_TRAINABLE_FILL
    assert layout.box("shared").rows[-1][-1].fill == model_layout.TRAINABLE_FILL
    assert layout.box("shared").texts[2].startswith("Input shape: (None, 3) |")  # first call


def test_sequential_labels_come_from_the_build():
    model = keras.Sequential([L.Dense(6, name="d0"), L.Dense(2, name="d1")])
    model.build((None, 5))
    layout = layout_model(model, show_shapes=True, show_dtype=True)
    assert layout.box("d0").texts[1] == \
        "Input shape: (None, 5) | Output shape: (None, 6) | Output dtype: float32"
    assert layout.box("d1").texts[1].startswith("Input shape: (None, 6) | Output shape: (None, 2)")


def test_subclassed_model_is_one_box_with_unknown_shapes():
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.dense = L.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.zeros((2, 3), np.float32))
    layout = layout_model(net, show_shapes=True, show_layer_names=True)
    assert layout.boxes[0].texts == ["net (Net)", "Input shape: ? | Output shape: ?"]
    assert layout.edges == []


def test_boxes_fit_their_text():
    wide = layout_model(_branchy(), show_shapes=True, show_layer_names=True)
    narrow = layout_model(_branchy())
    for w, n in zip(wide.boxes, narrow.boxes):
        assert w.width > n.width and w.height > n.height
        for row in w.rows:
            for cell in row:
                needed = sum(model_layout.estimate_width(t, cell.size, b) for t, b in cell.runs)
                assert cell.width >= needed and cell.x + cell.width <= w.width


# --- arguments ----------------------------------------------------------------------------------


def test_invalid_arguments(tmp_path):
    model = _sequential(2)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        plot_model(model, tmp_path / "m.png", show_everything=True)
    with pytest.raises(ValueError, match="layer_range"):
        plot_model(model, tmp_path / "m.png", layer_range=["a", "b"])
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(model, tmp_path / "m.png", rankdir="UP")
    with pytest.raises(ValueError, match="splines"):
        plot_model(model, tmp_path / "m.png", splines="wavy")
    with pytest.raises(ValueError, match="dpi"):
        plot_model(model, tmp_path / "m.png", dpi=0)
    with pytest.raises(ValueError, match=r"png, pdf, svg"):
        plot_model(model, tmp_path / "m.jpg")
    with pytest.raises(TypeError, match="Keras model"):
        plot_model("not a model", tmp_path / "m.png")
    with pytest.raises(ValueError, match="not yet been built"):
        plot_model(keras.Sequential([L.Dense(2)]), tmp_path / "m.png")
    assert os.listdir(tmp_path) == []


def test_exported_as_keras_utils():
    assert tf.keras.utils.plot_model is plot_model
    assert "plot_model" in tf.keras.utils.__all__


# --- rendering ------------------------------------------------------------------------------------


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib")


def _png_size(path) -> tuple[int, int]:
    with open(path, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_png_is_written(mpl, tmp_path):
    path = tmp_path / "model.png"
    result = plot_model(_branchy(), to_file=path, show_shapes=True, show_layer_names=True)
    width, height = _png_size(path)
    layout = layout_model(_branchy(), show_shapes=True, show_layer_names=True,
                          measure=text_measure())
    assert abs(width - layout.width * 200 / 72) <= 2
    assert abs(height - layout.height * 200 / 72) <= 2
    try:
        from IPython import display
    except ImportError:
        assert result is None
    else:
        assert isinstance(result, display.Image)
    assert [p.name for p in tmp_path.iterdir()] == ["model.png"]


def test_picture_grows_with_the_model(mpl, tmp_path):
    sizes = []
    for depth in (2, 5):
        path = tmp_path / f"seq{depth}.png"
        plot_model(_sequential(depth), str(path), dpi=72)
        sizes.append(_png_size(path))
    assert sizes[1][1] > sizes[0][1] * 2
    path = tmp_path / "wide.png"
    plot_model(_sequential(5), str(path), rankdir="LR", dpi=72)
    width, height = _png_size(path)
    assert width > sizes[1][0] and height < sizes[1][1]


def test_dpi_scales_png(mpl, tmp_path):
    plot_model(_branchy(), tmp_path / "a.png", dpi=50)
    plot_model(_branchy(), tmp_path / "b.png", dpi=100)
    (w1, h1), (w2, h2) = _png_size(tmp_path / "a.png"), _png_size(tmp_path / "b.png")
    assert abs(w2 - 2 * w1) <= 2 and abs(h2 - 2 * h1) <= 2


def test_svg_and_pdf(mpl, tmp_path):
    svg = tmp_path / "model.svg"
    result = plot_model(_nested(), svg, expand_nested=True, show_shapes=True)
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    layout = layout_model(_nested(), expand_nested=True, show_shapes=True,
                          measure=text_measure())
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(layout.width, abs=0.5)
    if result is not None:
        assert type(result).__name__ == "SVG"
    pdf = tmp_path / "model.PDF"
    assert plot_model(_multi(), pdf, splines="curved") is None
    assert pdf.read_bytes().startswith(b"%PDF")
    # The same model gives the same bytes: no dates in the files.
    again = tmp_path / "again.svg"
    plot_model(_nested(), again, expand_nested=True, show_shapes=True)
    names = re.compile(rb"(dense|input_layer|sequential|functional)[_0-9]*")
    assert names.sub(b"", again.read_bytes()) == names.sub(b"", svg.read_bytes())


def test_huge_png_is_scaled_down_with_a_warning(mpl, tmp_path, monkeypatch):
    # The package exports the function under the module's name: reach the module itself.
    plot_module = importlib.import_module("neuroflow.keras.utils.plot_model")
    monkeypatch.setattr(plot_module, "MAX_PIXELS", 400)
    with pytest.warns(UserWarning, match="dpi"):
        plot_model(_sequential(4), tmp_path / "m.png", dpi=300)
    assert max(_png_size(tmp_path / "m.png")) <= 401


def test_name_without_extension_gets_png(mpl, tmp_path):
    path = tmp_path / "model"
    plot_model(_sequential(2), path)
    _png_size(path)


@pytest.mark.parametrize("splines", ["ortho", "curved", "polyline", "spline", "line"])
def test_every_edge_style_draws(mpl, tmp_path, splines):
    plot_model(_multi(), tmp_path / "m.png", splines=splines, dpi=40)
    _png_size(tmp_path / "m.png")


def test_failed_write_leaves_no_temporary_file(mpl, tmp_path, monkeypatch):
    from neuroflow.keras.callbacks import logging as logging_module

    def refuse(source, target):
        raise OSError(28, "No space left on device", str(target))

    monkeypatch.setattr(logging_module.os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        plot_model(_branchy(), tmp_path / "model.png")
    assert os.listdir(tmp_path) == []


def test_existing_picture_survives_a_failed_write(mpl, tmp_path):
    path = tmp_path / "model.png"
    path.write_bytes(b"old picture")
    folder = tmp_path / "taken.png"
    folder.mkdir()  # a folder where the picture should go: the rename fails
    with pytest.raises(OSError):
        plot_model(_branchy(), folder)
    assert sorted(os.listdir(tmp_path)) == ["model.png", "taken.png"]
    assert os.listdir(folder) == []
    assert path.read_bytes() == b"old picture"


def test_pyplot_is_left_alone(mpl, tmp_path):
    if "matplotlib.pyplot" not in sys.modules:
        plot_model(_branchy(), tmp_path / "a.png")
        assert "matplotlib.pyplot" not in sys.modules
    plt = pytest.importorskip("matplotlib.pyplot")
    before = mpl.get_backend()
    figures = plt.get_fignums()
    try:
        plt.switch_backend("svg")
        plot_model(_branchy(), tmp_path / "b.png")
        assert mpl.get_backend() == "svg"
        assert plt.get_fignums() == figures
    finally:
        plt.switch_backend(before)


def test_missing_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_model(_sequential(2), tmp_path / "m.png")
    assert os.listdir(tmp_path) == []


# --- against Keras ---------------------------------------------------------------------------


@pytest.mark.tensorflow
def test_signature_matches_keras():
    real = pytest.importorskip("keras")
    ours = inspect.signature(plot_model).parameters
    theirs = inspect.signature(real.utils.plot_model).parameters
    assert list(ours) == list(theirs)
    assert [p.default for p in ours.values()] == [p.default for p in theirs.values()]


def _keras_picture(real, model, **options):
    """Labels (one string per row, cells joined by " | ") and edges of Keras's dot graph."""
    from keras.utils import model_to_dot

    names = {}

    def collect(m):
        for layer in list(getattr(m, "_operations", [])) + list(m.layers):
            names[str(id(layer))] = layer.name
            if isinstance(layer, real.Model):
                collect(layer)

    collect(model)
    labels, edges = {}, []

    def walk(graph):
        for node in graph.get_nodes():
            label = node.get("label") or ""
            if node.get_name() in names and "<table" in label:
                rows = re.findall(r"<tr>(.*?)</tr>", label)
                labels[names[node.get_name()]] = [
                    " | ".join(re.sub(r"<[^>]+>", "", cell)
                               for cell in re.findall(r"<td[^>]*>(.*?)</td>", row))
                    for row in rows]
        for edge in graph.get_edges():
            edges.append((names[edge.get_source()], names[edge.get_destination()]))
        for sub in graph.get_subgraphs():
            walk(sub)

    walk(model_to_dot(model, **options))
    return labels, sorted(edges)


@pytest.mark.tensorflow
@pytest.mark.parametrize("build", [_sequential, _branchy, _multi, _nested])
@pytest.mark.parametrize("expand_nested", [False, True])
def test_labels_and_edges_match_keras(build, expand_nested):
    real = pytest.importorskip("keras")
    pytest.importorskip("pydot")
    everything = dict(show_shapes=True, show_dtype=True, show_layer_names=True,
                      show_layer_activations=True, show_trainable=True)
    for options in ({"show_layer_names": False}, everything):
        labels, edges = _keras_picture(real, build(k=real), expand_nested=expand_nested,
                                       **options)
        layout = layout_model(build(), expand_nested=expand_nested, **options)
        assert {b.name: b.texts for b in layout.boxes} == labels
        assert sorted(layout.edge_names()) == edges
