"""SavedModel export with string-in / string-out signatures (TF Serving)."""

from keras_seq.export.saved_model import (
    disable_xla,
    export_sequence_tagger,
    export_text_classifier,
    export_text_generator,
    graph_ops,
    non_core_ops,
    xla_functions,
)

__all__ = [
    "disable_xla",
    "export_sequence_tagger",
    "export_text_classifier",
    "export_text_generator",
    "graph_ops",
    "non_core_ops",
    "xla_functions",
]
