"""PyTorch-semantics layers: channels-first, ``torch.nn`` names, arguments and defaults,
and torch's counting rules — parameters are what ``model.parameters()`` yields; buffers
(BatchNorm's running statistics) are shown, never counted.

    import symcount as sc
    from symcount.torch import Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear

    H, W = sc.dims("H W")
    model = Sequential([Conv2d(3, 16, 3, padding=1), ReLU(), MaxPool2d(2), Flatten(),
                        Linear(16 * (H // 2) * (W // 2), 10)])
    c = model.count(input_shape=(3, H, W))      # torch-style: no Input layer needed
    c.total                                     # 160*floor(H/2)*floor(W/2) + 458

Shapes are torch's tensor shapes with ``None`` for the batch axis: ``(None, C, H, W)``;
recurrent and attention layers follow ``batch_first`` — time-major ``(L, None, E)`` by
default (build it with ``Input((L, E), batch_first=False)``), ``(None, L, E)`` with
``batch_first=True``. A layer that returns several tensors (``LSTM``: ``output, (h_n,
c_n)``; ``MultiheadAttention``: ``attn_output, attn_weights``) has the shape of the first.
"""

from ..graph import Block, Model, Repeat, Sequential
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .core import (
    CELU, ELU, GELU, GLU, SELU, AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, Flatten, Hardshrink,
    Hardsigmoid, Hardswish, Hardtanh, Identity, Input, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU,
    ReLU6, Sigmoid, SiLU, Softmax, Softmax2d, Softmin, Softplus, Softshrink, Softsign, Tanh, Tanhshrink,
    Threshold, TimeMajorInput, Unflatten,
)
from .embedding import Embedding
from .functional import Add, Cat
from .linear import Bilinear, Linear
from .normalization import (
    BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm,
    RMSNorm,
)
from .pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
    AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d, MaxPool2d, MaxPool3d,
)
from .recurrent import GRU, LSTM, RNN
from .transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d", "Add", "AlphaDropout", "AvgPool1d", "AvgPool2d", "AvgPool3d", "BatchNorm1d", "BatchNorm2d",
    "BatchNorm3d", "Bilinear", "Block", "CELU", "Cat", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU", "Embedding",
    "Flatten", "GELU", "GLU", "GRU", "GroupNorm", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "Identity",
    "Input", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LSTM", "LayerNorm", "LeakyReLU", "Linear",
    "LogSigmoid", "LogSoftmax", "MaxPool1d", "MaxPool2d", "MaxPool3d", "Mish", "Model", "MultiheadAttention",
    "PReLU", "RMSNorm", "RNN", "ReLU", "ReLU6", "Repeat", "SELU", "Sequential", "SiLU", "Sigmoid", "Softmax",
    "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold",
    "TimeMajorInput", "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer", "Unflatten",
]
