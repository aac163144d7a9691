"""KerasHub's modeling layers (``keras_hub.layers``)."""

from neuroflow.keras_hub.layers.position import (
    PositionEmbedding,
    ReversibleEmbedding,
    SinePositionEncoding,
    TokenAndPositionEmbedding,
)
from neuroflow.keras_hub.layers.transformer import TransformerDecoder, TransformerEncoder

__all__ = ["PositionEmbedding", "ReversibleEmbedding", "SinePositionEncoding",
           "TokenAndPositionEmbedding", "TransformerDecoder", "TransformerEncoder"]
