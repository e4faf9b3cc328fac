"""An attention encoder-decoder that trains with `fit` and decodes in one call."""

import keras
from keras import ops

from keras_seq import layers
from keras_seq.decoding import ScheduledInputs, beam_search, greedy_search, sample
from keras_seq.utils import checks

CELLS = ("gru", "lstm", "peephole_lstm")
ATTENTIONS = ("additive", "dot", "general", "concat")
METHODS = ("beam", "greedy", "sample")


def _cell(kind, units):
    if kind == "gru":
        return layers.GRUCell(units)
    return layers.PeepholeLSTMCell(units, use_peepholes=kind == "peephole_lstm")


def _sequence_layer(kind, units):
    if kind == "gru":
        return layers.GRU(units, return_sequences=True)
    return layers.LSTM(
        units, use_peepholes=kind == "peephole_lstm", return_sequences=True
    )


def _attention(kind, units):
    if kind == "additive":
        return layers.AdditiveAttention(units, name="attention")
    return layers.LuongAttention(
        kind, units=units if kind == "concat" else None, name="attention"
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class Seq2Seq(keras.Model):
    """Encoder-decoder with attention: `fit` on id pairs, `generate` to decode.

    `model([source, target_in])` gives the teacher-forced logits `(batch, T,
    target_vocabulary_size)` of `target_out`, where `source` `(batch, S)` and
    `target_in` `(batch, T)` are int ids padded with `pad_id`, `target_in`
    is `[start] y_1 .. y_{T-1}` and `target_out` is `y_1 .. y_{T-1} [end]`:

    - **encoder**: `Embedding(mask_zero)` -> `Stacked` recurrent layers
      (`cell`, `encoder_layers`, `bidirectional`), whose top layer's final
      `h` states (forward and backward) go through a tanh `bridge` layer to
      the decoder's initial state (an LSTM's `c` starts at zero);
    - **decoder**: `Embedding` -> `AttentionRNN(AttentionWrapper(cell,
      attention, attention_style, attention_layer_size=units,
      input_feeding))` over the encoder outputs and their mask -> dropout
      -> `Dense(target_vocabulary_size)`. Luong style without input feeding
      (the default) trains as one fast recurrent layer plus attention over
      all steps at once.

    `generate(source, method=...)` encodes once and runs `beam_search`,
    `greedy_search` or `sample` with the wrapper one step at a time, all
    inside one compiled function (`tf.function(jit_compile=True)` on
    TensorFlow, `jax.jit` on JAX, eager under `torch.no_grad` on PyTorch);
    `keras_seq.export.export_seq2seq` writes it as a SavedModel from text to
    text. Compile with `keras.losses.SparseCategoricalCrossentropy(
    from_logits=True, ignore_class=pad_id)` so padding costs nothing.

    Args:
        source_vocabulary_size: Source ids are in `[0, source_vocabulary_size)`.
        target_vocabulary_size: Target ids likewise.
        embedding_dim: Width of both embeddings. Default 128.
        units: The decoder's state and attentional vector; each encoder
            direction's state. Default 256.
        cell: `"gru"` (default), `"lstm"` or `"peephole_lstm"`, for both sides.
        encoder_layers: Stacked encoder layers. Default 1.
        bidirectional: Bidirectional encoder. Default True.
        attention: The score: `"additive"` (Bahdanau, `attention_units`
            wide; default), or Luong's `"dot"`, `"general"`, `"concat"`.
        attention_units: Width of the additive and concat scores. Default:
            `units`.
        attention_style: `"luong"` (attend with the new state; default) or
            `"bahdanau"` (attend with the previous state), as
            `AttentionWrapper`.
        input_feeding: Luong style: feed the previous attentional vector
            with the input. Default False.
        dropout: Between the encoder layers and before the logits.
        scheduled_sampling: Train with two-pass scheduled sampling: the
            decoder runs again on its inputs mixed with its first pass's
            predictions (`keras_seq.decoding.ScheduledInputs`, raised by the
            `ScheduledSampling` callback). Default False.
        pad_id: The padding id (both vocabularies). Default 0.
        start_id: The start id (both vocabularies). Default 1.
        end_id: The end id (both vocabularies). Default 2.
        seed: Seed of dropout, scheduled sampling and `generate`'s samples.

    Example:

    >>> import numpy as np
    >>> from keras_seq.models import Seq2Seq
    >>> model = Seq2Seq(20, 20, embedding_dim=8, units=8)
    >>> source = np.array([[5, 6, 7, 0]])
    >>> tuple(model([source, np.array([[1, 9, 10]])]).shape)
    (1, 3, 20)
    >>> sequences, scores, lengths = model.generate(source, max_length=5)
    >>> tuple(sequences.shape), tuple(lengths.shape)
    ((1, 1, 5), (1, 1))
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        embedding_dim=128,
        units=256,
        cell="gru",
        encoder_layers=1,
        bidirectional=True,
        attention="additive",
        attention_units=None,
        attention_style="luong",
        input_feeding=False,
        dropout=0.0,
        scheduled_sampling=False,
        pad_id=0,
        start_id=1,
        end_id=2,
        seed=None,
        **kwargs,
    ):
        for name, value in (
            ("source_vocabulary_size", source_vocabulary_size),
            ("target_vocabulary_size", target_vocabulary_size),
            ("embedding_dim", embedding_dim),
            ("units", units),
            ("encoder_layers", encoder_layers),
        ):
            checks.check_positive_int(name, value)
        checks.check_choice("cell", cell, CELLS)
        checks.check_choice("attention", attention, ATTENTIONS)
        if attention_units is not None:
            checks.check_positive_int("attention_units", attention_units)
        checks.check_rate("dropout", dropout)
        for name, value in (
            ("pad_id", pad_id),
            ("start_id", start_id),
            ("end_id", end_id),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value < target_vocabulary_size
            ):
                raise ValueError(
                    f"Argument `{name}` must be a target id, an integer in [0, "
                    f"target_vocabulary_size={target_vocabulary_size}), got {value!r}."
                )
        if attention == "dot" and bidirectional:
            raise ValueError(
                "Argument `attention='dot'` needs the encoder outputs as wide as "
                "the decoder state (`units`), but a bidirectional encoder's are "
                f"2 * units = {2 * units}: use attention='general' or "
                "bidirectional=False."
            )
        if len({pad_id, start_id, end_id}) < 3:
            raise ValueError(
                "Arguments `pad_id`, `start_id` and `end_id` must differ, got "
                f"{pad_id}, {start_id} and {end_id}."
            )

        # === Layers ===
        source_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            mask_zero=pad_id == 0,
            name="source_embedding",
        )
        encoder = layers.Stacked(
            _sequence_layer(cell, units),
            num_layers=encoder_layers,
            bidirectional=bidirectional,
            dropout=dropout,
            return_state=True,
            seed=seed,
            name="encoder",
        )
        bridge = keras.layers.Dense(units, activation="tanh", name="bridge")
        target_embedding = keras.layers.Embedding(
            target_vocabulary_size,
            embedding_dim,
            mask_zero=pad_id == 0,
            name="target_embedding",
        )
        wrapper = layers.AttentionWrapper(
            _cell(cell, units),
            _attention(attention, attention_units or units),
            attention_style=attention_style,
            attention_layer_size=units,
            input_feeding=input_feeding,
            name="wrapper",
        )
        decoder = layers.AttentionRNN(wrapper, name="decoder")
        output_dropout = keras.layers.Dropout(dropout, seed=seed, name="dropout")
        logits_layer = keras.layers.Dense(target_vocabulary_size, name="logits")

        # === Functional model ===
        source = keras.Input((None,), dtype="int32", name="source")
        target_in = keras.Input((None,), dtype="int32", name="target_in")
        memory_mask = ops.not_equal(source, pad_id)
        encoded, *states = encoder(source_embedding(source), mask=memory_mask)
        start = _decoder_start(bridge, states, cell, bidirectional)

        def decode(inputs):
            decoded = decoder(
                target_embedding(inputs),
                encoded,
                memory_mask=memory_mask,
                initial_state=start,
                mask=ops.not_equal(inputs, pad_id),
            )
            return logits_layer(output_dropout(decoded))

        logits = decode(target_in)
        if scheduled_sampling:
            # Raised by the `ScheduledSampling` callback during `fit`.
            mixed = ScheduledInputs(pad_id=pad_id, seed=seed, name="scheduled")(
                target_in, logits
            )
            logits = decode(mixed)
        super().__init__(inputs=[source, target_in], outputs=logits, **kwargs)

        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.cell = cell
        self.encoder_layers = encoder_layers
        self.bidirectional = bool(bidirectional)
        self.attention = attention
        self.attention_units = attention_units
        self.attention_style = attention_style
        self.input_feeding = bool(input_feeding)
        self.dropout = dropout
        self.scheduled_sampling = bool(scheduled_sampling)
        self.pad_id = pad_id
        self.start_id = start_id
        self.end_id = end_id
        self.seed = seed

        self.source_embedding = source_embedding
        self.encoder = encoder
        self.bridge = bridge
        self.target_embedding = target_embedding
        self.wrapper = wrapper
        self.decoder = decoder
        self.logits_layer = logits_layer
        self.sample_seed = keras.random.SeedGenerator(seed)
        # Not a dict attribute: TensorFlow would try to save its functions.
        self._generate_functions = _FunctionCache()

    def get_config(self):
        return {
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "cell": self.cell,
            "encoder_layers": self.encoder_layers,
            "bidirectional": self.bidirectional,
            "attention": self.attention,
            "attention_units": self.attention_units,
            "attention_style": self.attention_style,
            "input_feeding": self.input_feeding,
            "dropout": self.dropout,
            "scheduled_sampling": self.scheduled_sampling,
            "pad_id": self.pad_id,
            "start_id": self.start_id,
            "end_id": self.end_id,
            "seed": self.seed,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # === Decoding ===

    def encode(self, source, training=False):
        """`source` ids `(batch, S)` -> the decoding state.

        A dict: `"decoder"` (the wrapper's initial states), `"memory"` (the
        encoder outputs `(batch, S, memory_dim)`) and `"memory_mask"`
        (`(batch, S)`, False at padding). The searches repeat and reorder
        every entry with the hypotheses.
        """
        memory_mask = ops.not_equal(source, self.pad_id)
        encoded, *states = self.encoder(
            self.source_embedding(source), mask=memory_mask, training=training
        )
        start = _decoder_start(self.bridge, states, self.cell, self.bidirectional)
        return {
            "decoder": self.wrapper.get_initial_state(cell_states=start),
            "memory": encoded,
            "memory_mask": memory_mask,
        }

    def step(self, tokens, state):
        """One decoding step: `(tokens (n,), state) -> (logits, state, weights)`.

        The step function of `beam_search`, `greedy_search` and `sample`;
        `weights` `(n, S)` are the step's attention weights (the coverage
        penalty sums them).
        """
        # The table itself: the layer would attach a padding mask to the step.
        embedded = ops.take(self.target_embedding.embeddings, tokens, axis=0)
        output, states, weights = self.wrapper(
            embedded,
            state["decoder"],
            state["memory"],
            state["memory_mask"],
            return_alignment=True,
        )
        return self.logits_layer(output), {**state, "decoder": states}, weights

    def attention_weights(self, source, target_in):
        """Teacher-forced attention weights `(batch, T, S)` of `target_in`
        (e.g. a translation after `[start]`), for a heatmap
        (`keras_seq.plotting.plot_attention`); 0 on source padding."""
        state = self.encode(source)
        aligner = self.__dict__.get("_aligner")
        if aligner is None:
            # Untracked: it holds no weights of its own, only the wrapper's.
            aligner = layers.AttentionRNN(self.wrapper, return_alignments=True)
            self.__dict__["_aligner"] = aligner
        _, weights = aligner(
            self.target_embedding(target_in),
            state["memory"],
            memory_mask=state["memory_mask"],
            initial_state=state["decoder"][:-1],
            mask=ops.not_equal(target_in, self.pad_id),
        )
        return weights

    def generate_ids(
        self,
        source,
        method="beam",
        max_length=50,
        beam_width=4,
        num_return=1,
        length_penalty=0.0,
        length_penalty_type="power",
        coverage_penalty=0.0,
        temperature=1.0,
        top_k=None,
        top_p=None,
        seed=None,
    ):
        """`generate` without compiling: for use inside a traced function
        (an exported signature, a `tf.data` map). Same arguments; `seed` of
        `sample` defaults to the model's own seed generator."""
        state = self.encode(source)
        start = ops.full((ops.shape(source)[0],), self.start_id, "int32")
        if method == "beam":
            return beam_search(
                self.step,
                state,
                start,
                self.end_id,
                beam_width,
                max_length,
                length_penalty=length_penalty,
                num_return=num_return,
                length_penalty_type=length_penalty_type,
                coverage_penalty=coverage_penalty,
                source_mask=state["memory_mask"] if coverage_penalty else None,
            )
        step = _two_outputs(self.step)
        if method == "greedy":
            return greedy_search(step, state, start, self.end_id, max_length)
        return sample(
            step,
            state,
            start,
            self.end_id,
            max_length,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            seed=self.sample_seed if seed is None else seed,
        )

    def generate(
        self,
        source,
        method="beam",
        max_length=50,
        beam_width=4,
        num_return=1,
        length_penalty=0.0,
        length_penalty_type="power",
        coverage_penalty=0.0,
        temperature=1.0,
        top_k=None,
        top_p=None,
    ):
        """Decodes `source` ids `(batch, S)` in one compiled call.

        Args:
            source: Int ids `(batch, S)` padded with `pad_id`.
            method: `"beam"` (`beam_search`; default), `"greedy"`
                (`greedy_search`) or `"sample"` (`sample`).
            max_length: Most generated tokens, the end id included.
            beam_width: Of `beam_search`.
            num_return: Of `beam_search`.
            length_penalty: Of `beam_search`.
            length_penalty_type: Of `beam_search`.
            coverage_penalty: Of `beam_search`.
            temperature: Of `sample` (new draws at every call, from the
                model's seed generator).
            top_k: Of `sample`.
            top_p: Of `sample`.

        Returns:
            `(sequences, scores, lengths)`: for `"beam"` `(batch,
            num_return, max_length)` ids (best first), `(batch,
            num_return)` scores and lengths; for `"greedy"` and `"sample"`
            `(batch, max_length)` ids, `(batch,)` total log-probabilities
            and lengths. Ids after the end id are `end_id`.

        A compiled function is kept per set of arguments; on TensorFlow and
        JAX each new source length compiles again (pad sources to a few
        lengths).
        """
        source = _check_source(source, self.source_vocabulary_size)
        checks.check_choice("method", method, METHODS)
        options = {
            "method": method,
            "max_length": max_length,
            "beam_width": beam_width,
            "num_return": num_return,
            "length_penalty": length_penalty,
            "length_penalty_type": length_penalty_type,
            "coverage_penalty": coverage_penalty,
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
        }
        key = tuple(sorted(options.items()))
        functions = self._generate_functions.functions
        if key not in functions:
            functions[key] = self._compile_generate(options)
        return functions[key](source)

    def _compile_generate(self, options):
        def generate(source):
            return self.generate_ids(source, **options)

        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            return tf.function(generate, jit_compile=True, autograph=False)
        if backend == "jax":
            import jax

            variables = self.variables

            @jax.jit
            def compiled(source, values):
                with keras.StatelessScope(
                    state_mapping=list(zip(variables, values))
                ) as scope:
                    outputs = generate(source)
                seed_state = scope.get_current_value(self.sample_seed.state)
                return outputs, seed_state

            def run(source):
                outputs, seed_state = compiled(source, [v.value for v in variables])
                if seed_state is not None:
                    self.sample_seed.state.assign(seed_state)
                return outputs

            return run
        if backend == "torch":
            import torch

            def run(source):
                with torch.no_grad():
                    return generate(source)

            return run
        return generate


