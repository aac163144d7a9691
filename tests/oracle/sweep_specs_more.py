"""Sweep specs of the ops added in the oracle round: indexing, scatter and segment ops,
convolution and pooling, normalization, more linear algebra (see ``sweep_specs.py``).

Each function returns the cases of one op; ``SPECS`` maps the op to it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sweep import Case, Dtype
from sweep_specs import (
    FLOATS,
    GRAD_DTYPES,
    binary,
    case,
    cumulative,
    extreme,
    f32,
    for_dtypes,
    i32,
    m,
    ordinary,
    reduction,
    s32,
    unary,
)

SPECS: dict[str, Callable[[], list[Case]]] = {}


def spec(op: str):
    """Register the decorated function as the spec of ``op`` (its cases get ``op``)."""

    def register(make: Callable[[str], list[Case]]):
        SPECS[op] = lambda: make(op)
        return make

    return register


# --- combining and arranging ----------------------------------------------------------------


@spec("tf.add_n")
@spec("tf.math.accumulate_n")
def _add_n(op):
    out = for_dtypes(op, "three", lambda d: ([m((2, 3), d), m((2, 3), d, True), m((2, 3), d)],))
    return out + [case(op, "float32,one", [m((2, 3))], grad=True),
                  case(op, "float32,shape-mismatch", [m((2, 3)), m((3,))]),
                  case(op, "float32-int32,mismatch", [m((2,)), m((2,), "int32")]),
                  case(op, "float32,extreme", [extreme(f32), extreme(f32)[::-1].copy()]),
                  case(op, "float32,empty", [m((0, 3)), m((0, 3))])]


@spec("tf.identity_n")
def _identity_n(op):
    return [case(op, "float32,two", [m((2, 3)), m((3,), "int32")], grad=True),
            case(op, "float32,one", [m(())], grad=True)]


@spec("tf.meshgrid")
def _meshgrid(op):
    return [case(op, "float32,xy", m((2,)), m((3,)), grad=True),
            case(op, "float32,ij", m((2,)), m((3,)), indexing="ij", grad=True),
            case(op, "int32,three", m((2,), "int32"), m((3,), "int32"), m((1,), "int32")),
            case(op, "float32,bad-indexing", m((2,)), m((3,)), indexing="zz")]


@spec("tf.parallel_stack")
def _parallel_stack(op):
    return [case(op, "float32,two", [m((2, 3)), m((2, 3), flip=True)])]


@spec("tf.repeat")
def _repeat(op):
    x = m((2, 3))
    out = for_dtypes(op, "scalar-repeats", lambda d: (m((2, 3), d), 2), axis=0)
    return out + [case(op, "float32,vector-repeats", x, i32(1, 0, 2), axis=1, grad=True),
                  case(op, "float32,axis=None", x, 2, grad=True),
                  case(op, "float32,tensor-repeats", x, s32(2), axis=0),
                  case(op, "float32,bad-repeats", x, i32(1, 2), axis=1),
                  case(op, "float32,negative", x, -1, axis=0)]


@spec("tf.reverse_sequence")
def _reverse_sequence(op):
    x = m((2, 4))
    return [case(op, "float32,basic", x, i32(2, 3), seq_axis=1, batch_axis=0, grad=True),
            case(op, "int32,basic", m((2, 4), "int32"), np.array([4, 1], np.int64), seq_axis=1,
                 batch_axis=0),
            case(op, "float32,too-long", x, i32(5, 1), seq_axis=1, batch_axis=0)]


@spec("tf.roll")
def _roll(op):
    x = m((2, 3))
    out = for_dtypes(op, "shift=1", lambda d: (m((2, 3), d), 1, 1))
    return out + [case(op, "float32,negative", x, -1, 0, grad=True),
                  case(op, "float32,two-axes", x, [1, 2], [0, 1], grad=True),
                  case(op, "float32,tensor-shift", x, s32(2), s32(1)),
                  case(op, "float32,big-shift", x, 7, 1),
                  case(op, "float32,axis=2", x, 1, 2)]


@spec("tf.strided_slice")
def _strided_slice(op):
    x = m((3, 4))
    out = for_dtypes(op, "basic", lambda d: (m((3, 4), d), [0, 1], [2, 4], [1, 2]))
    return out + [case(op, "float32,negative-stride", x, [2, 3], [0, 0], [-1, -1], grad=True),
                  case(op, "float32,masks", x, [1, 0], [0, 2], [1, 1], begin_mask=2, end_mask=1,
                       grad=True),
                  case(op, "float32,shrink", x, [1, 0], [2, 4], [1, 1], shrink_axis_mask=1),
                  case(op, "float32,new-axis", x, [0, 0], [1, 4], [1, 1], new_axis_mask=1),
                  case(op, "float32,tensor-bounds", x, i32(0, 1), i32(2, 3), i32(1, 1)),
                  case(op, "float32,zero-stride", x, [0, 0], [2, 2], [0, 1]),
                  case(op, "float32,out-of-range", x, [0, 0], [10, 10], [1, 1])]


@spec("tf.shape_n")
def _shape_n(op):
    return [case(op, "float32,two", [m((2, 3)), m(())]),
            case(op, "int64", [m((2, 3))], out_type=Dtype("int64"))]


@spec("tf.ensure_shape")
def _ensure_shape(op):
    return [case(op, "float32,match", m((2, 3)), [2, 3], grad=True),
            case(op, "float32,unknown-dim", m((2, 3)), [None, 3]),
            case(op, "float32,mismatch", m((2, 3)), [3, 2])]


@spec("tf.broadcast_dynamic_shape")
def _broadcast_dynamic_shape(op):
    return [case(op, "int32", i32(2, 1), i32(3)),
            case(op, "int64", np.array([1, 3], np.int64), np.array([4, 1], np.int64)),
            case(op, "incompatible", i32(2, 3), i32(4))]


@spec("tf.sequence_mask")
def _sequence_mask(op):
    return [case(op, "int32", i32(1, 3, 0)), case(op, "maxlen", i32(1, 3), 5),
            case(op, "dtype=float32", i32(1, 2), 3, dtype=Dtype("float32")),
            case(op, "matrix", i32(1, 2, 0, 3).reshape(2, 2), 3),
            case(op, "tensor-maxlen", i32(1, 2), s32(4)),
            case(op, "negative-maxlen", i32(1, 2), -1)]


@spec("tf.unravel_index")
def _unravel_index(op):
    return [case(op, "vector", i32(1, 5, 11), i32(3, 4)),
            case(op, "scalar", s32(7), i32(3, 4)),
            case(op, "int64", np.array([3], np.int64), np.array([2, 2], np.int64)),
            case(op, "out-of-range", i32(12), i32(3, 4))]


@spec("tf.unique")
def _unique(op):
    return [case(op, "int32", i32(3, 1, 3, 2, 1)), case(op, "float32", m((6,))),
            case(op, "out_idx=int64", i32(3, 1, 3), out_idx=Dtype("int64")),
            case(op, "empty", np.zeros(0, np.int32)),
            case(op, "matrix", i32(1, 2, 3, 4).reshape(2, 2)),
            case(op, "float32,nan", np.array([np.nan, 1.0, np.nan], np.float32))]


@spec("tf.unique_with_counts")
def _unique_with_counts(op):
    return [case(op, "int32", i32(3, 1, 3, 2, 1)), case(op, "float32", m((6,))),
            case(op, "empty", np.zeros(0, np.int32))]


# --- indexing, scatter, search ----------------------------------------------------------------


@spec("tf.gather_nd")
def _gather_nd(op):
    x = m((3, 4))
    out = for_dtypes(op, "elements", lambda d: (m((3, 4), d), i32(0, 1, 2, 3).reshape(2, 2)),
                     dtypes=(*FLOATS, "int32", "bool"))
    return out + [case(op, "float32,rows", x, i32(2, 0).reshape(2, 1), grad=True),
                  case(op, "float32,int64", x, np.array([[1, 1]], np.int64), grad=True),
                  case(op, "float32,batch_dims", x, i32(1, 3, 0).reshape(3, 1), batch_dims=1,
                       grad=True),
                  case(op, "float32,out-of-range", x, i32(3, 0).reshape(1, 2)),
                  case(op, "float32,negative", x, i32(-1, 0).reshape(1, 2)),
                  case(op, "float32,too-deep", x, i32(0, 0, 0).reshape(1, 3)),
                  case(op, "float32,empty", x, np.zeros((0, 2), np.int32))]


@spec("tf.scatter_nd")
def _scatter_nd(op):
    idx = i32(0, 2, 0).reshape(3, 1)
    out = for_dtypes(op, "duplicates", lambda d: (idx, m((3,), d), i32(4)))
    return out + [case(op, "float32,rows", i32(1, 0).reshape(2, 1), m((2, 3)), [3, 3],
                        grad=True),
                  case(op, "float32,out-of-range", i32(5).reshape(1, 1), m((1,)), [4]),
                  case(op, "float32,negative", i32(-1).reshape(1, 1), m((1,)), [4]),
                  case(op, "float32,bad-updates", idx, m((2,)), [4]),
                  case(op, "bool,vector", idx, m((3,), "bool"), [4])]


def _tensor_scatter(op):
    x = m((4,))
    idx = i32(0, 2, 0).reshape(3, 1)
    out = for_dtypes(op, "duplicates", lambda d: (m((4,), d), idx, m((3,), d, True)))
    return out + [case(op, "float32,rows", m((3, 2)), i32(2, 0).reshape(2, 1), m((2, 2)),
                       grad=True),
                  case(op, "float32,out-of-range", x, i32(4).reshape(1, 1), m((1,))),
                  case(op, "float32,negative", x, i32(-1).reshape(1, 1), m((1,))),
                  case(op, "float32,bad-updates", x, idx, m((2,))),
                  case(op, "float32-int32,mismatch", x, idx, m((3,), "int32")),
                  case(op, "float32,extreme", extreme(f32)[:4].copy(), idx, m((3,)))]


for _name in ("add", "sub", "max", "min", "update"):
    spec(f"tf.tensor_scatter_nd_{_name}")(_tensor_scatter)


@spec("tf.searchsorted")
def _searchsorted(op):
    seq = np.array([[0.0, 1.0, 2.0, 2.0, 5.0]], np.float32)
    vals = np.array([[2.0, -1.0, 6.0]], np.float32)
    return [case(op, "float32,left", seq, vals), case(op, "float32,right", seq, vals,
                                                      side="right"),
            case(op, "int32", seq.astype(np.int32), vals.astype(np.int32)),
            case(op, "float32,out_type=int64", seq, vals, out_type=Dtype("int64")),
            case(op, "float32,vector", seq[0], vals[0]),
            case(op, "float32,bad-side", seq, vals, side="middle")]


@spec("tf.math.invert_permutation")
def _invert_permutation(op):
    return [case(op, "int32", i32(2, 0, 1)), case(op, "int64", np.array([1, 0], np.int64)),
            case(op, "not-a-permutation", i32(0, 0, 1)), case(op, "float32", m((3,)))]


@spec("tf.math.bincount")
def _bincount(op):
    arr = i32(1, 3, 1, 0)
    return [case(op, "int32", arr), case(op, "minlength", arr, minlength=6),
            case(op, "maxlength", arr, maxlength=2),
            case(op, "weights", arr, weights=m((4,))),
            case(op, "empty", np.zeros(0, np.int32)),
            case(op, "negative", i32(-1, 2)), case(op, "dtype=float32", arr,
                                                   dtype=Dtype("float32"))]


@spec("tf.math.confusion_matrix")
def _confusion_matrix(op):
    return [case(op, "int32", i32(0, 1, 2, 1), i32(0, 2, 2, 1)),
            case(op, "num_classes", i32(0, 1), i32(1, 1), num_classes=3),
            case(op, "weights", i32(0, 1), i32(1, 1), weights=m((2,))),
            case(op, "out-of-range", i32(0, 3), i32(1, 1), num_classes=3),
            case(op, "negative", i32(0, -1), i32(1, 1))]


@spec("tf.math.in_top_k")
def _in_top_k(op):
    preds = m((2, 4))
    return [case(op, "int32", targets=i32(1, 3), predictions=preds, k=2),
            case(op, "int64", targets=np.array([0, 0], np.int64), predictions=preds, k=1),
            case(op, "ties", targets=i32(0), predictions=np.ones((1, 3), np.float32), k=1),
            case(op, "out-of-range", targets=i32(7, 0), predictions=preds, k=1)]


# --- reductions and segments ----------------------------------------------------------------

SPECS["tf.math.reduce_euclidean_norm"] = reduction("tf.math.reduce_euclidean_norm")
SPECS["tf.math.cumulative_logsumexp"] = cumulative("tf.math.cumulative_logsumexp")


@spec("tf.math.count_nonzero")
def _count_nonzero(op):
    x = np.array([[0.0, 1.0, -0.0], [np.nan, 2.0, 0.0]], np.float32)
    return [case(op, "float32,axis=None", x), case(op, "float32,axis=1", x, axis=1),
            case(op, "float32,keepdims", x, axis=0, keepdims=True),
            case(op, "int32", m((2, 3), "int32")), case(op, "bool", m((2, 3), "bool")),
            case(op, "dtype=int32", x, dtype=Dtype("int32")),
            case(op, "float32,empty", m((0, 3)))]


@spec("tf.math.zero_fraction")
def _zero_fraction(op):
    return [case(op, "float32", np.array([0.0, 1.0, -0.0, 2.0], np.float32)),
            case(op, "int32", m((2, 3), "int32")), case(op, "float32,empty", m((0,)))]


def _segment(op):
    ids = i32(0, 0, 2)
    data = m((3, 2))
    out = for_dtypes(op, "gap", lambda d: (m((3, 2), d), ids), dtypes=(*FLOATS, "int32"))
    return out + [case(op, "float32,int64-ids", data, np.array([0, 1, 1], np.int64),
                       grad=True),
                  case(op, "float32,unsorted-ids", data, i32(1, 0, 1)),
                  case(op, "float32,negative-ids", data, i32(-1, 0, 0)),
                  case(op, "float32,bad-length", data, i32(0, 1)),
                  case(op, "float32,extreme", extreme(f32), np.repeat(i32(0, 1), 5))]


def _unsorted_segment(op):
    ids = i32(2, 0, 2)
    data = m((3, 2))
    out = for_dtypes(op, "basic", lambda d: (m((3, 2), d), ids, 4),
                     dtypes=(*FLOATS, "int32"))
    return out + [case(op, "float32,tensor-num", data, ids, s32(3), grad=True),
                  case(op, "float32,negative-id", data, i32(-1, 0, 1), 3),
                  case(op, "float32,out-of-range", data, i32(5, 0, 1), 3),
                  case(op, "float32,matrix-ids", m((2, 2)), i32(0, 1, 1, 0).reshape(2, 2), 2,
                       grad=True),
                  case(op, "float32,extreme", extreme(f32), np.repeat(i32(0, 1), 5), 2)]


for _name in ("max", "mean", "min", "prod", "sum"):
    spec(f"tf.math.segment_{_name}")(_segment)
for _name in ("max", "mean", "min", "prod", "sqrt_n", "sum"):
    spec(f"tf.math.unsorted_segment_{_name}")(_unsorted_segment)


# --- nn -------------------------------------------------------------------------------------


def _image(shape, dtype=f32):
    size = int(np.prod(shape))
    return (np.cos(np.arange(size) * 0.7) * 2).reshape(shape).astype(dtype)


def _pool(op, rank):
    x = _image((1, *([5] * rank), 2))
    out = [case(op, f"{d},VALID", _image((1, *([5] * rank), 2), d), 2, 2, "VALID",
                grad=d in GRAD_DTYPES) for d in FLOATS]
    out += [case(op, "float32,SAME", x, 2, 2, "SAME", grad=True),
            case(op, "float32,ksize=3,stride=1", x, 3, 1, "VALID", grad=True),
            case(op, "float32,bad-padding", x, 2, 2, "FULL"),
            case(op, "float32,too-small", _image((1, *([1] * rank), 2)), 2, 2, "VALID"),
            case(op, "int32,VALID", _image((1, *([4] * rank), 1)).astype(np.int32), 2, 2,
                 "VALID")]
    if "max" in op:
        out.append(case(op, "float32,extreme", np.resize(extreme(f32), (1, *([2] * rank), 1)),
                        2, 2, "VALID"))
    return out


for _kind in ("avg", "max"):
    spec(f"tf.nn.{_kind}_pool1d")(lambda op: _pool(op, 1))
    spec(f"tf.nn.{_kind}_pool2d")(lambda op: _pool(op, 2))
    spec(f"tf.nn.{_kind}_pool3d")(lambda op: _pool(op, 3))
    spec(f"tf.nn.{_kind}_pool")(lambda op: _pool(op, 2))


def _conv(op, rank):
    # Positive inputs and filters: sums without cancellation, so float rounding of the
    # accumulation stays within the tolerance.
    x = _image((2, *([5] * rank), 3)) + 2.5
    w = (_image((*([3] * rank), 3, 2)) + 2.5) * 0.1
    name = "stride" if op == "tf.nn.conv1d" else "strides"

    def strides(n):  # conv3d takes only the full list of five strides
        return {name: [1, n, n, n, 1] if op == "tf.nn.conv3d" else n}

    out = [case(op, f"{d},VALID", x.astype(d), w.astype(d), padding="VALID",
                grad=d in GRAD_DTYPES, **strides(1)) for d in FLOATS]
    out += [case(op, "float32,SAME,stride=2", x, w, padding="SAME", grad=True, **strides(2)),
            case(op, "float32,channel-mismatch", x, _image((*([3] * rank), 2, 2)),
                 padding="VALID", **strides(1)),
            case(op, "float32,bad-padding", x, w, padding="FULL", **strides(1)),
            case(op, "int32,VALID", x.astype(np.int32), w.astype(np.int32), padding="VALID",
                 **strides(1))]
    if op == "tf.nn.conv3d":
        out += [case(op, "float32,dilations=2", x, w, padding="SAME",
                     dilations=[1, 2, 2, 2, 1], grad=True, **strides(1)),
                case(op, "float32,int-strides", x, w, padding="VALID", strides=1)]
    elif op != "tf.nn.conv1d":
        out.append(case(op, "float32,dilations=2", x, w, padding="SAME", dilations=2,
                        grad=True, **strides(1)))
    return out


spec("tf.nn.conv1d")(lambda op: _conv(op, 1))
spec("tf.nn.conv2d")(lambda op: _conv(op, 2))
spec("tf.nn.conv3d")(lambda op: _conv(op, 3))
spec("tf.nn.convolution")(lambda op: _conv(op, 2))


@spec("tf.nn.batch_normalization")
def _batch_normalization(op):
    x = m((2, 3))
    return [case(op, f"{d},basic", m((2, 3), d), m((3,), d), ordinary(d, (3,), "positive"),
                 m((3,), d, True), ordinary(d, (3,), "positive"), 1e-3, grad=d in GRAD_DTYPES)
            for d in FLOATS] + [
        case(op, "float32,no-offset-scale", x, m((3,)), ordinary(f32, (3,), "positive"),
             None, None, 1e-3, grad=True),
        case(op, "float32,bad-shape", x, m((2,)), m((2,)), None, None, 1e-3)]


@spec("tf.nn.compute_average_loss")
def _compute_average_loss(op):
    return [case(op, "float32", m((4,)), grad=True),
            case(op, "float32,weights", m((4,)), sample_weight=m((4,), flip=True), grad=True),
            case(op, "float32,global_batch_size", m((4,)), global_batch_size=8, grad=True),
            case(op, "float64", m((4,), "float64")), case(op, "int32", m((4,), "int32"))]


@spec("tf.nn.crelu")
def _crelu(op):
    return [case(op, f"{d},matrix", m((2, 3), d), grad=d in GRAD_DTYPES) for d in FLOATS] + [
        case(op, "float32,axis=0", m((2, 3)), axis=0, grad=True),
        case(op, "int32,matrix", m((2, 3), "int32"))]


@spec("tf.nn.embedding_lookup")
def _embedding_lookup(op):
    return [case(op, "float32", m((4, 2)), i32(3, 0, 3), grad=True),
            case(op, "float32,matrix-ids", m((4, 2)), i32(1, 2, 0, 0).reshape(2, 2),
                 grad=True),
            case(op, "float32,out-of-range", m((4, 2)), i32(4))]


@spec("tf.nn.local_response_normalization")
def _lrn(op):
    x = _image((1, 2, 2, 5))
    return [case(op, "float32", x, grad=True),
            case(op, "float32,params", x, depth_radius=2, bias=2.0, alpha=0.1, beta=0.5,
                 grad=True),
            case(op, "float64", x.astype(np.float64)), case(op, "float32,rank-3", x[0])]


@spec("tf.nn.log_poisson_loss")
def _log_poisson_loss(op):
    t = ordinary(f32, (6,), "positive")
    return [case(op, "float32", t, m((6,)), grad=True),
            case(op, "float32,full", t, m((6,)), compute_full_loss=True, grad=True),
            case(op, "float32,bad-shape", t, m((3,)))]


@spec("tf.nn.normalize_moments")
def _normalize_moments(op):
    return [case(op, "float32", np.array(4, np.float32), m((3,)),
                 ordinary(f32, (3,), "positive"), None, grad=True),
            case(op, "float32,shift", np.array(4, np.float32), m((3,)),
                 ordinary(f32, (3,), "positive"), m((3,), flip=True), grad=True)]


@spec("tf.nn.scale_regularization_loss")
def _scale_regularization_loss(op):
    return [case(op, "float32", np.array(2.5, np.float32), grad=True),
            case(op, "float32,list", [m(()), m(())])]


@spec("tf.nn.sufficient_statistics")
def _sufficient_statistics(op):
    x = m((3, 4))
    return [case(op, "float32", x, [0], grad=True),
            case(op, "float32,shift", x, [1], shift=0.5,
                 grad=True),
            case(op, "float32,keepdims", x, [0, 1], keepdims=True, grad=True),
            case(op, "float64", x.astype(np.float64), [0])]


@spec("tf.nn.weighted_cross_entropy_with_logits")
def _weighted_xent(op):
    labels = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.5], np.float32)
    return [case(op, f"{d}", labels=labels.astype(d), logits=m((6,), d), pos_weight=2.0,
                 grad=d in GRAD_DTYPES) for d in FLOATS] + [
        case(op, "float32,extreme", labels=np.resize(labels, 10), logits=extreme(f32),
             pos_weight=0.5),
        case(op, "float32,bad-shape", labels=labels[:3], logits=m((6,)), pos_weight=1.0)]


@spec("tf.nn.weighted_moments")
def _weighted_moments(op):
    x = m((3, 4))
    return [case(op, "float32", x, [0], ordinary(f32, (3, 1), "positive"), grad=True),
            case(op, "float32,keepdims", x, [1], ordinary(f32, (1, 4), "positive"),
                 keepdims=True, grad=True),
            case(op, "float64", x.astype(np.float64), [0, 1], 2.0)]


@spec("tf.math.l2_normalize")
def _l2_normalize(op):
    out = for_dtypes(op, "axis=None", lambda d: (m((2, 3), d),), dtypes=FLOATS)
    return out + [case(op, "float32,axis=1", m((2, 3)), axis=1, grad=True),
                  case(op, "float32,zeros", np.zeros((3,), np.float32), grad=True),
                  case(op, "float32,extreme", extreme(f32)),
                  case(op, "int32", m((3,), "int32"))]


# --- linear algebra -------------------------------------------------------------------------


@spec("tf.linalg.adjoint")
def _adjoint(op):
    return [case(op, "float32", m((2, 3)), grad=True), case(op, "float32,batch", m((2, 2, 3))),
            case(op, "complex64", np.array([[1 + 2j, 3j]], np.complex64)),
            case(op, "float32,vector", m((3,)))]


@spec("tf.linalg.band_part")
def _band_part(op):
    x = m((4, 4))
    out = for_dtypes(op, "1,0", lambda d: (m((4, 4), d), 1, 0))
    return out + [case(op, "float32,-1,1", x, -1, 1, grad=True),
                  case(op, "float32,tensor", x, s32(0), s32(-1)),
                  case(op, "float32,batch", m((2, 3, 4)), 0, 0),
                  case(op, "float32,too-big", x, 5, 0),
                  case(op, "float32,vector", m((4,)), 0, 0)]


@spec("tf.linalg.cross")
def _cross(op):
    return [case(op, f"{d}", m((2, 3), d), m((2, 3), d, True), grad=d in GRAD_DTYPES)
            for d in (*FLOATS, "int32")] + [
        case(op, "float32,not-3", m((2, 2)), m((2, 2))),
        case(op, "float32,broadcast", m((2, 3)), m((3,)))]


@spec("tf.linalg.diag")
def _diag(op):
    return [case(op, "float32", m((3,)), grad=True), case(op, "int32", m((3,), "int32")),
            case(op, "float32,batch", m((2, 3)), grad=True),
            case(op, "float32,k=1", m((3,)), k=1), case(op, "float32,scalar", m(()))]


@spec("tf.linalg.diag_part")
def _diag_part(op):
    return [case(op, "float32", m((3, 3)), grad=True), case(op, "float32,rect", m((2, 4)),
                                                           grad=True),
            case(op, "int32", m((3, 3), "int32")), case(op, "float32,k=1", m((3, 3)), k=1),
            case(op, "float32,vector", m((3,)))]


@spec("tf.linalg.set_diag")
def _set_diag(op):
    return [case(op, "float32", m((3, 3)), m((3,), flip=True), grad=True),
            case(op, "float32,rect", m((2, 4)), m((2,)), grad=True),
            case(op, "float32,bad-diagonal", m((3, 3)), m((2,)))]


@spec("tf.linalg.tensor_diag")
def _tensor_diag(op):
    return [case(op, "float32", m((3,)), grad=True), case(op, "float32,matrix", m((2, 2))),
            case(op, "int32", m((2,), "int32")), case(op, "float32,scalar", m(()))]


@spec("tf.linalg.tensor_diag_part")
def _tensor_diag_part(op):
    return [case(op, "float32", m((3, 3)), grad=True), case(op, "float32,4-d", m((2, 2, 2, 2))),
            case(op, "float32,bad-shape", m((2, 3)))]


@spec("tf.linalg.global_norm")
def _global_norm(op):
    return [case(op, "float32", [m((2, 3)), m((3,))], grad=True),
            case(op, "float64", [m((2,), "float64")]),
            case(op, "float32,extreme", [extreme(f32)]), case(op, "float32,empty", [])]


@spec("tf.linalg.matvec")
def _matvec(op):
    return [case(op, f"{d}", m((2, 3), d), m((3,), d, True), grad=d in GRAD_DTYPES)
            for d in (*FLOATS, "int32")] + [
        case(op, "float32,batch", m((2, 2, 3)), m((2, 3)), grad=True),
        case(op, "float32,transpose_a", m((3, 2)), m((3,)), transpose_a=True, grad=True),
        case(op, "float32,bad-shapes", m((2, 3)), m((2,)))]


@spec("tf.clip_by_norm")
def _clip_by_norm(op):
    return [case(op, f"{d}", m((2, 3), d), 1.0, grad=d in GRAD_DTYPES) for d in FLOATS] + [
        case(op, "float32,axes", m((2, 3)), 1.0, axes=[1], grad=True),
        case(op, "float32,no-clip", m((2, 3)), 100.0, grad=True),
        case(op, "float32,zeros", np.zeros(3, np.float32), 1.0, grad=True),
        case(op, "float32,tensor-norm", m((2, 3)), np.array(2.0, np.float32)),
        case(op, "int32", m((3,), "int32"), 1)]


@spec("tf.clip_by_global_norm")
def _clip_by_global_norm(op):
    return [case(op, "float32", [m((2, 3)), m((3,))], 1.0, grad=True),
            case(op, "float32,no-clip", [m((2, 3))], 100.0, grad=True),
            case(op, "float32,use_norm", [m((3,))], 1.0, use_norm=np.array(5.0, np.float32)),
            case(op, "float32,extreme", [extreme(f32)], 1.0)]


NOT_SWEPT = {
    "tf.broadcast_static_shape": "works on TensorShape objects, not tensors",
    "tf.get_static_value": "returns a NumPy value (or None), not a tensor; a trace-time helper",
}


# --- decompositions and solvers -------------------------------------------------------------

_SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
_SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
_LOWER = np.tril(_SPD)


def _spd(dtype=f32, batch=()):
    return np.broadcast_to(_SPD, (*batch, 3, 3)).astype(dtype)


def _matrix_cases(op, grad=True, **kwargs):
    """A square-matrix op: SPD input over dtypes, a batch, a singular and a non-square one."""
    return ([case(op, f"{d},spd", _spd(d), grad=grad and d in GRAD_DTYPES, **kwargs)
             for d in FLOATS]
            + [case(op, "float32,batch", _spd(batch=(2,)), grad=grad, **kwargs),
               case(op, "float32,singular", _SINGULAR.astype(f32), **kwargs),
               case(op, "float32,non-square", m((2, 3)), **kwargs),
               case(op, "float32,empty", np.zeros((0, 0), np.float32), **kwargs),
               case(op, "int32,spd", _spd("int32"), **kwargs)])


for _op in ("tf.linalg.det", "tf.linalg.inv", "tf.linalg.logdet", "tf.linalg.slogdet",
            "tf.linalg.eigvalsh"):
    spec(_op)(_matrix_cases)


@spec("tf.linalg.cholesky")
def _cholesky(op):
    # No singular case: TensorFlow leaves whatever was in memory above the diagonal of a
    # failed factorization (it changes from run to run), so there is nothing to compare.
    return [c for c in _matrix_cases(op) if c.label != "float32,singular"]


@spec("tf.linalg.eigh")
def _eigh(op):
    return [Case(op, c.label, c.args, c.kwargs, grad=c.grad, outputs=(0,))
            for c in _matrix_cases(op)]


@spec("tf.linalg.svd")
def _svd(op):
    cases = [Case(op, c.label, c.args, c.kwargs, grad=c.grad, outputs=(0,))
             for c in _matrix_cases(op)]
    return cases + [case(op, "float32,compute_uv=False", m((2, 3)), compute_uv=False,
                         grad=True),
                    Case(op, "float32,full_matrices", (m((2, 3)),), {"full_matrices": True},
                         outputs=(0,))]


@spec("tf.linalg.qr")
def _qr(op):
    return [case(op, "float32,square", _spd(), grad=True),
            case(op, "float64,tall", m((3, 2), "float64"), grad=True),
            case(op, "float32,full_matrices", m((3, 2)), full_matrices=True),
            case(op, "int32", _spd("int32"))]


@spec("tf.linalg.pinv")
def _pinv(op):
    return [case(op, "float32,wide", m((2, 3)), grad=True),
            case(op, "float64,singular", _SINGULAR), case(op, "float32,spd", _spd(), grad=True)]


@spec("tf.linalg.solve")
def _solve(op):
    rhs = m((3, 2))
    return [case(op, f"{d}", _spd(d), rhs.astype(d), grad=d in GRAD_DTYPES) for d in FLOATS] + [
        case(op, "float32,adjoint", _spd(), rhs, adjoint=True, grad=True),
        case(op, "float32,batch", _spd(batch=(2,)), m((2, 3, 1)), grad=True),
        case(op, "float32,singular", _SINGULAR.astype(f32), m((2, 1))),
        case(op, "float32,bad-rhs", _spd(), m((2, 1))),
        case(op, "float32,vector-rhs", _spd(), m((3,)))]


@spec("tf.linalg.cholesky_solve")
def _cholesky_solve(op):
    chol = np.linalg.cholesky(_SPD)
    return [case(op, f"{d}", chol.astype(d), m((3, 2), d), grad=d in GRAD_DTYPES)
            for d in GRAD_DTYPES] + [case(op, "float32,bad-rhs", chol.astype(f32), m((2, 1)))]


@spec("tf.linalg.triangular_solve")
def _triangular_solve(op):
    rhs = m((3, 2))
    return [case(op, f"{d},lower", _LOWER.astype(d), rhs.astype(d), grad=d in GRAD_DTYPES)
            for d in FLOATS] + [
        case(op, "float32,upper", _LOWER.T.astype(f32), rhs, lower=False, grad=True),
        case(op, "float32,adjoint", _LOWER.astype(f32), rhs, adjoint=True, grad=True),
        case(op, "float32,zero-diagonal", np.tril(_SINGULAR).astype(f32) * [[1, 0], [1, 0]],
             m((2, 1))),
        case(op, "float32,bad-rhs", _LOWER.astype(f32), m((2, 1)))]


@spec("tf.linalg.lstsq")
def _lstsq(op):
    a = m((4, 2)) + np.array([[3.0, 0.0]], np.float32)
    return [case(op, f"{d},tall", a.astype(d), m((4, 1), d), grad=d in GRAD_DTYPES)
            for d in GRAD_DTYPES] + [
        case(op, "float32,l2_regularizer", a, m((4, 1)), l2_regularizer=0.5, grad=True),
        case(op, "float32,bad-rhs", a, m((3, 1)))]


# --- more elementwise math --------------------------------------------------------------------

for _op, _domain in (("tf.math.acos", "unit"), ("tf.math.asin", "unit"),
                     ("tf.math.atanh", "unit"), ("tf.math.erfinv", "unit"),
                     ("tf.math.acosh", "above-one"), ("tf.math.ndtri", "probability"),
                     ("tf.math.digamma", "positive"), ("tf.math.lgamma", "positive"),
                     ("tf.math.asinh", "real"), ("tf.math.atan", "real"), ("tf.math.cosh", "real"),
                     ("tf.math.sinh", "real"), ("tf.math.tan", "real"), ("tf.math.erfc", "real"),
                     ("tf.math.rint", "real"), ("tf.math.reciprocal_no_nan", "real")):
    SPECS[_op] = unary(_op, domain=_domain)

for _op, _y_domain in (("tf.math.atan2", "real"), ("tf.realdiv", "nonzero"),
                       ("tf.truncatediv", "nonzero"), ("tf.truncatemod", "nonzero"),
                       ("tf.math.multiply_no_nan", "real"), ("tf.math.xdivy", "nonzero"),
                       ("tf.math.xlog1py", "positive"), ("tf.math.xlogy", "positive")):
    SPECS[_op] = binary(_op, y_domain=_y_domain)


@spec("tf.math.polygamma")
def _polygamma(op):
    x = ordinary(f32, (6,), "positive")
    return [case(op, f"{d},orders", np.array([0, 1, 2, 0, 1, 3], d), x.astype(d),
                 grad=d in GRAD_DTYPES) for d in GRAD_DTYPES] + [
        case(op, "float32,broadcast", np.array(1.0, np.float32), x, grad=True),
        case(op, "float32,fractional-order", np.full(6, 0.5, np.float32), x),
        case(op, "float32,extreme", np.ones(10, np.float32), extreme(f32)),
        case(op, "int32", np.ones(6, np.int32), x.astype(np.int32)),
        case(op, "float32-float64,mismatch", np.ones(6, np.float32), x.astype(np.float64))]


@spec("tf.math.scalar_mul")
def _scalar_mul(op):
    return [case(op, "float32,python", 2.5, m((2, 3)), grad=True),
            case(op, "float64,tensor", np.array(2.0), m((3,), "float64"), grad=True),
            case(op, "int32,python", 3, m((3,), "int32")),
            case(op, "int32,python-float", 2.5, m((3,), "int32")),
            case(op, "float32,vector-scalar", m((2,)), m((2,)))]


@spec("tf.saturate_cast")
def _saturate_cast(op):
    out = []
    for source, target in (("float32", "int8"), ("float32", "uint8"), ("float64", "int32"),
                           ("int32", "int8"), ("int64", "uint8"), ("int32", "float16"),
                           ("float32", "float16"), ("float64", "float32"),
                           ("float32", "int64"), ("uint8", "int8")):
        out.append(case(op, f"{source}-to-{target},extreme", extreme(source), Dtype(target)))
        out.append(case(op, f"{source}-to-{target},ordinary", ordinary(source),
                        Dtype(target)))
    return out


# --- stateless random ops: the same counter-based draws as TensorFlow's Philox -------------

_SEED = np.array([1, 2], np.int32)


@spec("tf.random.stateless_uniform")
def _stateless_uniform(op):
    return [case(op, "float32", [2, 3], _SEED),
            case(op, "float64,bounds", [4], [7, 8], minval=-2.0, maxval=3.0,
                 dtype=Dtype("float64")),
            case(op, "float16", [3], _SEED, dtype=Dtype("float16")),
            case(op, "int32", [5], _SEED, minval=-3, maxval=10, dtype=Dtype("int32")),
            case(op, "int64,full-range", [3], _SEED, minval=None, maxval=None,
                 dtype=Dtype("int64")),
            case(op, "tensor-shape,int64-seed", i32(2, 2), np.array([5, 6], np.int64)),
            case(op, "tensor-bounds", [3], _SEED, minval=np.array(1.0, np.float32),
                 maxval=np.array(2.0, np.float32), grad=True),
            case(op, "empty", [0, 3], _SEED),
            case(op, "bad-seed", [3], i32(1, 2, 3)),
            case(op, "int32,no-maxval", [3], _SEED, dtype=Dtype("int32"))]


@spec("tf.random.stateless_normal")
@spec("tf.random.stateless_truncated_normal")
def _stateless_normal(op):
    return [case(op, "float32", [2, 3], _SEED),
            case(op, "float64,moments", [4], [3, 4], mean=1.5, stddev=0.5,
                 dtype=Dtype("float64")),
            case(op, "float16", [3], _SEED, dtype=Dtype("float16")),
            case(op, "tensor-moments", [3], _SEED, mean=np.array(1.0, np.float32),
                 stddev=np.array(2.0, np.float32), grad=True),
            case(op, "empty", [0], _SEED), case(op, "int32", [3], _SEED, dtype=Dtype("int32")),
            case(op, "bad-seed", [3], i32(1))]


@spec("tf.random.stateless_categorical")
def _stateless_categorical(op):
    logits = np.log(np.array([[0.2, 0.8], [0.5, 0.5]], np.float32))
    return [case(op, "float32", logits, 5, _SEED),
            case(op, "int32-output", logits, 3, _SEED, dtype=Dtype("int32")),
            case(op, "float64", logits.astype(np.float64), 4, [9, 9]),
            case(op, "num_samples=tensor", logits, s32(3), _SEED),
            case(op, "vector-logits", logits[0], 3, _SEED)]


@spec("tf.random.stateless_binomial")
def _stateless_binomial(op):
    return [case(op, "float32", [4], _SEED, counts=np.array(10.0, np.float32),
                 probs=np.array(0.3, np.float32)),
            case(op, "int32-output", [2, 3], _SEED, counts=np.array([5.0, 20.0, 1.0],
                                                                     np.float32),
                 probs=np.array(0.5, np.float32), output_dtype=Dtype("int32"))]


@spec("tf.random.stateless_gamma")
def _stateless_gamma(op):
    return [case(op, "float32", [4], _SEED, alpha=np.array(2.0, np.float32)),
            case(op, "float64,beta", [3], _SEED, alpha=np.array(0.5), beta=np.array(2.0),
                 dtype=Dtype("float64")),
            case(op, "broadcast-alpha", [2, 2], _SEED, alpha=np.array([1.0, 3.0], np.float32),
                 grad=True)]


@spec("tf.random.stateless_poisson")
def _stateless_poisson(op):
    return [case(op, "float32", [4], _SEED, lam=np.array(3.0, np.float32)),
            case(op, "int32", [2, 2], _SEED, lam=np.array([0.5, 30.0], np.float32),
                 dtype=Dtype("int32"))]


@spec("tf.random.fold_in")
def _fold_in(op):
    return [case(op, "int32", _SEED, 3), case(op, "int64", np.array([7, 8], np.int64), 12),
            case(op, "tensor-data", _SEED, s32(5))]


@spec("tf.random.split")
def _split_seed(op):
    return [case(op, "two", _SEED), case(op, "num=3", _SEED, 3),
            case(op, "int64", np.array([7, 8], np.int64), 2)]


@spec("tf.random.create_rng_state")
def _create_rng_state(op):
    return [case(op, "philox", 5, "philox"), case(op, "threefry", 5, "threefry"),
            case(op, "philox-big", 2**40 + 3, "philox")]


NOT_SWEPT.update({
    "tf.random.gamma": "random, as tf.random.normal",
    "tf.random.poisson": "random, as tf.random.normal",
    "tf.random.get_global_generator": "returns a stateful Generator object, not a tensor",
    "tf.random.set_global_generator": "replaces global state; returns nothing",
})


@spec("tf.math.conj")
def _conj(op):
    out = for_dtypes(op, "vector", lambda d: (m((6,), d),), dtypes=(*FLOATS, "int32"))
    return out + [case(op, "complex64,vector", np.array([1 + 2j, -3j, 0.5], np.complex64)),
                  case(op, "complex128,matrix", np.array([[1 + 2j, -3j]], np.complex128)),
                  case(op, "bool,vector", m((3,), "bool"))]


@spec("tf.complex")
def _complex(op):
    return [case(op, f"{d},vector", m((3,), d), m((3,), d, True), grad=d in GRAD_DTYPES)
            for d in GRAD_DTYPES] + [
        case(op, "float32,broadcast", m((2, 1)), m((3,))),
        case(op, "float32,extreme", extreme(f32), extreme(f32)[::-1].copy()),
        case(op, "float32-float64,mismatch", m((3,)), m((3,), "float64")),
        case(op, "int32,vector", m((3,), "int32"), m((3,), "int32")),
        case(op, "float16,vector", m((3,), "float16"), m((3,), "float16"))]


@spec("tf.math.imag")
def _imag(op):
    out = for_dtypes(op, "vector", lambda d: (m((6,), d),), dtypes=(*FLOATS, "int32"))
    return out + [case(op, "complex64,vector", np.array([1 + 2j, -3j, 0.5], np.complex64)),
                  case(op, "complex128,matrix", np.array([[1 + 2j, -3j]], np.complex128))]


def _conv_transpose(op, rank):
    x = _image((2, *([4] * rank), 3)) + 2.5
    w = (_image((*([3] * rank), 2, 3)) + 2.5) * 0.1
    same = [2, *([8] * rank), 2]
    valid = [2, *([9] * rank), 2]
    strides = [1, 2, 2, 2, 1] if rank == 3 else 2
    out = [case(op, f"{d},SAME", x.astype(d), w.astype(d), same, strides, padding="SAME",
                grad=d in GRAD_DTYPES) for d in FLOATS if not (rank == 3 and d != "float32")]
    out += [case(op, "float32,VALID", x, w, valid, strides, padding="VALID", grad=True),
            case(op, "float32,channel-mismatch", x, _image((*([3] * rank), 2, 2)), same,
                 strides, padding="SAME"),
            case(op, "float32,bad-output-shape", x, w, [2, *([5] * rank), 2], strides,
                 padding="SAME")]
    return out


spec("tf.nn.conv1d_transpose")(lambda op: _conv_transpose(op, 1))
spec("tf.nn.conv2d_transpose")(lambda op: _conv_transpose(op, 2))
spec("tf.nn.conv3d_transpose")(lambda op: _conv_transpose(op, 3))
spec("tf.nn.conv_transpose")(lambda op: _conv_transpose(op, 2))


@spec("tf.nn.depthwise_conv2d")
def _depthwise(op):
    x = _image((2, 5, 5, 3)) + 2.5
    w = (_image((3, 3, 3, 2)) + 2.5) * 0.1
    return [case(op, f"{d},SAME", x.astype(d), w.astype(d), [1, 1, 1, 1], "SAME",
                 grad=d in GRAD_DTYPES) for d in FLOATS] + [
        case(op, "float32,VALID,stride=2", x, w, [1, 2, 2, 1], "VALID", grad=True),
        case(op, "float32,channel-mismatch", x, _image((3, 3, 2, 2)), [1, 1, 1, 1], "SAME")]


@spec("tf.nn.separable_conv2d")
def _separable(op):
    x = _image((2, 5, 5, 3)) + 2.5
    depthwise = (_image((3, 3, 3, 2)) + 2.5) * 0.1
    pointwise = (_image((1, 1, 6, 4)) + 2.5) * 0.1
    return [case(op, f"{d},VALID", x.astype(d), depthwise.astype(d), pointwise.astype(d),
                 [1, 1, 1, 1], "VALID", grad=d in GRAD_DTYPES) for d in ("float32", "float64")]
