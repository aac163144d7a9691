"""Attention layers: MultiHeadAttention, Attention (Luong) and AdditiveAttention (Bahdanau).

Masks. As Keras 3's ``Layer.__call__`` does, a call without ``query_mask`` /
``value_mask`` / ``key_mask`` (MultiHeadAttention) or ``mask`` (Attention) reads the
masks attached to the inputs (``Embedding(mask_zero=True)``, ``Masking``), and the
output carries the query's mask. An explicit ``query_mask`` is used as given (Keras
3.15 replaces it by the query's attached mask, so an explicit one has no effect there).

Masked softmax. Keras 3 (TensorFlow backend) takes one of two routes in
MultiHeadAttention, and they differ on a fully masked row (a padded query):

* with dropout, attention scores asked for, or several attention axes, masked scores
  are replaced by -1e9 and zeroed after the softmax, as the ``Softmax`` layer does:
  a fully masked row has zero weights;
* otherwise it calls ``dot_product_attention``, which replaces masked logits by
  ``-0.7 * float32 max`` and does not zero them: a fully masked row has equal weights.

Both are reproduced, so outputs and gradients match Keras's in every case.
``Attention`` subtracts 1e9 from masked scores and never zeroes them.
"""

from __future__ import annotations

import inspect
import math
import numbers
import string

from neuroflow.keras import initializers, regularizers
from neuroflow.keras.layers import symbolic
from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.keras.layers.einsum_dense import EinsumDense
from neuroflow.keras.layers.embedding import get_keras_mask, set_keras_mask
from neuroflow.keras.layers.rnn_cells import serialize_initializer, serialize_regularizer
from neuroflow.keras.layers.stacked_rnn_cells import adopt_weights
from neuroflow.ops import creation, linalg, nn_ops
from neuroflow.ops import elementwise as ew
from neuroflow.ops import reductions as red
from neuroflow.ops import shape_ops as so
from neuroflow.ops.convert import as_tensor
from neuroflow.ops.registry import init_scope


def _bool(mask):
    mask = as_tensor(mask)
    return mask if mask.dtype.name == "bool" else ew.cast(mask, "bool")


def _position_grids(query, value):
    """Row and column numbers (from 1) of a ``(1, T, S)`` grid, T and S the sizes of axis
    1 of ``query`` and ``value``: known or not while tracing."""
    ones = creation.ones((1, query._value.shape[1], value._value.shape[1]), "int32")
    return red.cumsum(ones, axis=-2), red.cumsum(ones, axis=-1)


def causal_mask(query, value):
    """``(1, T, S)``: position i attends to positions j <= i."""
    rows, columns = _position_grids(query, value)
    return ew.greater_equal(rows, columns)


def _copy(initializer):
    """A copy for each projection, so that unseeded initializers draw different kernels."""
    return initializer.clone() if hasattr(initializer, "clone") else initializer


def _check_rate(rate) -> float:
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `dropout`. Expected a float "
                         f"value between 0 and 1. Received: dropout={rate!r}")
    return rate


def _drop(weights, rate: float, training, seed):
    if not training or rate == 0:
        return weights
    if rate == 1:
        return weights * 0
    return nn_ops.dropout(weights, rate, seed=seed)


def _projection_equation(free: int, bound: int, out: int) -> tuple[str, str, int]:
    """``(equation, bias axes, output rank)`` of a projection keeping ``free`` input
    axes, contracting ``bound`` and adding ``out`` (``"abc,cde->abde"``, ``"de"``)."""
    letters = string.ascii_lowercase
    kept, summed = letters[:free], letters[free:free + bound]
    new = letters[free + bound:free + bound + out]
    return f"{kept}{summed},{summed}{new}->{kept}{new}", new, free + out


def _attention_equations(rank: int, axes: tuple) -> tuple[str, str, int]:
    """Einsum equations of the scores (key, query -> scores) and of the combination
    (scores, value -> output) for projected tensors of ``rank`` (batch, ..., heads,
    channels) attending over ``axes``; and the rank of the scores. The scores are laid
    out as (the other axes, heads included; query's attended axes; key's)."""
    letters = string.ascii_lowercase
    query = letters[:rank]
    fresh = iter(letters[rank:])
    key = "".join(next(fresh) if i in axes else query[i] for i in range(rank))
    others = [i for i in range(rank - 1) if i not in axes]
    scores = "".join([query[i] for i in others] + [query[i] for i in axes]
                     + [key[i] for i in axes])
    return f"{key},{query}->{scores}", f"{scores},{key}->{query}", len(scores)


