"""What does each attention of the family cost, alone and in ResNet-50?

One run, every attention in `keras_se.layers.ATTENTIONS` (SE, GC, GE, CBAM,
ECA, eSE), each with its default arguments:

1. The layer alone, forward: the median time of `layer(x)` at the four stage
   shapes of ResNet-50 (`image_size / 4 ... / 32` with 256-2048 channels) as
   a multiple of one broadcast multiply `x * scale` of the same tensor (the
   memory floor: a read and a write), the multiply compiled the same way. On
   TensorFlow a graph (`tf.function`) and XLA (`jit_compile=True`); on JAX
   `jax.jit` (XLA).
2. Parameters added to `keras.applications.ResNet50(weights=None)` by
   `keras_se.wrap_with_se(model, attention=name)` (one block per residual
   unit, before its `Add`; the identity start).
3. The median train step (`model.train_on_batch`, SGD with momentum) and
   inference call (`tf.function` of `model(x, training=False)` on TensorFlow,
   `predict_on_batch` on JAX) of each wrapped network and plain ResNet-50, as
   a ratio to the plain network.

Calls are interleaved, in a shuffled order per repeat, so drift hits all
candidates alike. For reference: timm's train-step overheads (H100, PyTorch
eager, bf16, batch 128, 224x224): seresnet50 1.43x and ecaresnet50d 1.35x
over resnet50(d); seresnext26ts 1.12x, eca_resnext26ts 1.08x, gcresnext26ts
1.31x over resnext26ts.

    python benchmarks/attention_overhead.py              # CPU: 112x112, batch 8
    python benchmarks/attention_overhead.py --markdown   # for RESULTS.md
    KERAS_BACKEND=jax python benchmarks/attention_overhead.py
    python benchmarks/attention_overhead.py --image-size 224 --batch-size 128 \\
        --precision mixed_bfloat16 --xla --repeats 50    # a GPU
"""

from __future__ import annotations

import argparse
import functools
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
from common import iqr, machine, median, print_table, progress, time_interleaved

import keras_se

BACKEND = keras.backend.backend()
if BACKEND == "tensorflow":
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
elif BACKEND == "jax":
    import jax

PLAIN = "ResNet-50"
MULTIPLY = "multiply"
# keras.applications' ResNet50: (stride of the stage's output, channels).
STAGES = ((4, 256), (8, 512), (16, 1024), (32, 2048))
# timm's train-step ratio over the same network without attention.
TIMM_TRAIN = {
    "se": "1.43 (R50), 1.12 (RX26ts)",
    "eca": "1.35 (R50d), 1.08 (RX26ts)",
    "gc": "1.31 (RX26ts)",
}


def compile_modes(layer_xla: bool) -> tuple[str, ...]:
    if BACKEND == "jax":
        return ("XLA",)
    return ("graph", "XLA") if layer_xla else ("graph",)


def compiled(function, mode: str):
    """`function(x)` compiled for `mode`, as a call that waits for its result."""
    if BACKEND == "jax":
        jitted = jax.jit(function)
        return lambda x: jitted(x).block_until_ready()

    def with_probe(x):
        # The whole output stays a result, so nothing can be dropped;
        # fetching one element of it waits for it at no cost.
        y = function(x)
        return y, y[0, 0, 0, 0]

    traced = tf.function(with_probe, jit_compile=mode == "XLA")
    return lambda x: traced(x)[1].numpy()


def layer_function(name: str, shape: tuple[int, ...]):
    layer = keras_se.layers.get_attention(name, data_format="channels_last")
    layer.build(shape)
    if BACKEND != "jax":
        return lambda x: layer(x, training=False)
    trainable = [v.value for v in layer.trainable_variables]
    other = [v.value for v in layer.non_trainable_variables]
    return lambda x: layer.stateless_call(trainable, other, x)[0]