class _FunctionCache:
    """The compiled `generate` functions, by their arguments."""

    def __init__(self):
        self.functions = {}


def _decoder_start(bridge, states, cell, bidirectional):
    """The decoder's initial cell states from the encoder's final states:
    the top layer's `h` (both directions) through the bridge; `c` zero."""
    per_direction = 1 if cell == "gru" else 2
    top = states[-per_direction * (2 if bidirectional else 1) :]
    h = ops.concatenate(top[::per_direction], axis=-1)
    initial = bridge(h)
    return [initial] if cell == "gru" else [initial, ops.zeros_like(initial)]


def _two_outputs(step):
    def two(tokens, state):
        logits, state, _ = step(tokens, state)
        return logits, state

    return two


def _check_source(source, vocabulary_size):
    source = ops.convert_to_tensor(source)
    if len(source.shape) != 2:
        raise ValueError(
            "Argument `source` must be int ids of shape (batch, source_length), "
            f"got shape {tuple(source.shape)}."
        )
    dtype = keras.backend.standardize_dtype(source.dtype)
    if "int" not in dtype:
        raise ValueError(
            "Argument `source` must be int ids of shape (batch, source_length), "
            f"got dtype {dtype}."
        )
    if source.shape[1] == 0:
        raise ValueError(
            "Argument `source` must have at least one step (pad empty sources "
            f"with `pad_id`), got shape {tuple(source.shape)}."
        )
    return ops.cast(source, "int32")
