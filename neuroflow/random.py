"""``tf.random``: seeded random tensors (see ``ops/random_ops.py`` for the seed rules)."""

from neuroflow.ops.random_ops import (  # noqa: F401
    categorical,
    normal,
    set_seed,
    shuffle,
    truncated_normal,
    uniform,
)
