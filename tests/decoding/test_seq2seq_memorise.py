"""A translation model built from the public pieces learns 20 pairs exactly.

Encoder GRU, `AttentionRNN(AttentionWrapper(GRUCell, LuongAttention))`
trained with `model.fit`, then `beam_search` over the same layers (the
wrapper's step), with GNMT's length and coverage penalties; the model saves
and loads with equal outputs.
"""

import keras
import numpy as np
import pytest
from keras import ops

from keras_seq import decoding, layers

VOCAB, UNITS, PAD, START, END = 12, 48, 0, 1, 2
PAIRS, MAX_SOURCE, MAX_TARGET = 20, 6, 7


def pairs(seed=0):
    """Source: 3-6 ids; target: the source reversed, then END."""
    rng = np.random.default_rng(seed)
    source = np.zeros((PAIRS, MAX_SOURCE), "int32")
    target_in = np.zeros((PAIRS, MAX_TARGET), "int32")
    target_out = np.zeros((PAIRS, MAX_TARGET), "int32")
    for i in range(PAIRS):
        length = rng.integers(3, MAX_SOURCE + 1)
        ids = rng.integers(3, VOCAB, length)
        source[i, :length] = ids
        out = [*ids[::-1], END]
        target_out[i, : len(out)] = out
        target_in[i, : len(out)] = [START, *out[:-1]]
    return source, target_in, target_out


def build():
    source = keras.Input((None,), dtype="int32")
    target_in = keras.Input((None,), dtype="int32")
    source_embedding = keras.layers.Embedding(VOCAB, 16, mask_zero=True)
    encoder = layers.GRU(UNITS, return_sequences=True, return_state=True)
    memory, state = encoder(source_embedding(source))
    target_embedding = keras.layers.Embedding(VOCAB, 16, mask_zero=True)
    wrapper = layers.AttentionWrapper(
        layers.GRUCell(UNITS), layers.LuongAttention(), attention_layer_size=UNITS
    )
    decoded = layers.AttentionRNN(wrapper)(
        target_embedding(target_in),
        memory,
        memory_mask=ops.not_equal(source, PAD),
        initial_state=[state],
    )
    output = keras.layers.Dense(VOCAB)
    model = keras.Model([source, target_in], output(decoded))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD),
    )
    parts = (source_embedding, encoder, target_embedding, wrapper, output)
    return model, parts


def translate(parts, source_ids, beam_width=3):
    source_embedding, encoder, target_embedding, wrapper, output = parts
    memory, state = encoder(source_embedding(source_ids))
    memory_mask = ops.not_equal(source_ids, PAD)

    def step_fn(tokens, states):
        a, new_states, weights = wrapper(
            target_embedding(tokens),
            states["decoder"],
            states["memory"],
            states["memory_mask"],
            return_alignment=True,
        )
        return output(a), {**states, "decoder": new_states}, weights

    states = {
        "decoder": wrapper.get_initial_state(cell_states=[state]),
        "memory": memory,
        "memory_mask": memory_mask,
    }
    start = ops.full((ops.shape(source_ids)[0],), START, "int32")
    return decoding.beam_search(
        step_fn,
        states,
        start,
        END,
        beam_width,
        MAX_TARGET,
        length_penalty=0.6,
        length_penalty_type="gnmt",
        coverage_penalty=0.2,
        source_mask=memory_mask,
    )


@pytest.mark.slow
def test_memorises_twenty_pairs_and_translates_them_with_beam_search(tmp_path):
    keras.utils.set_random_seed(0)
    source, target_in, target_out = pairs()
    model, parts = build()
    model.fit([source, target_in], target_out, epochs=150, batch_size=PAIRS, verbose=0)
    sequences, _, lengths = translate(parts, source)
    sequences = keras.ops.convert_to_numpy(sequences)[:, 0]
    lengths = keras.ops.convert_to_numpy(lengths)[:, 0]
    for i in range(PAIRS):
        expected = target_out[i][target_out[i] != PAD]
        assert lengths[i] == len(expected), i
        assert sequences[i, : lengths[i]].tolist() == expected.tolist(), i
    path = str(tmp_path / "translator.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict([source, target_in], verbose=0),
        model.predict([source, target_in], verbose=0),
        atol=1e-5,
    )
