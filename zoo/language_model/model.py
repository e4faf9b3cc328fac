"""Words -> Embedding -> N stateful LSTM layers (keras_seq) -> next-word logits."""

import keras
from keras import ops

from keras_seq import layers
from keras_seq.decoding import sample
from keras_seq.utils.initializers import fresh


@keras.saving.register_keras_serializable(package="keras_seq_zoo")
class OutputBias(keras.layers.Layer):
    """Adds a learned `(size,)` bias to the last axis.

    The tied output layer: logits are `x E^T` (the embedding table `E`
    reversed, `keras.layers.ReversibleEmbedding`) plus this bias, as the
    output `Linear` of Zaremba et al. whose weight Press & Wolf tie.

    Args:
        size: The last dimension of the inputs.
        bias_initializer: Initializer of the bias. Defaults to `"zeros"`.
    """

    def __init__(self, size, bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _check(self, shape):
        if shape[-1] not in (None, self.size):
            raise ValueError(
                f"OutputBias expected inputs with last dimension {self.size}, got "
                f"shape {tuple(shape)}."
            )

    def build(self, input_shape):
        self._check(input_shape)
        self.bias = self.add_weight(
            shape=(self.size,), initializer=self.bias_initializer, name="bias"
        )

    def call(self, inputs):
        self._check(inputs.shape)
        return inputs + self.bias

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


def build_language_model(config, vocabulary_size, batch_size=None, stateful=True):
    """Word ids `(batch, time)` -> logits `(batch, time, vocabulary_size)`.

    With `stateful=True` the LSTM states carry over from one window to the
    next (truncated BPTT over `batch_size` parallel streams of the corpus);
    the batch size is then fixed. With `config.tie_weights` the output layer
    is the embedding table transposed plus a bias (Press & Wolf 2017;
    the embedding is then `ReversibleEmbedding`).
    """
    uniform = keras.initializers.RandomUniform(
        -config.init_scale, config.init_scale, config.seed
    )

    def init(weight):
        # A seeded initializer returns the same values on every call: one
        # per weight, or the LSTM kernels would all start identical.
        return fresh(uniform, weight)

    def bias(weight):
        return init(weight) if config.uniform_biases else "zeros"

    ids = keras.Input(
        batch_shape=(batch_size or config.batch_size, None), dtype="int32"
    )
    if not stateful:
        ids = keras.Input((None,), dtype="int32")
    if config.tie_weights:
        embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size, config.units, embeddings_initializer=init("embedding")
        )
    else:
        embedding = keras.layers.Embedding(
            vocabulary_size, config.units, embeddings_initializer=init("embedding")
        )
    x = embedding(ids)
    x = keras.layers.Dropout(config.dropout)(x)
    for layer in range(config.num_layers):
        x = layers.LSTM(
            config.units,
            return_sequences=True,
            stateful=stateful,
            kernel_initializer=init(f"lstm_{layer}/kernel"),
            recurrent_initializer=init(f"lstm_{layer}/recurrent_kernel"),
            bias_initializer=bias(f"lstm_{layer}/bias"),
            unit_forget_bias=False,
            use_recurrent_bias=config.recurrent_bias,
        )(x)
        x = keras.layers.Dropout(config.dropout)(x)
    if config.tie_weights:
        logits = OutputBias(vocabulary_size, bias("output/bias"))(
            embedding(x, reverse=True)
        )
    else:
        output = keras.layers.Dense(
            vocabulary_size,
            kernel_initializer=init("output"),
            bias_initializer=bias("output/bias"),
        )
        logits = output(x)
    return keras.Model(ids, logits, name=config.name)


def step_function(model):
    """`(tokens (batch,), states) -> (logits (batch, vocab), states)` of `model`.

    The trained layers' cells run one word at a time, for any batch size
    (the stateful model's own batch size is fixed); `states` holds an
    `(h, c)` pair per LSTM layer.
    """
    embedding = model.layers[1]
    lstms = [layer for layer in model.layers if hasattr(layer, "cell")]
    output = model.layers[-1]
    if isinstance(output, OutputBias):  # tied: the embedding reversed, then the bias
        bias = output

        def output(x):
            return bias(embedding(x, reverse=True))

    def step(tokens, states):
        x = embedding(tokens)
        new_states = []
        for layer, state in zip(lstms, states):
            x, state = layer.cell(x, list(state))
            new_states.append(tuple(state))
        return output(x), tuple(new_states)

    return step, [layer.cell.units for layer in lstms]


def continue_prompts(
    model, ids, lengths, end_id, max_length, temperature=1.0, top_k=None, seed=None
):
    """Samples a continuation of each prompt (`keras_seq.decoding.sample`).

    Args:
        model: The trained language model.
        ids: `(batch, time)` int32 prompts, right-padded; each starts with
            `end_id` (`<eos>`: the text before a sentence in training).
        lengths: `(batch,)` int32, real words per prompt (>= 1).
        end_id, max_length, temperature, top_k, seed: As `sample`; `top_k=1`
            is greedy.

    Returns:
        `(sequences, scores, lengths)` of `sample`: `(batch, max_length)`
        word ids padded with `end_id`, log-probabilities, lengths (the end
        word included).

    All prompt words but the last are read with the cells (a row's state
    stays put past its own length); the last one starts the sampling.
    """
    step, units = step_function(model)
    ids = ops.convert_to_tensor(ids, "int32")
    lengths = ops.convert_to_tensor(lengths, "int32")
    batch = ops.shape(ids)[0]
    states = tuple(
        (ops.zeros((batch, size)), ops.zeros((batch, size))) for size in units
    )

    def read(t, states):
        _, new_states = step(ids[:, t], states)
        keep = ops.expand_dims(t < lengths - 1, -1)  # (batch, 1)
        states = tuple(
            tuple(ops.where(keep, new, old) for new, old in zip(pair, old_pair))
            for pair, old_pair in zip(new_states, states)
        )
        return t + 1, states

    _, states = ops.while_loop(
        lambda t, states: t < ops.max(lengths) - 1,
        read,
        (ops.convert_to_tensor(0, "int32"), states),
    )
    last = ops.take_along_axis(ids, ops.expand_dims(lengths - 1, -1), axis=1)[:, 0]
    return sample(
        step,
        states,
        last,
        end_id=end_id,
        max_length=max_length,
        temperature=temperature,
        top_k=top_k,
        seed=seed,
    )
