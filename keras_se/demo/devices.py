"""The GPUs the current Keras backend sees, without importing another backend.

`list_gpus` asks TensorFlow, JAX or PyTorch, whichever Keras runs on, so that
choosing a strategy or a precision never imports TensorFlow on JAX or PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class Gpu:
    """One GPU: its name and CUDA compute capability (`None` if unknown)."""

    name: str
    compute_capability: tuple[int, int] | None


def _capability(value) -> tuple[int, int] | None:
    if not value:
        return None
    if isinstance(value, str):  # JAX: "9.0"
        value = value.split(".")
    return tuple(int(part) for part in value[:2])


def _tensorflow_gpus() -> list[Gpu]:
    import tensorflow as tf  # the backend itself: installed

    gpus = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        name = details.get("device_name", gpu.name)
        gpus.append(Gpu(name, _capability(details.get("compute_capability"))))
    return gpus


def _jax_gpus() -> list[Gpu]:
    import jax

    try:
        devices = jax.devices("gpu")
    except RuntimeError:  # no GPU platform
        return []
    return [
        Gpu(device.device_kind, _capability(getattr(device, "compute_capability", "")))
        for device in devices
    ]


def _torch_gpus() -> list[Gpu]:
    import torch

    return [
        Gpu(torch.cuda.get_device_name(i), torch.cuda.get_device_capability(i))
        for i in range(torch.cuda.device_count())
    ]


def list_gpus() -> list[Gpu]:
    """The local GPUs of the current Keras backend; `[]` on the CPU.

    Example:

    >>> gpus = keras_se.demo.devices.list_gpus()
    >>> all(isinstance(gpu.name, str) for gpu in gpus)
    True
    """
    readers = {"tensorflow": _tensorflow_gpus, "jax": _jax_gpus, "torch": _torch_gpus}
    reader = readers.get(keras.backend.backend())
    return reader() if reader else []
