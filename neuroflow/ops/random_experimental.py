"""``tf.random.experimental``: the names TensorFlow keeps there."""

from neuroflow.ops.stateless_random import (  # noqa: F401
    Algorithm,
    Generator,
    create_rng_state,
    get_global_generator,
    set_global_generator,
    stateless_shuffle,
)
from neuroflow.ops.stateless_random import fold_in as stateless_fold_in  # noqa: F401
from neuroflow.ops.stateless_random import split as stateless_split  # noqa: F401
