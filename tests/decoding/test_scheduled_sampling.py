import math

import keras
import numpy as np
import pytest
from scipy import stats

from keras_seq.decoding import (
    ScheduledInputs,
    ScheduledSampling,
    ScheduledSamplingDecoder,
    greedy_search,
    sampling_probability,
)
from keras_seq.layers import GRUCell
from keras_seq.testing import TestCase

VOCAB, DIM, UNITS, BATCH, STEPS = 7, 5, 6, 4, 6


def decoder(probability=0.0, seed=0):
    keras.utils.set_random_seed(seed)
    return ScheduledSamplingDecoder(
        keras.layers.Embedding(VOCAB, DIM),
        GRUCell(UNITS),
        keras.layers.Dense(VOCAB),
        sampling_probability=probability,
        seed=seed,
    )


def targets(seed=0):
    return np.random.default_rng(seed).integers(1, VOCAB, size=(BATCH, STEPS))


def manual_run(layer, tokens, sampled):
    """Python loop over the same sublayers, reading predictions where `sampled`."""
    h = np.zeros((BATCH, UNITS), "float32")
    previous = np.zeros((BATCH,), "int64")
    outputs = []
    for t in range(tokens.shape[1]):
        token = np.where(sampled[:, t], previous, tokens[:, t])
        out, states = layer.cell(layer.embedding(token), [h])
        h = states[0]
        logits = keras.ops.convert_to_numpy(layer.output_layer(out))
        previous = logits.argmax(-1)
        outputs.append(logits)
    return np.stack(outputs, 1)


def test_probability_zero_is_teacher_forcing():
    layer = decoder(0.0)
    tokens = targets()
    logits = layer(tokens, training=True)
    rnn = keras.layers.RNN(layer.cell, return_sequences=True)
    expected = layer.output_layer(rnn(layer.embedding(tokens)))
    TestCase().assertAllClose(logits, expected, atol=1e-5)


def test_probability_one_is_free_running():
    layer = decoder(1.0)
    tokens = targets(1)
    logits, sampled = layer(tokens, training=True, return_sampled=True)
    sampled = keras.ops.convert_to_numpy(sampled)
    assert not sampled[:, 0].any() and sampled[:, 1:].all()

    def step_fn(token, state):
        out, states = layer.cell(layer.embedding(token), [state])
        return layer.output_layer(out), states[0]

    greedy, _, _ = greedy_search(
        step_fn,
        keras.ops.zeros((BATCH, UNITS)),
        tokens[:, 0],
        end_id=VOCAB - 1,
        max_length=STEPS,
    )
    predicted = keras.ops.convert_to_numpy(keras.ops.argmax(logits, -1))
    greedy = keras.ops.convert_to_numpy(greedy)
    # Until a row emits the end id (6) the free-running predictions are greedy's.
    for row in range(BATCH):
        stop = np.argmax(np.append(greedy[row] == VOCAB - 1, True))
        np.testing.assert_array_equal(
            predicted[row, : stop + 1][:STEPS], greedy[row, : stop + 1][:STEPS]
        )


def test_mixed_steps_match_manual_loop_and_rate():
    layer = decoder(0.4, seed=3)
    tokens = targets(2)
    logits, sampled = layer(tokens, training=True, return_sampled=True)
    sampled = keras.ops.convert_to_numpy(sampled)
    TestCase().assertAllClose(logits, manual_run(layer, tokens, sampled), atol=1e-5)
    # The draws follow the probability (binomial test over many rows).
    big = np.random.default_rng(4).integers(1, VOCAB, size=(2000, STEPS))
    layer_big = decoder(0.4, seed=5)
    _, mask = layer_big(big, training=True, return_sampled=True)
    mask = keras.ops.convert_to_numpy(mask)[:, 1:]
    result = stats.binomtest(int(mask.sum()), mask.size, 0.4)
    assert result.pvalue > 1e-3
    # Not in training: teacher forcing whatever the probability.
    _, off = layer(tokens, training=False, return_sampled=True)
    assert not keras.ops.convert_to_numpy(off).any()


def test_schedules():
    assert sampling_probability("linear", 3, k=0.1) == pytest.approx(0.3)
    assert sampling_probability("linear", 30, k=0.1) == 1.0
    assert sampling_probability("exponential", 2, k=0.9) == pytest.approx(1 - 0.81)
    assert sampling_probability("inverse_sigmoid", 5, k=10) == pytest.approx(
        1 - 10 / (10 + math.exp(0.5))
    )
    assert sampling_probability("linear", 9, k=0.1, maximum=0.5) == 0.5
    with pytest.raises(ValueError, match="`kind`"):
        sampling_probability("cosine", 1)
    assert sampling_probability("linear", np.int64(3)) == pytest.approx(0.3)


