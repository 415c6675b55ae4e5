"""The Pareto front of a search: a table, `pareto.csv`, `pareto.png`, a member reloaded.

Works on a `ParetoOracle`, the chief's in a distributed search or the local
one, and on one reloaded from the project folder: the front is computed
from the trials' recorded metrics alone, so every process that reads the
same trials writes the same front.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from keras_se.saving.atomic import write_bytes_atomically
from keras_se.tuning.objectives import LATENCY_MS, UNITS
from keras_se.tuning.pareto import non_dominated


def front_rows(oracle) -> list[dict]:
    """One row per trial on the front, in trial order.

    Columns: `trial`, each objective named as given, then every
    hyperparameter of the space (empty where inactive for that trial).
    """
    names = [objective.name for objective in oracle.objectives]
    hyperparameters = [hp.name for hp in oracle.hyperparameters.space]
    rows = []
    for trial in oracle.front():
        values = trial.hyperparameters.values
        rows.append(
            {
                "trial": trial.trial_id,
                **dict(zip(names, oracle.point(trial), strict=True)),
                **{name: values.get(name, "") for name in hyperparameters},
            }
        )
    return rows


def front_table(oracle, rows: list[dict]):
    """A rich table of `front_rows`, objectives first."""
    from rich.table import Table

    names = [objective.name for objective in oracle.objectives]
    title = f"Pareto front: {len(rows)} of {len(oracle.completed_trials())} trials"
    table = Table(title=title)
    columns = list(rows[0]) if rows else ["trial", *names]
    for column in columns:
        table.add_column(column, justify="right" if column in names else "left")
    for row in rows:
        table.add_row(*(_format(row[column]) for column in columns))
    return table


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def write_front(
    oracle, out_dir: str | Path, latency_batch_size: int | None = None
) -> list[Path]:
    """Writes `pareto.csv` (the front) and `pareto.png` (every trial, the front
    highlighted and joined) into `out_dir`; returns their paths."""
    out_dir = Path(out_dir)
    rows = front_rows(oracle)
    buffer = io.StringIO()
    names = [objective.name for objective in oracle.objectives]
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["trial"])
    writer.writeheader()
    writer.writerows(rows)
    return [
        write_bytes_atomically(out_dir / "pareto.csv", buffer.getvalue().encode()),
        write_bytes_atomically(
            out_dir / "pareto.png", _plot(oracle, names, latency_batch_size)
        ),
    ]


def axis_label(name: str, latency_batch_size: int | None = None) -> str:
    """An objective's axis label with its unit."""
    if name == LATENCY_MS and latency_batch_size:
        return f"{name} (ms per batch of {latency_batch_size}, median)"
    if name in UNITS:
        return f"{name} ({UNITS[name]})"
    if "accuracy" in name:
        return f"{name} (fraction correct)"
    return name


def _plot(oracle, names: list[str], latency_batch_size: int | None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    trials = oracle.completed_trials()
    ids = [trial.trial_id for trial in trials]
    points = np.array([oracle.point(trial) for trial in trials]).reshape(
        len(trials), len(names)
    )
    on_front = np.isin(ids, [trial.trial_id for trial in oracle.front()])
    directions = [objective.direction for objective in oracle.objectives]
    main = names.index(oracle.training_objective.name)
    others = [i for i in range(len(names)) if i != main] or [None]
    figure, axes = plt.subplots(
        1, len(others), figsize=(5 * len(others), 4), dpi=100, squeeze=False
    )
    for axis, other in zip(axes[0], others, strict=True):
        x = np.arange(len(ids)) if other is None else points[:, other]
        y = points[:, main]
        axis.scatter(x[~on_front], y[~on_front], color="tab:gray", alpha=0.5,
                     label="other trials")  # fmt: skip
        axis.scatter(x[on_front], y[on_front], color="tab:red", zorder=3,
                     label=f"front over all {len(names)} objectives")  # fmt: skip
        if other is not None and len(ids):
            # A front over three objectives is no line in a 2D projection:
            # the line joins the front of this pair alone.
            pair = non_dominated(
                np.stack([y, x], 1), [directions[main], directions[other]]
            )
            order = np.argsort(x[pair], kind="stable")
            axis.plot(x[pair][order], y[pair][order], "-", color="tab:red",
                      alpha=0.6, label="front of this pair, joined")  # fmt: skip
        if other is not None and len(ids) and x.min() > 0 and x.max() > 10 * x.min():
            axis.set_xscale("log")  # one slow outlier would squeeze the rest
            axis.xaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))
            axis.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        for index in np.flatnonzero(on_front):
            axis.annotate(ids[index], (x[index], y[index]), fontsize=7,
                          xytext=(3, 3), textcoords="offset points")  # fmt: skip
        axis.set_xlabel(
            "trial" if other is None else axis_label(names[other], latency_batch_size)
        )
        axis.set_ylabel(axis_label(names[main], latency_batch_size))
        axis.legend(fontsize=8)
    figure.suptitle(
        f"{len(ids)} trials; {int(on_front.sum())} on the front over "
        f"{', '.join(names)}",
        fontsize=9,
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def find_trial(oracle, trial_id: str):
    """The completed trial `trial_id` (`"3"` finds `"03"`), of any oracle.

    Raises:
        ValueError: naming the completed trials (and the front, where there is
            one), when it is not one of them.
    """
    completed = {
        known: trial
        for known, trial in sorted(oracle.trials.items())
        if trial.status == "COMPLETED"
    }
    for known, trial in completed.items():
        if known == trial_id or (
            known.isdigit() and trial_id.isdigit() and int(known) == int(trial_id)
        ):
            return trial
    front = ""
    if hasattr(oracle, "front"):
        front = f"; the front is {[trial.trial_id for trial in oracle.front()]}"
    raise ValueError(
        f"No completed trial {trial_id!r}. The completed trials are "
        f"{sorted(completed)}{front}."
    )


def load_trial_model(tuner, trial_id: str):
    """The trained model of trial `trial_id`, from its checkpoint.

    Works on the chief after a distributed search and on a finished search
    reloaded from its folder (`overwrite=False`).
    """
    return tuner.load_model(find_trial(tuner.oracle, trial_id))
