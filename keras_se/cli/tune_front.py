"""The cost-aware part of `keras-se tune`: its flags, the objectives checked
before anything starts, the front reported and a trial's model reloaded."""

from __future__ import annotations

from pathlib import Path

from keras_se.cli.arguments import positive_int, print_path


def add_cost_arguments(tune) -> None:
    """Adds `--objectives` and its companions to the `tune` parser."""
    cost = tune.add_argument_group("cost-aware search")
    cost.add_argument(
        "--objectives",
        default=None,
        help=(
            "comma-separated objectives, e.g. val_accuracy,params,latency_ms "
            "(name:max or name:min for another metric the model logs): "
            "searches for their Pareto front and writes pareto.csv and pareto.png"
        ),
    )
    cost.add_argument(
        "--target",
        default=None,
        help="with --objectives: one best model by MnasNet's "
        "acc*(cost/target)^w, e.g. latency_ms=2.0",
    )
    cost.add_argument(
        "--exponent", type=float, default=-0.07, help="MnasNet's w (default -0.07)"
    )
    cost.add_argument(
        "--latency-batch-size",
        type=positive_int,
        default=1,
        help="the batch size latency_ms is measured at (default 1)",
    )
    cost.add_argument(
        "--population-size",
        type=positive_int,
        default=None,
        help="random trials before NSGA-II starts (default: a third of the trials)",
    )
    cost.add_argument(
        "--load-trial",
        default=None,
        metavar="ID",
        help="after the search, reload trial ID's trained model and save it "
        "as DIRECTORY/PROJECT/trial_ID.keras",
    )


def check_objectives(args) -> None:
    """Bad objectives end the command before any trial or worker starts."""
    if not args.objectives:
        for flag in ("target", "population_size"):
            if getattr(args, flag) is not None:
                raise SystemExit(
                    f"keras-se tune: --{flag.replace('_', '-')} needs --objectives"
                )
        return
    if args.tuner not in (None, "random"):
        raise SystemExit(
            f"keras-se tune: --objectives searches with NSGA-II; "
            f"--tuner {args.tuner} takes one objective"
        )
    from keras_se.errors import ObjectiveError
    from keras_se.tuning.hypermodel import SEHyperModel
    from keras_se.tuning.objectives import check_logged
    from keras_se.tuning.pareto_search import ParetoOracle

    try:
        oracle = ParetoOracle(args.objectives, target=args.target)
        # What an SEHyperModel's trial reports with validation data; the
        # base does not change the names.
        logged = SEHyperModel(lambda: None).logged_metrics(validation=True)
        check_logged(oracle.objectives, logged)
    except ObjectiveError as error:
        raise SystemExit(f"keras-se tune: {error}") from None


def report_front(console, tuner, project_dir: Path, args) -> None:
    from keras_se.tuning.front import front_rows, front_table, write_front

    oracle = tuner.oracle
    console.print(front_table(oracle, front_rows(oracle)))
    if oracle.target is not None:
        name, value = oracle.target
        best = oracle.get_best_trials(1)
        if best:
            console.print(
                f"Best by MnasNet reward (target {name}={value:g}, "
                f"w={oracle.exponent:g}): trial {best[0].trial_id}, "
                f"reward {best[0].score:.4f}"
            )
    for path in write_front(oracle, project_dir, args.latency_batch_size):
        print_path(console, f"Wrote {path}")


def save_trial_model(console, tuner, project_dir: Path, trial_id: str) -> None:
    from keras_se.saving import save_model
    from keras_se.tuning.front import find_trial, load_trial_model

    try:
        trial = find_trial(tuner.oracle, trial_id)
    except ValueError as error:
        raise SystemExit(f"keras-se tune: --load-trial: {error}") from None
    model = load_trial_model(tuner, trial.trial_id)
    path = save_model(model, project_dir / f"trial_{trial.trial_id}.keras")
    print_path(console, f"Reloaded trial {trial.trial_id}; saved {path}")
