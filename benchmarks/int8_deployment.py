"""What does each TFLite quantization cost in size, CPU latency and accuracy?

The digits SE CNN and the same CNN without SE (`keras_se.demo.model`,
trained on the digits' train split) are exported with `keras_se.export_model`
four ways: float32, float16 weights, dynamic range (int8 weights, float
activations) and full integer (int8 weights and activations, calibrated on
256 training images). For each: the file size, the TFLite interpreter's
latency at batch 1 (one thread, all variants interleaved, median of
`--repeats` calls), the top-1 accuracy on the held-out test split, its
agreement with the Keras model's predictions, and the ops still in float.

Run it from the repository root with the TensorFlow backend:

    python benchmarks/int8_deployment.py
    python benchmarks/int8_deployment.py --epochs 12 --repeats 2000 --markdown
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import common
import keras
import numpy as np

import keras_se
from keras_se.demo.data import load_digits
from keras_se.demo.model import build_digits_cnn
from keras_se.export import litert

VARIANTS = {"float32": None, "float16": "float16", "dynamic": "dynamic", "int8": "int8"}


def train(se: bool, data, epochs: int) -> keras.Model:
    (train_split, _) = data
    keras.utils.set_random_seed(0)
    model = build_digits_cnn(se=se)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(train_split.x, train_split.y, epochs=epochs, batch_size=32, verbose=0)
    return model


def export_all(model, data, folder: Path) -> dict:
    train_split, test_split = data
    results = {}
    for variant, quantize in VARIANTS.items():
        extra = {}
        if quantize == "int8":
            extra["representative_data"] = train_split.x[:256]
        results[variant] = keras_se.export_model(
            model,
            folder / f"{model.name}_{variant}.tflite",
            "tflite",
            quantize=quantize,
            validation_data=(test_split.x, test_split.y),
            # Measured here, not judged.
            accuracy_tolerance=100.0,
            **extra,
        )
    return results


def invoker(path: Path, sample: np.ndarray):
    """One batch-1 call of the interpreter, on one thread."""
    content = path.read_bytes()
    interpreter = type(litert.interpreter(content))(
        model_content=content, num_threads=1
    )
    interpreter.allocate_tensors()
    (detail,) = interpreter.get_input_details()
    interpreter.set_tensor(detail["index"], sample.astype(detail["dtype"]))
    return interpreter.invoke


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    data = load_digits()
    sample = data[1].x[:1]
    rows, tasks, results = [], {}, {}
    with tempfile.TemporaryDirectory() as folder:
        for se in (True, False):
            model = train(se, data, args.epochs)
            common.progress(f"trained {model.name}", start)
            for variant, result in export_all(model, data, Path(folder)).items():
                results[model.name, variant] = result
                tasks[model.name, variant] = invoker(result.path, sample)
            common.progress(f"exported {model.name}", start)
        times = common.time_interleaved(tasks, args.repeats, args.warmup)
        for (name, variant), result in results.items():
            check = result.accuracy
            float_ops = sorted(set(result.float_ops or ()))
            rows.append(
                [
                    f"{name}, {variant}",
                    f"{result.path.stat().st_size / 1024:.1f}",
                    f"{1e3 * common.median(times[name, variant]):.1f}",
                    f"{100 * check.float_accuracy:.2f}",
                    f"{100 * check.accuracy:.2f}",
                    f"{100 * check.agreement:.2f}",
                    "none" if not float_ops else f"{len(float_ops)} kinds",
                ]
            )
    header = [
        "model, TFLite",
        "size (KiB)",
        "latency (µs)",
        "Keras top-1 (%)",
        "TFLite top-1 (%)",
        "agrees with Keras (%)",
        "float ops",
    ]
    common.print_table(
        header,
        rows,
        f"TFLite quantizations, batch 1, one thread, median of {args.repeats} "
        f"calls; digits test split ({check.samples} images), {args.epochs} "
        f"epochs. {common.machine()}",
        args.markdown,
    )


if __name__ == "__main__":
    main()
