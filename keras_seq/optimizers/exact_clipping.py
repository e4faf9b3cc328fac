"""Gradient clipping by norm that clips the whole batch's gradient, as TF does."""

import keras


def with_exact_clipping(optimizer):
    """Makes `optimizer`'s `clipnorm` / `global_clipnorm` clip the true gradient.

    `clipnorm=c` should scale each variable's gradient `g` by
    `min(1, c / ||g||)` (`tf.clip_by_norm`), and `global_clipnorm=c` every
    gradient by `min(1, c / sqrt(sum ||g||^2))` (`tf.clip_by_global_norm`),
    where `g` is the gradient of the loss of the whole batch. Keras 3.15
    departs from that in two places, both on the TensorFlow backend, and
    this fixes both:

    - Text models: an `Embedding`'s gradient comes as `tf.IndexedSlices`,
      one row per occurrence of a token, and Keras takes the norm of those
      rows rather than of their sums: a token that occurs twice in the
      batch is counted as two rows. Every batch of text repeats tokens, so
      the norm, and the clipped update, are wrong (docs/optimizers.md
      measures one step). Here the gradients are made dense first; the
      update itself is the same either way.
    - `tf.distribute` strategies: Keras clips each replica's share of the
      gradient by itself, before the shares are summed, so two replicas
      clip differently from one device fed the same global batch. Here
      each replica sums the shares (an all-reduce), takes the norms of that
      sum, and scales its own share by the factor the sum needs.

    On the other backends gradients are dense and whole, and Keras's own
    clipping runs. `clipvalue` is left to Keras.

    The change lives on this optimizer object only: an optimizer rebuilt
    from its config (`keras.models.load_model` of a compiled model) clips
    as Keras does until it is passed here again.

    Args:
        optimizer: A `keras.optimizers.Optimizer` with `clipnorm` or
            `global_clipnorm` set, or a `keras.optimizers.LossScaleOptimizer`
            whose inner optimizer has one.

    Returns:
        `optimizer` itself, changed.

    Example:

    >>> import keras
    >>> from keras_seq.optimizers import with_exact_clipping
    >>> optimizer = with_exact_clipping(
    ...     keras.optimizers.Adam(1e-3, global_clipnorm=1.0)
    ... )
    >>> optimizer.global_clipnorm
    1.0
    """
    target = optimizer
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        target = optimizer.inner_optimizer
    if not isinstance(target, keras.optimizers.Optimizer):
        raise TypeError(
            "Received an invalid value for argument `optimizer`, expected a "
            f"keras.optimizers.Optimizer, got {type(optimizer).__name__}."
        )
    if not (target.clipnorm or target.global_clipnorm):
        raise ValueError(
            "Received an invalid value for argument `optimizer`, expected an "
            "optimizer with `clipnorm` or `global_clipnorm` set, got "
            f"{type(target).__name__} with clipnorm={target.clipnorm} and "
            f"global_clipnorm={target.global_clipnorm}."
        )
    keras_clip = target._clip_gradients

    def clip(grads):
        if keras.backend.backend() != "tensorflow":
            return keras_clip(grads)
        import tensorflow as tf

        dense = [None if g is None else tf.convert_to_tensor(g) for g in grads]
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return keras_clip(dense)
        present = [g for g in dense if g is not None]
        summed = iter(context.all_reduce("SUM", present))
        summed = [None if g is None else next(summed) for g in dense]
        if target.global_clipnorm:
            norm = tf.linalg.global_norm([g for g in summed if g is not None])
            scale = tf.minimum(1.0, target.global_clipnorm / norm)
            return [None if g is None else g * scale for g in dense]
        return [
            None if g is None else g * tf.minimum(1.0, target.clipnorm / tf.norm(total))
            for g, total in zip(dense, summed)
        ]

    target._clip_gradients = clip
    return optimizer
