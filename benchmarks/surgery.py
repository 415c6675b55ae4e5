"""How long does `wrap_with_se` take, and how much memory, next to `clone_model`?

`wrap_with_se` is built on `keras.models.clone_model`: it reads the model's
graph, clones it with SE blocks inserted and copies the original weights. This
script times it on large `keras.applications` models (`weights=None`) against
plain `keras.models.clone_model` on the same model (new layers, fresh weights)
and against `clone_model` followed by copying the weights, the fair baseline
for a rewrite that keeps the weights. Repeats are interleaved; medians are
reported. Peak memory is the rise of the process's resident-set high-water
mark during one call, measured in a fresh subprocess per candidate (Linux).

    python benchmarks/surgery.py
    python benchmarks/surgery.py --models ResNet50 --repeats 3
    python benchmarks/surgery.py --markdown   # for benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CANDIDATES = ("clone_model", "clone_model + weights", "wrap_with_se")


def build(name: str, size: int):
    import keras

    factory = getattr(keras.applications, name)
    return factory(weights=None, input_shape=(size, size, 3))


def run(candidate: str, model):
    import keras

    import keras_se

    if candidate == "clone_model":
        return keras.models.clone_model(model)
    if candidate == "clone_model + weights":
        clone = keras.models.clone_model(model)
        clone.set_weights(model.get_weights())
        return clone
    # EfficientNets already have SE in every unit: stack anyway, so that the
    # wrap really inserts blocks (55 in EfficientNetB7).
    return keras_se.wrap_with_se(model, ratio=16, skip_existing_se=False)


def time_candidates(name: str, size: int, repeats: int) -> dict[str, list[float]]:
    import gc

    model = build(name, size)
    times = {candidate: [] for candidate in CANDIDATES}
    for _ in range(repeats):
        for candidate in CANDIDATES:
            gc.collect()
            start = time.perf_counter()
            result = run(candidate, model)
            times[candidate].append(time.perf_counter() - start)
            del result
    return times


def peak_memory_child(name: str, size: int, candidate: str) -> None:
    """In a subprocess: prints the high-water-mark rise (MiB) of one call."""
    import gc

    model = build(name, size)
    gc.collect()
    base = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS
    run(candidate, model)
    print(json.dumps({"peak_mib": (_status_kib("VmHWM") - base) / 1024}))


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_memory(name: str, size: int, candidate: str) -> float | None:
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import surgery; "
        f"surgery.peak_memory_child({name!r}, {size}, {candidate!r})"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])["peak_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="EfficientNetB7,ResNet152")
    parser.add_argument("--size", type=int, default=224, help="input height/width")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    import keras_se

    rows = []
    for name in args.models.split(","):
        times = time_candidates(name, args.size, args.repeats)
        medians = {c: statistics.median(t) for c, t in times.items()}
        memory = {c: peak_memory(name, args.size, c) for c in CANDIDATES}
        model = build(name, args.size)
        blocks = len(keras_se.describe(run("wrap_with_se", model)))
        rows.append((name, f"{len(model.layers)} / {blocks}", medians, memory))

    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}; median of "
        f"{args.repeats} interleaved calls, input {args.size}x{args.size}x3\n"
    )
    header = [
        "model", "layers / SE blocks", "clone_model", "clone_model + weights",
        "wrap_with_se",
        "wrap / clone_model", "wrap / clone + weights",
        "peak MiB clone / clone + weights / wrap",
    ]  # fmt: skip
    lines = [header]
    for name, counts, medians, memory in rows:
        wrap = medians["wrap_with_se"]
        lines.append(
            [
                name,
                counts,
                *(f"{medians[c]:.2f} s" for c in CANDIDATES),
                f"{wrap / medians['clone_model']:.2f}x",
                f"{wrap / medians['clone_model + weights']:.2f}x",
                " / ".join(
                    "n/a" if memory[c] is None else f"{memory[c]:.0f}"
                    for c in CANDIDATES
                ),
            ]
        )
    if args.markdown:
        print("| " + " | ".join(lines[0]) + " |")
        print("|" + "---|" * len(lines[0]))
        for line in lines[1:]:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        for line in lines:
            print("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
