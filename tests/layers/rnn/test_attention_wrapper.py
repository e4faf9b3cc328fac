"""AttentionWrapper / AttentionRNN: step by step = the full pass = NumPy's equations."""

import keras
import numpy as np
import pytest

from keras_seq import layers
from keras_seq.testing import TestCase
from tests.layers.attention import reference as ref

BATCH, T, S, IN, UNITS, MEMORY = 3, 4, 5, 6, 7, 8
SOURCE_LENGTHS = [5, 3, 1]


def data(seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(BATCH, T, IN)).astype("float32")
    memory = rng.normal(size=(BATCH, S, MEMORY)).astype("float32")
    memory_mask = np.arange(S)[None, :] < np.array(SOURCE_LENGTHS)[:, None]
    return inputs, memory, memory_mask


CELLS = {
    "GRUCell": lambda: layers.GRUCell(UNITS),
    "PeepholeLSTMCell": lambda: layers.PeepholeLSTMCell(UNITS),
    "keras.LSTMCell": lambda: keras.layers.LSTMCell(UNITS),
}
VARIANTS = [
    ("luong", True, "general"),
    ("luong", False, "concat"),
    ("bahdanau", False, "additive"),
]


def attention_layer(score):
    if score == "additive":
        return layers.AdditiveAttention(5)
    if score == "concat":
        return layers.LuongAttention("concat", units=5)
    return layers.LuongAttention(score)


def wrapper(cell, style, feeding, score, size=UNITS):
    return layers.AttentionWrapper(
        CELLS[cell](),
        attention_layer(score),
        attention_style=style,
        attention_layer_size=size,
        input_feeding=feeding,
    )


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize(("style", "feeding", "score"), VARIANTS)
def test_step_by_step_equals_the_full_pass(cell, style, feeding, score):
    inputs, memory, memory_mask = data(1)
    decoder = layers.AttentionRNN(
        wrapper(cell, style, feeding, score), return_alignments=True, return_state=True
    )
    outputs, alignments, *final = decoder(inputs, memory, memory_mask=memory_mask)
    ref.randomise(decoder, 3, scale=0.4)
    outputs, alignments, *final = decoder(inputs, memory, memory_mask=memory_mask)
    states = decoder.wrapper.get_initial_state(batch_size=BATCH)
    case = TestCase()
    for t in range(T):
        output, states, alignment = decoder.wrapper(
            inputs[:, t], states, memory, memory_mask, return_alignment=True
        )
        case.assertAllClose(
            output, keras.ops.convert_to_numpy(outputs)[:, t], atol=1e-5
        )
        case.assertAllClose(
            alignment, keras.ops.convert_to_numpy(alignments)[:, t], atol=1e-5
        )
    for a, b in zip(states, final):
        case.assertAllClose(a, b, atol=1e-5)
    # Each step's weights: a distribution over the real memory positions.
    alignments = keras.ops.convert_to_numpy(alignments)
    np.testing.assert_allclose(alignments.sum(-1), 1.0, atol=1e-5)
    assert np.all(
        alignments[~np.broadcast_to(memory_mask[:, None], alignments.shape)] == 0
    )


def numpy_simple_rnn(x, h, weights):
    kernel, recurrent, bias = weights
    return np.tanh(x @ kernel + h @ recurrent + bias)


@pytest.mark.parametrize("style", ["luong", "bahdanau"])
def test_first_steps_match_the_equations(style):
    # Luong et al. 2015, eqs. 5-8 with input feeding (section 3.3); Bahdanau
    # et al. 2015, appendix A (the context from the previous state feeds the
    # cell), with a SimpleRNN cell and the attentional layer tanh(W_c [c; h]).
    inputs, memory, memory_mask = data(2)
    attention = (
        layers.LuongAttention("general")
        if style == "luong"
        else layers.AdditiveAttention(5)
    )
    cell = layers.AttentionWrapper(
        layers.SimpleRNNCell(UNITS),
        attention,
        attention_style=style,
        attention_layer_size=UNITS,
    )
    decoder = layers.AttentionRNN(cell, return_alignments=True)
    decoder(inputs, memory, memory_mask=memory_mask)
    ref.randomise(decoder, 4, scale=0.4)
    outputs, alignments = decoder(inputs, memory, memory_mask=memory_mask)
    rnn = [np.asarray(w, np.float64) for w in cell.cell.get_weights()]
    scores = [np.asarray(w, np.float64) for w in cell.attention.get_weights()]
    (w_c,) = [np.asarray(w, np.float64) for w in cell.attention_layer.get_weights()]
    mask = memory_mask[:, None, :]
    h = np.zeros((BATCH, UNITS))
    a = np.zeros((BATCH, UNITS))
    for t in range(3):
        x = inputs[:, t].astype(np.float64)
        if style == "luong":
            h = numpy_simple_rnn(np.concatenate([x, a], -1), h, rnn)
            context, weights = ref.luong(
                h[:, None], memory, memory, "general", scores, mask
            )
        else:
            query_kernel, key_kernel, bias, score_kernel = scores
            context, weights = ref.additive(
                h[:, None],
                memory,
                memory,
                query_kernel,
                key_kernel,
                bias,
                score_kernel,
                mask,
            )
            h = numpy_simple_rnn(np.concatenate([x, context[:, 0]], -1), h, rnn)
        a = np.tanh(np.concatenate([context[:, 0], h], -1) @ w_c)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(outputs)[:, t], a, atol=1e-5
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(alignments)[:, t], weights[:, 0], atol=1e-5
        )


