"""SavedModel: `model.export`, reloaded with `tf.saved_model.load`."""

from __future__ import annotations

from pathlib import Path

from keras_se._optional import import_optional
from keras_se.export.base import ExportFormat, flatten_outputs, packed


class SavedModelFormat(ExportFormat):
    """A folder that `tf.saved_model.load` and `keras.layers.TFSMLayer` reload."""

    name = "saved_model"
    label = "SavedModel"
    suffix = ""
    quantizations = ()

    def check_target(self, path: Path) -> Path:
        if path.exists() and not (path / "saved_model.pb").exists():
            raise ValueError(
                f"{path} exists and is not a SavedModel folder: it is left "
                "alone. Choose another `path`."
            )
        return path

    def write(self, model, staging, quantize, representative, io_dtype, names):
        model.export(str(staging), format="tf_saved_model", verbose=False)
        return None

    def run(self, staging, inputs, names):
        tf = import_optional("tensorflow", "SavedModel export")

        reloaded = tf.saved_model.load(str(staging))
        return flatten_outputs(reloaded.serve(packed(inputs)))
