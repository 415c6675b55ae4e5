"""How expensive is a `SqueezeExcite2D` forward pass next to the memory floor?

A Squeeze-and-Excitation block reads its input twice (once to average each
channel, once to rescale it) and writes it once. One elementwise multiply of
the same tensor by a per-channel vector reads it once and writes it once, so
on a memory-bound machine SE cannot cost less than about 1.5x that multiply.
This script times, per feature-map shape:

1. the baseline: `x * scale` with `scale` of shape `(batch, 1, 1, channels)`,
   in `tf.function`;
2. `keras_se.SqueezeExcite2D(ratio)` in `tf.function`;
3. the same with `tf.function(jit_compile=True)` (XLA);
4. the inline SE that `keras.applications` builds (`GlobalAveragePooling2D`
   -> 1x1 `Conv2D` relu -> 1x1 `Conv2D` sigmoid -> `Multiply`) as a small
   functional model, in `tf.function` and with XLA;
5. for reference, the baseline multiply with XLA: the floor that the XLA
   variants really compete with.

Every candidate runs once per repeat, in a shuffled order, so machine drift
hits them all alike; each result is the median wall time of a call, which
includes the fixed cost of calling a `tf.function`. The table gives each
SE variant's time as a multiple of the baseline. Targets: `keras_se` at most
1.5x without XLA, at most 1.2x with XLA, and faster than the inline block.

Run it from the repository root with the TensorFlow backend:

    python benchmarks/layer_overhead.py
    python benchmarks/layer_overhead.py --shapes 8x14x14x1024 --repeats 50
    python benchmarks/layer_overhead.py --markdown   # for benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.table import Table

import keras_se

# Each candidate is its own `tf.function`, traced once; TensorFlow's retracing
# warning counts them together and would only add noise to the output.
tf.get_logger().setLevel("ERROR")

DEFAULT_SHAPES = "8x56x56x256,8x28x28x512,8x14x14x1024"
BASELINE = "multiply"
MEMORY_LIMIT = 1.5
TARGETS = {"keras_se": MEMORY_LIMIT, "keras_se XLA": 1.2}

Shape = tuple[int, int, int, int]
Forward = Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


@dataclass
class ShapeResult:
    shape: Shape
    times_ms: dict[str, list[float]]

    def median_ms(self, name: str) -> float:
        return statistics.median(self.times_ms[name])

    def ratio(self, name: str) -> float:
        return self.median_ms(name) / self.median_ms(BASELINE)

    def spread(self) -> float:
        """The largest interquartile range over all candidates, as a fraction
        of that candidate's median: a rough measure of timing noise."""
        spreads = []
        for times in self.times_ms.values():
            quartiles = statistics.quantiles(times, n=4)
            spreads.append((quartiles[2] - quartiles[0]) / statistics.median(times))
        return max(spreads)


def parse_shapes(text: str) -> tuple[Shape, ...]:
    shapes = []
    for item in text.split(","):
        dims = tuple(int(dim) for dim in item.strip().lower().split("x"))
        if len(dims) != 4:
            raise argparse.ArgumentTypeError(
                f"Each shape must be BxHxWxC, e.g. 8x56x56x256. Received: {item!r}"
            )
        shapes.append(dims)
    return tuple(shapes)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Time SqueezeExcite2D against one broadcast multiply, the "
            "memory-traffic floor."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--shapes",
        type=parse_shapes,
        default=DEFAULT_SHAPES,
        help="comma-separated BxHxWxC shapes",
    )
    parser.add_argument("--repeats", type=int, default=3000, help="timed calls each")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls each")
    parser.add_argument("--ratio", type=int, default=16, help="SE reduction ratio")
    parser.add_argument(
        "--no-xla", action="store_true", help="skip the jit_compile=True variants"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print a Markdown table instead"
    )
    return parser.parse_args(argv)


def with_probe(forward: Callable[[tf.Tensor], tf.Tensor]) -> Forward:
    """Returns `forward`'s output together with one of its elements.

    The output stays a function result, so neither TensorFlow nor XLA can
    drop any of the work, and fetching the one-element probe with `.numpy()`
    waits for it at negligible cost.
    """

    def forward_and_probe(x):
        y = forward(x)
        return y, y[0, 0, 0, 0]

    return forward_and_probe


def multiply_forward(shape: Shape, jit_compile: bool) -> Forward:
    scale = tf.constant(
        np.random.default_rng(0).random((shape[0], 1, 1, shape[3]), np.float32)
    )
    return tf.function(with_probe(lambda x: x * scale), jit_compile=jit_compile)


def keras_se_forward(shape: Shape, ratio: int, jit_compile: bool) -> Forward:
    layer = keras_se.SqueezeExcite2D(ratio=ratio, data_format="channels_last")
    layer.build(shape)
    return tf.function(
        with_probe(lambda x: layer(x, training=False)), jit_compile=jit_compile
    )


