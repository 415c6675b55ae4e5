"""EfficientChannelAttention1D/2D/3D against timm's EcaModule/CecaModule and NumPy."""

from __future__ import annotations

import importlib

import keras
import numpy as np
import pytest
from keras import ops

import keras_se
from keras_se.layers import eca_kernel_size
from tests.conftest import random_inputs

LAYERS = {
    1: keras_se.EfficientChannelAttention1D,
    2: keras_se.EfficientChannelAttention2D,
    3: keras_se.EfficientChannelAttention3D,
}
# The out channels of ResNet-50's 16 residual units, where ECA-Net puts its blocks.
RESNET50_CHANNELS = [256] * 3 + [512] * 4 + [1024] * 6 + [2048] * 3


@pytest.fixture
def timm_ref():
    pytest.importorskip("torch")
    return importlib.import_module("tests.layers.timm_reference_eca_ese")


def to_numpy(x):
    return ops.convert_to_numpy(x)


def channels_first(x):
    return np.moveaxis(x, -1, 1)


@pytest.mark.parametrize(
    "channels, expected",
    [(1, 3), (8, 3), (64, 3), (127, 3), (128, 5), (256, 5), (1024, 5),
     (2047, 5), (2048, 7), (4096, 7), (16384, 7), (32768, 9)],
)  # fmt: skip
def test_adaptive_kernel_size(channels, expected):
    # t = int(|log2(C) + 1| / 2); odd t, else t + 1; at least 3 (timm's floor).
    assert eca_kernel_size(channels) == expected


@pytest.mark.parametrize(
    "channels, gamma, beta, expected",
    [(64, 1.0, 0.0, 7), (64, 1.0, 1.0, 7), (256, 1.0, 1.0, 9), (256, 3.0, 1.0, 3),
     (2**20, 2.0, 1.0, 11), (64, 2.0, -20.0, 7)],
)  # fmt: skip
def test_adaptive_kernel_size_gamma_beta(channels, gamma, beta, expected):
    assert eca_kernel_size(channels, gamma, beta) == expected
    layer = keras_se.EfficientChannelAttention1D(gamma=gamma, beta=beta)
    layer.build((None, 4, channels))
    assert layer.resolved_kernel_size == expected
    assert layer.conv.kernel.shape == (expected, 1, 1)


def test_adaptive_kernel_size_is_timms_for_every_channel_count(timm_ref):
    for channels in range(1, 5000):
        for gamma, beta in [(2, 1), (1, 0), (3, 2)]:
            assert eca_kernel_size(channels, gamma, beta) == (
                timm_ref.timm_eca_kernel_size(channels, gamma, beta)
            ), (channels, gamma, beta)


def test_resnet50_blocks_add_86_parameters():
    params = 0
    for channels in RESNET50_CHANNELS:
        layer = keras_se.EfficientChannelAttention2D()
        layer.build((None, 7, 7, channels))
        params += layer.count_params()
    # 3 x 5 (256) + 4 x 5 (512) + 6 x 5 (1024) + 3 x 7 (2048), as timm's ecaresnet50.
    assert params == 86


def test_explicit_kernel_size_overrides_the_adaptive_one():
    layer = keras_se.EfficientChannelAttention2D(kernel_size=9)
    layer.build((None, 3, 3, 2048))
    assert layer.count_params() == 9
    assert layer.get_config()["kernel_size"] == 9


def eca_numpy(x_last, kernel, circular=False, gate=lambda v: 1 / (1 + np.exp(-v))):
    """ECA on a channels-last input, with loops: kernel is a list of k weights."""
    k = len(kernel)
    half = (k - 1) // 2
    z = x_last.reshape(x_last.shape[0], -1, x_last.shape[-1]).mean(axis=1)
    channels = z.shape[1]
    logits = np.zeros_like(z)
    for c in range(channels):
        for j in range(k):
            source = c + j - half
            if circular:
                logits[:, c] += kernel[j] * z[:, source % channels]
            elif 0 <= source < channels:
                logits[:, c] += kernel[j] * z[:, source]
    scale = gate(logits).reshape(x_last.shape[0], *[1] * (x_last.ndim - 2), channels)
    return x_last * scale