def _expand_mask(mask, rank: int, attended: int):
    """Insert axes before the attended ones (the heads' axis first) until ``mask`` has
    ``rank`` axes, as Keras broadcasts a ``(B, T, S)`` mask over the heads."""
    while mask._value.ndim < rank:
        mask = so.expand_dims(mask, -2 * attended - 1)
    return mask


def _check_broadcastable(mask, scores) -> None:
    if mask._value.ndim > scores._value.ndim or any(
            type(m) is int and type(s) is int and m not in (1, s)
            for m, s in zip(reversed(mask._value.shape), reversed(scores._value.shape))):
        raise ValueError(f"The `mask` must be broadcastable to the attention scores: each "
                         f"mask dimension must be 1 or match the scores' dimension. "
                         f"Received: scores shape {tuple(scores.shape)}, mask shape "
                         f"{tuple(mask.shape)}. Give attention_mask the shape (B, T, S).")


def masked_softmax(scores, mask, axes: tuple):
    """Keras 3's ``Softmax`` layer with a mask: masked entries get -1e9 (-3e4 in
    float16) before the softmax and exactly 0 after it (a fully masked row is zeros)."""
    if mask is not None:
        _check_broadcastable(mask, scores)
        fill = -3e4 if scores.dtype.name == "float16" else -1e9
        scores = ew.where(mask, scores, fill)
    if len(axes) == 1:
        weights = nn_ops.softmax(scores, axis=axes[0])
    else:
        weights = ew.exp(scores - red.reduce_logsumexp(scores, axis=list(axes), keepdims=True))
    if mask is not None:
        weights = ew.where(mask, weights, 0.0)
    return weights


