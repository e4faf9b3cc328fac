import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_seq")
class Perplexity(keras.metrics.Metric):
    """Perplexity: `exp` of the mean cross entropy per real (non-padding) token.

    Accumulates the summed token cross entropy (natural log) and the number of
    tokens over batches, so the result is the corpus perplexity, not a mean of
    per-batch perplexities. Tokens equal to `pad_id` (or with sample weight 0)
    are left out.

    Args:
        from_logits: `y_pred` holds logits (default) rather than probabilities.
        pad_id: Token id to ignore in `y_true`, or None. Default 0.
        name: Metric name. Default `"perplexity"`.

    Call `update_state(y_true, y_pred, sample_weight=None)` with `y_true`
    `(batch, time)` ids and `y_pred` `(batch, time, vocab)`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.metrics import Perplexity
    >>> metric = Perplexity()
    >>> metric.update_state([[1, 2, 0]], np.zeros((1, 3, 4), "float32"))
    >>> round(float(metric.result()), 4)  # uniform over 4 tokens
    4.0
    """

    def __init__(self, from_logits=True, pad_id=0, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.from_logits = bool(from_logits)
        self.pad_id = pad_id
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if len(y_pred.shape) != len(y_true.shape) + 1 or tuple(
            y_pred.shape[:-1]
        ) != tuple(y_true.shape):
            raise ValueError(
                "Perplexity expects `y_true` of shape (batch, time) and `y_pred` "
                f"of shape (batch, time, vocab), got {tuple(y_true.shape)} and "
                f"{tuple(y_pred.shape)}."
            )
        entropy = keras.losses.sparse_categorical_crossentropy(
            ops.cast(y_true, "int32"), ops.cast(y_pred, "float32"), self.from_logits
        )
        weight = ops.ones_like(entropy)
        if self.pad_id is not None:
            weight = weight * ops.cast(ops.not_equal(y_true, self.pad_id), "float32")
        if sample_weight is not None:
            weight = weight * ops.cast(sample_weight, "float32")
        self.total.assign_add(ops.sum(entropy * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "pad_id": self.pad_id})
        return config
