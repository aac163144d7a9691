"""``keras.utils.plot_model``: a picture of a model's layers and how they connect.

Keras draws with pydot and the Graphviz program; neuroflow needs no program: the boxes and
arrows are placed by ``model_layout.py`` and painted here with matplotlib (the optional
``plot`` extra), on its own canvas, so a user's pyplot backend and figures are untouched.
"""

from __future__ import annotations

import io
import numbers
import os

from neuroflow.keras.utils.model_layout import (
    FRAME_PADDING,
    RANKDIRS,
    TEXT_SIZE,
    Layout,
    layout_model,
    line_height,
)

FORMATS = ("png", "pdf", "svg")
SPLINES = ("ortho", "curved", "polyline", "spline", "line")
FONT = "DejaVu Sans"  # ships with matplotlib, so every machine measures text alike
LINE_WIDTH = 2.0  # Keras draws its edges with penwidth 2
ARROW_LENGTH = 10.0
ARROW_WIDTH = 8.0
# The longest side of a PNG, in pixels: Graphviz's cairo limit (Agg's own is 2**16),
# which also keeps the memory a huge model's picture takes bounded.
MAX_PIXELS = 32767


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draw ``model`` as boxes (one per layer) joined by arrows, and save it to ``to_file``.

    Example:

    ```python
    inputs = keras.Input(shape=(8,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(4, activation="relu")(inputs))
    model = keras.Model(inputs, outputs)
    keras.utils.plot_model(model, to_file="model.png", show_shapes=True)
    ```

    Args:
        model: A built Keras model. A Sequential or functional model shows its layers; any
            other model is a single box.
        to_file: Path of the picture. Its extension picks the format: ``.png``, ``.pdf`` or
            ``.svg``; a name without extension gets a PNG, as in Keras. The file is written
            atomically: an interrupted call leaves the previous file, never half of one.
        show_shapes: Show each layer's input and output shapes (``None`` is the batch size).
        show_dtype: Show each layer's output dtype.
        show_layer_names: Show layer names next to their class names.
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right); ``"BT"`` and
            ``"RL"`` reverse them, as in Graphviz.
        expand_nested: Draw the layers of nested Sequential and functional models inside a
            dashed frame named after the model, instead of one box per nested model.
        dpi: Resolution of a PNG, in dots per inch (PDF and SVG are vector pictures).
        show_layer_activations: Show the activation of layers that have one.
        show_trainable: Mark layers with weights as trainable (green) or not (red).
        splines: How edges run: ``"ortho"`` (right angles), ``"polyline"``, ``"curved"``
            or ``"spline"`` (smooth curves), or ``"line"`` (straight, box to box).

    Returns:
        As Keras: when IPython can be imported, an ``IPython.display.Image`` of a PNG, so
        that a notebook shows the picture; for an SVG an ``IPython.display.SVG`` (Keras's
        ``Image`` cannot hold SVG); for a PDF, or without IPython, ``None``.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}. plot_model takes "
                         f"to_file, show_shapes, show_dtype, show_layer_names, rankdir, "
                         f"expand_nested, dpi, show_layer_activations, show_trainable and "
                         f"splines.")
    _check_model(model)
    path = os.fspath(to_file)
    extension = _format_of(path)
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}; received rankdir={rankdir!r}.")
    if splines not in SPLINES:
        raise ValueError(f"splines must be one of {SPLINES}; received splines={splines!r}.")
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not dpi > 0:
        raise ValueError(f"dpi must be a positive number of dots per inch; received "
                         f"dpi={dpi!r}.")
    figure_module, canvas_class = _matplotlib()
    measure = text_measure()
    layout = layout_model(model, show_shapes=show_shapes, show_dtype=show_dtype,
                          show_layer_names=show_layer_names, rankdir=rankdir,
                          expand_nested=expand_nested,
                          show_layer_activations=show_layer_activations,
                          show_trainable=show_trainable, measure=measure)
    figure = figure_module.Figure(figsize=(layout.width / 72, layout.height / 72))
    canvas_class(figure)
    _draw(figure, layout, splines, measure)
    data = _render(figure, extension, float(dpi), layout)

    from neuroflow.keras.callbacks.logging import write_atomically

    write_atomically(path, data)
    return _notebook_image(path, extension)


def _check_model(model) -> None:
    from neuroflow.keras.layers.base import Layer

    if not isinstance(model, Layer):
        raise TypeError(f"plot_model expects a Keras model; received {model!r} (of type "
                        f"{type(model).__name__}).")
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by "
                         "calling `build()` or by calling the model on a batch of data.")


def _format_of(path: str) -> str:
    extension = os.path.splitext(path)[1]
    if not extension:
        return "png"
    fmt = extension[1:].lower()
    if fmt not in FORMATS:
        raise ValueError(f"plot_model writes {', '.join(FORMATS)} pictures, chosen by the "
                         f"extension of to_file; received to_file={path!r} (extension "
                         f"{extension!r}). Use a name ending in .png, .pdf or .svg.")
    return fmt


def _matplotlib():
    try:
        from matplotlib import figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as error:
        raise ImportError("plot_model draws with matplotlib, which is not installed. "
                          "Install it with `pip install matplotlib` (or the extra: "
                          "`pip install neuroflow[plot]`).") from error
    return figure, FigureCanvasAgg


def _font(size: float, bold: bool):
    from matplotlib.font_manager import FontProperties

    return FontProperties(family=FONT, size=size, weight="bold" if bold else "normal")


