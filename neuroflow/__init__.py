"""neuroflow: a small, fast, readable deep-learning system with TensorFlow's surface.

``import neuroflow as tf`` gives the everyday TensorFlow 2 API: tensors,
variables, ops, GradientTape, ``tf.nn``, ``tf.math``, ``tf.random``, and
(imported on first use) ``tf.keras`` and ``tf.data``.
"""

from neuroflow import (  # noqa: F401
    config,
    dtypes,
    errors,
    image,
    linalg,
    math,
    nn,
    random,
)
from neuroflow.autodiff import GradientTape, UnconnectedGradients
from neuroflow.backend import device
from neuroflow.dtypes import (
    DType,  # noqa: A004
    as_dtype,
    complex64,
    complex128,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
    uint16,
    uint32,
    uint64,
)
from neuroflow.dtypes import (
    bool_ as bool,
)
from neuroflow.graph import TensorSpec, function
from neuroflow.graph.control_flow import cond, switch_case, while_loop
from neuroflow.module import Module
from neuroflow.ops.arrangement import (
    broadcast_dynamic_shape,
    broadcast_static_shape,
    ensure_shape,
    get_static_value,
    identity_n,
    meshgrid,
    parallel_stack,
    repeat,
    reverse_sequence,
    roll,
    sequence_mask,
    shape_n,
    unique,
    unique_with_counts,
)
from neuroflow.ops.creation import eye, fill, linspace, ones, ones_like, zeros, zeros_like
from neuroflow.ops.creation import range_ as range  # noqa: A004
from neuroflow.ops.elementwise import (
    abs,
    acos,
    acosh,
    add,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    cast,
    clip_by_value,
    complex,
    cos,
    cosh,
    divide,
    equal,
    exp,
    floor,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    realdiv,
    round,
    rsqrt,
    saturate_cast,
    scalar_mul,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    truediv,
    truncatediv,
    truncatemod,
    where,
)
from neuroflow.ops.indexing import (
    gather_nd,
    scatter_nd,
    searchsorted,
    strided_slice,
    tensor_scatter_nd_add,
    tensor_scatter_nd_max,
    tensor_scatter_nd_min,
    tensor_scatter_nd_sub,
    tensor_scatter_nd_update,
    unravel_index,
)
from neuroflow.ops.linalg import einsum, matmul, norm, tensordot
from neuroflow.ops.nn_ops import argsort, sort
from neuroflow.ops.normalization import clip_by_global_norm, clip_by_norm
from neuroflow.ops.printing import print_ as print  # noqa: A004
from neuroflow.ops.reductions import (
    add_n,
    argmax,
    argmin,
    cumsum,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
)
from neuroflow.ops.registry import executing_eagerly, init_scope, inside_function
from neuroflow.ops.shape_ops import (
    boolean_mask,
    broadcast_to,
    concat,
    expand_dims,
    gather,
    identity,
    one_hot,
    pad,
    rank,
    reshape,
    reverse,
    shape,
    size,
    split,
    squeeze,
    stack,
    stop_gradient,
    tile,
    transpose,
    unstack,
)
from neuroflow.ops.shape_ops import slice_tensor as slice  # noqa: A004
from neuroflow.tensor import Tensor, TensorShape, constant, convert_to_tensor, is_tensor
from neuroflow.util import nest
from neuroflow.variables import Variable

dtypes.cast = cast  # tf.dtypes.cast is tf.cast
dtypes.saturate_cast = saturate_cast  # tf.dtypes.saturate_cast is tf.saturate_cast

newaxis = None
double = float64
half = float16
__version__ = "0.1.0"

_LAZY_SUBMODULES = ("keras", "data", "train", "summary", "hub", "debugging", "profiler",
                    "strings", "ragged", "lite", "js", "distribute")
# Names whose modules load on first use, like the submodules above.
_LAZY_NAMES = {"RaggedTensor": "neuroflow.ops.ragged", "as_string": "neuroflow.ops.strings"}


def __getattr__(name: str):
    # Keras, tf.data, tf.train, tf.summary, tf.strings and friends are imported on first
    # use so that `import neuroflow` stays fast.
    import importlib

    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"neuroflow.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'neuroflow' has no attribute {name!r}")
