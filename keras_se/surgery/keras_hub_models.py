"""KerasHub models in `wrap_with_se`: backbones as graphs, tasks rebuilt.

A KerasHub backbone (`keras_hub.models.ResNetBackbone`, ...) is a Functional
model whose `get_config()` holds its constructor arguments, not its graph;
`graph.functional_config` reads the graph through a plain `keras.Model` on
the same tensors. The copy of a backbone is a plain Functional `keras.Model`
named like it: the backbone class rebuilds its graph from its arguments,
which have no place for SE blocks.

A KerasHub `ImageClassifier` task (`ResNetImageClassifier`, ...) is its
backbone plus a head and a preprocessor. `wrap_with_se` rewrites the
backbone and builds the same task class around the copy, from the task's
own config (a new preprocessor from its config, the head's weights copied),
so `predict` on raw images, `fit` and `.keras` saving work as before.

Nothing here imports keras_hub: its classes are recognised by their names
and modules.
"""

from __future__ import annotations

import keras

HUB_MODULE = "keras_hub."


def is_keras_hub(model, class_name: str | None = None) -> bool:
    """Whether `model` is a KerasHub class (or a subclass of `class_name`)."""
    return any(
        cls.__module__.startswith(HUB_MODULE)
        and (class_name is None or cls.__name__ == class_name)
        for cls in type(model).__mro__
    )


def split_task(model: keras.Model) -> tuple[keras.Model | None, keras.Model]:
    """`(task, backbone)` for a KerasHub task model, else `(None, model)`.

    Raises:
        TypeError: for a KerasHub task other than an `ImageClassifier`.
    """
    if not is_keras_hub(model, "Task"):
        return None, model
    if not is_keras_hub(model, "ImageClassifier"):
        raise TypeError(
            f"wrap_with_se cannot rewrite '{model.name}', a KerasHub "
            f"{type(model).__name__}: of the KerasHub tasks it rebuilds only "
            "image classifiers (keras_hub.models.ImageClassifier and its "
            "subclasses). Wrap the task's backbone instead, "
            "`keras_se.wrap_with_se(task.backbone)`, and build your model on "
            "the copy."
        )
    backbone = model.backbone
    if not isinstance(backbone, keras.Model):
        raise TypeError(
            f"wrap_with_se cannot rewrite '{model.name}' "
            f"({type(model).__name__}): its backbone is "
            f"{type(backbone).__name__}, not a keras.Model."
        )
    return model, backbone


def rebuild_task(task: keras.Model, backbone: keras.Model) -> keras.Model:
    """The task's class, built from its config around `backbone`.

    The head's layers get the task's weights; the preprocessor is a new one
    from the task's config; a compiled task's compile settings are reused,
    with a fresh optimizer.
    """
    config = task.get_config()
    config["backbone"] = backbone
    try:
        rebuilt = type(task).from_config(config)
    except Exception as error:  # the task's own __init__: any error it raises
        raise TypeError(
            f"wrap_with_se rewrote the backbone of '{task.name}' but cannot "
            f"build a {type(task).__name__} around the copy, a plain "
            f"Functional keras.Model: {type(error).__name__}: {error}. Wrap "
            "the backbone alone, `keras_se.wrap_with_se(task.backbone)`, and "
            "put a head on the copy."
        ) from error
    _copy_head_weights(task, rebuilt)
    if task.compiled and task.get_compile_config():
        # Tasks override compile(), so Keras's compile_from_config() skips them.
        settings = keras.saving.deserialize_keras_object(task.get_compile_config())
        rebuilt.compile(**settings)
    return rebuilt


def _copy_head_weights(task: keras.Model, rebuilt: keras.Model) -> None:
    """Copies the weights of every task layer that is not the backbone.

    The same class built from the same config creates its head layers in the
    same order, so they pair up by position.
    """
    head = [layer for layer in task.layers if layer is not task.backbone]
    new_head = [layer for layer in rebuilt.layers if layer is not rebuilt.backbone]
    for original, copy in zip(head, new_head, strict=True):
        if type(original) is not type(copy):
            raise TypeError(
                f"wrap_with_se cannot match the head of '{task.name}' "
                f"({type(task).__name__}): layer '{original.name}' "
                f"({type(original).__name__}) was rebuilt as '{copy.name}' "
                f"({type(copy).__name__})."
            )
        copy.set_weights(original.get_weights())
