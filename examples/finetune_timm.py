"""Fine-tune a pretrained SE-ResNet-50 of timm's with its backbone frozen.

1. `keras_se.models.SEResNet50(weights=..., include_top=False,
   pooling="avg")`: timm's checkpoint (a hub name, downloaded into the
   Hugging Face cache, or a local `.safetensors`/`.pth` file or folder),
   converted into keras_se's layers; `--weights none` for random weights.
2. The bundled digits (8x8 grey) upscaled to `--image-size` RGB and
   normalized as timm does (`keras_se.models.preprocess_images`).
3. A new 10-class head trained with the backbone frozen; the test accuracy
   and the first SE block's mean excitation are printed.

    python examples/finetune_timm.py --weights seresnet50.ra2_in1k
    python examples/finetune_timm.py --weights ~/seresnet50/model.safetensors
    python examples/finetune_timm.py --weights none --image-size 32 \\
        --samples 128                              # offline: random weights
"""

from __future__ import annotations

import argparse
import json
import sys

import keras
import numpy as np

import keras_se
from keras_se.demo.data import load_digits
from keras_se.errors import KerasSEError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--weights",
        default="seresnet50.ra2_in1k",
        help="a timm hub name, a local checkpoint file or folder, or 'none'",
    )
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=0, help="0: every sample")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args(argv)


def digits_as_images(split, size: int, samples: int):
    """The digits as timm's network takes them: RGB, `size` square, normalized."""
    x, y = split
    if samples:
        x, y = x[:samples], y[:samples]
    rgb = np.repeat(x * 255.0, 3, axis=-1)
    # The digit fills the frame: no border crop (crop_pct 1), a smooth upscale.
    settings = {**keras_se.models.timm_preprocessing("seresnet50")}
    settings.update(input_size=(3, size, size), crop_pct=1.0, interpolation="bilinear")
    images = keras_se.models.preprocess_images(rgb, settings, "channels_last")
    return keras.ops.convert_to_numpy(images), y


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keras.utils.set_random_seed(0)
    weights = None if args.weights.lower() == "none" else args.weights
    size = args.image_size
    try:
        backbone = keras_se.models.SEResNet50(
            include_top=False,
            weights=weights,
            input_shape=(size, size, 3),
            pooling="avg",
        )
    except KerasSEError as error:
        print(f"finetune_timm.py: error: {error}", file=sys.stderr)
        return 1
    backbone.trainable = False
    inputs = keras.Input((size, size, 3))
    features = backbone(inputs, training=False)
    outputs = keras.layers.Dense(10, activation="softmax", name="digits")(features)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    train, test = load_digits()
    x_train, y_train = digits_as_images(train, size, args.samples)
    x_test, y_test = digits_as_images(test, size, args.samples)
    model.fit(
        x_train,
        y_train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        verbose=0 if args.quiet else 2,
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    block = next(
        layer
        for layer in backbone.layers
        if isinstance(layer, keras_se.SqueezeExcite2D)
    )
    probe = keras.Model(backbone.input, block.input)
    gate = block.excitation(probe(x_test[:16], training=False))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    print(f"trainable parameters: {trainable}")
    print(f"test accuracy: {accuracy:.4f}")
    print(f"first SE block mean excitation: {float(keras.ops.mean(gate)):.4f}")
    print(json.dumps({"weights": args.weights, "accuracy": float(accuracy)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
