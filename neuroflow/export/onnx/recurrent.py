"""neuroflow's fused recurrent sequences as ONNX's LSTM, GRU and RNN operators.

The fused primitives (``ops/recurrent.py``) take the projected inputs ``x @ kernel + bias``
(batch-major, Keras's gate order) and the recurrent kernel ``(units, gates * units)``.
ONNX's operators take time-major inputs, their own input weights ``W`` and recurrent
weights ``R`` as ``(gates * units, ...)`` rows, and the LSTM's gates in the order
``i, o, f, c`` where Keras has ``i, f, c, o`` (GRU: ``z, r, h`` in both).

When the projection is the usual ``x @ kernel + bias`` of variables (see
``patterns._projection``), its kernel and bias become ``W`` and ``Wb``; otherwise the
projected inputs go in with ``W`` the identity (with the LSTM's gates reordered).
Keras's GRU with ``reset_after=True`` is ONNX's ``linear_before_reset=1``.

A masked sequence (``mask_zero``, ``Masking``) keeps each sample's state through its
masked steps, which ONNX's operators cannot (their ``sequence_lens`` only cut the end):
it becomes a ``Scan`` over time whose body is one step of the cell.
"""

from __future__ import annotations

import numpy as np

from neuroflow.export.onnx.writer import LastStepOnly, Writer
from neuroflow.graph.ir import Node, Value

RECURRENT = frozenset({"lstm_sequence", "gru_sequence", "simple_rnn_sequence"})

# op -> (ONNX operator, gates, Keras gate block of each ONNX gate block)
_SPECS = {"lstm_sequence": ("LSTM", 4, (0, 3, 1, 2)),
          "gru_sequence": ("GRU", 3, (0, 1, 2)),
          "simple_rnn_sequence": ("RNN", 1, (0,))}

# Every activation the fused ops take (ops/recurrent.FUSED_ACTIVATIONS; a test checks) ->
# (ONNX activation, alpha, beta); Keras 3's hard_sigmoid is relu6(x + 3) / 6, which is
# clip(x / 6 + 0.5, 0, 1).
ACTIVATIONS = {"tanh": ("Tanh", None, None), "sigmoid": ("Sigmoid", None, None),
               "relu": ("Relu", None, None), "linear": ("Affine", 1.0, 0.0),
               "hard_sigmoid": ("HardSigmoid", 1.0 / 6.0, 0.5)}


def _rows(order: tuple, units: int) -> np.ndarray:
    return np.concatenate([np.arange(b * units, (b + 1) * units) for b in order])


def _recurrent_inputs(node: Node):
    """(h0, c0 or None, recurrent kernel, recurrent bias or None, mask or None)."""
    attrs = node.attrs
    if node.op == "lstm_sequence":
        expected, (h0, c0, kernel), bias = 4, node.inputs[1:4], None
    elif node.op == "gru_sequence":
        expected = 4 if attrs["reset_after"] else 3
        h0, kernel, c0 = node.inputs[1], node.inputs[2], None
        bias = node.inputs[3] if attrs["reset_after"] else None
    else:
        expected, (h0, kernel), c0, bias = 3, node.inputs[1:3], None, None
    mask = node.inputs[expected] if len(node.inputs) > expected else None
    return h0, c0, kernel, bias, mask


def _weights(w: Writer, node: Node, value: Value, rows: np.ndarray, hint: str) -> str:
    """``value`` (``(units_or_features, gates * units)``) as ONNX's ``(1, rows, ...)``."""
    array = w.static.get(value.name)
    if array is not None:
        return w.const(np.ascontiguousarray(array.T[rows][None]), hint)
    flipped = w.transpose(w.name_of(value), [1, 0])
    picked = w.op("Gather", [flipped, w.ints(rows, "rows")], axis=0)
    return w.unsqueeze(picked, [0])


def _bias(w: Writer, node: Node, value: Value | None, rows: np.ndarray, dtype) -> str:
    if value is None:
        return w.const(np.zeros(len(rows), dtype), "bias")
    array = w.static.get(value.name)
    if array is not None:
        return w.const(np.ascontiguousarray(array[rows]), "bias")
    return w.op("Gather", [w.name_of(value), w.ints(rows, "rows")], axis=0)


