"""``tf.linalg``: matrix products and norms."""

from neuroflow.ops.creation import eye  # noqa: F401
from neuroflow.ops.decompositions import (  # noqa: F401
    cholesky,
    cholesky_solve,
    det,
    eigh,
    eigvalsh,
    inv,
    logdet,
    lstsq,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    triangular_solve,
)
from neuroflow.ops.linalg import (  # noqa: F401
    adjoint,
    band_part,
    cross,
    diag,
    diag_part,
    einsum,
    global_norm,
    matmul,
    matrix_transpose,
    matvec,
    norm,
    set_diag,
    tensor_diag,
    tensor_diag_part,
    tensordot,
    trace,
)
from neuroflow.ops.normalization import l2_normalize  # noqa: F401
