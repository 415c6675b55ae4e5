"""Docstring text shared by the 1D, 2D and 3D variants, written once.

As keras fills its preprocessing layers' `__doc__` from one template, a
family's class docstring is one `DocTemplate` beside its private base,
filled per rank with the facts below and set on each variant class.

Example:

>>> from keras_se.layers._docstrings import RANKS
>>> RANKS[3]["input_last"]
'(batch, depth, height, width, channels)'
"""

from __future__ import annotations

import dataclasses

RANKS = {
    1: {
        "subject": "sequences and other 1D signals",
        "positions": "L",
        "mean": "1/L",
        "tensor": "3D",
        "input_last": "(batch, steps, channels)",
        "input_first": "(batch, channels, steps)",
    },
    2: {
        "subject": "images and feature maps",
        "positions": "H*W",
        "mean": "1/(H*W)",
        "tensor": "4D",
        "input_last": "(batch, height, width, channels)",
        "input_first": "(batch, channels, height, width)",
    },
    3: {
        "subject": "volumes and videos",
        "positions": "D*H*W",
        "mean": "1/(D*H*W)",
        "tensor": "5D",
        "input_last": "(batch, depth, height, width, channels)",
        "input_first": "(batch, channels, depth, height, width)",
    },
}

SHAPES = """\
Input shape:
        `{input_last}` with `"channels_last"`,
        `{input_first}` with `"channels_first"`.

    Output shape:
        The input's shape.

    Example:

    >>> x = np.random.rand({example_dims}).astype("float32")
    >>> layer = keras_se.layers.{name}({example_args})
    >>> tuple(layer(x).shape)
    {example_shape}
{more}"""

# The `units` and `divisor` arguments of the blocks with timm's width rule.
WIDTH_ARGS = """\
units: positive int or `None`, an absolute width that overrides
            `ratio`. The width is at most 64 times the input's
            channels (so `ratio` is at least 1/64); a wider one raises a
            `ValueError` when the layer is built.
            Defaults to `None`.
        divisor: positive int, the width is a multiple of it. Defaults to 1."""
# The docstring of `initialize_as_identity` of the blocks with one weighted step.
IDENTITY_DOC = """Zeroes {what}, so that the block starts as the identity.

        The gate then sees logits of 0 for every input, and
        `gate_scale * gate(0)` is 1 for a sigmoid or hard-sigmoid gate with
        `gate_scale=2`: the block returns its input exactly.

        Raises:
            ValueError: if the layer is not built, or its gate and
                `gate_scale` are not 1 at 0.
        """


@dataclasses.dataclass(frozen=True)
class DocTemplate:
    """A family's class docstring, with the facts of each rank as fields.

    Attributes:
        text: the docstring, with `{subject}`, `{positions}`, `{mean}`,
            `{tensor}`, `{shapes}` (the input and output shapes and the
            example, `SHAPES`) and `{width_args}` (`WIDTH_ARGS`) as fields.
        shapes: the example input's shape for each rank.
        example_args: the example's constructor arguments, as source.
        more: one more example line and its output, if any.
    """

    text: str
    shapes: dict[int, tuple[int, ...]]
    example_args: str = ""
    more: tuple[str, str] | None = None

    def fill(self, name: str, rank: int) -> str:
        """The docstring of the variant `name` of `rank` (1, 2 or 3)."""
        shape = self.shapes[rank]
        facts = {
            **RANKS[rank],
            "name": name,
            "example_dims": ", ".join(str(size) for size in shape),
            "example_shape": str(tuple(shape)),
            "example_args": self.example_args,
            "width_args": WIDTH_ARGS,
            "more": f"    >>> {self.more[0]}\n    {self.more[1]}\n"
            if self.more
            else "",
        }
        return self.text.format(shapes=SHAPES.format(**facts), **facts)


def fill_shapes(shape: tuple[int, ...], example_args: str = ""):
    """A class decorator: fills the `{shapes}` field of a 2D layer's docstring.

    The input and output shapes and the example (`SHAPES`), for the layers
    that have no 1D and 3D variants.
    """

    def decorate(cls):
        template = DocTemplate(cls.__doc__, {2: shape}, example_args)
        cls.__doc__ = template.fill(cls.__name__, 2)
        return cls

    return decorate
