"""The Keras layers the model graph recognises, by their config class names.

A model's serialized graph names each call's class (`"Conv2D"`, `"Add"`,
raw operations such as `"Multiply"` or `"Mean"`); these sets say which of
them start a conv unit, finish one, pool globally or merge a residual unit.
keras_se's own attention layers are not among them: they answer for
themselves (`keras_se.layers.is_attention`).
"""

from __future__ import annotations

import keras

# Every Keras convolution layer: Grad-CAM may look at any of them.
CONV_LAYERS = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
)
# The surgery puts SE blocks after the 2D ones, by config class name.
CONV_CLASSES = frozenset(
    layer.__name__ for layer in CONV_LAYERS if "2D" in layer.__name__
)
# Layers that finish a conv "unit": SE goes after them when they follow a conv.
FOLLOWER_CLASSES = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "PReLU",
        "ELU",
    }
)
GLOBAL_POOLING_CLASSES = frozenset(
    {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "Mean", "Max"}
)
MERGE_CLASSES = frozenset({"Add"})
