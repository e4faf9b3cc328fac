"""Scheduled sampling (Bengio et al. 2015): teacher forcing mixed with predictions."""

import math
import numbers

import keras
from keras import ops

from keras_seq.utils import checks


def _add_sampling_state(layer, sampling_probability, seed):
    """The checked probability as a non-trainable variable, and the seed."""
    value = sampling_probability
    valid = not isinstance(value, bool) and isinstance(value, (int, float))
    if not valid or not 0.0 <= value <= 1.0:
        raise ValueError(
            "Received an invalid value for argument `sampling_probability`, "
            f"expected a float in [0, 1], got {value!r}."
        )
    layer._initial_probability = float(value)
    layer.seed = seed
    layer.seed_generator = keras.random.SeedGenerator(seed)
    layer.sampling_probability = layer.add_variable(
        shape=(),
        initializer=keras.initializers.Constant(layer._initial_probability),
        trainable=False,
        name="sampling_probability",
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class ScheduledSamplingDecoder(keras.layers.Layer):
    """A recurrent decoder trained with scheduled sampling.

    At step `t` the decoder reads a token, embeds it, runs the recurrent
    `cell` and scores the next token with `output_layer`. With teacher forcing
    the token read is the ground truth `decoder_inputs[:, t]`; with scheduled
    sampling it is, with probability `sampling_probability` (drawn per example
    and step), the decoder's own prediction at step `t - 1` (its argmax)
    instead. The first step always reads the ground truth (the start token).
    `sampling_probability` is a non-trainable variable that
    `keras_seq.decoding.ScheduledSampling` (a callback) raises during
    `model.fit`; outside training the decoder is teacher-forced.

    Args:
        embedding: Layer mapping `(batch,)` token ids to `(batch, dim)`, e.g.
            `keras.layers.Embedding`.
        cell: Recurrent cell (the `keras.layers.RNN` protocol), e.g.
            `keras_seq.layers.GRUCell`.
        output_layer: Layer mapping the cell output to `(batch, vocab)` logits.
        sampling_probability: Initial probability of reading the prediction.
            Default 0 (teacher forcing).
        seed: Seed of the draws.

    Call arguments:
        decoder_inputs: `(batch, time)` int token ids (the targets shifted
            right, starting with the start token).
        initial_state: Optional list of the cell's states (e.g. the encoder's
            final states).
        training: Scheduled sampling is used only when True.
        return_sampled: Also return the `(batch, time)` boolean mask of the
            steps that read a prediction.

    Returns:
        `(batch, time, vocab)` logits (and the mask when asked).
    """

    def __init__(
        self,
        embedding,
        cell,
        output_layer,
        sampling_probability=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.embedding = embedding
        self.cell = cell
        self.output_layer = output_layer
        _add_sampling_state(self, sampling_probability, seed)

    def build(self, decoder_inputs_shape, initial_state_shape=None):
        self.embedding.build((decoder_inputs_shape[0],))
        dim = self.embedding.compute_output_shape((decoder_inputs_shape[0],))[-1]
        if not self.cell.built:
            self.cell.build((decoder_inputs_shape[0], dim))
        output_size = self.cell.output_size
        if not self.output_layer.built:
            self.output_layer.build((decoder_inputs_shape[0], output_size))

    def compute_output_shape(self, decoder_inputs_shape, initial_state_shape=None):
        vocab = self.output_layer.compute_output_shape((None, self.cell.output_size))
        return (*decoder_inputs_shape, vocab[-1])

    def call(
        self, decoder_inputs, initial_state=None, training=False, return_sampled=False
    ):
        checks.check_rank("decoder_inputs", decoder_inputs.shape, 2, "(batch, time)")
        if "int" not in str(decoder_inputs.dtype):
            raise ValueError(
                "Argument `decoder_inputs` must hold integer token ids, got dtype "
                f"{decoder_inputs.dtype}."
            )
        batch = ops.shape(decoder_inputs)[0]
        if initial_state is None:
            size = self.cell.state_size
            sizes = [size] if isinstance(size, int) else list(size)
            initial_state = [ops.zeros((batch, s), self.compute_dtype) for s in sizes]
        states = (
            list(initial_state)
            if isinstance(initial_state, (list, tuple))
            else [initial_state]
        )
        probability = self.sampling_probability if training else 0.0
        uniforms = keras.random.uniform(
            ops.shape(ops.transpose(decoder_inputs)), seed=self.seed_generator
        )
        first = ops.arange(ops.shape(decoder_inputs)[1]) == 0
        use_prediction = (uniforms < probability) & ops.logical_not(first[:, None])

        # The logits ride in the carry: Keras's TensorFlow `scan` stacks
        # outputs shaped like the carry.
        def step(carry, inputs):
            states, previous, _ = carry
            teacher, sampled = inputs
            token = ops.where(sampled, previous, teacher)
            output, new_states = self.cell(self.embedding(token), states)
            new_states = (
                list(new_states)
                if isinstance(new_states, (list, tuple))
                else [new_states]
            )
            logits = self.output_layer(output)
            prediction = ops.cast(ops.argmax(logits, axis=-1), teacher.dtype)
            new_carry = (new_states, prediction, logits)
            return new_carry, new_carry

        vocab = self.compute_output_shape((None, None))[-1]
        carry = (
            states,
            ops.zeros_like(decoder_inputs[:, 0]),
            ops.zeros((batch, vocab), self.compute_dtype),
        )
        _, stacked = ops.scan(
            step, carry, (ops.transpose(decoder_inputs), use_prediction)
        )
        logits = ops.transpose(stacked[2], (1, 0, 2))
        if return_sampled:
            return logits, ops.transpose(use_prediction)
        return logits

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding": keras.saving.serialize_keras_object(self.embedding),
                "cell": keras.saving.serialize_keras_object(self.cell),
                "output_layer": keras.saving.serialize_keras_object(self.output_layer),
                "sampling_probability": self._initial_probability,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("embedding", "cell", "output_layer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_seq")
class ScheduledInputs(keras.layers.Layer):
    """Two-pass scheduled sampling: decoder inputs mixed with predictions.

    For decoders that run over all steps at once (a fast recurrent layer, a
    Transformer), scheduled sampling as Mihaylova & Martins (2019) do it: a
    first, teacher-forced pass gives `logits`; this layer replaces each
    ground-truth input `decoder_inputs[:, t]` (t >= 1), with probability
    `sampling_probability` drawn per example and step, by the first pass's
    prediction for that position (`argmax(logits[:, t - 1])`, no gradient);
    the decoder then runs again on the mixed inputs and the loss is taken on
    the second pass. Padding (`pad_id`) and the first (start) token are never
    replaced; outside training the inputs pass through unchanged.
    `sampling_probability` is a non-trainable variable that the
    `ScheduledSampling` callback raises during `fit`.

    Args:
        sampling_probability: Initial probability. Default 0.
        pad_id: The padding id. Default 0.
        seed: Seed of the draws.

    Call arguments:
        decoder_inputs: `(batch, time)` int ids (the targets shifted right).
        logits: `(batch, time, vocab)` of the first pass.
        training: Mix only when True.

    Returns:
        `(batch, time)` ids, the dtype of `decoder_inputs`.
    """

    def __init__(self, sampling_probability=0.0, pad_id=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pad_id = int(pad_id)
        _add_sampling_state(self, sampling_probability, seed)

    def call(self, decoder_inputs, logits, training=None):
        if len(decoder_inputs.shape) != 2 or len(logits.shape) != 3:
            raise ValueError(
                "`ScheduledInputs` expects `decoder_inputs` (batch, time) and "
                f"`logits` (batch, time, vocab), got {decoder_inputs.shape} and "
                f"{logits.shape}."
            )
        if not training:
            return decoder_inputs
        predicted = ops.cast(
            ops.argmax(ops.stop_gradient(logits), axis=-1), decoder_inputs.dtype
        )
        shifted = ops.concatenate([decoder_inputs[:, :1], predicted[:, :-1]], axis=1)
        draw = keras.random.uniform(ops.shape(decoder_inputs), seed=self.seed_generator)
        steps = ops.arange(ops.shape(decoder_inputs)[1])
        replace = (
            (draw < self.sampling_probability)
            & (steps[None, :] >= 1)
            & (decoder_inputs != self.pad_id)
        )
        return ops.where(replace, shifted, decoder_inputs)

    def compute_output_shape(self, decoder_inputs_shape, logits_shape):
        return decoder_inputs_shape

    def get_config(self):
        return {
            **super().get_config(),
            "sampling_probability": self._initial_probability,
            "pad_id": self.pad_id,
            "seed": self.seed,
        }


def sampling_probability(kind, step, k=None, minimum=0.0, maximum=1.0):
    """The probability of reading a prediction after `step` updates.

    Bengio et al. (2015) decay the probability `e_i` of reading the ground
    truth; this returns `1 - e_i`, clipped to `[minimum, maximum]`:

    - `"linear"`: `e_i = 1 - k * i` (`k` default 0.1 per update);
    - `"exponential"`: `e_i = k ** i` (`k` < 1, default 0.9);
    - `"inverse_sigmoid"`: `e_i = k / (k + exp(i / k))` (`k` >= 1, default 10).

    `step` is a number >= 0 and `0 <= minimum <= maximum <= 1`; anything
    else is a `ValueError` naming the argument.
    """
    checks.check_choice("kind", kind, ("linear", "exponential", "inverse_sigmoid"))
    if isinstance(step, numbers.Integral) and not isinstance(step, bool):
        step = int(step)  # NumPy's too
    checks.check_number("step", step, inclusive=True)
    for name, value in (("minimum", minimum), ("maximum", maximum)):
        checks.check_number(name, value, inclusive=True)
        if value > 1:
            raise ValueError(
                f"Received an invalid value for argument `{name}`, expected a "
                f"probability in [0, 1], got {value!r}."
            )
    if minimum > maximum:
        raise ValueError(
            f"Expected `minimum` <= `maximum`, got minimum={minimum!r} and "
            f"maximum={maximum!r}."
        )
    if kind == "linear":
        k = checks.check_number("k", 0.1 if k is None else k)
        teacher = 1.0 - k * step
    elif kind == "exponential":
        k = checks.check_number("k", 0.9 if k is None else k)
        if k >= 1:
            raise ValueError(
                "Received an invalid value for argument `k`, expected a number "
                f"in (0, 1) for the exponential schedule, got {k!r}."
            )
        teacher = k**step
    else:
        k = checks.check_number(
            "k", 10.0 if k is None else k, minimum=1.0, inclusive=True
        )
        # k / (k + exp(step / k)), written with exp(-step / k), which goes
        # to 0 where exp(step / k) would overflow (step > 709 k).
        decay = math.exp(-step / k)
        teacher = k * decay / (k * decay + 1.0)
    return min(maximum, max(minimum, 1.0 - teacher))


class ScheduledSampling(keras.callbacks.Callback):
    """Raises the `sampling_probability` of scheduled-sampling decoders.

    Before every epoch (or every batch with `every="batch"`) sets each
    `ScheduledSamplingDecoder` and `ScheduledInputs` in the model to
    `sampling_probability(kind, i, k, minimum, maximum)`, `i` counting the
    epochs (batches) so far.

    Args:
        kind: `"linear"`, `"exponential"` or `"inverse_sigmoid"`.
        k: The schedule's parameter (see `sampling_probability`).
        minimum: The lowest probability returned. Default 0.
        maximum: The highest probability returned. Default 1.
        every: `"epoch"` (default) or `"batch"`.
    """

    def __init__(
        self, kind="inverse_sigmoid", k=None, minimum=0.0, maximum=1.0, every="epoch"
    ):
        super().__init__()
        sampling_probability(kind, 0, k, minimum, maximum)  # validates them
        self.kind, self.k = kind, k
        self.minimum, self.maximum = minimum, maximum
        self.every = checks.check_choice("every", every, ("epoch", "batch"))
        self.history = []
        self._batches = 0

    def _set(self, step):
        value = sampling_probability(
            self.kind, step, self.k, self.minimum, self.maximum
        )
        decoders = [
            layer
            for layer in self.model._flatten_layers()
            if isinstance(layer, (ScheduledSamplingDecoder, ScheduledInputs))
        ]
        if not decoders:
            raise ValueError(
                "ScheduledSampling found no ScheduledSamplingDecoder or "
                "ScheduledInputs in the model."
            )
        for decoder in decoders:
            decoder.sampling_probability.assign(value)
        self.history.append(value)

    def on_epoch_begin(self, epoch, logs=None):
        if self.every == "epoch":
            self._set(epoch)

    def on_train_batch_begin(self, batch, logs=None):
        if self.every == "batch":
            self._set(self._batches)
            self._batches += 1