@pytest.mark.parametrize("feeding", [True, False])
def test_context_as_output_and_a_target_mask(feeding):
    # Without input feeding the cell runs as one fast layer over the sequence
    # and the attention over all steps at once; with it, step by step.
    inputs, memory, memory_mask = data(3)
    cell = layers.AttentionWrapper(
        layers.GRUCell(UNITS), layers.LuongAttention(), input_feeding=feeding
    )
    decoder = layers.AttentionRNN(cell, return_state=True)
    assert decoder._runs_in_parallel() is not feeding
    target_mask = np.arange(T)[None, :] < np.array([4, 2, 3])[:, None]
    outputs, *states = decoder(
        inputs, memory, memory_mask=memory_mask, mask=target_mask
    )
    outputs = keras.ops.convert_to_numpy(outputs)
    assert outputs.shape == (BATCH, T, MEMORY)  # the context: memory's width
    assert np.all(outputs[~target_mask] == 0)
    # Row 1 stops after two steps: its states are those after step 2, and its
    # attentional vector that of step 2.
    short = layers.AttentionRNN(cell, return_state=True)
    short_outputs, *short_states = short(
        inputs[1:2, :2], memory[1:2], memory_mask=memory_mask[1:2]
    )
    np.testing.assert_allclose(
        outputs[1:2, :2], keras.ops.convert_to_numpy(short_outputs), atol=1e-5
    )
    for a, b in zip(states, short_states):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a)[1:2], keras.ops.convert_to_numpy(b), atol=1e-5
        )


def test_trains_saves_and_loads(tmp_path):
    inputs, memory, memory_mask = data(4)
    target_in = keras.Input((T, IN))
    source = keras.Input((S, MEMORY))
    source_mask = keras.Input((S,), dtype="bool")
    decoder = layers.AttentionRNN(wrapper("GRUCell", "luong", True, "general"))
    outputs = keras.layers.Dense(3)(decoder(target_in, source, memory_mask=source_mask))
    model = keras.Model([target_in, source, source_mask], outputs)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = np.random.default_rng(0).integers(0, 3, (BATCH, T))
    history = model.fit([inputs, memory, memory_mask], labels, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = str(tmp_path / "decoder.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(
        loaded.predict([inputs, memory, memory_mask], verbose=0),
        model.predict([inputs, memory, memory_mask], verbose=0),
        atol=1e-5,
    )


def test_bad_input():
    inputs, memory, memory_mask = data()
    with pytest.raises(ValueError, match="`cell` must be a recurrent cell"):
        layers.AttentionWrapper(keras.layers.Dense(3), layers.LuongAttention())
    with pytest.raises(ValueError, match="`attention` must be a keras_seq attention"):
        layers.AttentionWrapper(layers.GRUCell(3), keras.layers.Attention())
    with pytest.raises(ValueError, match="`attention_style`"):
        layers.AttentionWrapper(layers.GRUCell(3), layers.LuongAttention(), "gnmt")
    with pytest.raises(ValueError, match="`wrapper` must be an AttentionWrapper"):
        layers.AttentionRNN(layers.GRUCell(3))
    decoder = layers.AttentionRNN(wrapper("GRUCell", "luong", True, "general"))
    with pytest.raises(
        ValueError, match=r"`memory_mask` must have shape \(batch, source_length\)"
    ):
        decoder(inputs, memory, memory_mask=memory_mask[:, :3])
    with pytest.raises(ValueError, match="`memory`.*rank 3"):
        layers.AttentionRNN(wrapper("GRUCell", "luong", True, "general"))(
            inputs, memory[:, 0]
        )
    cell = wrapper("GRUCell", "luong", True, "general")
    states = cell.get_initial_state(batch_size=BATCH)
    cell(inputs[:, 0], states, memory)
    with pytest.raises(ValueError, match="Expected 2 states"):
        cell(inputs[:, 0], states[:1], memory)
