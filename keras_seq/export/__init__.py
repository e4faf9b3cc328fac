"""SavedModel export with string-in / string-out signatures (TF Serving), and
ONNX / LiteRT export checked in their runtimes (`export_model`)."""

from keras_seq.export.portable import (
    ExportedModel,
    ExportError,
    export_model,
    exportable,
)
from keras_seq.export.saved_model import (
    TENSORFLOW_TEXT_2_12_OPS,
    disable_xla,
    export_sequence_tagger,
    export_text_classifier,
    export_text_generator,
    graph_ops,
    non_core_ops,
    write_text_signature,
    write_text_signatures,
    xla_functions,
)
from keras_seq.export.seq2seq import export_seq2seq, export_seq2seq_steps

__all__ = [
    "TENSORFLOW_TEXT_2_12_OPS",
    "ExportError",
    "ExportedModel",
    "disable_xla",
    "export_model",
    "export_seq2seq",
    "export_seq2seq_steps",
    "export_sequence_tagger",
    "export_text_classifier",
    "export_text_generator",
    "exportable",
    "graph_ops",
    "non_core_ops",
    "write_text_signature",
    "write_text_signatures",
    "xla_functions",
]