def text_measure():
    """The text width, in points, that pictures are drawn with (a ``model_layout.Measure``):
    matplotlib's, for the fonts it renders."""
    from matplotlib.textpath import TextToPath

    text_to_path = TextToPath()
    cache: dict = {}

    def measure(text: str, size: float, bold: bool) -> float:
        key = (text, size, bold)
        if key not in cache:
            cache[key] = text_to_path.get_text_width_height_descent(
                text, _font(size, bold), ismath=False)[0]
        return cache[key]

    return measure


# --- painting -------------------------------------------------------------------------------


def _draw(figure, layout: Layout, splines: str, measure) -> None:
    from matplotlib.patches import PathPatch, Polygon, Rectangle
    from matplotlib.path import Path

    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    # One data unit is one point, y downwards, as in the layout.
    axes.set_xlim(0, layout.width)
    axes.set_ylim(layout.height, 0)
    for frame in layout.frames:
        axes.add_patch(Rectangle((frame.x, frame.y), frame.width, frame.height, fill=False,
                                 linestyle=(0, (5, 3)), linewidth=1.0, edgecolor="black"))
        # The name sits in the band the layout left for it, on the frame's top side.
        _text(axes, frame.x + FRAME_PADDING,
              frame.y + FRAME_PADDING / 2 + line_height(TEXT_SIZE)[0],
              ((frame.label, False),), TEXT_SIZE, "black", measure, centred=False)
    for box in layout.boxes:
        axes.add_patch(Rectangle((box.x, box.y), box.width, box.height, facecolor="black",
                                 edgecolor="none"))
        for row in box.rows:
            for cell in row:
                x, y = box.x + cell.x, box.y + cell.y
                axes.add_patch(Rectangle((x, y), cell.width, cell.height,
                                         facecolor=cell.fill, edgecolor="none"))
                ascent, descent = line_height(cell.size)
                baseline = y + cell.height / 2 + (ascent - descent) / 2
                _text(axes, x + cell.width / 2, baseline, cell.runs, cell.size, cell.color,
                      measure, centred=True)
    vertical = layout.rankdir in ("TB", "BT")
    for edge in layout.edges:
        vertices, codes = _edge_path(edge.points, splines, vertical)
        head = _arrow_head(vertices[-2], vertices[-1])
        vertices[-1] = head[3]  # the line stops inside the head, not at its tip
        axes.add_patch(PathPatch(Path(vertices, codes), fill=False, linewidth=LINE_WIDTH,
                                 edgecolor="black", capstyle="butt", joinstyle="miter"))
        axes.add_patch(Polygon(head[:3], closed=True, facecolor="black", edgecolor="none"))


def _text(axes, x: float, baseline: float, runs, size: float, color: str, measure,
          centred: bool) -> None:
    """Runs of regular and bold text on one baseline, centred on ``x`` or starting at it."""
    widths = [measure(text, size, bold) for text, bold in runs]
    left = x - sum(widths) / 2 if centred else x
    for (text, bold), width in zip(runs, widths):
        axes.text(left, baseline, text, fontproperties=_font(size, bold), color=color,
                  ha="left", va="baseline")
        left += width


def _arrow_head(before: tuple, tip: tuple) -> list:
    """The head's three corners, then where the line should end (inside the head)."""
    (x0, y0), (x1, y1) = before, tip
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    bx, by = x1 - ux * ARROW_LENGTH, y1 - uy * ARROW_LENGTH
    half = ARROW_WIDTH / 2
    back = min(ARROW_LENGTH * 0.8, length)
    return [(x1, y1), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half),
            (x1 - ux * back, y1 - uy * back)]


def _edge_path(points: list, splines: str, vertical: bool) -> tuple[list, list]:
    """Vertices and path codes of an edge: straight along the flow; across the gap between
    two ranks a step (``ortho``), a slanted segment (``polyline``) or an S-curve
    (``curved``, ``spline``); ``line`` goes straight from box to box."""
    from matplotlib.path import Path

    if splines == "line":
        points = [points[0], points[-1]]
    vertices, codes = [points[0]], [Path.MOVETO]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 != x1 and y0 != y1 and splines in ("ortho", "curved", "spline"):
            if vertical:
                middle = (y0 + y1) / 2
                vertices += [(x0, middle), (x1, middle)]
            else:
                middle = (x0 + x1) / 2
                vertices += [(middle, y0), (middle, y1)]
            codes += [Path.LINETO] * 3 if splines == "ortho" else [Path.CURVE4] * 3
        else:
            codes.append(Path.LINETO)
        vertices.append((x1, y1))
    return vertices, codes


def _render(figure, extension: str, dpi: float, layout: Layout) -> bytes:
    if extension == "png":
        largest = max(layout.width, layout.height) * dpi / 72
        if largest > MAX_PIXELS:
            # Graphviz, too, scales a picture down to its limit, and says so.
            import warnings

            fitted = dpi * MAX_PIXELS / largest
            warnings.warn(f"The picture of this model would be {largest:.0f} pixels long at "
                          f"dpi={dpi:g}, more than PNG rendering allows ({MAX_PIXELS}); it "
                          f"is drawn at dpi={fitted:.1f} instead.", stacklevel=3)
            dpi = fitted
    # No dates in the files, so that the same model gives the same bytes.
    metadata = {"png": {"Software": None}, "pdf": {"CreationDate": None},
                "svg": {"Date": None}}[extension]
    buffer = io.BytesIO()
    from matplotlib import rc_context

    # SVG ids are random unless salted; the setting lasts only while this file is made.
    with rc_context({"svg.hashsalt": "neuroflow.plot_model"}):
        figure.savefig(buffer, format=extension, dpi=dpi, facecolor="white",
                       metadata=metadata)
    return buffer.getvalue()


def _notebook_image(path: str, extension: str):
    if extension == "pdf":
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=path)
    return display.Image(filename=path, format="png")


__all__ = ["plot_model"]
