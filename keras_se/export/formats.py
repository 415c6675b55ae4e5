"""The export formats by name, and the arguments that pick and tune them."""

from __future__ import annotations

from keras_se._validation import check_choice
from keras_se.export.base import ExportFormat
from keras_se.export.litert import LiteRTFormat
from keras_se.export.onnx import ONNXFormat
from keras_se.export.saved_model import SavedModelFormat

FORMATS: dict[str, ExportFormat] = {
    fmt.name: fmt for fmt in (SavedModelFormat(), LiteRTFormat(), ONNXFormat())
}
EXPORT_FORMATS = tuple(FORMATS)
# The quantizations each format offers; ONNX int8 is onnxruntime's static
# quantization (QDQ), calibrated on the same representative data.
FORMAT_QUANTIZATIONS = {name: fmt.quantizations for name, fmt in FORMATS.items()}
QUANTIZATIONS = tuple(
    dict.fromkeys(q for fmt in FORMATS.values() for q in fmt.quantizations)
)
IO_DTYPES = ("float32", "int8")


def get_format(format: str) -> ExportFormat:
    """The `ExportFormat` named `format`; a ValueError listing them otherwise."""
    check_choice("format", format, EXPORT_FORMATS)
    return FORMATS[format]


def check_quantize(format, quantize, representative_data, io_dtype) -> None:
    """Refuses a quantization the format lacks, or int8 without calibration data."""
    check_choice("io_dtype", io_dtype, IO_DTYPES)
    if quantize is not None:
        check_choice("quantize", quantize, QUANTIZATIONS)
        if not FORMAT_QUANTIZATIONS[format]:
            raise ValueError(
                "`quantize` applies to the 'tflite' format only ('int8' to "
                f"'onnx' too). Received: format={format!r}, quantize={quantize!r}"
            )
        if quantize not in FORMAT_QUANTIZATIONS[format]:
            raise ValueError(
                f"`quantize` must be one of {FORMAT_QUANTIZATIONS[format]} for "
                f"the {format!r} format. Received: quantize={quantize!r}"
            )
    if (quantize == "int8") != (representative_data is not None):
        raise ValueError(
            "`representative_data` (calibration inputs) is needed for, and "
            'only for, quantize="int8". Received: '
            f"quantize={quantize!r}, representative_data="
            f"{type(representative_data).__name__}"
        )
    if io_dtype == "int8" and (format, quantize) != ("tflite", "int8"):
        raise ValueError(
            '`io_dtype="int8"` needs format="tflite" and quantize="int8". '
            f"Received: format={format!r}, quantize={quantize!r}"
        )