def _emit(w: Writer, node: Node, x: Value, kernel: Value | None, bias: Value | None):
    op_type, gates, order = _SPECS[node.op]
    h0, c0, recurrent_kernel, recurrent_bias, mask = _recurrent_inputs(node)
    if mask is not None:
        return _emit_scan(w, node, _projected(w, node, x, kernel, bias), mask)
    units = int(recurrent_kernel.shape[0])
    rows = _rows(order, units)
    dtype = node.output.dtype
    if kernel is None:  # the projected inputs go in as they are
        input_w = w.const(np.eye(gates * units, dtype=dtype)[rows][None], "W")
    else:
        input_w = _weights(w, node, kernel, rows, "W")
    weights_r = _weights(w, node, recurrent_kernel, rows, "R")
    b = w.op("Concat", [_bias(w, node, bias, rows, dtype),
                        _bias(w, node, recurrent_bias, rows, dtype)], axis=0)
    inputs = [w.transpose(w.name_of(x), [1, 0, 2]), input_w, weights_r,
              w.unsqueeze(b, [0]), None, w.unsqueeze(w.name_of(h0), [0])]
    if c0 is not None:
        inputs.append(w.unsqueeze(w.name_of(c0), [0]))
    attrs = _activation_attrs(node)
    if node.op == "gru_sequence":
        attrs["linear_before_reset"] = int(bool(node.attrs["reset_after"]))
    outputs = 3 if op_type == "LSTM" else 2
    results = w.op(op_type, inputs, outputs=outputs, hidden_size=units, **attrs)
    states = w.transpose(w.squeeze(results[0], [1]), [1, 0, 2])  # (batch, time, units)
    if op_type == "LSTM":
        # ONNX gives the last cell state only; the workspaces are for gradients.
        return states, LastStepOnly(w.squeeze(results[2], [0]), node), None, None
    if op_type == "GRU":
        return states, None
    return states


def _activation_attrs(node: Node) -> dict:
    attrs = node.attrs
    if node.op == "lstm_sequence":
        names = [attrs["recurrent_activation"], attrs["activation"], attrs["activation"]]
    elif node.op == "gru_sequence":
        names = [attrs["recurrent_activation"], attrs["activation"]]
    else:
        names = [attrs["activation"]]
    specs = [ACTIVATIONS[n] for n in names]
    result = {"activations": [s[0] for s in specs]}
    # Alphas and betas are consumed in order by the activations that take them.
    alphas = [s[1] for s in specs if s[1] is not None]
    if alphas:
        result["activation_alpha"] = alphas
        result["activation_beta"] = [s[2] for s in specs if s[2] is not None]
    return result


# --- masked sequences: one step of Keras's cell in a Scan body ----------------------------------


def _projected(w: Writer, node: Node, x: Value, kernel: Value | None, bias: Value | None):
    name = w.name_of(x)
    if kernel is None:
        return name
    product = w.op("MatMul", [name, w.name_of(kernel)])
    return w.op("Add", [product, w.name_of(bias)])


def _activate(body: Writer, name: str, activation: str) -> str:
    op_type, alpha, beta = ACTIVATIONS[activation]
    if op_type == "Affine":
        return name
    if alpha is None:
        return body.op(op_type, [name])
    return body.op(op_type, [name], alpha=alpha, beta=beta)


def _columns(body: Writer, name: str, block: int, units: int, blocks: int = 1) -> str:
    """Gate columns ``[block * units, (block + blocks) * units)`` of a step's block."""
    return body.op("Slice", [name, body.ints([block * units], "start"),
                             body.ints([(block + blocks) * units], "end"),
                             body.ints([1], "axis")])


