"""The split-gradient TF recurrence against plain autodiff of the same loop."""

import keras
import numpy as np
import pytest

from keras_seq.layers import GRU, LSTM, SimpleRNN
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow-only code path"
)

LAYERS = {
    "simple_rnn": lambda: SimpleRNN(ref.UNITS, return_sequences=True),
    "lstm_peepholes": lambda: LSTM(
        ref.UNITS, use_peepholes=True, return_sequences=True
    ),
    "gru": lambda: GRU(ref.UNITS, return_sequences=True),
    "lstm_last_output": lambda: LSTM(ref.UNITS, use_peepholes=True),
}


def loop_gradients(layer, x, states, mask, recurrent_mask, unroll, jit_compile):
    """Gradients of every loop output w.r.t. inputs, states and weights."""
    import tensorflow as tf

    layer.unroll = unroll
    # Exercise the path for every cell, not only those that opt in by default.
    layer.cell.batch_recurrent_gradient = True
    variables = layer.trainable_variables

    @tf.function(jit_compile=jit_compile)
    def run(x, states):
        with tf.GradientTape() as tape:
            tape.watch([x, *states])
            last, outputs, final = layer._loop(x, list(states), mask, recurrent_mask)
            results = [last, *final] + ([] if outputs is None else [outputs])
            loss = sum(tf.reduce_sum(tf.sin(3.0 * r)) for r in results)
        return results, tape.gradient(loss, [x, *states, *variables])

    results, grads = run(tf.constant(x), [tf.constant(s) for s in states])
    return [r.numpy() for r in results], [g.numpy() for g in grads]


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("mask_kind", ["none", "left"])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_matches_autodiff(name, mask_kind, jit_compile):
    layer = LAYERS[name]()
    x = ref.sequences()
    layer(x)
    rng = np.random.default_rng(8)
    layer.set_weights(
        [rng.normal(scale=0.4, size=w.shape) for w in layer.get_weights()]
    )
    states = ref.initial_states(len(layer.state_size))
    mask = ref.masks()[mask_kind]
    recurrent_mask = (rng.uniform(size=(ref.BATCH, ref.UNITS)) > 0.3) / 0.7
    recurrent_mask = recurrent_mask.astype("float32")
    fast = loop_gradients(layer, x, states, mask, recurrent_mask, False, jit_compile)
    plain = loop_gradients(layer, x, states, mask, recurrent_mask, True, jit_compile)
    case = TestCase()
    case.assertAllClose(fast[0], plain[0], atol=1e-5, rtol=1e-5)
    case.assertAllClose(fast[1], plain[1], atol=1e-5, rtol=1e-5)
