"""The six weight arguments every keras_se layer takes, as `keras.layers.Dense` does.

`kernel_initializer`, `bias_initializer`, `kernel_regularizer`,
`bias_regularizer`, `kernel_constraint` and `bias_constraint`: resolved and
checked once (`set_weight_arguments`), serialized once
(`weight_arguments_config`), and handed to each sub-layer with an
initializer of its own (`sublayer_weight_arguments`, `fresh_initializer`).

A Keras initializer seeded with an integer, or unseeded, returns the same
values on every call. A block that hands one instance to several sub-layers
(the SE block's `reduce` and `expand` steps, the convolution of
`SqueezeExciteConv2D`) would start them with identical kernels wherever their
shapes match, and with correlated ones otherwise.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras

from keras_se._validation import get_keras_object

WEIGHT_ARGUMENTS = (
    "kernel_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "bias_constraint",
)
# Each weight argument's default and type, as `keras.layers.Dense` has them.
WEIGHT_PARAMETERS = {
    "kernel_initializer": ("glorot_uniform", "str | keras.initializers.Initializer"),
    "bias_initializer": ("zeros", "str | keras.initializers.Initializer"),
    "kernel_regularizer": (None, "str | keras.regularizers.Regularizer | None"),
    "bias_regularizer": (None, "str | keras.regularizers.Regularizer | None"),
    "kernel_constraint": (None, "str | keras.constraints.Constraint | None"),
    "bias_constraint": (None, "str | keras.constraints.Constraint | None"),
}
# The three of a layer whose steps have no bias (ECA's convolution, CBAM's MLP).
KERNEL_ARGUMENTS = ("kernel_initializer", "kernel_regularizer", "kernel_constraint")
_SERIALIZERS = {
    "initializer": keras.initializers.serialize,
    "regularizer": keras.regularizers.serialize,
    "constraint": keras.constraints.serialize,
}


def set_weight_arguments(layer: keras.layers.Layer, **arguments: Any) -> None:
    """Resolves and checks the weight arguments given; sets them on `layer`.

    Args:
        layer: the layer being constructed.
        **arguments: all of `WEIGHT_ARGUMENTS`, or all of `KERNEL_ARGUMENTS`
            for a layer without biases.

    Raises:
        ValueError: naming the argument that Keras cannot resolve.
    """
    names = _names(arguments)
    for name in names:
        setattr(layer, name, get_keras_object(name, arguments[name]))
    layer._weight_argument_names = names


def pop_weight_arguments(kwargs: dict[str, Any], names) -> dict[str, Any]:
    """Takes the weight arguments `names` out of `kwargs`, defaulted if absent.

    The constructors of the layers take their weight arguments through
    `**kwargs` and hand them to `set_weight_arguments` with this; their
    signatures list them (`add_weight_parameters`).
    """
    return {name: kwargs.pop(name, WEIGHT_PARAMETERS[name][0]) for name in names}


def add_weight_parameters(init, names) -> None:
    """Lists the weight arguments `names` in the signature of `init`.

    They are keyword-only, before `**kwargs` (which takes them), with their
    `WEIGHT_PARAMETERS` defaults and types: `help()` and `inspect.signature`
    show them as a constructor written out in full would.
    """
    signature = inspect.signature(init)
    parameters = [p for p in signature.parameters.values() if p.name not in names]
    *named, var_keyword = parameters
    added = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=WEIGHT_PARAMETERS[name][0],
            annotation=WEIGHT_PARAMETERS[name][1],
        )
        for name in names
    ]
    init.__signature__ = signature.replace(parameters=[*named, *added, var_keyword])


def weight_arguments_config(layer: keras.layers.Layer) -> dict[str, Any]:
    """The weight arguments of `layer`, serialized for `get_config`."""
    return {
        name: _SERIALIZERS[name.rsplit("_", 1)[-1]](getattr(layer, name))
        for name in layer._weight_argument_names
    }


def sublayer_weight_arguments(
    layer: keras.layers.Layer, seed_offset: int = 0
) -> dict[str, Any]:
    """The weight arguments of `layer`, for one of its sub-layers.

    The keyword arguments of a `keras.layers.Dense` (or any layer with the
    same argument names): the regularizers and constraints of `layer`, and
    initializers of the sub-layer's own (`fresh_initializer(initializer,
    seed_offset)`). Give each sub-layer its own `seed_offset`.
    """
    return {
        name: (
            fresh_initializer(getattr(layer, name), seed_offset)
            if name.endswith("_initializer")
            else getattr(layer, name)
        )
        for name in layer._weight_argument_names
    }


def _names(arguments: dict[str, Any]) -> tuple[str, ...]:
    for names in (WEIGHT_ARGUMENTS, KERNEL_ARGUMENTS):
        if set(arguments) == set(names):
            return names
    raise TypeError(
        f"expected the arguments {WEIGHT_ARGUMENTS} or {KERNEL_ARGUMENTS}. "
        f"Received: {sorted(arguments)}"
    )


def fresh_initializer(initializer: Any, seed_offset: int = 0) -> Any:
    """Returns a new instance of `initializer` for one sub-layer.

    Args:
        initializer: an initializer as `keras.initializers.get` returns it.
        seed_offset: added to an integer `seed`, so that the sub-layers of
            a seeded block draw distinct values, reproducibly.

    Returns:
        - For an initializer seeded with an integer: a copy seeded with
          `seed + seed_offset`.
        - For an unseeded one: a copy, which draws a fresh seed of its own
          (reproducible under `keras.utils.set_random_seed`).
        - Anything else (a `keras.random.SeedGenerator` seed, which advances
          on every call; an initializer without a seed, such as `"zeros"`;
          a plain function): `initializer` itself.
    """
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    config = initializer.get_config()
    if "seed" not in config:
        return initializer
    seed = config["seed"]
    if seed is None:
        return type(initializer).from_config(config)
    if isinstance(seed, int) and not isinstance(seed, bool):
        return type(initializer).from_config({**config, "seed": seed + seed_offset})
    return initializer
