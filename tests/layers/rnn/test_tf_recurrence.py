"""The compiled TF recurrence and its hand-built gradient against autodiff.

The reference is the same layer with `unroll=True`: a Python loop over the
cell, differentiated by TensorFlow's autodiff, not compiled by us.
"""

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
    "simple_rnn_jit": lambda: SimpleRNN(
        ref.UNITS, return_sequences=True, jit_compile=True
    ),
    "lstm_peepholes": lambda: LSTM(
        ref.UNITS, use_peepholes=True, return_sequences=True
    ),
    "gru": lambda: GRU(ref.UNITS, return_sequences=True),
    "gru_reset_before": lambda: GRU(
        ref.UNITS, reset_after=False, return_sequences=True
    ),
    "lstm_no_jit": lambda: LSTM(ref.UNITS, return_sequences=True, jit_compile=False),
    "lstm_last_output": lambda: LSTM(ref.UNITS, use_peepholes=True),
}


def loop_gradients(layer, x, states, mask, recurrent_mask, unroll, mode):
    """Gradients of every loop output w.r.t. inputs, states and weights."""
    import tensorflow as tf

    layer.unroll = unroll
    variables = layer.trainable_variables

    def run(x, states):
        with tf.GradientTape() as tape:
            tape.watch([x, *states])
            last, outputs, final = layer._loop(x, list(states), mask, recurrent_mask)
            results = [last, *final] + ([] if outputs is None else [outputs])
            loss = sum(tf.reduce_sum(tf.sin(3.0 * r)) for r in results)
        return results, tape.gradient(loss, [x, *states, *variables])

    if mode != "eager":
        run = tf.function(run, jit_compile=mode == "xla")
    results, grads = run(tf.constant(x), [tf.constant(s) for s in states])
    return [r.numpy() for r in results], [g.numpy() for g in grads]


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("mask_kind", ["none", "left"])
@pytest.mark.parametrize("mode", ["eager", "graph", "xla"])
def test_matches_autodiff(name, mask_kind, mode):
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
    fast = loop_gradients(layer, x, states, mask, recurrent_mask, False, mode)
    plain = loop_gradients(layer, x, states, mask, recurrent_mask, True, mode)
    case = TestCase()
    case.assertAllClose(fast[0], plain[0], atol=1e-5, rtol=1e-5)
    # Gradients up to ~10 summed over 7 steps in another order (large batched
    # matmuls vs per-step ones): 1e-5 absolute, 1e-4 relative.
    case.assertAllClose(fast[1], plain[1], atol=1e-5, rtol=1e-4)


def test_gradient_without_saved_forward():
    """A gradient asked for after a forward pass that saved nothing."""
    import tensorflow as tf

    layer = LSTM(ref.UNITS, use_peepholes=True, return_sequences=True)
    x = tf.constant(ref.sequences())
    layer(x)
    cell = layer.cell
    carry = tuple(tf.constant(s) for s in ref.initial_states(2))
    variables = layer.trainable_variables

    def gradients(save):
        with tf.GradientTape() as tape:
            tape.watch([x, *carry])
            final, outputs = layer._tf_recurrence()(
                tf.transpose(x, (1, 0, 2)),
                cell.kernel,
                cell.bias,
                cell.recurrent_kernel,
                carry,
                gate_variables=cell._gate_variables(),
                save_for_backward=save,
            )
            loss = tf.reduce_sum(tf.sin(3.0 * outputs)) + tf.reduce_sum(final[1])
        return [g.numpy() for g in tape.gradient(loss, [x, *carry, *variables])]

    saved, recomputed = gradients(True), gradients(False)
    assert len(saved) == 9
    for a, b in zip(saved, recomputed):
        TestCase().assertAllClose(a, b, atol=0, rtol=0)
