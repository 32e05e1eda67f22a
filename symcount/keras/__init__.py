"""Keras-semantics layers: channels-last, Keras 3 names, arguments, defaults and
counting rules (BatchNormalization's moving statistics are non-trainable parameters).

    from symcount.keras import Input, Sequential, Conv2D, MaxPooling2D, Flatten, Dense
"""

from ..graph import Block, Model, Repeat, Sequential
from .merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from .conv import Conv2D
from .core import Activation, Dense, Dropout, Input, InputLayer
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, MaxPooling2D
from .reshaping import Flatten

__all__ = [
    "Add",
    "Average",
    "Block",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Model",
    "Multiply",
    "Repeat",
    "Subtract",
    "Activation",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "MaxPooling2D",
    "Sequential",
]
