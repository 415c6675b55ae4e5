"""Datasets for the examples, and the `tf.data` pipeline that feeds them.

Three sources, each split into train, validation and test sets of
`(image, label)` pairs: the digits bundled with scikit-learn (no download),
CIFAR-10 through `keras.datasets` (a download), and a folder of images with
one subfolder per class (`keras.utils.image_dataset_from_directory`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from keras_se._optional import import_optional
from keras_se.demo.data import load_digits

tf = import_optional("tensorflow", "The examples' tf.data pipelines")

DATASETS = ("digits", "cifar10")
AUTOTUNE = tf.data.AUTOTUNE


class DatasetUnavailableError(RuntimeError):
    """A dataset could not be loaded (no network, a missing folder)."""


@dataclass
class Splits:
    """Unbatched `(image, label)` datasets and what describes them.

    Images are float32; pixel values in [0, 1] when `scaled`, else in
    [0, 255] (for models whose own preprocessing expects those).
    """

    name: str
    train: tf.data.Dataset
    validation: tf.data.Dataset
    test: tf.data.Dataset
    image_shape: tuple[int, int, int]
    class_names: list[str]
    scaled: bool

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def _hold_out(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    order = np.random.default_rng(seed).permutation(len(x))
    count = round(len(x) * fraction)
    held, kept = order[:count], order[count:]
    return (x[kept], y[kept]), (x[held], y[held])


def _from_arrays(name, train, test, validation_split, seed, class_names):
    (x_train, y_train), validation = _hold_out(*train, validation_split, seed)
    pairs = {"train": (x_train, y_train), "validation": validation, "test": test}
    datasets = {
        key: tf.data.Dataset.from_tensor_slices(
            (x.astype("float32"), y.astype("int32").reshape(-1))
        )
        for key, (x, y) in pairs.items()
    }
    return Splits(
        name,
        **datasets,
        image_shape=x_train.shape[1:],
        class_names=class_names,
        scaled=True,
    )


def load_digits_splits(validation_split: float = 0.1, seed: int = 0) -> Splits:
    """The 1,797 8x8 digits bundled with scikit-learn, in [0, 1]."""
    train, test = load_digits(seed=seed)
    names = [str(digit) for digit in range(10)]
    return _from_arrays("digits", train, test, validation_split, seed, names)


def load_cifar10_splits(validation_split: float = 0.1, seed: int = 0) -> Splits:
    """CIFAR-10 through `keras.datasets` (downloads 163 MB once), in [0, 1].

    Raises:
        DatasetUnavailableError: if it is not cached and cannot be downloaded.
    """
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    except Exception as error:  # get_file raises a bare Exception offline.
        raise DatasetUnavailableError(
            "Could not download CIFAR-10 through keras.datasets (no network?): "
            f"{' '.join(str(error).split())[:200]}. Train offline with "
            "`--dataset digits` (bundled, no download) or `--data-dir FOLDER` "
            "(a folder of images, one subfolder per class)."
        ) from error
    names = ["airplane", "automobile", "bird", "cat", "deer"]
    names += ["dog", "frog", "horse", "ship", "truck"]
    train = (x_train / 255.0, y_train)
    test = (x_test / 255.0, y_test)
    return _from_arrays("cifar10", train, test, validation_split, seed, names)


def load_folder_splits(
    data_dir: str | Path,
    image_size: int = 64,
    validation_split: float = 0.2,
    seed: int = 0,
    test_dir: str | Path | None = None,
    scale: bool = True,
) -> Splits:
    """A folder with one subfolder of images per class.

    `validation_split` of the images are held out (the same ones for the
    same `seed`); they are also the test set unless `test_dir` (same class
    subfolders) is given.

    Raises:
        DatasetUnavailableError: if a folder does not exist.
    """
    for folder in (data_dir, test_dir):
        if folder is not None and not Path(folder).is_dir():
            raise DatasetUnavailableError(
                f"No such folder: {folder}. Pass a folder holding one subfolder "
                "of images per class."
            )
    options = dict(
        image_size=(image_size, image_size),
        batch_size=None,
        label_mode="int",
        seed=seed,
        verbose=False,
    )
    train, validation = keras.utils.image_dataset_from_directory(
        data_dir, validation_split=validation_split, subset="both", **options
    )
    class_names = list(train.class_names)
    test = validation
    if test_dir is not None:
        test = keras.utils.image_dataset_from_directory(
            test_dir, shuffle=False, class_names=class_names, **options
        )
    channels = train.element_spec[0].shape[-1]

    def prepare(image, label):
        image = tf.cast(image, "float32")
        return (image / 255.0 if scale else image), tf.cast(label, "int32")

    train, validation, test = (
        ds.map(prepare, num_parallel_calls=AUTOTUNE) for ds in (train, validation, test)
    )
    name = Path(data_dir).name
    shape = (image_size, image_size, channels)
    return Splits(name, train, validation, test, shape, class_names, scale)


def load_splits(
    dataset: str = "digits",
    data_dir: str | Path | None = None,
    image_size: int | None = None,
    validation_split: float = 0.1,
    seed: int = 0,
    test_dir: str | Path | None = None,
) -> Splits:
    """`load_folder_splits` when `data_dir` is given, else the named dataset."""
    if data_dir is not None:
        return load_folder_splits(
            data_dir, image_size or 64, validation_split, seed, test_dir
        )
    loaders = {"digits": load_digits_splits, "cifar10": load_cifar10_splits}
    if dataset not in loaders:
        raise ValueError(f"`dataset` must be one of {DATASETS}. Received: {dataset!r}")
    return loaders[dataset](validation_split, seed)


def make_pipeline(
    dataset: tf.data.Dataset,
    batch_size: int,
    training: bool,
    image_size: int | None = None,
    cache: str = "memory",
    augment: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
    map_fn=None,
) -> tf.data.Dataset:
    """Resizes, caches, shuffles, augments, batches and prefetches.

    The expensive per-image work (decoding, resizing, `map_fn`) runs once:
    its results are cached (`cache="memory"`, a file prefix, or `"none"`).
    Shuffling and augmentation come after the cache, so they differ each
    epoch. Sharding across workers is by element (`AutoShardPolicy.DATA`),
    which works for every source, files or arrays.

    Args:
        dataset: unbatched `(image, label)` pairs.
        batch_size: the global batch size (all replicas together).
        training: shuffle (and augment, if asked) when `True`.
        image_size: resize to `image_size x image_size` if given.
        cache: `"memory"`, `"none"`, or a file prefix for `Dataset.cache`.
        augment: random horizontal flips and shifts of up to 10%.
        seed: the shuffle and augmentation seed.
        drop_remainder: drop the last partial batch (multi-worker training).
        map_fn: a function `image -> image` run before caching, e.g. a
            `keras.applications` model's `preprocess_input`.

    Returns:
        A batched, prefetched `tf.data.Dataset`.
    """

    def prepare(image, label):
        if image_size is not None and tuple(image.shape[:2]) != (image_size,) * 2:
            image = tf.image.resize(image, (image_size, image_size))
        if map_fn is not None:
            image = map_fn(image)
        return image, label

    dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE)
    if cache == "memory":
        dataset = dataset.cache()
    elif cache and cache != "none":
        dataset = dataset.cache(str(cache))
    if training:
        dataset = dataset.shuffle(4096, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if training and augment:
        flip = keras.layers.RandomFlip("horizontal", seed=seed)
        shift = keras.layers.RandomTranslation(0.1, 0.1, seed=seed)
        dataset = dataset.map(
            lambda image, label: (shift(flip(image)), label),
            num_parallel_calls=AUTOTUNE,
        )
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return dataset.prefetch(AUTOTUNE).with_options(options)
