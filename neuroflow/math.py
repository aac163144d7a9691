"""``tf.math``: elementwise math, reductions and comparisons."""

from neuroflow.ops.elementwise import (  # noqa: F401
    abs,
    add,
    ceil,
    cos,
    divide,
    divide_no_nan,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floordiv,
    floormod,
    greater,
    greater_equal,
    is_finite,
    is_inf,
    is_nan,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    real,
    reciprocal,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    squared_difference,
    subtract,
    tanh,
    truediv,
)
from neuroflow.ops.linalg import tensordot  # noqa: F401
from neuroflow.ops.nn_ops import softplus, top_k  # noqa: F401
from neuroflow.ops.reductions import (  # noqa: F401
    argmax,
    argmin,
    cumprod,
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

mod = floormod


def log_sigmoid(x, name=None):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large |x|."""
    return negative(softplus(negative(x)))
