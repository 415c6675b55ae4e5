"""What does SE cost on ResNet-50? Parameters, FLOPs, train step and inference.

Three models, timed in one run with their calls interleaved:

1. `ResNet-50`: `keras.applications.ResNet50(weights=None)`;
2. `keras_se wrap`: `keras_se.wrap_with_se(ResNet50(weights=None), ratio=16)`,
   one `SqueezeExcite2D` on each residual branch right before its `Add`;
3. `inline SE`: the same network written the way `keras.applications` writes
   SE (`GlobalAveragePooling2D` -> 1x1 `Conv2D` relu -> 1x1 `Conv2D` sigmoid
   -> `Multiply`), at the same place: the SE-ResNet-50 of the paper.

For each: parameters; FLOPs of one 224x224 image, counted by the TensorFlow
profiler (`tf.compat.v1.profiler`, `float_operation`) on the frozen graph of
the inference function and halved to multiply-adds, the unit of the paper's
"GFLOPs"; the median time of a Keras train step (`model.train_on_batch`,
SGD with momentum) and of an inference call (`model(x, training=False)` in a
`tf.function`), and each as a ratio to plain ResNet-50. Every repeat runs
each (model, step) once, in a shuffled order, so drift hits all alike.

On another backend (`KERAS_BACKEND=jax`) the same models and train step run
compiled by that backend (`jax.jit`: XLA is always on), inference is
`model.predict_on_batch(x)`, and FLOPs are not counted (the count is the
TensorFlow profiler's; it does not depend on the backend).

The SE paper (arXiv 1709.01507, section 4): 25.6M -> 28.1M parameters,
3.86 -> 3.87 GFLOPs, +10% GPU train step, +1.8% CPU inference.

    python benchmarks/se_resnet.py                      # CPU: 128x128, batch 8
    python benchmarks/se_resnet.py --markdown           # for benchmarks/RESULTS.md
    python benchmarks/se_resnet.py --image-size 224 --batch-size 64 \\
        --precision mixed_float16 --xla                 # a GPU
    KERAS_BACKEND=jax python benchmarks/se_resnet.py --flops-size 0
    KERAS_BACKEND=jax python benchmarks/se_resnet.py --image-size 224 \\
        --batch-size 128 --precision mixed_bfloat16 --flops-size 0   # a GPU
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import random
import statistics
import sys
import time
from datetime import date

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
from rich.console import Console
from rich.table import Table

import keras_se
from keras_se.demo.devices import list_gpus

BACKEND = keras.backend.backend()
if BACKEND == "tensorflow":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")

PLAIN, WRAPPED, INLINE = "ResNet-50", "keras_se wrap", "inline SE"
# (name, filters, blocks, stride of the first block): keras.applications' ResNet50.
STAGES = (
    ("conv2", 64, 3, 1),
    ("conv3", 128, 4, 2),
    ("conv4", 256, 6, 2),
    ("conv5", 512, 3, 2),
)


def inline_se(x, ratio: int, name: str):
    """SE as `keras.applications` writes it (EfficientNet, MobileNetV3)."""
    channels = x.shape[-1]
    pool = keras.layers.GlobalAveragePooling2D
    se = pool(keepdims=True, name=f"{name}_se_squeeze")(x)
    se = keras.layers.Conv2D(
        max(1, channels // ratio), 1, activation="relu", name=f"{name}_se_reduce"
    )(se)
    se = keras.layers.Conv2D(
        channels, 1, activation="sigmoid", name=f"{name}_se_expand"
    )(se)
    return keras.layers.Multiply(name=f"{name}_se_excite")([x, se])


def bottleneck(x, filters: int, stride: int, shortcut_conv: bool, name, ratio):
    """`keras.applications.resnet`'s block, SE before the `Add` if `ratio`."""
    bn = dict(axis=-1, epsilon=1.001e-5)
    shortcut = x
    if shortcut_conv:
        shortcut = keras.layers.Conv2D(
            4 * filters, 1, strides=stride, name=f"{name}_0_conv"
        )(x)
        shortcut = keras.layers.BatchNormalization(**bn, name=f"{name}_0_bn")(shortcut)
    x = keras.layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = keras.layers.BatchNormalization(**bn, name=f"{name}_1_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = keras.layers.BatchNormalization(**bn, name=f"{name}_2_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = keras.layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = keras.layers.BatchNormalization(**bn, name=f"{name}_3_bn")(x)
    if ratio:
        x = inline_se(x, ratio, name)
    x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def inline_se_resnet50(image_size: int, classes: int, ratio: int) -> keras.Model:
    """ResNet-50 with `keras.applications`' layers and inline SE blocks."""
    inputs = keras.Input((image_size, image_size, 3))
    x = keras.layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = keras.layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = keras.layers.BatchNormalization(epsilon=1.001e-5, name="conv1_bn")(x)
    x = keras.layers.Activation("relu", name="conv1_relu")(x)
    x = keras.layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for stage, filters, blocks, stride in STAGES:
        for block in range(1, blocks + 1):
            x = bottleneck(
                x,
                filters,
                stride if block == 1 else 1,
                block == 1,
                f"{stage}_block{block}",
                ratio,
            )
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="inline_se_resnet50")


