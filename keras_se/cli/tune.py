"""`keras-se tune`: the SE search from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from keras_se.cli.arguments import (
    attention_help,
    attention_list,
    positive_int,
    print_path,
    subcommand,
)
from keras_se.cli.tune_front import (
    add_cost_arguments,
    check_objectives,
    report_front,
    save_trial_model,
)


@subcommand(
    "tune",
    help=(
        "search attention type, SE ratio, placement, stages, position and "
        "gate with KerasTuner"
    ),
    description=(
        "KerasTuner search over where SE blocks go and how they are shaped, "
        "on the embedded digits or a folder of images. One process, or a "
        "chief and workers: --workers N on this machine, or KerasTuner's "
        "KERASTUNER_* variables across machines."
    ),
)
def add_parser(tune: argparse.ArgumentParser) -> None:
    tune.add_argument(
        "--tuner",
        choices=("random", "bayesian", "hyperband"),
        default=None,
        help="the search algorithm (default: random; with --objectives, NSGA-II)",
    )
    add_cost_arguments(tune)
    tune.add_argument("--max-trials", type=positive_int, default=8)
    tune.add_argument(
        "--attention",
        type=attention_list,
        default=("se",),
        help=attention_help("search", "se"),
    )
    tune.add_argument("--epochs", type=positive_int, default=5)
    tune.add_argument("--batch-size", type=positive_int, default=32)
    tune.add_argument(
        "--dataset",
        default="digits",
        help="'digits' (embedded) or a folder of class folders",
    )
    tune.add_argument(
        "--image-size", type=positive_int, default=32, help="for a folder"
    )
    tune.add_argument("--directory", default="keras_se_tuning")
    tune.add_argument("--project-name", default="se_search")
    resume = tune.add_mutually_exclusive_group()
    resume.add_argument(
        "--overwrite", action="store_true", help="start the search afresh"
    )
    resume.add_argument(
        "--resume", action="store_true", help="continue it (the default)"
    )
    tune.add_argument("--workers", type=int, default=0, help="chief + N local workers")
    tune.add_argument("--lease-seconds", type=float, default=30.0)
    tune.add_argument("--heartbeat-seconds", type=float, default=2.0)
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--quiet", action="store_true")
    tune.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Runs `keras-se tune`; returns the exit status."""
    from rich.console import Console

    if args.workers < 0:
        raise SystemExit(f"keras-se tune: --workers must be >= 0, got {args.workers}")
    if args.workers:
        from keras_se.tuning.launcher import launch_local

        check_objectives(args)
        argv = _argv_without_workers(args)
        code = launch_local(argv, args.workers)
        return code
    # Before anything starts TensorFlow's thread pools.
    _limit_threads()
    check_objectives(args)
    import keras

    from keras_se.errors import SearchRunningError
    from keras_se.tuning.distributed import TUNERS, make_tuner, role, run_search
    from keras_se.tuning.hypermodel import SEHyperModel
    from keras_se.tuning.pareto_search import ParetoSearch
    from keras_se.tuning.results import collect_results, results_table, write_results

    keras.utils.set_random_seed(args.seed)
    train, validation, base = _data_and_base(args)
    tuner_kwargs = dict(
        objective="val_accuracy",
        directory=args.directory,
        project_name=args.project_name,
        seed=args.seed,
    )
    tuner_class = TUNERS[args.tuner or "random"]
    if args.objectives:
        tuner_class = ParetoSearch
        tuner_kwargs.pop("objective")
        tuner_kwargs.update(
            objectives=args.objectives,
            target=args.target,
            exponent=args.exponent,
            population_size=args.population_size,
        )
    if args.tuner == "hyperband":
        tuner_kwargs["max_epochs"] = args.epochs
    else:
        tuner_kwargs["max_trials"] = args.max_trials
    hypermodel = SEHyperModel(
        base, attentions=args.attention, latency_batch_size=args.latency_batch_size
    )
    try:
        tuner = make_tuner(
            tuner_class,
            hypermodel,
            project_dir_of=lambda d, p: Path(d) / p,
            overwrite=args.overwrite,
            lease_seconds=args.lease_seconds,
            **tuner_kwargs,
        )
    except SearchRunningError as error:
        raise SystemExit(f"keras-se tune: {error}") from None
    project_dir = Path(args.directory) / args.project_name
    search_kwargs = dict(
        x=train[0], y=train[1], validation_data=validation,
        epochs=args.epochs, batch_size=args.batch_size,
        verbose=0 if args.quiet else "auto",
    )  # fmt: skip
    if args.tuner == "hyperband":
        search_kwargs.pop("epochs")
    run_search(tuner, project_dir, args.heartbeat_seconds, **search_kwargs)
    if role() == "worker":
        return 0
    rows = collect_results(tuner.oracle, "val_accuracy")
    console = Console(width=None if sys.stdout.isatty() else 140)
    console.print(results_table(rows, "val_accuracy"))
    best = tuner.oracle.get_best_trials(1)
    if best:
        console.print(
            f"Best: trial {best[0].trial_id}, {best[0].hyperparameters.values}"
        )
    for path in write_results(rows, "val_accuracy", project_dir):
        print_path(console, f"Wrote {path}")
    if args.objectives:
        report_front(console, tuner, project_dir, args)
    if args.load_trial is not None:
        save_trial_model(console, tuner, project_dir, args.load_trial)
    return 0


