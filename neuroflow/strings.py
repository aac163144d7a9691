"""``tf.strings``: ops on string tensors (see ``neuroflow/ops/strings.py``).

>>> import neuroflow as tf
>>> tf.strings.split(tf.strings.lower(["Hello World"]))
<tf.RaggedTensor [[b'hello', b'world']]>
"""

from neuroflow.ops.strings import (  # noqa: F401
    as_string,
    format,  # noqa: A004 - TensorFlow's name
    join,
    length,
    lower,
    ngrams,
    reduce_join,
    regex_full_match,
    regex_replace,
    split,
    strip,
    substr,
    to_hash_bucket_fast,
    to_hash_bucket_strong,
    to_number,
    unicode_split,
    upper,
)