@pytest.mark.parametrize("padding", ["zeros", "circular"])
@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_matches_numpy_reference(padding, kernel_size):
    x = random_inputs((2, 3, 4, 6))
    kernel = [0.7, -1.3, 0.4, 2.0, -0.6][:kernel_size]
    layer = keras_se.EfficientChannelAttention2D(kernel_size, padding=padding)
    layer.build(x.shape)
    layer.set_weights([np.array(kernel, "float32").reshape(-1, 1, 1)])
    expected = eca_numpy(x, kernel, circular=padding == "circular")
    np.testing.assert_allclose(to_numpy(layer(x)), expected, atol=1e-6)


PARITY = [
    (1, (2, 16, 9), {}),
    (2, (2, 64, 3, 5), {}),
    (2, (2, 128, 2, 3), {"padding": "circular"}),
    (2, (2, 6, 3, 3), {"kernel_size": 5, "padding": "circular"}),
    (2, (1, 4, 2, 2), {"kernel_size": 7, "padding": "circular"}),
    (2, (2, 256, 2, 2), {"gate": "hard_sigmoid"}),
    (3, (2, 32, 2, 3, 2), {"kernel_size": 5}),
]


@pytest.mark.parametrize("rank, shape, kwargs", PARITY)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_matches_timm(timm_ref, rank, shape, kwargs, data_format):
    """Same weights as timm's EcaModule (CecaModule when circular), to 1e-5."""
    rng = np.random.default_rng(rank + len(kwargs))
    x_first = rng.normal(0, 1.5, shape).astype("float32")
    layer = LAYERS[rank](data_format=data_format, **kwargs)
    x = x_first if data_format == "channels_first" else np.moveaxis(x_first, 1, -1)
    layer.build(x.shape)
    k = kwargs.get("kernel_size") or timm_ref.timm_eca_kernel_size(shape[1])
    weight = rng.normal(0, 0.8, (1, 1, k)).astype("float32")
    layer.set_weights([timm_ref.eca_kernel_to_keras(weight)])
    expected = timm_ref.eca_forward(
        x_first,
        weight,
        circular=kwargs.get("padding") == "circular",
        gate=kwargs.get("gate", "sigmoid"),
    )
    if data_format == "channels_last":
        expected = np.moveaxis(expected, 1, -1)
    np.testing.assert_allclose(to_numpy(layer(x)), expected, atol=1e-5, rtol=0)


def test_circular_padding_differs_from_zeros_only_at_the_ends():
    x = random_inputs((2, 5, 10))
    outputs = {}
    for padding in ("zeros", "circular"):
        layer = keras_se.EfficientChannelAttention1D(padding=padding)
        layer.build(x.shape)
        layer.set_weights([np.array([0.5, 1.0, -0.5], "float32").reshape(3, 1, 1)])
        outputs[padding] = to_numpy(layer(x))
    np.testing.assert_allclose(
        outputs["zeros"][..., 1:-1], outputs["circular"][..., 1:-1], atol=1e-6
    )
    assert not np.allclose(outputs["zeros"][..., 0], outputs["circular"][..., 0])
    assert not np.allclose(outputs["zeros"][..., -1], outputs["circular"][..., -1])


def test_channels_first_equals_channels_last():
    x = random_inputs((2, 4, 3, 2, 16))
    last = keras_se.EfficientChannelAttention3D(padding="circular")
    first = keras_se.EfficientChannelAttention3D(
        padding="circular", data_format="channels_first"
    )
    last.build(x.shape)
    first.build(channels_first(x).shape)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(
        to_numpy(first(channels_first(x))), channels_first(to_numpy(last(x))), atol=1e-6
    )


def test_global_channels_first_format_does_not_reach_the_channel_convolution():
    # The squeezed vector is a channels-last sequence whatever the image
    # format: a channels_first global setting must not turn the Conv1D.
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        layer = keras_se.EfficientChannelAttention2D(kernel_size=3)
        layer.build((None, 16, 4, 4))
    finally:
        keras.config.set_image_data_format(previous)
    assert tuple(layer.conv.kernel.shape) == (3, 1, 1)


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("padding", ["zeros", "circular"])
def test_identity_start_returns_the_input_exactly(gate, padding):
    x = random_inputs((2, 4, 5, 32))
    layer = keras_se.EfficientChannelAttention2D(
        gate=gate, gate_scale=2.0, padding=padding
    )
    layer.build(x.shape)
    layer.initialize_as_identity()
    assert not np.any(to_numpy(layer.conv.kernel))
    np.testing.assert_array_equal(to_numpy(layer(x)), x)


