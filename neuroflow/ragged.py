"""``tf.ragged``: making ragged tensors and mapping ops over their values
(``tf.RaggedTensor`` itself is in ``neuroflow/ops/ragged.py``).

>>> import neuroflow as tf
>>> tf.ragged.map_flat_values(tf.multiply, tf.ragged.constant([[1, 2], [3]]), 10)
<tf.RaggedTensor [[10, 20], [30]]>
"""

from neuroflow.ops.ragged import RaggedTensor, constant, map_flat_values  # noqa: F401
