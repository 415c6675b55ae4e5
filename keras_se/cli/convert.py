"""`keras-se convert`: a timm checkpoint to a .keras model of keras_se's layers."""

from __future__ import annotations

import argparse

from keras_se.cli.arguments import print_error, print_path, subcommand


@subcommand(
    "convert",
    help="convert a timm checkpoint (hub name or file) to a .keras model",
    description=(
        "Convert a timm checkpoint of an SE-family ResNet to a .keras model "
        "built from keras_se's layers. Every key of the checkpoint is used "
        "exactly once; the model reloads with safe_mode=True."
    ),
)
def add_parser(convert: argparse.ArgumentParser) -> None:
    convert.add_argument(
        "source",
        metavar="NAME_OR_PATH",
        help="a timm hub name (seresnet50.ra2_in1k), a .safetensors/.pth/.bin "
        "file, or a folder with model.safetensors and config.json",
    )
    convert.add_argument("out", metavar="OUT.keras", help="the model file to write")
    convert.add_argument(
        "--architecture",
        metavar="NAME",
        help="the timm architecture (seresnet50, ecaresnet50d, ...): needed "
        "for a bare checkpoint file, checked otherwise",
    )
    convert.add_argument(
        "--logits",
        action="store_true",
        help="a classifier without softmax (default: softmax, as timm's probabilities)",
    )
    convert.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se convert`; returns the exit status."""
    from rich.console import Console

    from keras_se.errors import KerasSEError
    from keras_se.models import from_timm
    from keras_se.saving import save_model

    try:
        model = from_timm(
            args.source,
            args.architecture,
            classifier_activation=None if args.logits else "softmax",
        )
        path = save_model(model, args.out)
    except (KerasSEError, ValueError, OSError) as error:
        return print_error("convert", error)
    print_path(
        Console(),
        f"{path}: {model.name}, {model.count_params():,} parameters",
    )
    return 0