@pytest.mark.parametrize(
    "kwargs",
    [{"gate": "sigmoid", "gate_scale": 1.0}, {"gate": "tanh", "gate_scale": 2.0}],
)
def test_identity_start_refuses_gates_not_one_at_zero(kwargs):
    layer = keras_se.EfficientChannelAttention2D(**kwargs)
    layer.build((None, 3, 3, 8))
    with pytest.raises(ValueError, match=r"gate_scale=2\.0"):
        layer.initialize_as_identity()


def test_identity_start_needs_a_built_layer():
    layer = keras_se.EfficientChannelAttention2D(gate_scale=2.0)
    with pytest.raises(ValueError, match="needs a built layer"):
        layer.initialize_as_identity()


def test_masked_steps_are_left_out_of_the_squeeze():
    """A padded sequence gives, on its real steps, what the unpadded one gives."""
    x = random_inputs((2, 7, 12))
    layer = keras_se.EfficientChannelAttention1D(kernel_size=5)
    layer.build(x.shape)
    mask = np.ones((2, 7), bool)
    mask[0, 4:] = False
    masked = to_numpy(layer(x, mask=mask))
    np.testing.assert_allclose(masked[0, :4], to_numpy(layer(x[:1, :4]))[0], atol=1e-6)
    np.testing.assert_allclose(masked[1], to_numpy(layer(x[1:]))[0], atol=1e-6)


def test_masking_layer_mask_reaches_the_squeeze():
    x = random_inputs((1, 6, 8))
    x[:, 3:] = 0.0
    model = keras.Sequential(
        [
            keras.Input((6, 8)),
            keras.layers.Masking(0.0),
            keras_se.EfficientChannelAttention1D(),
        ]
    )
    layer = model.layers[-1]
    np.testing.assert_allclose(
        to_numpy(model(x))[0, :3], to_numpy(layer(x[:, :3]))[0], atol=1e-6
    )


def test_excitation_is_the_per_channel_gate():
    x = random_inputs((2, 3, 3, 16))
    layer = keras_se.EfficientChannelAttention2D()
    layer.build(x.shape)
    gate = to_numpy(layer.excitation(x))
    assert gate.shape == (2, 16)
    np.testing.assert_allclose(to_numpy(layer(x)), x * gate[:, None, None], atol=1e-6)


def test_get_attention_eca():
    layer = keras_se.layers.get_attention("eca", padding="circular")
    assert isinstance(layer, keras_se.EfficientChannelAttention2D)
    assert layer.padding == "circular"


ODD = "`kernel_size` must be an odd positive integer or None (the adaptive size)."
PADDINGS = "`padding` must be one of ('zeros', 'circular')."
BAD_ARGUMENTS = [
    ({"kernel_size": 0}, "`kernel_size` must be a positive integer or None. "),
    ({"kernel_size": 4}, ODD),
    ({"kernel_size": 3.0}, ""),
    ({"kernel_size": True}, ""),
    ({"gamma": 0}, "`gamma` must be a positive number. "),
    ({"beta": float("nan")}, "`beta` must be a finite number. "),
    ({"beta": "1"}, "`beta` must be a finite number. "),
    ({"padding": "same"}, PADDINGS),
    ({"gate": "softmax"}, "`gate` must be one of "),
    ({"gate_scale": -1.0}, "`gate_scale` must be a positive number. "),
    ({"data_format": "NHWC"}, "`data_format` must be one of "),
    ({"kernel_initializer": "nope"}, "`kernel_initializer` must be "),
]


@pytest.mark.parametrize("kwargs, message", BAD_ARGUMENTS)
def test_bad_arguments_name_argument_and_value(kwargs, message):
    ((name, value),) = kwargs.items()
    with pytest.raises(ValueError) as error:
        keras_se.EfficientChannelAttention2D(**kwargs)
    assert message in str(error.value)
    assert str(error.value).endswith(f"Received: {name}={value!r}")


@pytest.mark.parametrize(
    "shape, match",
    [((None, 4, 8), "expects inputs of rank 4"), ((None, 3, 3, None), "channel count")],
)
def test_bad_input_shapes(shape, match):
    with pytest.raises(ValueError, match=match):
        keras_se.EfficientChannelAttention2D().build(shape)
