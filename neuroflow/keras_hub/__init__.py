"""Building blocks of KerasHub's models (``keras_hub.layers``): position embeddings and
encodings, token plus position embeddings, and Transformer encoder and decoder blocks,
with KerasHub's arguments, defaults, weights and configs.

Importing this package registers the layers under KerasHub's names
(``"keras_hub>TransformerEncoder"``, and ``"keras_nlp>..."`` for files KerasNLP wrote), so
``keras.models.load_model`` reads ``.keras`` files written here or by Keras with KerasHub
without ``custom_objects``, and Keras with KerasHub reads neuroflow's.

>>> from neuroflow import keras_hub
>>> block = keras_hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2)
"""

from neuroflow.keras_hub import layers

__all__ = ["layers"]
