"""Source subwords -> BiGRU encoder -> GRU / peephole-LSTM decoder with
additive (Bahdanau) attention -> target subword logits."""

import keras
from keras import ops

from keras_seq import layers
from keras_seq.decoding import ScheduledInputs

PAD, UNK, START, END = 0, 1, 2, 3
RESERVED = ["[PAD]", "[UNK]", "[START]", "[END]"]


def _decoder_layer(config):
    if config.decoder_cell == "GRU":
        return layers.GRU(config.units, return_sequences=True, name="decoder")
    if config.decoder_cell == "PeepholeLSTM":
        return layers.LSTM(
            config.units, use_peepholes=True, return_sequences=True, name="decoder"
        )
    raise ValueError(
        "Received an invalid value for `decoder_cell`, expected 'GRU' or "
        f"'PeepholeLSTM', got {config.decoder_cell!r}."
    )


def build_translator(config, source_vocabulary, target_vocabulary):
    """The teacher-forced model: `(source, target_in)` -> logits.

    `source` `(batch, S)` and `target_in` `(batch, T)` are subword ids padded
    with 0; `target_in` is `[START] y_1 .. y_{T-1}`, the logits `(batch, T,
    target_vocabulary)` predict `y_1 .. y_T` (`[END]` last).

    The encoder is a keras_seq `Stacked` bidirectional GRU; a `bridge` layer
    maps its final states to the decoder's initial state. The decoder runs
    over the target (teacher forcing, one fast recurrent layer); at each step
    its state is the query of `AdditiveAttention` over the encoder outputs,
    and `[state, context]` goes through a tanh layer to the logits (the
    attention of Luong et al. 2015 with Bahdanau's additive score; no input
    feeding, so the decoder runs as one layer over all steps in training).
    With `config.scheduled_sampling` > 0 the decoder runs twice in training,
    the second time on inputs mixed with its first pass's predictions
    (`keras_seq.decoding.ScheduledInputs`).
    """
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((None,), dtype="int32", name="target_in")
    embedded = keras.layers.Embedding(
        source_vocabulary, config.embedding_dim, mask_zero=True, name="source_embedding"
    )(source)
    encoder = layers.Stacked(
        layers.GRU(config.units, return_sequences=True),
        num_layers=config.encoder_layers,
        bidirectional=True,
        dropout=config.dropout,
        return_state=True,
        name="encoder",
    )
    encoded, *states = encoder(embedded)
    # The top layer's forward and backward final states.
    top = ops.concatenate(states[-2:], axis=-1)
    initial = keras.layers.Dense(config.units, activation="tanh", name="bridge")(top)
    target_embedding = keras.layers.Embedding(
        target_vocabulary, config.embedding_dim, mask_zero=True, name="target_embedding"
    )
    decoder = _decoder_layer(config)
    attention = layers.AdditiveAttention(config.attention_units, name="attention")
    attentional = keras.layers.Dense(
        config.units, activation="tanh", name="attentional"
    )
    dropout = keras.layers.Dropout(config.dropout)
    output = keras.layers.Dense(target_vocabulary, name="logits")
    start = (
        [initial]
        if config.decoder_cell == "GRU"
        else [initial, ops.zeros_like(initial)]
    )

    def decode(inputs):
        decoded = decoder(target_embedding(inputs), initial_state=start)
        context = attention(decoded, encoded, value_mask=ops.not_equal(source, PAD))
        hidden = attentional(ops.concatenate([decoded, context], axis=-1))
        return output(dropout(hidden))

    logits = decode(target_in)
    if config.scheduled_sampling:
        # Two-pass scheduled sampling: the decoder runs again on its inputs
        # mixed with the first pass's predictions (`ScheduledInputs`, raised
        # by the `ScheduledSampling` callback of the zoo's training).
        mixed = ScheduledInputs(pad_id=PAD, seed=config.seed, name="scheduled")(
            target_in, logits
        )
        logits = decode(mixed)
    return keras.Model([source, target_in], logits, name=config.name)


def encode(model, source, training=False):
    """`source` ids `(batch, S)` -> the decoder's start state and memory.

    Returns `(states, encoded, mask)`: the decoder's initial states (a list),
    the encoder outputs `(batch, S, 2 * units)` and the source mask.
    """
    embedded = model.get_layer("source_embedding")(source)
    mask = ops.not_equal(source, PAD)
    encoded, *states = model.get_layer("encoder")(
        embedded, mask=mask, training=training
    )
    initial = model.get_layer("bridge")(ops.concatenate(states[-2:], axis=-1))
    if isinstance(model.get_layer("decoder").cell.state_size, (list, tuple)):
        return [initial, ops.zeros_like(initial)], encoded, mask
    return [initial], encoded, mask


def step_function(model):
    """`(tokens (n,), state) -> (logits (n, vocab), state)` for the searches.

    `state` is `(decoder_states, encoded, mask)`: the memory travels with
    each hypothesis (beam search repeats it per beam).
    """
    embedding = model.get_layer("target_embedding")
    cell = model.get_layer("decoder").cell
    attention = model.get_layer("attention")
    attentional = model.get_layer("attentional")
    output = model.get_layer("logits")

    def step(tokens, state):
        states, encoded, mask = state
        # The table itself: the layer would attach a padding mask to the step.
        embedded = ops.take(embedding.embeddings, tokens, axis=0)
        h, new_states = cell(embedded, list(states))
        context = attention(h, encoded, value_mask=mask)
        hidden = attentional(ops.concatenate([h, context], axis=-1))
        return output(hidden), (list(new_states), encoded, mask)

    return step


def attention_weights(model, source, target_in):
    """Teacher-forced attention weights `(batch, T, S)` (for the heatmap)."""
    states, encoded, mask = encode(model, source)
    decoder = model.get_layer("decoder")
    decoded = decoder(
        model.get_layer("target_embedding")(target_in), initial_state=states
    )
    _, weights = model.get_layer("attention")(
        decoded, encoded, value_mask=mask, return_attention_scores=True
    )
    return weights
