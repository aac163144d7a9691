"""Keras layers."""

import functools

from neuroflow.keras.layers.activation import ReLU, Softmax
from neuroflow.keras.layers.augmentation import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
from neuroflow.keras.layers.base import Layer
from neuroflow.keras.layers.conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from neuroflow.keras.layers.convolutional import (
    Conv1D,
    Conv1DTranspose,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    DepthwiseConv2D,
    SeparableConv2D,
)
from neuroflow.keras.layers.core import Activation, Dense, Input, InputLayer
from neuroflow.keras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from neuroflow.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)

# More layers, kept as their own block (the block below stays sorted).
# isort: off
from neuroflow.keras.layers.activations_more import ELU, Lambda, LeakyReLU, PReLU
from neuroflow.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from neuroflow.keras.layers.einsum_dense import EinsumDense
from neuroflow.keras.layers.embedding import Embedding, Masking
from neuroflow.keras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN
from neuroflow.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from neuroflow.keras.layers.stacked_rnn_cells import StackedRNNCells
from neuroflow.keras.layers.wrappers import Bidirectional, TimeDistributed
from neuroflow.keras.layers.noise import (
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from neuroflow.keras.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from neuroflow.keras.layers.spatial import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
# isort: on
from neuroflow.keras.layers.lookup import (
    CategoryEncoding,
    Hashing,
    IntegerLookup,
    StringLookup,
)
from neuroflow.keras.layers.preprocessing import Normalization, Rescaling
from neuroflow.keras.layers.regularization import Dropout
from neuroflow.keras.layers.reshaping import Flatten, Reshape
from neuroflow.keras.layers.serialization import deserialize, serialize
from neuroflow.keras.layers.text_preprocessing import TextVectorization

# Keras's short aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, SeparableConvolution2D = Conv2DTranspose, SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D)

__all__ = sorted(name for name, value in list(globals().items())
                 if not name.startswith("_") and not isinstance(value, type(functools)))
