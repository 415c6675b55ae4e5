"""The gather of `GatherExcite2D`: each channel summarized over a neighbourhood.

As timm's `GatherExcite` gathers: the spatial mean (and maximum) of the
whole map, for the global gather or a window that spans the map; a
parameter-free strided pool, the average (and maximum) over windows of
`2e - 1` positions with stride `e` and `e - 1` positions of padding left
out; or, with weights (GE-θ), the layer's depthwise convolutions of stride
2, each followed by its batch normalization.
"""

from __future__ import annotations

from keras import ops

from keras_se.layers._attention_parts import (
    pad_spatial,
    torch_average_pool,
    torch_max_pool,
)


def covers_map(inputs, extent: int, spatial_axes) -> bool:
    """Whether one window of the parameter-free strided gather spans the map.

    timm's pool then has a single output position whose window, padding
    left out, holds every position: the global mean (and maximum).
    """
    sizes = [inputs.shape[axis] for axis in spatial_axes]
    return None not in sizes and max(sizes) <= extent


def parameter_free_gather(
    inputs, extent: int, add_maxpool: bool, spatial_axes, data_format: str
):
    """The gather without weights: global (`extent=0`) or a strided pool."""
    if extent == 0 or covers_map(inputs, extent, spatial_axes):
        # A strided gather keeps its 1x1 map, which the resize spreads.
        keepdims = extent > 0
        gathered = ops.mean(inputs, axis=spatial_axes, keepdims=keepdims)
        if add_maxpool:
            maximum = ops.max(inputs, axis=spatial_axes, keepdims=keepdims)
            gathered = 0.5 * gathered + 0.5 * maximum
        return gathered
    # timm's window, stride and padding: 2e - 1, e and e - 1.
    pool = (2 * extent - 1, extent, extent - 1, data_format)
    gathered = torch_average_pool(inputs, *pool)
    if add_maxpool:
        gathered = 0.5 * gathered + 0.5 * torch_max_pool(inputs, *pool)
    return gathered


def convolution_gather(inputs, convs, norms, activation, data_format: str, training):
    """The gather with weights (GE-θ): the steps, with `activation` between them.

    Each step is a conv on the map padded by 1 on each side, then its norm.
    """
    x = inputs
    steps = list(zip(convs, norms, strict=True))
    for index, (conv, norm) in enumerate(steps):
        x = norm(conv(pad_spatial(x, 1, data_format)), training=training)
        if index < len(steps) - 1:
            x = activation(x)
    return x
