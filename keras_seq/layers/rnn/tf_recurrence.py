"""A TensorFlow recurrence whose backward pass batches the weight gradient.

Autodiff of a `tf.while_loop` over `h_t = g(p_t, h_{t-1} U, ...)` does two
small matmuls per step in the backward pass: `da_t U^T` (needed, it feeds the
previous step) and `h_{t-1}^T da_t` accumulated into `dU`. The second one does
not need to be in the loop: here the backward loop only differentiates the
elementwise `g` and does `da_t U^T`, writing `da_t` out, and `dU = H^T DA` is
one large matmul over all `time * batch` rows afterwards, as cuDNN does. On a
CPU a `(64, 256) @ (256, 1024)` matmul runs about 4x below the throughput of
the large one.
"""

import tensorflow as tf


# The forward arrays are read again by the backward loop: keep their elements.
def _array(x):
    return tf.TensorArray(
        x.dtype,
        size=tf.shape(x)[0],
        element_shape=x.shape[1:],
        clear_after_read=False,
    )


def _empty_like(x, steps):
    return tf.TensorArray(
        x.dtype, size=steps, element_shape=x.shape, clear_after_read=False
    )


def tf_recurrence(
    gate_step, projected, kernel, carry, mask, recurrent_mask, return_sequences
):
    """Runs the recurrence; its gradient batches `d kernel` after the loop.

    Args:
        gate_step: `(p_t, a_t, carry, mask_t, h_in) -> (carry, y_t)`, the step
            after the recurrent matmul `a_t = h_in @ kernel`, where
            `h_in = carry[0] * recurrent_mask`. Elementwise in `a_t`; it may
            read (and is differentiated with respect to) layer variables.
        projected: `(time, batch, gates * units)` projected inputs.
        kernel: `(units, gates * units)` recurrent kernel (a tensor).
        carry: Tuple of `(batch, ...)` tensors; `carry[0]` is `h`.
        mask: Optional `(time, batch)` boolean tensor.
        recurrent_mask: Optional `(batch, units)` recurrent dropout mask.
        return_sequences: Whether to return the stacked `y_t`.

    Returns:
        `(final_carry, ys)`, `ys` `(time, batch, ...)` or None.
    """
    num_carry = len(carry)

    def h_in_of(h):
        return h if recurrent_mask is None else h * recurrent_mask

    @tf.custom_gradient
    def run(projected, kernel, *carry):
        steps = tf.shape(projected)[0]
        projected_t = _array(projected).unstack(projected)
        mask_t = None if mask is None else _array(mask).unstack(mask)

        def read_mask(t):
            return None if mask_t is None else mask_t.read(t)

        def body(t, carry, saved, recurrent, outputs):
            h_in = h_in_of(carry[0])
            a = tf.matmul(h_in, kernel)
            new_carry, y = gate_step(projected_t.read(t), a, carry, read_mask(t), h_in)
            saved = tuple(array.write(t, c) for array, c in zip(saved, carry))
            if return_sequences:
                outputs = outputs.write(t, y)
            return t + 1, tuple(new_carry), saved, recurrent.write(t, a), outputs

        _, final, saved, recurrent, outputs = tf.while_loop(
            lambda t, *_: t < steps,
            body,
            (
                tf.constant(0),
                tuple(carry),
                tuple(_empty_like(c, steps) for c in carry),
                _empty_like(projected[0], steps),
                _empty_like(carry[-1], steps),
            ),
            maximum_iterations=steps,
        )
        results = (*final, outputs.stack()) if return_sequences else final

        def grad(*upstream, variables=None):
            variables = list(variables or [])
            upstream = [
                tf.zeros_like(r) if u is None else u for u, r in zip(upstream, results)
            ]
            d_outputs = None
            if return_sequences:
                d_outputs = _array(upstream[-1]).unstack(upstream[-1])

            def backward(t, d_carry, d_variables, d_projected, d_recurrent):
                previous = tuple(array.read(t) for array in saved)
                p_t, a_t = projected_t.read(t), recurrent.read(t)
                with tf.GradientTape() as tape:
                    tape.watch([p_t, a_t, *previous])
                    new_carry, y = gate_step(
                        p_t, a_t, previous, read_mask(t), h_in_of(previous[0])
                    )
                targets, seeds = list(new_carry), list(d_carry)
                if return_sequences:
                    targets.append(y)
                    seeds.append(d_outputs.read(t))
                grads = tape.gradient(
                    targets,
                    [p_t, a_t, *previous, *variables],
                    output_gradients=seeds,
                    unconnected_gradients=tf.UnconnectedGradients.ZERO,
                )
                d_p, d_a = grads[0], grads[1]
                d_previous = list(grads[2 : 2 + num_carry])
                d_previous[0] += h_in_of(tf.matmul(d_a, kernel, transpose_b=True))
                d_variables = tuple(
                    total + g for total, g in zip(d_variables, grads[2 + num_carry :])
                )
                return (
                    t - 1,
                    tuple(d_previous),
                    d_variables,
                    d_projected.write(t, d_p),
                    d_recurrent.write(t, d_a),
                )

            _, d_carry, d_variables, d_projected, d_recurrent = tf.while_loop(
                lambda t, *_: t >= 0,
                backward,
                (
                    steps - 1,
                    tuple(upstream[:num_carry]),
                    tuple(tf.zeros_like(v) for v in variables),
                    _empty_like(projected[0], steps),
                    _empty_like(projected[0], steps),
                ),
                maximum_iterations=steps,
            )
            # dU = sum_t h_in_t^T da_t as one (units, T*B) @ (T*B, gates*units).
            h_in_all = h_in_of(saved[0].stack())
            d_kernel = tf.matmul(
                tf.reshape(h_in_all, (-1, kernel.shape[0])),
                tf.reshape(d_recurrent.stack(), (-1, kernel.shape[1])),
                transpose_a=True,
            )
            input_grads = (d_projected.stack(), d_kernel, *d_carry)
            if variables:
                return input_grads, list(d_variables)
            return input_grads

        return results, grad

    results = run(projected, tf.convert_to_tensor(kernel), *carry)
    if return_sequences:
        return tuple(results[:-1]), results[-1]
    return tuple(results), None
