"""The main job's demo: the embedded digits, the digits CNN and its training.

What `keras-se train` runs, apart from the library: `data` (scikit-learn's
bundled digits, no download), `model` (the small CNN with or without SE
blocks), `training` (train and compare), and the multi-device set-up
shared with the examples: `distribute` (`keras.distribution` on JAX,
`tf.distribute` on TensorFlow; chief and workers), `devices` (the GPUs the
backend sees) and `flags` (`--strategy`, `--mixed-precision`, `--xla`).
Import those by name; none of them needs TensorFlow unless a `tf.distribute`
strategy is asked for.
"""

from keras_se.demo.data import DIGITS_CLASSES, DIGITS_SHAPE, Split, load_digits
from keras_se.demo.model import build_digits_cnn

__all__ = [
    "DIGITS_CLASSES",
    "DIGITS_SHAPE",
    "Split",
    "build_digits_cnn",
    "load_digits",
]