def test_inverse_sigmoid_is_finite_however_many_steps():
    # exp(step / k) overflows a float past step = 709 k: with `every="batch"`
    # and k = 10 that was batch 7,100 of training.
    for step in (7_000, 7_100, 10**6):
        teacher = 10 / (10 + math.exp(min(step / 10, 700)))
        assert sampling_probability("inverse_sigmoid", step) == pytest.approx(
            1 - teacher, abs=1e-12
        )
    assert sampling_probability("inverse_sigmoid", 10**9) == 1.0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kind": "linear", "step": -1}, "`step`, expected a finite number >= 0"),
        ({"kind": "linear", "step": float("nan")}, "`step`"),
        ({"kind": "linear", "step": 1, "k": 0}, "`k`, expected a finite number > 0"),
        ({"kind": "exponential", "step": 1, "k": 1.5}, "`k`, expected a number in"),
        ({"kind": "inverse_sigmoid", "step": 1, "k": 0}, "`k`, expected a finite nu"),
        ({"kind": "linear", "step": 1, "maximum": 1.5}, "`maximum`, expected a prob"),
        ({"kind": "linear", "step": 1, "minimum": -0.1}, "`minimum`"),
        ({"kind": "linear", "step": 1, "minimum": 0.6, "maximum": 0.5}, "<= `max"),
    ],
)
def test_schedule_arguments_are_checked(arguments, message):
    with pytest.raises(ValueError, match=message):
        sampling_probability(**arguments)
    if "step" in arguments and arguments["step"] == 1:
        settings = {k: v for k, v in arguments.items() if k != "step"}
        with pytest.raises(ValueError, match=message):
            ScheduledSampling(**settings)


def test_inside_fit_with_callback():
    layer = decoder(0.0)
    inputs = keras.Input((STEPS,), dtype="int32")
    model = keras.Model(inputs, layer(inputs))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    tokens = targets(5)
    x = np.repeat(tokens, 8, axis=0)
    callback = ScheduledSampling("linear", k=0.25)
    history = model.fit(x, x, epochs=3, batch_size=8, callbacks=[callback], verbose=0)
    assert callback.history == pytest.approx([0.0, 0.25, 0.5])
    assert float(layer.sampling_probability.numpy()) == pytest.approx(0.5)
    assert np.all(np.isfinite(history.history["loss"]))
    batch_callback = ScheduledSampling("exponential", k=0.5, every="batch")
    model.fit(x, x, epochs=1, batch_size=8, callbacks=[batch_callback], verbose=0)
    assert batch_callback.history == pytest.approx([1 - 0.5**i for i in range(4)])


def test_config_and_bad_input():
    layer = decoder(0.3)
    layer(targets())
    revived = ScheduledSamplingDecoder.from_config(layer.get_config())
    assert revived.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="`sampling_probability`"):
        decoder(1.5)
    with pytest.raises(ValueError, match="integer token ids"):
        layer(targets().astype("float32"))
    with pytest.raises(ValueError, match="rank 2"):
        layer(targets()[0])
    with pytest.raises(ValueError, match="`every`"):
        ScheduledSampling(every="step")


def scheduled_inputs_case(batch=64, time=9, vocab=7):
    rng = np.random.default_rng(5)
    gold = rng.integers(1, vocab, (batch, time)).astype("int32")
    gold[:, 0] = 2  # the start token
    gold[:5, -3:] = 0  # padding
    logits = rng.normal(size=(batch, time, vocab)).astype("float32")
    # What the first pass predicts for position t: argmax of logits[:, t - 1].
    shifted = np.concatenate([gold[:, :1], logits.argmax(-1)[:, :-1]], axis=1)
    return gold, logits, shifted


def test_scheduled_inputs_mix_gold_and_shifted_predictions():
    gold, logits, shifted = scheduled_inputs_case()
    layer = ScheduledInputs(0.0, seed=1)
    off = keras.ops.convert_to_numpy(layer(gold, logits, training=True))
    np.testing.assert_array_equal(off, gold)
    layer.sampling_probability.assign(1.0)
    on = keras.ops.convert_to_numpy(layer(gold, logits, training=True))
    expected = np.where(gold == 0, 0, shifted)
    np.testing.assert_array_equal(on, expected)
    # Not in training: the gold inputs, whatever the probability.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(gold, logits, training=False)), gold
    )
    # In between: each replaceable position independently, at the rate.
    layer.sampling_probability.assign(0.3)
    gold, logits, shifted = scheduled_inputs_case(batch=2000)
    mixed = keras.ops.convert_to_numpy(layer(gold, logits, training=True))
    assert np.all((mixed == gold) | (mixed == shifted))
    replaceable = (gold != 0) & (np.arange(gold.shape[1]) >= 1) & (shifted != gold)
    rate = (mixed != gold)[replaceable].mean()
    sigma = math.sqrt(0.3 * 0.7 / replaceable.sum())
    assert abs(rate - 0.3) < 5 * sigma
    assert np.all(mixed[:, 0] == gold[:, 0])


def test_scheduled_inputs_in_a_two_pass_model_with_the_callback():
    # A decoder run twice, the second time on the mixed inputs: the callback
    # drives the layer, gradients flow through the second pass only.
    vocab, time = 6, 5
    tokens = keras.Input((time,), dtype="int32")
    embedding = keras.layers.Embedding(vocab, 8)
    recurrent = keras.layers.GRU(8, return_sequences=True)
    output = keras.layers.Dense(vocab)
    first = output(recurrent(embedding(tokens)))
    mixed = ScheduledInputs(seed=0)(tokens, first)
    model = keras.Model(tokens, output(recurrent(embedding(mixed))))
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = np.random.default_rng(0).integers(1, vocab, (32, time))
    callback = ScheduledSampling("linear", k=0.25)
    history = model.fit(x, x, epochs=3, batch_size=8, callbacks=[callback], verbose=0)
    assert callback.history == pytest.approx([0.0, 0.25, 0.5])
    layer = next(l for l in model.layers if isinstance(l, ScheduledInputs))
    assert float(keras.ops.convert_to_numpy(layer.sampling_probability)) == 0.5
    assert np.all(np.isfinite(history.history["loss"]))
    revived = ScheduledInputs.from_config(layer.get_config())
    assert revived.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="`sampling_probability`"):
        ScheduledInputs(-0.1)
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        layer(x[0], np.zeros((time, vocab)))
