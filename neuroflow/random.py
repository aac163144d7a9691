"""``tf.random``: seeded random tensors (see ``ops/random_ops.py`` for the seed rules)."""

from neuroflow.ops import random_experimental as experimental  # noqa: F401
from neuroflow.ops.random_ops import (  # noqa: F401
    categorical,
    gamma,
    normal,
    poisson,
    set_seed,
    shuffle,
    truncated_normal,
    uniform,
)
from neuroflow.ops.stateless_random import (  # noqa: F401
    Algorithm,
    Generator,
    create_rng_state,
    fold_in,
    get_global_generator,
    set_global_generator,
    split,
    stateless_binomial,
    stateless_categorical,
    stateless_gamma,
    stateless_normal,
    stateless_poisson,
    stateless_truncated_normal,
    stateless_uniform,
)