def stage_shapes(batch: int, image_size: int) -> list[tuple[int, int, int, int]]:
    return [
        (batch, -(-image_size // stride), -(-image_size // stride), channels)
        for stride, channels in STAGES
    ]


def measure_layers(args, names, start):
    """{(shape, mode, candidate): times}: every candidate of one shape interleaved."""
    dtype = keras.config.dtype_policy().compute_dtype
    rng = np.random.default_rng(1)
    times = {}
    for shape in stage_shapes(args.batch_size, args.image_size):
        x = keras.ops.convert_to_tensor(rng.standard_normal(shape), dtype)
        scale = keras.ops.convert_to_tensor(
            rng.random((shape[0], 1, 1, shape[3])), dtype
        )
        tasks = {}
        for mode in compile_modes(not args.no_layer_xla):
            multiply = compiled(lambda x, scale=scale: x * scale, mode)
            tasks[(mode, MULTIPLY)] = functools.partial(multiply, x)
            for name in names:
                forward = compiled(layer_function(name, shape), mode)
                tasks[(mode, name)] = functools.partial(forward, x)
        measured = time_interleaved(tasks, args.layer_repeats, args.warmup)
        for (mode, name), samples in measured.items():
            times[(shape, mode, name)] = samples
        progress(f"timed the layers at {'x'.join(map(str, shape))}", start)
    return times


def layer_rows(args, names, times):
    shapes = stage_shapes(args.batch_size, args.image_size)
    modes = compile_modes(not args.no_layer_xla)
    header = ["layer"] + [
        f"{'x'.join(map(str, shape[1:]))} {mode}" for shape in shapes for mode in modes
    ]
    rows = [
        [f"{MULTIPLY} (ms)"]
        + [
            f"{median(times[(shape, mode, MULTIPLY)]):.2f}"
            for shape in shapes
            for mode in modes
        ]
    ]
    for name in names:
        row = [name]
        for shape in shapes:
            for mode in modes:
                base = median(times[(shape, mode, MULTIPLY)])
                row.append(f"{median(times[(shape, mode, name)]) / base:.2f}x")
        rows.append(row)
    return header, rows


def build_networks(args, names) -> dict[str, keras.Model]:
    plain = keras.applications.ResNet50(
        weights=None,
        input_shape=(args.image_size, args.image_size, 3),
        classes=args.classes,
    )
    models = {PLAIN: plain}
    for name in names:
        models[name] = keras_se.wrap_with_se(plain, attention=name)
    return models


def network_tasks(model: keras.Model, x, y, xla: bool) -> dict:
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
    return {"train": train, "inference": lambda: forward(x)[0, 0].numpy()}


def measure_networks(args, models, modes, start):
    rng = np.random.default_rng(0)
    size = args.image_size
    x = keras.ops.convert_to_tensor(
        rng.standard_normal((args.batch_size, size, size, 3)), "float32"
    )
    y = keras.ops.convert_to_tensor(rng.integers(0, args.classes, args.batch_size))
    tasks = {}
    for name, model in models.items():
        steps = network_tasks(model, x, y, args.xla)
        for mode in modes:
            tasks[(name, mode)] = steps[mode]
    progress(f"compiling and timing {len(tasks)} steps", start)
    return time_interleaved(tasks, args.repeats, args.warmup)


def network_rows(models, modes, times):
    plain_params = models[PLAIN].count_params()
    header = ["model", "params", "added"]
    for mode in modes:
        header += [f"{mode} ms", "vs plain", "IQR"]
    header.append("timm train")
    rows = []
    for name, model in models.items():
        params = model.count_params()
        row = [name, f"{params / 1e6:.2f}M", f"{params - plain_params:+,}"]
        for mode in modes:
            samples = times[(name, mode)]
            plain = median(times[(PLAIN, mode)])
            row += [
                f"{median(samples):.1f}",
                f"{median(samples) / plain:.3f}x",
                f"{iqr(samples):.1f}",
            ]
        row.append(TIMM_TRAIN.get(name, ""))
        rows.append(row)
    return header, rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument(
        "--attentions",
        default=",".join(keras_se.layers.ATTENTIONS),
        help="comma-separated names from keras_se.layers.ATTENTIONS",
    )
    parser.add_argument(
        "--precision",
        choices=("float32", "mixed_float16", "mixed_bfloat16"),
        default="float32",
    )
    parser.add_argument(
        "--xla",
        action="store_true",
        help="TensorFlow: compile the networks with XLA (JAX always does)",
    )
    parser.add_argument(
        "--no-layer-xla", action="store_true", help="TensorFlow: layers in graph only"
    )
    parser.add_argument("--layer-repeats", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=25, help="network steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls each")
    parser.add_argument("--modes", default="train,inference")
    parser.add_argument("--skip-layers", action="store_true")
    parser.add_argument("--skip-networks", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = parser.parse_args(argv)
    if BACKEND not in ("tensorflow", "jax"):
        parser.error(f"runs on tensorflow or jax. Received: KERAS_BACKEND={BACKEND}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    names = [name.strip() for name in args.attentions.split(",") if name.strip()]
    for name in names:
        keras_se.layers.get_attention(name)  # an unknown name fails here
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy(args.precision)
    sizes = (
        f"{args.image_size}x{args.image_size}, batch {args.batch_size}, "
        f"{args.precision}"
    )
    print(machine(), end="\n\n")
    if not args.skip_layers:
        times = measure_layers(args, names, start)
        header, rows = layer_rows(args, names, times)
        title = (
            f"Attention forward / one broadcast multiply compiled the same way, "
            f"ResNet-50 stage shapes at {sizes}, {BACKEND}, median of "
            f"{args.layer_repeats} interleaved calls"
        )
        print_table(header, rows, title, args.markdown)
    if not args.skip_networks:
        modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
        models = build_networks(args, names)
        progress("built the networks", start)
        times = measure_networks(args, models, modes, start)
        header, rows = network_rows(models, modes, times)
        xla = "on" if args.xla or BACKEND == "jax" else "off"
        title = (
            f"ResNet-50 with each attention (wrap_with_se) vs plain, {BACKEND}, "
            f"{sizes}, XLA {xla}, median of {args.repeats} interleaved calls; "
            "IQR in ms"
        )
        print_table(header, rows, title, args.markdown)
    progress("done", start)


if __name__ == "__main__":
    main()
