"""Arguments that are bad only for the input's shape fail in `build`, before any weight.

The bottleneck is at most 64 times the input's channels; ECA's kernel spans
at most `2 * channels - 1` channels (3 always); CBAM's spatial window at most
`2 * max(height, width) - 1` positions (7 always). Each refusal names the
argument, its value and the input's shape or width, and comes before a
weight is made (a `units=10**10` bottleneck would ask for gigabytes).
"""

from __future__ import annotations

import re

import keras
import pytest

import keras_se
from keras_se.layers import ATTENTIONS
from tests.layers.harness import init_arguments
from tests.layers.registry import LAYER_CLASSES

ATTENTION_CLASSES = [c for c in LAYER_CLASSES if c is not keras_se.SqueezeExciteConv2D]
WIDTH_CLASSES = [c for c in LAYER_CLASSES if "units" in init_arguments(c)]
ECA_CLASSES = [
    keras_se.layers.EfficientChannelAttention1D,
    keras_se.layers.EfficientChannelAttention2D,
    keras_se.layers.EfficientChannelAttention3D,
]


def input_shape(layer_class, channels, spatial=4):
    """A channels-last input of `channels` channels for `layer_class`."""
    rank = getattr(layer_class, "rank", 2)
    return (None, *[spatial] * rank, channels)


def make(layer_class, **kwargs):
    if layer_class is keras_se.SqueezeExciteConv2D:
        # Its SE block gates the convolution's 2 output channels.
        kwargs = {"filters": 2, **kwargs}
    return layer_class(**kwargs)


def refused_before_any_weight(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer.build(shape)
    assert not layer.weights


@pytest.mark.parametrize("layer_class", WIDTH_CLASSES)
@pytest.mark.parametrize("units", [129, 10**10])
def test_units_past_64_times_the_channels_are_refused(layer_class, units):
    message = re.escape(
        f"`units` gives a bottleneck of {units} units for an input of 2 "
        f"channels; it may be at most 64 times the channels (128 units). "
        f"Received: units={units}"
    )
    shape = input_shape(layer_class, 2)
    refused_before_any_weight(make(layer_class, units=units), shape, message)


@pytest.mark.parametrize("layer_class", WIDTH_CLASSES)
def test_a_divisor_past_64_times_the_channels_is_refused(layer_class):
    message = r"`divisor` gives a bottleneck of 256 units.*Received: divisor=256"
    shape = input_shape(layer_class, 2)
    refused_before_any_weight(make(layer_class, divisor=256), shape, message)


@pytest.mark.parametrize("layer_class", WIDTH_CLASSES)
@pytest.mark.parametrize("kwargs", [{"units": 128}, {"ratio": 1 / 64}])
def test_a_bottleneck_of_64_times_the_channels_is_allowed(layer_class, kwargs):
    layer = make(layer_class, **kwargs)
    layer.build(input_shape(layer_class, 2))
    assert layer.count_params() >= 2 * 2 * 128


@pytest.mark.parametrize("name", [n for n in ATTENTIONS if n not in ("eca", "ese")])
def test_get_attention_blocks_refuse_a_huge_width(name):
    layer = keras_se.layers.get_attention(name, units=10**10)
    message = r"`units` gives a bottleneck of 10000000000 units.*at most 64 times"
    refused_before_any_weight(layer, (None, 4, 4, 8), message)


@pytest.mark.parametrize("layer_class", ECA_CLASSES)
@pytest.mark.parametrize(
    "channels, kernel_size, allowed",
    [(4, 7, True), (4, 9, False), (1, 3, True), (1, 5, False), (2, 3, True)],
)
def test_eca_kernel_spans_at_most_twice_the_channels(
    layer_class, channels, kernel_size, allowed
):
    layer = layer_class(kernel_size=kernel_size)
    shape = input_shape(layer_class, channels)
    if allowed:
        layer.build(shape)
        assert layer.count_params() == kernel_size
        return
    limit = max(2 * channels - 1, 3)
    message = (
        re.escape(
            f"`kernel_size` is {kernel_size}, wider than the {channels} channels "
            f"allow: the kernel may span at most 2 * channels - 1 = {limit} channels"
        )
        + rf".*Received: kernel_size={kernel_size}, input_shape="
    )
    refused_before_any_weight(layer, shape, message)


@pytest.mark.parametrize("layer_class", ECA_CLASSES)
def test_eca_adaptive_kernel_past_the_channels_names_gamma_and_beta(layer_class):
    # t = int(|log2(4) + 1| / 0.01) = 300: a kernel of 301 over 4 channels.
    layer = layer_class(gamma=0.01)
    message = (
        r"`gamma` and `beta` give an adaptive kernel size of 301.*"
        r"Received: gamma=0.01, beta=1.0, input_shape=\(None, .*4\)"
    )
    refused_before_any_weight(layer, input_shape(layer_class, 4), message)


@pytest.mark.parametrize(
    "shape, kernel_size, allowed",
    [
        ((None, 2, 2, 4), 7, True),
        ((None, 2, 2, 4), 9, False),
        ((None, 6, 4, 4), 11, True),
        ((None, 6, 4, 4), 13, False),
        ((None, None, None, 4), 13, True),
    ],
)
def test_cbam_window_spans_at_most_twice_the_map(shape, kernel_size, allowed):
    layer = keras_se.CBAM2D(spatial_kernel_size=kernel_size)
    if allowed:
        layer.build(shape)
        assert tuple(layer.spatial_conv.kernel.shape) == (
            kernel_size,
            kernel_size,
            2,
            1,
        )
        return
    limit = max(2 * max(shape[1:3]) - 1, 7)
    message = (
        rf"`spatial_kernel_size` must be at most {limit} for a "
        rf"{shape[1]}x{shape[2]} map.*Received: "
        rf"spatial_kernel_size={kernel_size}, input_shape="
    )
    refused_before_any_weight(layer, shape, message)


def test_cbam_window_reads_the_map_of_its_data_format():
    layer = keras_se.CBAM2D(spatial_kernel_size=9, data_format="channels_first")
    refused_before_any_weight(layer, (None, 4, 3, 2), r"at most 7 for a 3x2 map")


@pytest.mark.parametrize("layer_class", ATTENTION_CLASSES)
def test_wrong_input_rank(layer_class):
    rank = layer_class.rank
    for shape in [(None, *[4] * (rank - 1), 4), (None, *[4] * (rank + 1), 4)]:
        with pytest.raises(
            ValueError, match=r"expects inputs of rank .*Received: input_shape"
        ):
            layer_class().build(shape)
        with pytest.raises(ValueError, match="ndim"):
            layer_class()(keras.Input(shape[1:]))


@pytest.mark.parametrize("layer_class", ATTENTION_CLASSES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_unknown_channel_count(layer_class, data_format):
    spatial = [4] * layer_class.rank
    shape = (
        (None, *spatial, None)
        if data_format == "channels_last"
        else (None, None, *spatial)
    )
    layer = layer_class(data_format=data_format)
    with pytest.raises(ValueError, match=r"known channel count.*input_shape"):
        layer.build(shape)


def test_residual_needs_matching_channels():
    block = keras_se.SqueezeExciteConv2D(16, residual=True)
    with pytest.raises(ValueError, match=r"`filters` must equal .* \(8\)"):
        block.build((None, 4, 4, 8))