class MultiHeadAttention(Layer):
    """Multi-head attention ("Attention is all you need"): query, key and value are
    projected per head, each query position takes a softmax-weighted mean of the values,
    and the heads are projected back (to the query's features, or ``output_shape``).

    >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.ones((3, 5, 8), "float32")
    >>> out, scores = mha(x, x, return_attention_scores=True)
    >>> out.shape, scores.shape
    (TensorShape([3, 5, 8]), TensorShape([3, 2, 5, 5]))
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        for name, value, optional in (("num_heads", num_heads, False),
                                      ("key_dim", key_dim, False),
                                      ("value_dim", value_dim, True)):
            if optional and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"Received an invalid value for argument `{name}`, expected "
                                 f"a positive integer{' or `None`' * optional}. Received: "
                                 f"{name}={value!r}")
        if flash_attention:
            raise ValueError(f"MultiHeadAttention: flash attention is not available (Keras's "
                             f"TensorFlow backend has none either). Received: flash_attention="
                             f"{flash_attention!r}. Pass flash_attention=None or False.")
        if sliding_window is not None and (isinstance(sliding_window, bool) or not isinstance(
                sliding_window, numbers.Integral) or sliding_window <= 0):
            raise ValueError(f"`sliding_window` must be `None` or a positive integer. "
                             f"Received: sliding_window={sliding_window!r}")
        if isinstance(attention_axes, numbers.Integral):
            attention_axes = (int(attention_axes),)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"`attention_axes` must be an int, list, or tuple. Received: "
                             f"attention_axes={attention_axes!r}")
        if output_shape:
            if isinstance(output_shape, numbers.Integral):
                output_shape = (int(output_shape),)
            elif not isinstance(output_shape, (list, tuple)):
                raise ValueError(f"Invalid `output_shape`: {output_shape!r}. When specified, "
                                 f"the `output_shape` should be of type tuple, list, or int.")
            output_shape = tuple(output_shape)
        refuse_unsupported("MultiHeadAttention", kernel_constraint=kernel_constraint,
                           bias_constraint=bias_constraint)
        super().__init__(**kwargs)
        self._num_heads, self._key_dim = int(num_heads), int(key_dim)
        self._value_dim = int(value_dim) if value_dim else self._key_dim
        self._dropout = _check_rate(dropout)
        self._use_bias, self._use_gate = bool(use_bias), bool(use_gate)
        self._output_shape = output_shape or None
        self._attention_axes = attention_axes
        self._sliding_window = sliding_window
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        # The projections, made in build. Assigned here so that the weights come in
        # Keras's order, under the names Keras's weights files use (its public
        # properties, and `_gate_dense`, which has none).
        self.query_dense = self.key_dense = self._gate_dense = None
        self.value_dense = self.output_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    # Keras's private names, which subclasses of its layer use.
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)

    # --- building ------------------------------------------------------------------------
    def _dense(self, name: str, shape, free: int, bound: int, out_shape, **extra):
        equation, bias_axes, rank = _projection_equation(free, bound, len(out_shape))
        layer = EinsumDense(
            equation, output_shape=[None] * (rank - 1 - len(out_shape)) + list(out_shape),
            bias_axes=bias_axes if self._use_bias else None, name=name, dtype=self.dtype,
            kernel_initializer=_copy(self._kernel_initializer),
            bias_initializer=_copy(self._bias_initializer),
            kernel_regularizer=self._kernel_regularizer,
            bias_regularizer=self._bias_regularizer,
            activity_regularizer=self._activity_regularizer, **extra)
        layer._build_from_shape(tuple(shape))
        adopt_weights(self.name, layer)
        return layer

    def build(self, query_shape, value_shape, key_shape=None) -> None:
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if len(query_shape) < 3 or len(value_shape) < 3:
            raise ValueError(f"MultiHeadAttention {self.name!r} needs query and value of rank "
                             f">= 3 (batch, positions..., features). Received: query_shape="
                             f"{query_shape}, value_shape={value_shape}. Add a positions axis, "
                             f"e.g. x[:, None, :].")
        heads = self._num_heads
        rank = len(query_shape) + 1  # of the projections: (batch, ..., heads, channels)
        self.query_dense = self._dense("query", query_shape, len(query_shape) - 1, 1,
                                        (heads, self._key_dim))
        self.key_dense = self._dense("key", key_shape, len(key_shape) - 1, 1,
                                      (heads, self._key_dim))
        if self._use_gate:
            self._gate_dense = self._dense("gate", query_shape, len(query_shape) - 1, 1,
                                           (heads, self._value_dim), activation="sigmoid")
        self.value_dense = self._dense("value", value_shape, len(value_shape) - 1, 1,
                                        (heads, self._value_dim))
        self._build_attention(rank)
        projected = (*query_shape[:-1], heads, self._value_dim)
        out_shape = self._output_shape or (query_shape[-1],)
        self.output_dense = self._dense("attention_output", projected,
                                         len(query_shape) - 1, 2, out_shape)

    def _build_attention(self, rank: int) -> None:
        if self._attention_axes is None:
            axes = tuple(range(1, rank - 2))
        else:
            axes = tuple(a if a >= 0 else rank - 1 + a for a in self._attention_axes)
            if any(not 1 <= a <= rank - 3 for a in axes) or len(set(axes)) != len(axes):
                raise ValueError(f"MultiHeadAttention {self.name!r}: attention_axes must name "
                                 f"distinct axes of the inputs other than the batch (0) and "
                                 f"the features (-1), i.e. within [1, {rank - 3}] or "
                                 f"[{-(rank - 2)}, -2] for inputs of rank {rank - 1}. "
                                 f"Received: attention_axes={self._attention_axes}")
        self._attention_axes = axes  # as Keras: get_config reports the resolved axes
        self._dot_product_equation, self._combine_equation, scores_rank = (
            _attention_equations(rank, axes))
        self._norm_axes = tuple(range(scores_rank - len(axes), scores_rank))
        # (batch, positions, heads, channels) attending over positions: batched matmuls
        # are several times faster than NumPy's einsum.
        self._by_matmul = rank == 4 and axes == (1,)

    def __call__(self, query, *args, **kwargs):
        if symbolic.has_keras_tensors(query, args, kwargs):
            return super().__call__(query, *args, **kwargs)
        bound = inspect.signature(self.call).bind(query, *args, **kwargs).arguments
        # Keras's __call__ fills each `<input>_mask` left None from the input's own mask.
        for name in ("query", "value", "key"):
            if bound.get(f"{name}_mask") is None and bound.get(name) is not None:
                bound[f"{name}_mask"] = get_keras_mask(bound[name])
        for name in ("value", "key"):
            if bound.get(name) is not None:
                bound[name] = self._convert_inputs(bound[name])
        query = self._convert_inputs(bound.pop("query"))
        if not self.built:
            key = bound.get("key")
            # Built from three shapes: `_build_input_shape` stays None, so a model's config
            # gives it no `input_shape` build config (Keras's would be a `shapes_dict`), and
            # Keras builds it by calling it when it loads the model.
            with init_scope():
                self.build(tuple(query.shape), tuple(bound["value"].shape),
                           None if key is None else tuple(key.shape))
        return super().__call__(query, **bound)

    # --- calling -------------------------------------------------------------------------
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        key = value if key is None else key
        # Causal masking alone is applied inside the attention (as Keras's fused path).
        causal_only = (use_causal_mask and self._sliding_window is None and all(
            m is None for m in (query_mask, value_mask, key_mask, attention_mask)))
        if not causal_only:
            attention_mask = self._compute_attention_mask(
                query, value, query_mask, value_mask, key_mask, attention_mask,
                use_causal_mask)
        gate = self._gate_dense(query) if self._use_gate else None
        projected_query = self.query_dense(query)
        projected_key = self.key_dense(key)
        projected_value = self.value_dense(value)
        output, scores = self._compute_attention(
            projected_query, projected_key, projected_value, attention_mask, training,
            return_attention_scores, causal_only)
        output = self.output_dense(output if gate is None else output * gate)
        if query_mask is not None:
            set_keras_mask(output, _bool(query_mask))
        return (output, scores) if return_attention_scores else output

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None, use_causal_mask=False):
        """The (B, T, S) mask combining the inputs' masks, the causal and sliding-window
        masks and ``attention_mask`` (True: may attend); None when there is none."""
        parts = []
        if query_mask is not None:
            parts.append(so.expand_dims(_bool(query_mask), -1))
        for mask in (value_mask, key_mask):
            if mask is not None:
                parts.append(so.expand_dims(_bool(mask), -2))
        if use_causal_mask:
            parts.append(causal_mask(query, value))
        if self._sliding_window is not None:
            rows, columns = _position_grids(query, value)
            parts.append(ew.less(ew.abs(rows - columns), self._sliding_window))
        if attention_mask is not None:
            parts.insert(0, _bool(attention_mask))
        combined = None
        for part in parts:
            combined = part if combined is None else ew.logical_and(combined, part)
        return combined

    def _scores(self, query, key):
        if self._by_matmul:
            return linalg.matmul(so.transpose(query, (0, 2, 1, 3)),
                                 so.transpose(key, (0, 2, 3, 1)))
        return linalg.einsum(self._dot_product_equation, key, query)

    def _combine(self, weights, value):
        if self._by_matmul:
            mixed = linalg.matmul(weights, so.transpose(value, (0, 2, 1, 3)))
            return so.transpose(mixed, (0, 2, 1, 3))
        return linalg.einsum(self._combine_equation, weights, value)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        """Scaled dot-product attention of the projected tensors; ``(output, scores)``,
        the scores None where Keras's fused path gives none."""
        axes = len(self._attention_axes)
        if not (self._dropout > 0 or return_attention_scores or query._value.ndim != 4):
            if use_causal_mask:
                attention_mask = causal_mask(query, value)
            logits = self._scores(query, key) * self._inverse_sqrt_key_dim
            if attention_mask is not None:
                mask = _expand_mask(_bool(attention_mask), 4, axes)
                _check_broadcastable(mask, logits)
                biggest = 65500.0 if logits.dtype.name == "float16" else 3.38953e38
                logits = ew.where(mask, logits, -0.7 * biggest)
            return self._combine(nn_ops.softmax(logits, axis=-1), value), None
        if use_causal_mask:
            attention_mask = causal_mask(query, value)
        query = query * self._inverse_sqrt_key_dim
        scores = self._scores(query, key)
        mask = None
        if attention_mask is not None:
            mask = _expand_mask(_bool(attention_mask), scores._value.ndim, axes)
        scores = masked_softmax(scores, mask, self._norm_axes)
        dropped = _drop(scores, self._dropout, training, self.seed)
        return self._combine(dropped, value), scores

    # --- the rest of the contract --------------------------------------------------------
    @property
    def losses(self) -> list:
        # The projections' activity penalties are added by the projections' own calls.
        return super().losses + [loss for layer in self._sublayers()
                                 for loss in layer._call_losses]

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"All dimensions of `value` and `key`, except the last one, must "
                             f"be equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if self._output_shape:
            return query_shape[:-1] + self._output_shape
        return query_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "num_heads": self._num_heads,
                "key_dim": self._key_dim, "value_dim": self._value_dim,
                "dropout": self._dropout, "use_bias": self._use_bias,
                "use_gate": self._use_gate, "output_shape": self._output_shape,
                "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": serialize_initializer(self._kernel_initializer),
                "bias_initializer": serialize_initializer(self._bias_initializer),
                "kernel_regularizer": serialize_regularizer(self._kernel_regularizer),
                "bias_regularizer": serialize_regularizer(self._bias_regularizer),
                "activity_regularizer": serialize_regularizer(self._activity_regularizer),
                "kernel_constraint": None, "bias_constraint": None, "seed": self.seed}


