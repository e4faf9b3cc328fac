"""Source subwords -> BiGRU encoder -> GRU / peephole-LSTM decoder with
additive (Bahdanau) attention -> target subword logits: a
`keras_seq.models.Seq2Seq`."""

from keras_seq.models import Seq2Seq

PAD, UNK, START, END = 0, 1, 2, 3
RESERVED = ["[PAD]", "[UNK]", "[START]", "[END]"]
CELLS = {"GRU": "gru", "PeepholeLSTM": "peephole_lstm"}


def build_translator(config, source_vocabulary, target_vocabulary):
    """The teacher-forced model: `(source, target_in)` -> logits.

    `source` `(batch, S)` and `target_in` `(batch, T)` are subword ids padded
    with 0; `target_in` is `[START] y_1 .. y_{T-1}`, the logits `(batch, T,
    target_vocabulary)` predict `y_1 .. y_T` (`[END]` last).

    A `keras_seq.models.Seq2Seq`: a `Stacked` bidirectional GRU encoder whose
    final states a `bridge` layer maps to the decoder's initial state; an
    `AttentionWrapper` decoder cell (Luong style: the new state queries
    `AdditiveAttention` over the encoder outputs, `tanh(W_c [context;
    state])` is the attentional vector; no input feeding, so the decoder
    trains as one fast recurrent layer) and the logits layer. With
    `config.scheduled_sampling` > 0 the decoder runs twice in training, the
    second time on inputs mixed with its first pass's predictions
    (`keras_seq.decoding.ScheduledInputs`).
    """
    if config.decoder_cell not in CELLS:
        raise ValueError(
            "Received an invalid value for `decoder_cell`, expected 'GRU' or "
            f"'PeepholeLSTM', got {config.decoder_cell!r}."
        )
    return Seq2Seq(
        source_vocabulary,
        target_vocabulary,
        embedding_dim=config.embedding_dim,
        units=config.units,
        cell=CELLS[config.decoder_cell],
        encoder_layers=config.encoder_layers,
        bidirectional=True,
        attention="additive",
        attention_units=config.attention_units,
        dropout=config.dropout,
        scheduled_sampling=config.scheduled_sampling > 0,
        pad_id=PAD,
        start_id=START,
        end_id=END,
        seed=config.seed,
        name=config.name,
    )


def encode(model, source, training=False):
    """`source` ids `(batch, S)` -> the search state (`Seq2Seq.encode`)."""
    return model.encode(source, training=training)


def step_function(model):
    """`(tokens (n,), state) -> (logits (n, vocab), state)` for the searches."""

    def step(tokens, state):
        logits, state, _ = model.step(tokens, state)
        return logits, state

    return step


def attention_weights(model, source, target_in):
    """Teacher-forced attention weights `(batch, T, S)` (for the heatmap)."""
    return model.attention_weights(source, target_in)