def build_models(image_size: int, classes: int, ratio: int) -> dict[str, keras.Model]:
    shape = (image_size, image_size, 3)
    plain = keras.applications.ResNet50(
        weights=None, input_shape=shape, classes=classes
    )
    wrapped = keras_se.wrap_with_se(plain, ratio=ratio)
    inline = inline_se_resnet50(image_size, classes, ratio)
    return {PLAIN: plain, WRAPPED: wrapped, INLINE: inline}


def count_macs(model: keras.Model, image_size: int) -> float:
    """Multiply-adds of one image: the profiler's float operations / 2."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((1, image_size, image_size, 3), tf.float32)
    function = tf.function(lambda x: model(x, training=False))
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(spec))
    options = tf.compat.v1.profiler.ProfileOptionBuilder(
        tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    ).with_empty_output()
    profile = tf.compat.v1.profiler.profile(
        frozen.graph, cmd="op", options=options.build()
    )
    return profile.total_float_ops / 2


def flops_models(image_size: int, classes: int, ratio: int) -> dict[str, float]:
    """MACs at `image_size` (input shapes fix the count), fresh float32 models."""
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        models = build_models(image_size, classes, ratio)
        return {name: count_macs(model, image_size) for name, model in models.items()}
    finally:
        keras.config.set_dtype_policy(policy)


def make_steps(model: keras.Model, x, y, xla: bool) -> dict:
    """Zero-argument callables that run one step and wait for its result."""
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        # JAX without jit runs op by op: "auto" compiles there.
        jit_compile=xla if BACKEND == "tensorflow" else "auto",
    )

    def train():
        model.train_on_batch(x, y)  # returns NumPy: the step has finished

    if BACKEND != "tensorflow":
        return {"train": train, "inference": lambda: model.predict_on_batch(x)}
    forward = tf.function(lambda x: model(x, training=False), jit_compile=xla)

    def inference():
        forward(x)[0, 0].numpy()

    return {"train": train, "inference": inference}


def measure(models, batch, image_size, classes, xla, repeats, warmup, modes, start):
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(
        rng.standard_normal((batch, image_size, image_size, 3), "float32")
    )
    y = keras.ops.convert_to_tensor(rng.integers(0, classes, batch), "int32")
    tasks = {}
    for name, model in models.items():
        steps = make_steps(model, x, y, xla)
        for mode in modes:
            tasks[(name, mode)] = steps[mode]
    for task in tasks.values():
        for _ in range(warmup):
            task()
    progress(f"warmed up (traced and compiled); {repeats} timed repeats", start)
    times = {key: [] for key in tasks}
    order_rng = random.Random(0)
    keys = list(tasks)
    for _ in range(repeats):
        order_rng.shuffle(keys)
        for key in keys:
            start = time.perf_counter()
            tasks[key]()
            times[key].append((time.perf_counter() - start) * 1e3)
    return times


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    gpus = list_gpus()
    device = f"{len(gpus)} GPU(s): {gpus[0].name}" if gpus else "no GPU"
    backend = f"{BACKEND} {importlib.metadata.version(BACKEND)}"
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {device}; Python "
        f"{platform.python_version()}, Keras {keras.__version__} on {backend}, "
        f"keras_se {keras_se.__version__}; load average "
        f"{os.getloadavg()[0]:.2f}; {date.today().isoformat()}"
    )


def rows(models, macs, times, modes):
    plain_params = models[PLAIN].count_params()
    header = ["model", "params", "vs plain"]
    if macs:
        header += ["GMACs @224", "vs plain"]
    for mode in modes:
        header += [f"{mode} ms", "vs plain", "IQR"]
    table = []
    for name, model in models.items():
        row = [name, f"{model.count_params() / 1e6:.2f}M"]
        row.append(f"{model.count_params() / plain_params:.3f}x")
        if macs:
            row += [f"{macs[name] / 1e9:.3f}", f"{macs[name] / macs[PLAIN]:.4f}x"]
        for mode in modes:
            samples = times[(name, mode)]
            median = statistics.median(samples)
            plain = statistics.median(times[(PLAIN, mode)])
            q1, _, q3 = statistics.quantiles(samples, n=4)
            row += [f"{median:.1f}", f"{median / plain:.3f}x", f"{(q3 - q1):.1f}"]
        table.append(row)
    return header, table


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--ratio", type=int, default=16, help="SE reduction ratio")
    parser.add_argument(
        "--precision",
        choices=("float32", "mixed_float16", "mixed_bfloat16"),
        default="float32",
    )
    parser.add_argument("--xla", action="store_true", help="jit_compile=True")
    parser.add_argument("--repeats", type=int, default=60, help="timed calls each")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls each")
    parser.add_argument(
        "--modes", default="train,inference", help="train and/or inference"
    )
    parser.add_argument("--flops-size", type=int, default=224, help="0: skip FLOPs")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    return parser.parse_args(argv)


def progress(message: str, start: float) -> None:
    print(f"[{time.perf_counter() - start:5.0f} s] {message}", file=sys.stderr)


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    keras.utils.set_random_seed(0)
    macs = {}
    if args.flops_size and BACKEND != "tensorflow":
        progress(f"FLOPs are counted on TensorFlow only: skipped on {BACKEND}", start)
    elif args.flops_size:
        macs = flops_models(args.flops_size, args.classes, args.ratio)
        progress("counted the FLOPs", start)
    keras.config.set_dtype_policy(args.precision)
    models = build_models(args.image_size, args.classes, args.ratio)
    progress("built the models; compiling and timing", start)
    times = measure(
        models,
        args.batch_size,
        args.image_size,
        args.classes,
        args.xla,
        args.repeats,
        args.warmup,
        modes,
        start,
    )
    progress("done", start)
    header, table = rows(models, macs, times, modes)
    xla = "on" if args.xla or BACKEND == "jax" else "off"
    title = (
        f"SE-ResNet-50 vs ResNet-50 on {BACKEND}: {args.image_size}x"
        f"{args.image_size}, batch {args.batch_size}, {args.precision}, XLA {xla}, "
        f"median of {args.repeats} interleaved calls"
    )
    if args.markdown:
        print(f"{title}\n\n{machine()}\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|")
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        rich_table = Table(title=title)
        for index, column in enumerate(header):
            rich_table.add_column(column, justify="left" if index == 0 else "right")
        for row in table:
            rich_table.add_row(*row)
        console = Console()
        if not console.is_terminal:
            console.width = 180
        console.print(machine())
        console.print(rich_table)
    print(
        "\nGMACs: TF profiler float operations of one image / 2. Paper (arXiv "
        "1709.01507): 25.6M -> 28.1M params, 3.86 -> 3.87 GFLOPs, train +10% "
        "(GPU), inference +1.8% (CPU). IQR: interquartile range, ms."
    )


if __name__ == "__main__":
    main()
