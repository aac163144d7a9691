"""The input gradient of a 2-D convolution with a Numba col2im (``kernels.col2im``).

As in ``ops/convolution.py``, the columns ``g @ w.T`` are made a block of the batch at
a time by one BLAS product, so that the block is still in the processor's cache when
the kernel gathers it back into the input's positions. Results equal the primitive's
(the same products, the shares summed in the same order).
"""

from __future__ import annotations

import math

import numpy as np

# Columns of about this many bytes a block (the primitive's patch blocks are as large).
BLOCK_BYTES = 2 ** 21


def input_grad(col2im, g, w, dx, strides, dilations, pads):
    """``conv_input_grad`` into ``dx`` (batch, height, width, channels)."""
    kernel_h, kernel_w, channels, filters = w.shape
    batch, out_h, out_w = g.shape[:3]
    width = kernel_h * kernel_w * channels
    flat_w_t = w.reshape(width, filters).T
    step = max(1, BLOCK_BYTES // (out_h * out_w * width * g.itemsize))
    cols = np.empty((min(step, batch), out_h, out_w, width), g.dtype)
    for start in range(0, batch, step):
        stop = min(batch, start + step)
        block = cols[:stop - start]
        np.matmul(g[start:stop].reshape(-1, filters), flat_w_t,
                  out=block.reshape(math.prod(block.shape[:3]), width))
        col2im(block, dx, start, *strides, *dilations, pads[0][0], pads[1][0], kernel_h,
               kernel_w)
    return dx
