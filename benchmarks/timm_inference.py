"""How fast are keras_se's timm networks? CPU inference against timm and plain ResNet.

Keras models, timed in one run with their calls interleaved
(`model.predict_on_batch(x)` on the current backend, or a `tf.function` of
`model(x, training=False)` on TensorFlow):

1. `keras.applications.ResNet50(weights=None)`: the plain baseline;
2. `keras_se.models.ResNet50d`: timm's ResNet-50-D, no attention;
3. `keras_se.models.SEResNet50`, `ECAResNet50d`, `GCResNet50t`.

With `--timm-python PATH`, that interpreter (one with torch and timm) times
timm's `resnet50`, `resnet50d`, `seresnet50`, `ecaresnet50d` and
`gcresnet50t` in `torch.inference_mode()` on the same shapes, with as many
threads, and the table puts them side by side.

    python benchmarks/timm_inference.py --timm-python /path/to/timm-venv/bin/python
    KERAS_BACKEND=torch python benchmarks/timm_inference.py --markdown
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

PAIRS = (
    ("ResNet-50 (keras.applications / timm resnet50)", "ResNet50", "resnet50"),
    ("ResNet-50-D", "ResNet50d", "resnet50d"),
    ("SE-ResNet-50", "SEResNet50", "seresnet50"),
    ("ECA-ResNet-50-D", "ECAResNet50d", "ecaresnet50d"),
    ("GC-ResNet-50-T", "GCResNet50t", "gcresnet50t"),
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--timm-python", help="a Python with torch and timm")
    parser.add_argument("--timm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--markdown", action="store_true")
    return parser.parse_args(argv)


def timm_worker(args) -> None:
    """Times timm's models in this interpreter; prints {name: [ms, ...]}."""
    import random

    import timm
    import torch

    torch.set_num_threads(os.cpu_count())
    x = torch.randn(args.batch_size, 3, args.image_size, args.image_size)
    models = {name: timm.create_model(name).eval() for _, _, name in PAIRS}
    times = {name: [] for name in models}
    with torch.inference_mode():
        for model in models.values():
            for _ in range(args.warmup):
                model(x)
        order = list(models)
        rng = random.Random(0)
        for _ in range(args.repeats):
            rng.shuffle(order)
            for name in order:
                start = time.perf_counter()
                models[name](x)
                times[name].append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"torch": torch.__version__, "timm": timm.__version__, **times}))


def keras_tasks(args):
    import keras
    import numpy as np

    import keras_se

    shape = (args.image_size, args.image_size, 3)
    x = (
        np.random.default_rng(0)
        .normal(size=(args.batch_size, *shape))
        .astype("float32")
    )
    models = {"ResNet50": keras.applications.ResNet50(weights=None, input_shape=shape)}
    for _, builder, _ in PAIRS[1:]:
        models[builder] = keras_se.models.BUILDERS[builder](input_shape=shape)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        def task(model):
            function = tf.function(lambda batch: model(batch, training=False))
            return lambda: function(x).numpy()
    else:

        def task(model):
            return lambda: model.predict_on_batch(x)

    return {name: task(model) for name, model in models.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.timm_worker:
        timm_worker(args)
        return 0
    import common

    start = time.perf_counter()
    timm_times = {}
    if args.timm_python:
        common.progress("timing timm", start)
        worker = [args.timm_python, __file__, "--timm-worker", *sys.argv[1:]]
        done = subprocess.run(worker, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"the timm worker failed:\n{done.stderr[-3000:]}")
        timm_times = json.loads(done.stdout.strip().splitlines()[-1])
    common.progress("building the Keras models", start)
    times = common.time_interleaved(keras_tasks(args), args.repeats, args.warmup)
    baseline = common.median(times["ResNet50"])
    timm_base = common.median(timm_times["resnet50"]) if timm_times else None
    rows = []
    for label, builder, timm_name in PAIRS:
        keras_ms = common.median(times[builder])
        row = [label, f"{keras_ms:.1f} ms ({keras_ms / baseline:.2f}x)"]
        if timm_times:
            timm_ms = common.median(timm_times[timm_name])
            row += [
                f"{timm_ms:.1f} ms ({timm_ms / timm_base:.2f}x)",
                f"{keras_ms / timm_ms:.2f}x",
            ]
        rows.append(row)
    header = ["network", "Keras (x plain ResNet-50)"]
    if timm_times:
        header += [
            f"timm {timm_times['timm']}, torch {timm_times['torch']} (x resnet50)",
            "Keras / timm",
        ]
    title = (
        f"{common.machine()}\nCPU inference, batch {args.batch_size} at "
        f"{args.image_size}x{args.image_size}, median of {args.repeats} "
        "interleaved calls"
    )
    common.print_table(header, rows, title, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
