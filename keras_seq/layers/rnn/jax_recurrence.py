"""The JAX recurrence on a CPU: a scan forward, a hand-written gradient.

Autodiff of a `lax.scan` over `h_t = g(x_t W + b, h_{t-1} U, ...)` adds
`x_t^T dp_t` into `dW` and `h_{t-1}^T da_t` into `dU` inside the backward
loop: at batch 1, each step reads and writes all of both gradients (1.5 MB
for an LSTM(256) over 128 features) for products of one row. Here the
backward scan keeps what feeds the previous step only: the gates' own
gradient (`jax.vjp` of one step, recomputed from the saved pre-activations)
and `da_t U^T`. It stacks `dp_t` and `da_t`, and after the loop `dW`, `dU`,
`dX` and the biases' gradients are one matmul or sum each over all
`time * batch` rows (`weight_gradients_after_loop`: the GRU's kernels, from
batch 16 on, are summed inside the loop). A training step of a peephole
LSTM(256) at batch 1 x 50 steps took about half the time of the scan's
autodiff (forward and backward alone, on two CPU cores), and a little less
at batch 64 x 100. Cells whose gates do a matmul of their own
(`GRU(reset_after=False)`) keep the autodiff: the backward scan would
compute it again.

The forward scan projects each step's inputs itself (`x_t W` inside the
loop), as the autodiff path does on a CPU (see `BaseRecurrent._loop`),
except at small batches (`inputs_projected_before_loop`).

The gates read the cell's variables (the peepholes) as arguments of the differentiated function, through a
`keras.StatelessScope`: a `jax.custom_vjp` function may not close over a
value being differentiated, and a scope of its own would otherwise hide the
values the surrounding (stateless) training step gives them. The gradients
of those that are trainable are summed step by step in the backward loop.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np


def _no_gradient(value):
    """The cotangent of an argument without a gradient (None stays None)."""
    if value is None:
        return None
    if not jnp.issubdtype(value.dtype, jnp.inexact):
        return np.zeros(value.shape, dtype=jax.dtypes.float0)
    return jnp.zeros_like(value)


def weight_gradients_after_loop(batch, additive_gates):
    """Whether the kernels' gradients are one matmul each after the backward
    loop, or summed step by step inside it, while each step's gradients are
    still in cache. After, for small batches (a product of a few rows per
    step reads and writes all of each gradient) and for additive gates (one
    stacked gradient to read back, `dp_t = da_t`); inside, for the GRU's
    two at larger batches (a training step at batch 64 x 100 steps took 115
    ms so, 123 ms after the loop; one run each)."""
    return additive_gates or _small(batch)


def inputs_projected_before_loop(batch, additive_gates):
    """Whether the forward scan reads `x_t W + b` of all steps, one matmul
    before the loop, rather than projecting each step's inputs itself. For
    the LSTM and SimpleRNN (additive gates) at batches under 16: that
    `(time, batch, width)` tensor is small enough to stay in cache, and each
    step no longer reads all of `W` for a few rows. A forward pass of the
    benchmark LSTM at batch 1 x 50 steps took 0.80-0.83x Keras's time so,
    0.88-1.00x step by step (three runs each); the GRU's took longer
    (0.94-0.97x against 0.79-0.83x). Larger batches project step by step,
    as `BaseRecurrent._loop` explains."""
    return additive_gates and _small(batch)


def _small(batch):
    """Whether a batch is under 16 rows; False for a symbolic size (a model
    exported for any batch), which may be any."""
    return isinstance(batch, int) and batch < 16


class JaxRecurrence:
    """Runs `gate_step` over time with the hand-written gradient.

    Args:
        gate_step: `(p_t, a_t, carry, step_mask, h_in) -> (new_carry, y_t)`,
            as `BaseRecurrent._gate_step`.
        return_sequences: Whether to stack the `y_t` into `(time, batch, ...)`.
        additive_gates: Whether `gate_step` sees `p_t` and `a_t` only through
            `p_t + a_t` (it then gets the sum and `a_t=None`).
        variables: The variables `gate_step` may read (the cell's).
    """

    def __init__(self, gate_step, return_sequences, additive_gates, variables):
        self.gate_step = gate_step
        self.variables = list(variables)
        self.return_sequences = return_sequences
        self.additive_gates = additive_gates

    def __call__(
        self,
        inputs,
        input_kernel,
        input_bias,
        kernel,
        carry,
        mask=None,
        recurrent_mask=None,
        gate_variables=(),
        recurrent_bias=None,
    ):
        """Runs the recurrence: the arguments of `TFRecurrence.__call__`
        (`keras_seq/layers/rnn/tf_recurrence.py`) but `save_for_backward`,
        with `gate_variables` those of `variables` whose gradient `gate_step`
        gives (the trainable ones it reads).

        Returns:
            `(final_carry, ys)`, `ys` `(time, batch, ...)` or None.
        """
        ids = [id(v) for v in gate_variables]
        gate_indices = tuple(i for i, v in enumerate(self.variables) if id(v) in ids)
        values = tuple(jnp.asarray(v.value) for v in self.variables)
        recurrence = self._recurrence(gate_indices)
        final, ys = recurrence(
            jnp.asarray(inputs),
            jnp.asarray(input_kernel),
            None if input_bias is None else jnp.asarray(input_bias),
            jnp.asarray(kernel),
            None if recurrent_bias is None else jnp.asarray(recurrent_bias),
            tuple(jnp.asarray(c) for c in carry),
            values,
            None if mask is None else jnp.asarray(mask),
            None if recurrent_mask is None else jnp.asarray(recurrent_mask),
        )
        return final, (ys if self.return_sequences else None)

    def _step(self, values, p, a, carry, step_mask, h_in):
        """`gate_step` reading the variables' `values`."""
        with keras.StatelessScope(state_mapping=list(zip(self.variables, values))):
            return self.gate_step(p, a, carry, step_mask, h_in)

    def _recurrence(self, gate_indices):
        additive = self.additive_gates
        sequences = self.return_sequences

        def h_in_of(h, recurrent_mask):
            return h if recurrent_mask is None else h * recurrent_mask

        def scan(args, save):
            (inputs, w, b, u, rb, carry, values, mask, recurrent_mask) = args

            hoisted = inputs_projected_before_loop(inputs.shape[1], additive)
            if hoisted:
                rows = inputs.shape[0] * inputs.shape[1]
                projected = (inputs.reshape(rows, -1) @ w).reshape(
                    *inputs.shape[:2], -1
                )
                if b is not None:
                    projected = projected + b
                inputs = projected

            def step(carry, xs):
                x_t, step_mask = xs
                h_in = h_in_of(carry[0], recurrent_mask)
                if hoisted:
                    p = x_t
                else:
                    p = x_t @ w
                    if b is not None:
                        p = p + b
                a = h_in @ u
                if rb is not None:
                    a = a + rb
                if additive:
                    p, a = p + a, None
                new_carry, y = self._step(values, p, a, carry, step_mask, h_in)
                saved = (carry, p, a) if save else None
                return tuple(new_carry), (y if sequences else None, saved)

            return jax.lax.scan(step, carry, (inputs, mask))

        @jax.custom_vjp
        def recurrence(*args):
            final, (ys, _) = scan(args, save=False)
            return final, ys

        def forward(*args):
            final, (ys, saved) = scan(args, save=True)
            return (final, ys), (args, saved)

        def backward(residuals, cotangents):
            args, (previous, p_all, a_all) = residuals
            (inputs, w, b, u, rb, _, values, mask, recurrent_mask) = args
            d_final, d_ys = cotangents
            gate_values = tuple(values[i] for i in gate_indices)

            def with_gates(gate_values):
                """`values`, those of the gates' trainable variables replaced."""
                replaced = list(values)
                for i, value in zip(gate_indices, gate_values):
                    replaced[i] = value
                return replaced

            u_t = u.T
            rows = inputs.shape[0] * inputs.shape[1]
            after_loop = weight_gradients_after_loop(inputs.shape[1], additive)

            def step(state, xs):
                d_carry, d_gates, d_kernels = state
                x_t, prev, p, a, step_mask, d_y = xs

                def gates(p, a, prev, gate_values):
                    h_in = h_in_of(prev[0], recurrent_mask)
                    new_carry, y = self._step(
                        with_gates(gate_values), p, a, prev, step_mask, h_in
                    )
                    return tuple(new_carry), y

                (_, y), vjp = jax.vjp(gates, p, a, prev, gate_values)
                seed_y = jnp.zeros_like(y) if d_y is None else d_y
                d_p, d_a, d_prev, d_values = vjp((d_carry, seed_y))
                if additive:
                    d_a = d_p
                h_in = h_in_of(prev[0], recurrent_mask)
                d_h = h_in_of(d_a @ u_t, recurrent_mask)
                d_prev = (d_prev[0] + d_h, *d_prev[1:])
                d_gates = tuple(t + g for t, g in zip(d_gates, d_values))
                if not after_loop:
                    d_w, d_u, *d_rb = d_kernels
                    d_kernels = (
                        d_w + x_t.T @ d_p,
                        d_u + h_in.T @ d_a,
                        *(total + d_a.sum(0) for total in d_rb),
                    )
                kept_a = d_a if after_loop and not additive else None
                return (d_prev, d_gates, d_kernels), (d_p, kept_a)

            zeros = tuple(jnp.zeros_like(v) for v in gate_values)
            d_kernels = ()
            if not after_loop:  # and so the gates are not additive
                d_kernels = (jnp.zeros_like(w), jnp.zeros_like(u))
                d_kernels += () if rb is None else (jnp.zeros_like(rb),)
            (d_carry, d_values, d_kernels), (d_p_all, d_a_all) = jax.lax.scan(
                step,
                (tuple(d_final), zeros, d_kernels),
                (inputs, previous, p_all, a_all, mask, d_ys if sequences else None),
                reverse=True,
            )
            d_p_flat = d_p_all.reshape(rows, -1)
            d_inputs = (d_p_flat @ w.T).reshape(inputs.shape)
            d_b = None if b is None else d_p_flat.sum(0)
            if additive:
                d_a_all = d_p_all
            if after_loop:
                d_a_flat = d_a_all.reshape(rows, -1)
                h_in_flat = h_in_of(previous[0], recurrent_mask).reshape(rows, -1)
                d_w = inputs.reshape(rows, -1).T @ d_p_flat
                d_u = h_in_flat.T @ d_a_flat
                d_rb = None if rb is None else d_a_flat.sum(0)
            else:
                d_w, d_u, *d_rb = d_kernels
                d_rb = d_rb[0] if d_rb else None
            d_all_values = [_no_gradient(v) for v in values]
            for i, d_value in zip(gate_indices, d_values):
                d_all_values[i] = d_value
            # No gradient for the masks (recurrent dropout's is random).
            return (
                d_inputs,
                d_w,
                d_b,
                d_u,
                d_rb,
                d_carry,
                tuple(d_all_values),
                _no_gradient(mask),
                _no_gradient(recurrent_mask),
            )

        recurrence.defvjp(forward, backward)
        return recurrence
