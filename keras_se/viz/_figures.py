"""What the plots share: the class labels on them, and writing them as PNGs.

A PNG is `figsize * dpi` pixels: no tight bounding box trims it, and it is
written atomically (`keras_se.saving.atomic`).
"""

from __future__ import annotations

import io
from pathlib import Path

from keras_se.saving.atomic import write_bytes_atomically


def save_png(fig, path, dpi) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return write_bytes_atomically(path, buffer.getvalue())


def class_label(index, class_names) -> str:
    index = int(index)
    if class_names is not None and 0 <= index < len(class_names):
        return str(class_names[index])
    return str(index)
