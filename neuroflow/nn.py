"""``tf.nn``: activations, softmax, cross-entropies, dropout."""

from neuroflow.distribute import strategy as _strategy
from neuroflow.ops import nn_ops as _nn_ops
from neuroflow.ops.convolution import (  # noqa: F401
    avg_pool,
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv1d_transpose,
    conv2d,
    conv2d_transpose,
    conv3d,
    conv3d_transpose,
    conv_transpose,
    convolution,
    depthwise_conv2d,
    max_pool,
    max_pool1d,
    max_pool2d,
    max_pool3d,
    separable_conv2d,
)
from neuroflow.ops.elementwise import sigmoid, tanh  # noqa: F401
from neuroflow.ops.nn_ops import (  # noqa: F401
    bias_add,
    crelu,
    dropout,
    elu,
    embedding_lookup,
    gelu,
    in_top_k,
    l2_loss,
    leaky_relu,
    log_poisson_loss,
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
    weighted_cross_entropy_with_logits,
)
from neuroflow.ops.normalization import (  # noqa: F401
    batch_normalization,
    l2_normalize,
    local_response_normalization,
    lrn,
    normalize_moments,
    sufficient_statistics,
    weighted_moments,
    zero_fraction,
)


def _replicas_in_sync(what: str) -> int:
    """The replicas the loss is averaged over; a loss is per replica, so asking for it in a
    strategy's scope outside ``strategy.run`` is an error, as in TensorFlow."""
    if _strategy.has_strategy() and _strategy.in_cross_replica_context():
        raise RuntimeError(f"You are calling `{what}` in cross replica context, while it was "
                           f"expected to be called in replica context. Call it inside the "
                           f"function passed to strategy.run.")
    return _strategy.get_strategy().num_replicas_in_sync


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """``sum(per_example_loss * sample_weight) / global_batch_size`` (0 when that is 0).

    ``global_batch_size`` defaults to this replica's batch (the first size of
    ``per_example_loss``) times the strategy's ``num_replicas_in_sync``, so that the
    gradients summed over replicas are those of the mean loss of the global batch.
    """
    replicas = 1
    if global_batch_size is None:
        replicas = _replicas_in_sync("compute_average_loss")
    return _nn_ops.average_loss(per_example_loss, sample_weight, global_batch_size, replicas)


def scale_regularization_loss(regularization_loss):
    """The sum of ``regularization_loss`` divided by the strategy's ``num_replicas_in_sync``:
    each replica adds its share, so the sum over replicas counts it once."""
    replicas = _replicas_in_sync("scale_regularization_loss")
    return _nn_ops.scaled_regularization_loss(regularization_loss, replicas)
