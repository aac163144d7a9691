"""``tf.nn``: activations, softmax, cross-entropies, dropout."""

from neuroflow.ops.convolution import (  # noqa: F401
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    convolution,
    max_pool,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from neuroflow.ops.elementwise import sigmoid, tanh  # noqa: F401
from neuroflow.ops.nn_ops import (  # noqa: F401
    bias_add,
    dropout,
    elu,
    gelu,
    l2_loss,
    leaky_relu,
    log_softmax,
    moments,
    relu,
    relu6,
    selu,
    sigmoid_cross_entropy_with_logits,
    silu,
    softmax,
    softmax_cross_entropy_with_logits,
    softplus,
    softsign,
    sparse_softmax_cross_entropy_with_logits,
    swish,
    top_k,
)
