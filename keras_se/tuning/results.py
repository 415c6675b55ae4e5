"""The results of a search: a table, CSV, JSON and a plot of metric vs. size."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from keras_se.saving.atomic import write_bytes_atomically
from keras_se.tuning.hypermodel import (
    HP_ATTENTION,
    HP_GATE,
    HP_PLACEMENT,
    HP_POSITION,
    HP_RATIO,
    HP_STAGES,
    PARAMS_ADDED,
)

COLUMNS = (
    "trial",
    "status",
    "attention",
    "ratio",
    "placement",
    "stages",
    "position",
    "gate",
)


def collect_results(oracle, metric: str | None = None) -> list[dict]:
    """One row per trial, in trial order, from a chief's or local oracle.

    Args:
        oracle: the search's oracle.
        metric: the metric column, by default the oracle's objective; the
            objective gets a column of its own when it is another one (the
            scalar search's `mnasnet_reward`).
    """
    metrics_columns = dict.fromkeys(
        [metric or oracle.objective.name, oracle.objective.name]
    )
    rows = []
    for trial_id in sorted(oracle.trials):
        trial = oracle.trials[trial_id]
        values = trial.hyperparameters.values
        metrics = trial.metrics
        rows.append(
            {
                "trial": trial_id,
                "status": trial.status,
                "attention": values.get(HP_ATTENTION, "se"),
                "ratio": values.get(HP_RATIO, "-"),
                "placement": values.get(HP_PLACEMENT),
                "stages": values.get(HP_STAGES),
                "position": values.get(HP_POSITION, "-"),
                "gate": values.get(HP_GATE),
                **{name: _last(metrics, name) for name in metrics_columns},
                PARAMS_ADDED: _last(metrics, PARAMS_ADDED),
            }
        )
    return rows


def _last(metrics, name):
    if not metrics.exists(name):
        return None
    value = metrics.get_last_value(name)
    return None if value is None else float(value)


def results_table(rows: list[dict], objective: str):
    from rich.table import Table

    table = Table(title="SE search results")
    for column in (*COLUMNS, objective, PARAMS_ADDED):
        table.add_column(
            column, justify="right" if column in (objective, PARAMS_ADDED) else "left"
        )
    for row in rows:
        metric, added = row[objective], row[PARAMS_ADDED]
        table.add_row(
            *(str(row[c]) for c in COLUMNS),
            "-" if metric is None else f"{metric:.4f}",
            "-" if added is None else f"{int(added):,}",
        )
    return table


def write_results(rows: list[dict], objective: str, out_dir: Path) -> list[Path]:
    """Writes `results.csv`, `results.json` and `results.png` into `out_dir`."""
    out_dir = Path(out_dir)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    paths = [
        write_bytes_atomically(out_dir / "results.csv", buffer.getvalue().encode()),
        write_bytes_atomically(
            out_dir / "results.json", (json.dumps(rows, indent=2) + "\n").encode()
        ),
        write_bytes_atomically(out_dir / "results.png", _plot(rows, objective)),
    ]
    return paths


def _plot(rows: list[dict], objective: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [
        r for r in rows if r[objective] is not None and r[PARAMS_ADDED] is not None
    ]
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    for placement in sorted({str(r["placement"]) for r in points}):
        chosen = [r for r in points if str(r["placement"]) == placement]
        axes.scatter(
            [r[PARAMS_ADDED] for r in chosen],
            [r[objective] for r in chosen],
            label=placement,
        )
        for r in chosen:
            axes.annotate(
                f"r={r['ratio']}", (r[PARAMS_ADDED], r[objective]), fontsize=7
            )
    axes.set_xlabel("parameters added by SE")
    axes.set_ylabel(objective)
    axes.set_title(f"{objective} against SE cost, {len(points)} trials")
    if points:
        axes.legend(title="placement")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()
