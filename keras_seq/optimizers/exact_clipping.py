"""Gradient clipping by norm that clips the whole batch's gradient, as TF does."""

import inspect

import keras


def with_exact_clipping(optimizer):
    """A copy of `optimizer` whose `clipnorm` / `global_clipnorm` clip exactly.

    `clipnorm=c` should scale each variable's gradient `g` by
    `min(1, c / ||g||)` (`tf.clip_by_norm`), and `global_clipnorm=c` every
    gradient by `min(1, c / sqrt(sum ||g||^2))` (`tf.clip_by_global_norm`),
    where `g` is the gradient of the loss of the whole batch. Keras 3.15
    departs from that in two places, both on the TensorFlow backend, and
    the optimizer returned fixes both:

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

    The optimizer returned is a new one, of a subclass of `optimizer`'s
    class (`ExactClippingAdam` for `Adam`) registered with Keras, built
    from `optimizer.get_config()`: a model saved with it loads with it.
    Variables excluded from weight decay (`exclude_from_weight_decay`)
    stay excluded.

    Args:
        optimizer: An optimizer not yet used, with `clipnorm` or
            `global_clipnorm` set, or a `keras.optimizers.LossScaleOptimizer`
            whose inner optimizer is one.

    Returns:
        The optimizer with the same config that clips the true gradient.

    Example:

    >>> import keras
    >>> from keras_seq.optimizers import with_exact_clipping
    >>> optimizer = with_exact_clipping(
    ...     keras.optimizers.Adam(1e-3, global_clipnorm=1.0)
    ... )
    >>> type(optimizer).__name__, optimizer.global_clipnorm
    ('ExactClippingAdam', 1.0)
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        config = optimizer.get_config()
        config.pop("inner_optimizer")
        return keras.optimizers.LossScaleOptimizer(
            with_exact_clipping(optimizer.inner_optimizer), **config
        )
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "Received an invalid value for argument `optimizer`, expected a "
            f"keras.optimizers.Optimizer, got {type(optimizer).__name__}."
        )
    if not (optimizer.clipnorm or optimizer.global_clipnorm):
        raise ValueError(
            "Received an invalid value for argument `optimizer`, expected an "
            "optimizer with `clipnorm` or `global_clipnorm` set, got "
            f"{type(optimizer).__name__} with clipnorm={optimizer.clipnorm} and "
            f"global_clipnorm={optimizer.global_clipnorm}."
        )
    if isinstance(optimizer, _ExactClipping):
        return optimizer
    if optimizer.built:
        raise ValueError(
            "Received an invalid value for argument `optimizer`, expected an "
            f"optimizer not yet used, got a {type(optimizer).__name__} that "
            "already holds variables: pass it here before `compile`."
        )
    exact = exact_clipping_class(type(optimizer)).from_config(optimizer.get_config())
    # `exclude_from_weight_decay` is not part of the config.
    for name in ("_exclude_from_weight_decay", "_exclude_from_weight_decay_pattern"):
        if hasattr(optimizer, name):
            setattr(exact, name, getattr(optimizer, name))
    return exact


class _ExactClipping:
    """What `with_exact_clipping` adds to an optimizer class."""

    def _clip_gradients(self, grads):
        keras_clip = super()._clip_gradients
        if keras.backend.backend() != "tensorflow":
            return keras_clip(grads)
        import tensorflow as tf

        dense = [None if g is None else tf.convert_to_tensor(g) for g in grads]
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return keras_clip(dense)
        # The whole batch's gradient: the replicas' shares summed.
        summed = context.all_reduce("SUM", [g for g in dense if g is not None])
        if self.global_clipnorm:
            scale = tf.minimum(
                1.0, self.global_clipnorm / tf.linalg.global_norm(summed)
            )
            return [None if g is None else g * scale for g in dense]
        totals = iter(summed)
        return [
            None
            if g is None
            else g * tf.minimum(1.0, self.clipnorm / tf.norm(next(totals)))
            for g in dense
        ]


def exact_clipping_class(cls):
    """The subclass of optimizer class `cls` that clips the true gradient.

    Named `ExactClipping` + `cls.__name__`, an attribute of this module and
    registered with Keras (package `keras_seq`), so that saved models
    deserialize it; the subclasses of Keras's own optimizers exist once
    `keras_seq` is imported, as its layers' classes do. For an optimizer
    class of your own, call this with it before loading a model saved
    with its exact-clipping subclass.
    """
    name = f"ExactClipping{cls.__name__}"
    exact = globals().get(name)
    if exact is None:
        exact = type(
            name,
            (_ExactClipping, cls),
            {
                "__module__": __name__,
                "__doc__": f"`{cls.__name__}` clipping the true gradient "
                "(`keras_seq.optimizers.with_exact_clipping`).",
            },
        )
        keras.saving.register_keras_serializable(package="keras_seq")(exact)
        globals()[name] = exact
    elif not issubclass(cls, exact.__mro__[2]):
        # A backend's own variant of a Keras optimizer (PyTorch's `SGD`
        # subclasses `keras.optimizers.SGD`) shares its base's subclass.
        raise ValueError(
            f"Two optimizer classes named {cls.__name__}: "
            f"{exact.__mro__[2].__module__}.{cls.__name__} has the exact-clipping "
            f"class {name} already, got {cls.__module__}.{cls.__name__}."
        )
    return exact


def _register_keras_optimizers():
    """The exact-clipping subclass of each of Keras's own optimizers."""
    wrappers = (
        keras.optimizers.Optimizer,
        keras.optimizers.LossScaleOptimizer,
        # Keras 3.15 and later.
        getattr(keras.optimizers, "MultiOptimizer", None),
    )
    for cls in vars(keras.optimizers).values():
        if (
            inspect.isclass(cls)
            and issubclass(cls, keras.optimizers.Optimizer)
            and cls not in wrappers
        ):
            exact_clipping_class(cls)


_register_keras_optimizers()
