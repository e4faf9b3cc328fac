"""The JAX loop's hand-written gradient against JAX's autodiff.

The reference is the same layer with `unroll=True`: a Python loop over the
cell, differentiated by JAX, not by `jax_recurrence`.
"""

import keras
import numpy as np
import pytest

from keras_seq.layers import GRU, LSTM, SimpleRNN
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="JAX-only code path"
)

LAYERS = {
    "simple_rnn": lambda: SimpleRNN(ref.UNITS, return_sequences=True),
    "lstm": lambda: LSTM(ref.UNITS, return_sequences=True),
    "lstm_peepholes": lambda: LSTM(
        ref.UNITS, use_peepholes=True, return_sequences=True
    ),
    "lstm_last_output": lambda: LSTM(ref.UNITS, use_peepholes=True),
    "gru": lambda: GRU(ref.UNITS, return_sequences=True),
    "gru_no_bias": lambda: GRU(ref.UNITS, use_bias=False, return_sequences=True),
}


def loop_gradients(layer, x, states, mask, recurrent_mask, unroll):
    """Every loop output, and the gradient of a loss of all of them w.r.t.
    the inputs, the initial states and the trainable weights."""
    import jax
    import jax.numpy as jnp

    layer.unroll = unroll
    variables = layer.trainable_variables

    def loss_of(x, states, values):
        mapping = list(zip(variables, values))
        with keras.StatelessScope(state_mapping=mapping):
            last, outputs, final = layer._loop(x, list(states), mask, recurrent_mask)
        results = [last, *final] + ([] if outputs is None else [outputs])
        loss = sum(jnp.sum(jnp.sin(3.0 * r)) for r in results)
        return loss, results

    values = [jnp.asarray(v.value) for v in variables]
    grad = jax.jit(jax.grad(loss_of, argnums=(0, 1, 2), has_aux=True))
    (d_x, d_states, d_values), results = grad(
        jnp.asarray(x), [jnp.asarray(s) for s in states], values
    )
    grads = [d_x, *d_states, *d_values]
    return [np.asarray(r) for r in results], [np.asarray(g) for g in grads]


def check(layer, batch, mask, use_recurrent_mask, seed=8):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, ref.STEPS, ref.FEATURES)).astype("float32")
    layer(x)
    layer.set_weights(
        [rng.normal(scale=0.4, size=w.shape) for w in layer.get_weights()]
    )
    states = [
        rng.normal(size=(batch, ref.UNITS)).astype("float32") for _ in layer.state_size
    ]
    recurrent_mask = None
    if use_recurrent_mask:
        recurrent_mask = (rng.uniform(size=(batch, ref.UNITS)) > 0.3) / 0.7
        recurrent_mask = recurrent_mask.astype("float32")
    fast = loop_gradients(layer, x, states, mask, recurrent_mask, False)
    plain = loop_gradients(layer, x, states, mask, recurrent_mask, True)
    case = TestCase()
    case.assertAllClose(fast[0], plain[0], atol=1e-5, rtol=1e-5)
    assert (
        len(fast[1])
        == len(plain[1])
        == 1 + len(states) + len(layer.trainable_variables)
    )
    # Gradients summed over the steps in another order (one matmul over all
    # rows after the loop vs one per step).
    case.assertAllClose(fast[1], plain[1], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("mask_kind", ["none", "left"])
@pytest.mark.parametrize("use_recurrent_mask", [False, True])
def test_matches_autodiff(name, mask_kind, use_recurrent_mask):
    check(LAYERS[name](), ref.BATCH, ref.masks()[mask_kind], use_recurrent_mask)


@pytest.mark.parametrize("name", ["gru", "lstm_peepholes"])
def test_large_batch_matches_autodiff(name):
    """From batch 16 the GRU sums its kernels' gradients inside the loop."""
    from keras_seq.layers.rnn.jax_recurrence import weight_gradients_after_loop

    assert not weight_gradients_after_loop(16, additive_gates=False)
    assert weight_gradients_after_loop(16, additive_gates=True)
    lengths = np.arange(16) % ref.STEPS + 1
    mask = np.arange(ref.STEPS)[None, :] < lengths[:, None]
    check(LAYERS[name](), 16, mask, use_recurrent_mask=True)


def test_frozen_peepholes_read_from_the_traced_step():
    """Non-trainable weights the gates read come from the values the
    (stateless) step is given, not from the variables at tracing: a step
    traced before they change sees their new values."""
    layer = LSTM(ref.UNITS, use_peepholes=True, return_sequences=True)
    inputs = keras.Input((ref.STEPS, ref.FEATURES))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer="sgd", loss="mse")
    peepholes = [
        layer.cell.input_gate_peephole_weights,
        layer.cell.forget_gate_peephole_weights,
        layer.cell.output_gate_peephole_weights,
    ]
    for weights in peepholes:
        weights.trainable = False
    rng = np.random.default_rng(3)
    x = rng.normal(size=(ref.BATCH, ref.STEPS, ref.FEATURES)).astype("float32")
    y = rng.normal(size=(ref.BATCH, ref.STEPS, ref.UNITS)).astype("float32")
    model.test_on_batch(x, y)  # traced with the first peepholes
    for weights in peepholes:
        weights.assign(rng.normal(size=weights.shape).astype("float32"))
    fast = model.test_on_batch(x, y)
    layer.unroll = True
    model.make_test_function(force=True)
    np.testing.assert_allclose(fast, model.test_on_batch(x, y), rtol=1e-5)