def _argv_without_workers(args) -> list[str]:
    argv = [
        "--max-trials", str(args.max_trials),
        "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
        "--attention", ",".join(args.attention),
        "--dataset", args.dataset, "--image-size", str(args.image_size),
        "--directory", args.directory, "--project-name", args.project_name,
        "--lease-seconds", str(args.lease_seconds),
        "--heartbeat-seconds", str(args.heartbeat_seconds), "--seed", str(args.seed),
    ]  # fmt: skip
    for flag in ("tuner", "objectives", "target", "population_size", "load_trial"):
        if getattr(args, flag) is not None:
            argv += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    argv += ["--exponent", str(args.exponent)]
    argv += ["--latency-batch-size", str(args.latency_batch_size)]
    if args.overwrite:
        argv.append("--overwrite")
    if args.quiet:
        argv.append("--quiet")
    return argv


def _limit_threads() -> None:
    import keras

    from keras_se._optional import import_optional

    threads = os.environ.get("KERAS_SE_THREADS")
    # Only TensorFlow's thread pools are set: JAX and PyTorch keep theirs.
    if threads and keras.backend.backend() == "tensorflow":
        tf = import_optional("tensorflow", "KERAS_SE_THREADS")
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)


def _data_and_base(args):
    from keras_se.demo.data import load_digits
    from keras_se.demo.model import build_digits_cnn

    if args.dataset == "digits":
        train, _ = load_digits(seed=args.seed)
        cut = int(len(train.x) * 0.8)
        return (
            (train.x[:cut], train.y[:cut]),
            (train.x[cut:], train.y[cut:]),
            lambda: build_digits_cnn(se=False),
        )
    return _folder_data(args, build_digits_cnn)


def _folder_data(args, build_cnn):
    import keras
    import numpy as np

    folder = Path(args.dataset)
    if not folder.is_dir():
        raise SystemExit(
            f"keras-se tune: --dataset must be 'digits' or a folder of class "
            f"folders; {str(folder)!r} is neither."
        )
    size = (args.image_size, args.image_size)
    common = dict(
        image_size=size, validation_split=0.2, seed=args.seed, batch_size=None
    )
    splits = [
        keras.utils.image_dataset_from_directory(folder, subset=subset, **common)
        for subset in ("training", "validation")
    ]
    classes = len(splits[0].class_names)
    arrays = []
    for split in splits:
        images, labels = zip(*split.as_numpy_iterator(), strict=True)
        arrays.append((np.stack(images) / 255.0, np.array(labels)))
    shape = (*size, 3)
    return arrays[0], arrays[1], lambda: build_cnn(shape, classes, se=False)