class Attention(Layer):
    """Dot-product (Luong) attention of ``[query, value]`` or ``[query, value, key]``:
    ``softmax(query @ key^T) @ value`` (``score_mode="concat"``: scores are
    ``sum(tanh(query + key))``).

    >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
    >>> Attention()([q, v]).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode!r}")
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = _check_rate(dropout)
        self.seed = seed
        self.scale = self.concat_score_weight = None

    def _validate_inputs(self, inputs, mask=None) -> None:
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs="
                             f"{inputs!r}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             f"[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                                 f"value_mask]. Received: mask={mask!r}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. "
                                 f"Received: mask of length {len(mask)}.")

    def __call__(self, inputs, *args, mask=None, **kwargs):
        if symbolic.has_keras_tensors(inputs, args, kwargs) or symbolic.has_keras_tensors(mask):
            return super().__call__(inputs, *args, mask=mask, **kwargs)
        self._validate_inputs(inputs, mask)
        if mask is None:  # Keras's __call__: the masks attached to the inputs
            found = [get_keras_mask(t) for t in inputs]
            mask = found if any(m is not None for m in found) else None
        inputs = self._convert_inputs(inputs)
        if not self.built:
            with init_scope():
                self.build([tuple(t.shape) for t in inputs])
            self._build_input_shape = [tuple(t.shape) for t in inputs]
        return super().__call__(inputs, *args, mask=mask, **kwargs)

    def build(self, input_shape) -> None:
        self._validate_inputs(list(input_shape))
        if self.use_scale:
            self.scale = self.add_weight("scale", (), "ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones")

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = linalg.matmul(query, key, transpose_b=True)
            return scores if self.scale is None else scores * self.scale
        pairs = so.expand_dims(query, -2) + so.expand_dims(key, -3)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * red.reduce_sum(ew.tanh(pairs), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        query_mask = None if not mask or mask[0] is None else _bool(mask[0])
        value_mask = None if not mask or mask[1] is None else _bool(mask[1])
        scores = self._calculate_scores(query, key)
        if use_causal_mask:
            causal = self._causal(scores)
            value_mask = causal if value_mask is None else ew.logical_and(
                so.expand_dims(value_mask, -2), causal)
        if value_mask is not None:
            if value_mask._value.ndim == 2:
                value_mask = so.expand_dims(value_mask, -2)
            # Masked scores are pushed down by the float16 maximum (or 1e9), not replaced.
            shift = 65504.0 if scores.dtype.name == "float16" else 1.0e9
            scores = ew.where(ew.logical_not(value_mask), scores - shift, scores)
        # The scores returned are the weights after dropout, as Keras returns them.
        weights = _drop(nn_ops.softmax(scores, axis=-1), self.dropout, training, self.seed)
        output = linalg.matmul(weights, value)
        if query_mask is not None:
            output = ew.where(so.expand_dims(query_mask, -1), output, 0.0)
            set_keras_mask(output, query_mask)
        return (output, weights) if return_attention_scores else output

    @staticmethod
    def _causal(scores):
        """``(1, Tq, Tv)`` lower-triangular mask for scores of shape (..., Tq, Tv)."""
        shape = scores._value.shape
        ones = creation.ones((1, shape[-2], shape[-1]), "int32")
        return ew.greater_equal(red.cumsum(ones, axis=-2), red.cumsum(ones, axis=-1))

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return as_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores are ``sum(scale * tanh(query + key))``.

    >>> q, v = np.ones((2, 3, 4), "float32"), np.ones((2, 5, 4), "float32")
    >>> AdditiveAttention()([q, v]).shape
    TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape) -> None:
        self._validate_inputs(list(input_shape))
        if self.use_scale:
            self.scale = self.add_weight("scale", (input_shape[0][-1],), "glorot_uniform")

    def _calculate_scores(self, query, key):
        pairs = ew.tanh(so.expand_dims(query, -2) + so.expand_dims(key, -3))
        if self.use_scale:
            pairs = self.scale * pairs
        return red.reduce_sum(pairs, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
