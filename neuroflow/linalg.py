"""``tf.linalg``: matrix products and norms."""

from neuroflow.ops.creation import eye  # noqa: F401
from neuroflow.ops.linalg import einsum, matmul, norm, tensordot, trace  # noqa: F401
from neuroflow.ops.shape_ops import transpose  # noqa: F401


def matrix_transpose(a, name=None):
    """Swap the last two axes."""
    perm = list(range(len(a.shape)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return transpose(a, perm)
