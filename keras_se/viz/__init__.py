"""See what SE blocks do: Grad-CAM heatmaps and excitation analysis.

`heatmaps` computes Grad-CAM, Grad-CAM++ or saliency maps with tf-keras-vis;
`excitations` collects every SE block's gates over a dataset, per class and
channel, in one pass; the `plot_*` functions and `write_explanations` turn
them into PNGs (what `keras-se explain` and `keras-se train` write).
"""

from keras_se.viz.excitation import BlockExcitation, excitation_model, excitations
from keras_se.viz.explain import write_explanations
from keras_se.viz.plots import (
    plot_class_specificity,
    plot_excitations,
    plot_heatmaps,
)
from keras_se.viz.saliency import METHODS, find_target_layer, heatmaps

__all__ = [
    "METHODS",
    "BlockExcitation",
    "excitation_model",
    "excitations",
    "find_target_layer",
    "heatmaps",
    "plot_class_specificity",
    "plot_excitations",
    "plot_heatmaps",
    "write_explanations",
]
