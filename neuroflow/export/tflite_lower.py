"""Lower a traced graph (``graph.ir.Graph``) to TensorFlow Lite builtin operators (float).

A traced Keras model is a list of primitives, finer than TensorFlow Lite's operators, so
lowering recognises the patterns the layers trace to and emits one operator for each:

* values that depend only on variables and constants (BatchNormalization's scale and
  offset, a reshaped depthwise kernel) are computed now and become constant tensors;
* ``matmul``/``conv`` with a constant kernel, followed by per-channel ``add``/``subtract``
  /``multiply`` by constants (the bias, a BatchNormalization after it) and ``relu`` or
  the relu6 pattern, become one FULLY_CONNECTED/CONV_2D with the constants folded into
  its weights and bias and the activation fused;
* a ``concat`` of per-channel ``conv`` of slices of one value (how DepthwiseConv2D
  traces) becomes DEPTHWISE_CONV_2D;
* the softmax pattern (max, subtract, exp, sum, divide) becomes SOFTMAX, a ``reduce_sum``
  divided by the number of elements summed becomes MEAN.

Any other primitive raises ``NotImplementedError`` naming it and its layer.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from neuroflow.export.tflite_model import Model, Operator, Tensor
from neuroflow.graph.ir import Graph, Node, Value

_ALIASES = ("stop_gradient", "identity")
_UNARY = {"relu": "RELU", "sigmoid": "LOGISTIC", "tanh": "TANH"}
_BINARY = {"add": "ADD", "subtract": "SUB", "multiply": "MUL"}


def lower(graph: Graph, input_names: list[str] | None = None) -> Model:
    """The float TensorFlow Lite model computing ``graph`` (read, never changed)."""
    return _Lowering(graph, input_names).run()


def _unknown(size) -> bool:
    return type(size) is not int


def _tflite_shape(value: Value) -> tuple:
    return tuple(-1 if _unknown(s) else int(s) for s in value.shape)


def _layer(node: Node) -> str:
    return node.scope or "<no layer>"


class _Lowering:
    def __init__(self, graph: Graph, input_names: list[str] | None):
        self.graph = graph
        self.input_names = list(input_names or [f"input_{i}" for i in range(len(graph.inputs))])
        self.model = Model()
        self.static: dict[str, np.ndarray] = {n: np.asarray(a) for n, a in graph.constants.items()}
        self.producer: dict[str, Node] = {}
        self.consumers: dict[str, list[Node]] = defaultdict(list)
        self.tensor_of: dict[str, int] = {}
        self.alias: dict[str, str] = {}
        self.done: set[int] = set()
        self.patterns: dict[int, tuple] = {}  # id(anchor node) -> (kind, details)
        self.outputs = {v.name for v in graph.outputs}

    # -- the steps -------------------------------------------------------------------------

    def run(self) -> Model:
        self._fold_constants()
        self._index_uses()
        self._find_patterns()
        self._add_inputs()
        for node in self.graph.nodes:
            if id(node) in self.done or node.output is None or node.output.name in self.static:
                continue
            self._lower_node(node)
        self._add_outputs()
        return self.model

    def _fold_constants(self) -> None:
        for node in self.graph.nodes:
            if node.assigns or node.has_effect:
                raise NotImplementedError(
                    f"TFLite conversion supports inference graphs only; received "
                    f"'{node.op}', which has a side effect, in layer '{_layer(node)}'. Convert "
                    f"a model or a function that neither changes variables nor prints.")
            if node.op == "read_variable":
                variable = self.graph.variables[node.variable]
                self.static[node.output.name] = np.array(variable.numpy())
            elif node.inputs and not node.stateful and not node.extra_outputs and all(
                    v.name in self.static for v in node.inputs) and node.output is not None:
                args = [self.static[v.name] for v in node.inputs]
                self.static[node.output.name] = np.asarray(
                    node.primitive.forward(np, *args, **node.attrs))

    def _index_uses(self) -> None:
        for node in self.graph.nodes:
            if node.output is None or node.output.name in self.static:
                continue
            self.producer[node.output.name] = node
            for value in node.inputs:
                if value.name not in self.static:
                    self.consumers[value.name].append(node)

    def _sole_consumer(self, value: Value) -> Node | None:
        users = self.consumers.get(value.name, [])
        if len(users) != 1 or value.name in self.outputs:
            return None
        return users[0]

    def _from(self, value: Value, op: str) -> Node | None:
        node = self.producer.get(value.name)
        return node if node is not None and node.op == op else None

    # -- patterns that span several primitives ------------------------------------------

    def _find_patterns(self) -> None:
        for node in self.graph.nodes:
            if id(node) in self.done or node.output is None:
                continue
            if node.op == "concat":
                self._match_depthwise(node)
            elif node.op == "where":
                self._match_relu6(node)
            elif node.op == "minimum":
                self._match_relu_max(node)
            elif node.op == "divide":
                self._match_softmax(node) or self._match_mean(node)

    def _claim(self, anchor: Node, kind: str, members: list[Node], details) -> bool:
        self.patterns[id(anchor)] = (kind, details)
        self.done.update(id(m) for m in members if m is not anchor)
        return True

    def _match_relu6(self, node: Node) -> bool:
        cond, six, relu = node.inputs
        ge, r = self._from(cond, "greater_equal"), self._from(relu, "relu")
        if ge is None or r is None or not self._is_scalar(six, 6.0):
            return False
        x = r.inputs[0]
        if ge.inputs[0].name != x.name or not self._is_scalar(ge.inputs[1], 6.0):
            return False
        if any(len(self.consumers[v.name]) != 1 or v.name in self.outputs for v in (cond, relu)):
            return False
        return self._claim(node, "RELU6", [ge, r], x)

    def _match_relu_max(self, node: Node) -> bool:
        """``minimum(relu(x), 6)``: how ``keras.layers.ReLU(max_value=6)`` traces."""
        r = self._from(node.inputs[0], "relu")
        if r is None or not self._is_scalar(node.inputs[1], 6.0) \
                or self._sole_consumer(r.output) is not node:
            return False
        return self._claim(node, "RELU6", [r], r.inputs[0])

    def _match_softmax(self, node: Node) -> bool:
        e, s = node.inputs
        exp, total = self._from(e, "exp"), self._from(s, "reduce_sum")
        if exp is None or total is None or total.inputs[0].name != e.name:
            return False
        sub = self._from(exp.inputs[0], "subtract")
        if sub is None:
            return False
        x, shift = sub.inputs
        members = [exp, total, sub]
        stop = self._from(shift, "stop_gradient")
        if stop is not None:
            members.append(stop)
            shift = stop.inputs[0]
        peak = self._from(shift, "reduce_max")
        last = len(x.shape) - 1
        if peak is None or peak.inputs[0].name != x.name:
            return False
        for reduce in (peak, total):
            axes = tuple(a % len(x.shape) for a in reduce.attrs.get("axes", ()))
            if axes != (last,) or not reduce.attrs.get("keepdims"):
                return False
        inner = [exp.output, total.output, sub.output, peak.output] + (
            [stop.output] if stop is not None else [])
        if any(v.name in self.outputs for v in inner):
            return False
        return self._claim(node, "SOFTMAX", members + [peak], x)

    def _match_mean(self, node: Node) -> bool:
        total = self._from(node.inputs[0], "reduce_sum")
        if total is None or len(self.consumers[total.output.name]) != 1 \
                or node.inputs[1].name not in self.static:
            return False
        x = total.inputs[0]
        axes = tuple(a % len(x.shape) for a in total.attrs["axes"])
        sizes = [x.shape[a] for a in axes]
        if any(_unknown(s) for s in sizes) or total.output.name in self.outputs:
            return False
        if not self._is_scalar(node.inputs[1], float(np.prod(sizes))):
            return False
        return self._claim(node, "MEAN", [total], (x, axes, bool(total.attrs["keepdims"])))

    def _match_depthwise(self, node: Node) -> bool:
        convs = [self._from(v, "conv") for v in node.inputs]
        if not convs or any(c is None for c in convs) or len(node.output.shape) != 4 \
                or node.attrs["axis"] % 4 != 3:
            return False
        slices = [self._from(c.inputs[0], "getitem") for c in convs]
        if any(s is None for s in slices) or any(c.inputs[1].name not in self.static
                                                 for c in convs):
            return False
        x = slices[0].inputs[0]
        full = slice(None, None, None)
        for k, (piece, conv) in enumerate(zip(slices, convs)):
            key = piece.attrs["key"]
            if piece.inputs[0].name != x.name or not isinstance(key, tuple) or len(key) != 4 \
                    or key[:3] != (full,) * 3 or key[3] != slice(k, k + 1, None) \
                    or conv.attrs != convs[0].attrs:
                return False
        if len(convs) != x.shape[3]:
            return False
        kernel = np.concatenate([self.static[c.inputs[1].name] for c in convs], axis=-1)
        return self._claim(node, "DEPTHWISE_CONV_2D", [*convs, *slices],
                           (x, kernel, convs[0].attrs))

    def _is_scalar(self, value: Value, number: float) -> bool:
        array = self.static.get(value.name)
        return array is not None and array.size == 1 and float(array.reshape(())) == number

    # -- tensors -------------------------------------------------------------------------

    def _add_inputs(self) -> None:
        for value, name in zip(self.graph.inputs, self.input_names):
            if value.dtype != np.float32:
                raise NotImplementedError(
                    f"TFLite conversion supports float32 inputs; input '{name}' is "
                    f"{value.dtype.name}. Cast it inside the model instead.")
            index = self.model.add_tensor(Tensor(f"serving_default_{name}:0",
                                                 _tflite_shape(value), np.dtype(np.float32),
                                                 value=value.name))
            self.tensor_of[value.name] = index
            self.model.inputs.append(index)
        self.model.input_names = list(self.input_names)

    def _add_outputs(self) -> None:
        for value in self.graph.outputs:
            name = self.alias.get(value.name, value.name)
            if name not in self.tensor_of:
                raise NotImplementedError(
                    f"TFLite conversion needs outputs computed from the inputs; output "
                    f"{value.name} is a constant or an input passed through.")
            index = self.tensor_of[name]
            if index in self.model.inputs:
                raise NotImplementedError(
                    "TFLite conversion needs outputs computed from the inputs; an input is "
                    "returned unchanged.")
            self.model.outputs.append(index)
        for k, index in enumerate(self.model.outputs):
            self.model.tensors[index].name = f"StatefulPartitionedCall:{k}"

    def _input(self, value: Value, node: Node) -> int:
        name = self.alias.get(value.name, value.name)
        if name in self.tensor_of:
            return self.tensor_of[name]
        if name in self.static:
            return self._constant(self.static[name], f"{_layer(node)}/{node.op}_const")
        raise AssertionError(f"value {name} used before it is made")  # nodes are in order

    def _constant(self, array: np.ndarray, name: str, dtype=np.float32) -> int:
        array = np.asarray(array, dtype)
        return self.model.add_tensor(Tensor(self.model.unique_name(name), array.shape,
                                            np.dtype(dtype), data=array))

    def _result(self, value: Value, node: Node, kind: str) -> int:
        name = self.model.unique_name(f"{_layer(node)}/{kind.lower()}")
        index = self.model.add_tensor(Tensor(name, _tflite_shape(value),
                                             np.dtype(np.float32), value=value.name))
        self.tensor_of[value.name] = index
        return index

    def _emit(self, kind: str, node: Node, inputs: list[int], out: Value, **options) -> None:
        output = self._result(out, node, kind)
        self.model.operators.append(Operator(kind, inputs, [output], options, _layer(node)))

    # -- one node (or the pattern it anchors) ----------------------------------------------

    def _lower_node(self, node: Node) -> None:
        pattern = self.patterns.get(id(node))
        if pattern is not None:
            self._lower_pattern(node, *pattern)
        elif node.op in _ALIASES or (node.op == "cast"
                                     and node.inputs[0].dtype == node.output.dtype):
            self.alias[node.output.name] = self.alias.get(node.inputs[0].name, node.inputs[0].name)
        elif node.op == "matmul" and node.inputs[1].name in self.static:
            self._lower_dense(node)
        elif node.op == "conv" and node.inputs[1].name in self.static:
            self._lower_conv(node)
        elif node.op in ("max_pool", "avg_pool"):
            self._lower_pool(node)
        elif node.op == "reshape":
            shape = [-1 if _unknown(s) else int(s) for s in node.output.shape]
            if shape.count(-1) > 1:
                self._unsupported(node, "a reshape with more than one unknown size")
            const = self._constant(np.array(shape, np.int32), f"{_layer(node)}/shape", np.int32)
            self._emit("RESHAPE", node, [self._input(node.inputs[0], node), const],
                       node.output, new_shape=shape)
        elif node.op in _UNARY:
            self._emit(_UNARY[node.op], node, [self._input(node.inputs[0], node)], node.output)
        elif node.op in _BINARY or (node.op == "divide" and node.inputs[1].name in self.static):
            self._lower_binary(node)
        elif node.op == "concat":
            axis = node.attrs["axis"] % len(node.output.shape)
            self._emit("CONCATENATION", node, [self._input(v, node) for v in node.inputs],
                       node.output, axis=axis)
        else:
            self._unsupported(node)

    def _unsupported(self, node: Node, what: str | None = None):
        raise NotImplementedError(
            f"TFLite conversion does not support {what or f'the op {node.op!r}'} "
            f"(in layer '{_layer(node)}', {node.location or 'traced'}). Supported: Dense, "
            f"Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D, "
            f"GlobalAveragePooling2D, Flatten/Reshape, BatchNormalization, Dropout, "
            f"Concatenate, Add/Subtract/Multiply, and relu, relu6, sigmoid, tanh, softmax "
            f"activations.")

    def _lower_pattern(self, node: Node, kind: str, details) -> None:
        if kind == "SOFTMAX":
            self._emit("SOFTMAX", node, [self._input(details, node)], node.output, beta=1.0)
        elif kind == "RELU6":
            self._emit("RELU6", node, [self._input(details, node)], node.output)
        elif kind == "MEAN":
            x, axes, keepdims = details
            const = self._constant(np.array(axes, np.int32), f"{_layer(node)}/axes", np.int32)
            self._emit("MEAN", node, [self._input(x, node), const], node.output,
                       keep_dims=keepdims)
        else:
            x, kernel, attrs = details
            padding = self._padding(node, x, kernel.shape[:2], attrs)
            out, scale, bias, act = self._fuse_tail(node.output, kernel.shape[-1])
            weights = (kernel * scale).reshape((1, *kernel.shape[:2], kernel.shape[-1]))
            self._emit_weighted("DEPTHWISE_CONV_2D", node, x, weights, bias, out,
                                padding=padding, stride_h=attrs["strides"][0],
                                stride_w=attrs["strides"][1],
                                depth_multiplier=kernel.shape[-1] // x.shape[3],
                                dilation_h_factor=attrs["dilations"][0],
                                dilation_w_factor=attrs["dilations"][1],
                                fused_activation_function=act)

    def _lower_dense(self, node: Node) -> None:
        x, w = node.inputs
        kernel = self.static[w.name]
        if kernel.ndim != 2 or len(x.shape) < 2:
            self._unsupported(node, "a matmul whose second operand is not a 2-D kernel")
        out, scale, bias, act = self._fuse_tail(node.output, kernel.shape[1])
        weights = (kernel * scale).T
        self._emit_weighted("FULLY_CONNECTED", node, x, weights, bias, out,
                            fused_activation_function=act, keep_num_dims=len(x.shape) > 2)

    def _lower_conv(self, node: Node) -> None:
        x, k = node.inputs
        kernel = self.static[k.name]
        if kernel.ndim != 4:
            self._unsupported(node, f"a {kernel.ndim - 2}-D convolution")
        if kernel.shape[2] != x.shape[3]:
            self._unsupported(node, "a grouped convolution")
        padding = self._padding(node, x, kernel.shape[:2], node.attrs)
        out, scale, bias, act = self._fuse_tail(node.output, kernel.shape[3])
        weights = np.transpose(kernel * scale, (3, 0, 1, 2))  # HWIO -> OHWI
        self._emit_weighted("CONV_2D", node, x, weights, bias, out, padding=padding,
                            stride_h=node.attrs["strides"][0], stride_w=node.attrs["strides"][1],
                            dilation_h_factor=node.attrs["dilations"][0],
                            dilation_w_factor=node.attrs["dilations"][1],
                            fused_activation_function=act)

    def _emit_weighted(self, kind, node, x, weights, bias, out, **options) -> None:
        layer = _layer(node)
        inputs = [self._input(x, node), self._constant(weights, f"{layer}/kernel"),
                  self._constant(bias, f"{layer}/bias")]
        self._emit(kind, node, inputs, out, **options)

    def _fuse_tail(self, value: Value, channels: int):
        """Fold the constant per-channel adds and multiplies after a kernel, then its
        activation; returns the last value, the output scale, the bias and the activation."""
        scale = np.ones(channels, np.float64)
        bias = np.zeros(channels, np.float64)
        while True:
            relu6 = self._relu6_reading(value)
            if relu6 is not None:
                self.done.add(id(relu6))
                return relu6.output, scale, bias, "RELU6"
            nxt = self._sole_consumer(value)
            if nxt is None or (id(nxt) in self.done and nxt.op != "relu"):
                break
            if nxt.op == "relu":
                self.done.add(id(nxt))
                bound = self._sole_consumer(nxt.output)
                pattern = self.patterns.get(id(bound)) if bound is not None else None
                if pattern and pattern[0] == "RELU6" and pattern[1].name == value.name:
                    self.done.add(id(bound))
                    return bound.output, scale, bias, "RELU6"
                return nxt.output, scale, bias, "RELU"
            vector = self._channel_constant(nxt, value, channels)
            if vector is None:
                break
            if nxt.op == "add":
                bias = bias + vector
            elif nxt.op == "subtract":
                bias = bias - vector
            else:
                scale, bias = scale * vector, bias * vector
            self.done.add(id(nxt))
            value = nxt.output
        return value, scale, bias, "NONE"

    def _relu6_reading(self, value: Value) -> Node | None:
        users = self.consumers.get(value.name, [])
        if value.name in self.outputs or len(users) != 2:
            return None
        for user in self.consumers.get(users[0].output.name, []) + \
                self.consumers.get(users[1].output.name, []):
            pattern = self.patterns.get(id(user))
            if pattern and pattern[0] == "RELU6" and pattern[1].name == value.name and \
                    all(id(u) in self.done for u in users):
                return user
        return None

    def _channel_constant(self, node: Node, value: Value, channels: int) -> np.ndarray | None:
        """The per-channel vector ``node`` adds, subtracts or multiplies ``value`` by, when
        the other operand is a constant broadcasting along the last axis only."""
        if node.op not in ("add", "subtract", "multiply") or len(node.inputs) != 2:
            return None
        first, second = node.inputs
        if first.name == value.name and second.name in self.static:
            other = self.static[second.name]
        elif second.name == value.name and first.name in self.static and node.op != "subtract":
            other = self.static[first.name]
        else:
            return None
        if other.ndim > len(value.shape) or any(s != 1 for s in other.shape[:-1]) or \
                (other.ndim and other.shape[-1] not in (1, channels)) or \
                node.output.shape != value.shape:
            return None
        return np.broadcast_to(other.reshape(-1).astype(np.float64), (channels,))

    def _padding(self, node: Node, x: Value, kernel: tuple, attrs: dict) -> str:
        pads = attrs["pads"]
        if all(p == (0, 0) for p in pads):
            return "VALID"
        dilations = attrs.get("dilations", (1, 1))
        for axis, (lo, hi) in enumerate(pads):
            size, stride = x.shape[1 + axis], attrs["strides"][axis]
            if _unknown(size):
                self._unsupported(node, "padding on an axis of unknown size")
            extent = (kernel[axis] - 1) * dilations[axis] + 1
            out = -(-size // stride)
            total = max((out - 1) * stride + extent - size, 0)
            if (lo, hi) != (total // 2, total - total // 2):
                self._unsupported(node, f"explicit padding {pads}")
        return "SAME"

    def _lower_pool(self, node: Node) -> None:
        x = node.inputs[0]
        attrs = node.attrs
        if len(attrs["kernel"]) != 2:
            self._unsupported(node, f"{len(attrs['kernel'])}-D pooling")
        padding = self._padding(node, x, attrs["kernel"], attrs)
        kind = "MAX_POOL_2D" if node.op == "max_pool" else "AVERAGE_POOL_2D"
        self._emit(kind, node, [self._input(x, node)], node.output, padding=padding,
                   stride_h=attrs["strides"][0], stride_w=attrs["strides"][1],
                   filter_height=attrs["kernel"][0], filter_width=attrs["kernel"][1])

    def _lower_binary(self, node: Node) -> None:
        first, second = node.inputs
        kind = _BINARY.get(node.op, "MUL")
        inputs = []
        for value in (first, second):
            if value.name in self.static:
                array = self.static[value.name]
                if node.op == "divide":
                    array = 1.0 / array  # x / c as x * (1 / c): TFLite's DIV has no int8 kernel
                # leading 1-sizes dropped: broadcasting is the same and kernels see lower ranks
                while array.ndim > 1 and array.shape[0] == 1:
                    array = array[0]
                inputs.append(self._constant(array, f"{_layer(node)}/{node.op}_const"))
            else:
                inputs.append(self._input(value, node))
        self._emit(kind, node, inputs, node.output)