def _emit_scan(w: Writer, node: Node, x_proj: str, mask: Value):
    """A masked sequence: ONNX's LSTM/GRU/RNN cannot keep a sample's state through its
    masked steps (their sequence lengths only cut the end), so the recurrence is a Scan
    over time whose body is one step of the cell, as the fused op computes it."""
    attrs = node.attrs
    h0, c0, kernel, recurrent_bias, _ = _recurrent_inputs(node)
    units, dtype = int(kernel.shape[0]), node.output.dtype
    act = attrs["activation"]
    ract = attrs.get("recurrent_activation", act)
    body = w.subgraph()
    elem = body.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    lstm = node.op == "lstm_sequence"
    h_prev, x_t, m_t = body.fresh("h_prev"), body.fresh("x_t"), body.fresh("mask_t")
    c_prev = body.fresh("c_prev") if lstm else None
    keep = body.unsqueeze(body.cast(m_t, np.bool_), [1])
    kernel_name = w.name_of(kernel)  # outer names are visible inside the body
    if node.op == "lstm_sequence":
        z = body.op("Add", [x_t, body.op("MatMul", [h_prev, kernel_name])])
        i, f, o = (_activate(body, _columns(body, z, k, units), ract) for k in (0, 1, 3))
        g = _activate(body, _columns(body, z, 2, units), act)
        c = body.op("Add", [body.op("Mul", [f, c_prev]), body.op("Mul", [i, g])])
        h = body.op("Mul", [o, _activate(body, c, act)])
        c = body.op("Where", [keep, c, c_prev])
    elif node.op == "gru_sequence":
        h = _gru_step(w, body, node, x_t, h_prev, kernel_name, recurrent_bias, units, act, ract)
    else:
        h = _activate(body, body.op("Add", [x_t, body.op("MatMul", [h_prev, kernel_name])]),
                      act)
    h = body.op("Where", [keep, h, h_prev])
    states = [h, c] if lstm else [h]
    sequences = [body.op("Identity", [s]) for s in states]
    step_shape, state_shape = [None, _step_width(node)], [None, units]
    inputs = [body.helper.make_tensor_value_info(n, elem, state_shape)
              for n in ([h_prev, c_prev] if lstm else [h_prev])]
    inputs += [body.helper.make_tensor_value_info(x_t, elem, step_shape),
               body.helper.make_tensor_value_info(m_t, body.helper.np_dtype_to_tensor_dtype(
                   mask.dtype), [None])]
    outputs = [body.helper.make_tensor_value_info(n, elem, state_shape)
               for n in states + sequences]
    graph = body.helper.make_graph(body.nodes, body.fresh("step"), inputs, outputs,
                                   initializer=list(body.initializers.values()))
    initial = [w.name_of(h0)] + ([w.name_of(c0)] if lstm else [])
    results = w.op("Scan", [*initial, x_proj, w.name_of(mask)],
                   outputs=2 * len(states), body=graph, num_scan_inputs=2,
                   scan_input_axes=[1, 1], scan_output_axes=[1] * len(states))
    if lstm:  # every step's states, batch-major as the fused op gives them
        return results[2], results[3], None, None
    if node.op == "gru_sequence":
        return results[1], None
    return results[1]


def _step_width(node: Node):
    width = node.inputs[0].shape[-1]
    return width if type(width) is int else None


def _gru_step(w, body, node, x_t, h_prev, kernel, recurrent_bias, units, act, ract):
    """One GRU step (gates z, r, h); Keras's ``reset_after`` applies the reset gate to
    ``h @ kernel + bias``, otherwise to ``h`` before the product."""
    x_zr, x_h = _columns(body, x_t, 0, units, 2), _columns(body, x_t, 2, units)
    if node.attrs["reset_after"]:
        inner = body.op("Add", [body.op("MatMul", [h_prev, kernel]),
                                w.name_of(recurrent_bias)])
        zr = _activate(body, body.op("Add", [x_zr, _columns(body, inner, 0, units, 2)]), ract)
        r = _columns(body, zr, 1, units)
        candidate = body.op("Mul", [r, _columns(body, inner, 2, units)])
    else:
        kernel_zr, kernel_h = (_columns(w, kernel, 0, units, 2), _columns(w, kernel, 2, units))
        zr = _activate(body, body.op("Add", [x_zr, body.op("MatMul", [h_prev, kernel_zr])]),
                       ract)
        r = _columns(body, zr, 1, units)
        candidate = body.op("MatMul", [body.op("Mul", [r, h_prev]), kernel_h])
    z = _columns(body, zr, 0, units)
    hh = _activate(body, body.op("Add", [x_h, candidate]), act)
    # h = z * h_prev + (1 - z) * hh, computed as the fused op does
    return body.op("Add", [body.op("Mul", [body.op("Sub", [h_prev, hh]), z]), hh])


def emit_recurrent(w: Writer, node: Node):
    """A fused sequence whose projected inputs go in with an identity ``W``."""
    return _emit(w, node, node.inputs[0], None, None)


def projected_recurrent(x: Value, kernel: Value, bias: Value):
    """A fused sequence whose input projection ``x @ kernel + bias`` becomes ``W`` and
    ``Wb``."""
    def emit(w: Writer, node: Node):
        return _emit(w, node, x, kernel, bias)
    return emit