def inline_se_model(shape: Shape, ratio: int) -> keras.Model:
    """The SE block as `keras.applications` (EfficientNet, MobileNetV3) writes it."""
    channels = shape[3]
    inputs = keras.Input(shape=shape[1:])
    x = keras.layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    x = keras.layers.Conv2D(max(1, channels // ratio), 1, activation="relu")(x)
    x = keras.layers.Conv2D(channels, 1, activation="sigmoid")(x)
    outputs = keras.layers.Multiply()([inputs, x])
    return keras.Model(inputs, outputs, name="inline_se")


def inline_se_forward(model: keras.Model, jit_compile: bool) -> Forward:
    return tf.function(
        with_probe(lambda x: model(x, training=False)), jit_compile=jit_compile
    )


def build_candidates(shape: Shape, ratio: int, xla: bool) -> dict[str, Forward]:
    inline_model = inline_se_model(shape, ratio)
    candidates = {
        BASELINE: multiply_forward(shape, jit_compile=False),
        "keras_se": keras_se_forward(shape, ratio, jit_compile=False),
        "inline": inline_se_forward(inline_model, jit_compile=False),
    }
    if xla:
        candidates["multiply XLA"] = multiply_forward(shape, jit_compile=True)
        candidates["keras_se XLA"] = keras_se_forward(shape, ratio, jit_compile=True)
        candidates["inline XLA"] = inline_se_forward(inline_model, jit_compile=True)
    return candidates


def time_call_ms(forward: Forward, x: tf.Tensor) -> float:
    start = time.perf_counter()
    _, probe = forward(x)
    probe.numpy()
    return (time.perf_counter() - start) * 1e3


def measure_shape(
    shape: Shape, ratio: int, xla: bool, repeats: int, warmup: int
) -> ShapeResult:
    x = tf.constant(np.random.default_rng(1).standard_normal(shape, np.float32))
    candidates = build_candidates(shape, ratio, xla)
    names = list(candidates)
    for name in names:
        for _ in range(warmup):
            time_call_ms(candidates[name], x)
    times_ms: dict[str, list[float]] = {name: [] for name in names}
    order_rng = random.Random(0)
    for _ in range(repeats):
        # Every candidate runs once per repeat, in a fresh random order: drift
        # hits all alike, and none always follows the same predecessor (whose
        # leftovers in the cache would otherwise bias it by a few percent).
        order = names.copy()
        order_rng.shuffle(order)
        for name in order:
            times_ms[name].append(time_call_ms(candidates[name], x))
    return ShapeResult(shape, times_ms)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_description() -> str:
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, TensorFlow {tf.__version__}, "
        f"Keras {keras.__version__}, keras_se {keras_se.__version__}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def format_shape(shape: Shape) -> str:
    return "x".join(str(dim) for dim in shape)


def format_variant(result: ShapeResult, name: str) -> str:
    return f"{result.median_ms(name):.2f} ms ({result.ratio(name):.2f}x)"


def table_rows(
    results: list[ShapeResult], se_names: list[str]
) -> tuple[list[str], list[list[str]]]:
    header = ["shape", f"{BASELINE} (1x)", *se_names, "spread"]
    rows = [
        [
            format_shape(result.shape),
            f"{result.median_ms(BASELINE):.2f} ms",
            *(format_variant(result, name) for name in se_names),
            f"{result.spread():.0%}",
        ]
        for result in results
    ]
    return header, rows


def print_markdown(header: list[str], rows: list[list[str]], title: str) -> None:
    print(f"{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def print_rich(header: list[str], rows: list[list[str]], title: str) -> None:
    table = Table()
    table.add_column(header[0], no_wrap=True)
    for column in header[1:]:
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console = Console()
    if not console.is_terminal:
        console.width = 160
    console.print(title)
    console.print(table)


def footnote(args: argparse.Namespace) -> str:
    targets = ", ".join(f"{name} <= {limit}x" for name, limit in TARGETS.items())
    return (
        f"Median of {args.repeats} interleaved calls each, float32, channels_last, "
        f"ratio={args.ratio}. (Nx) is the multiple of the baseline multiply; "
        f"{MEMORY_LIMIT}x is the memory-traffic limit for SE. Targets: {targets}, "
        "and keras_se below inline. spread is the largest interquartile range "
        "over the candidates, relative to their median."
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    machine = machine_description()
    results = [
        measure_shape(shape, args.ratio, not args.no_xla, args.repeats, args.warmup)
        for shape in args.shapes
    ]
    se_names = [name for name in results[0].times_ms if name != BASELINE]
    header, rows = table_rows(results, se_names)
    title = "SqueezeExcite2D forward vs one broadcast multiply"
    if args.markdown:
        print_markdown(header, rows, f"{title}\n\n{machine}")
    else:
        print_rich(header, rows, f"{title}\n{machine}")
    print(f"\n{footnote(args)}")


if __name__ == "__main__":
    main()
