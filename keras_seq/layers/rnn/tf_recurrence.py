"""The TensorFlow recurrence: XLA-compiled loops and a batched weight gradient.

Two things make the recurrent layers fast on TensorFlow without a cuDNN kernel:

1. The forward and the backward loop are each one `tf.function` compiled with
   XLA (`jit_compile=True`), whether or not the surrounding model is. Keras
   compiles `fit` with XLA only on GPUs (`jit_compile="auto"` is off on a CPU),
   and a while loop run op by op by the TensorFlow executor spends most of its
   time dispatching the ~20 small elementwise ops of each step; XLA fuses them.
2. The gradient is written by hand around the loop (`tf.custom_gradient`).
   Autodiff of `h_t = g(x_t W + b, h_{t-1} U, ...)` does four small matmuls
   per step backwards: `dp_t W^T`, `x_t^T dp_t`, `da_t U^T` and
   `h_{t-1}^T da_t`. Only `da_t U^T` must be in the loop (it feeds the previous
   step). Here the backward loop differentiates the elementwise `g` (a
   `GradientTape` of one step), does `da_t U^T` and adds `h_{t-1}^T da_t` and
   `x_t^T dp_t` to `dU` and `dW` while `da_t`, `dp_t` are still in cache; it
   writes `dp_t` out, and `dX = DP W^T` is one large matmul over all
   `time * batch` rows after the loop, dropped by graph pruning when the inputs
   need no gradient (a first layer). Summing `dU` and `dW` after the loop
   instead, as one `(features, T*B) @ (T*B, width)` matmul each, made the
   benchmark SimpleRNN's training step ~10 % slower: those matmuls read 6.5 MB
   intermediates back from memory.

The forward loop computes `x_t W` step by step rather than hoisting it into one
`(time * batch, gates * units)` matmul before the loop: on a CPU that large
intermediate does not stay in cache, and reading it back step by step cost more
(7 ms of 24 ms for the benchmark LSTM under XLA) than the small matmuls it saves.
For cells whose gates see only `p_t + a_t` (`additive_gates`: SimpleRNN, LSTM)
the loop saves that sum once and `dp_t = da_t`.

Gates that read layer variables (peepholes, the GRU recurrent bias, the GRU
`U_h` with `reset_after=False`) get their gradients from the per-step tape,
summed over the steps.
"""

import tensorflow as tf

from keras_seq.utils.compat import tape_record

# TensorFlow's tape API has no public "is a tape recording" / "stop all tapes".
record = tape_record()


def gradient_may_be_taken():
    """Whether a gradient tape is recording (if False, the loop saves nothing).

    A gradient asked for later all the same (e.g. of a traced function) is
    still right: the backward pass then runs the forward loop again first.
    """
    return bool(record.could_possibly_record())


def _array(x, keep=True):
    """A TensorArray holding the rows of `x`."""
    return tf.TensorArray(
        x.dtype,
        size=tf.shape(x)[0],
        element_shape=x.shape[1:],
        clear_after_read=not keep,
    ).unstack(x)


def _empty(dtype, shape, steps):
    return tf.TensorArray(dtype, size=steps, element_shape=shape)


def _zeros_if_none(gradient, source):
    return tf.zeros_like(source) if gradient is None else gradient


def _flat(x):
    return tf.reshape(x, (-1, x.shape[-1]))


class _Rows:
    """`x[t]` as `read(t)`: a TensorArray's reads, without one."""

    def __init__(self, x):
        self.x = x

    def read(self, t):
        return self.x[t]


def _invariants(carry, saved, pre_gates):
    """The loop's shape invariants when the outputs grow by concatenation."""
    y = carry[-1]
    return (
        tf.TensorShape([]),
        tuple(c.shape for c in carry),
        tuple(tf.TensorShape(None) for _ in saved),
        tuple(tf.TensorShape(None) for _ in pre_gates),
        tf.TensorShape([None, *y.shape]),
    )


class TFRecurrence:
    """The compiled forward and backward loops of one recurrent layer.

    Args:
        gate_step: `(p_t, a_t, carry, mask_t, h_in) -> (carry, y_t)`, the step
            after the input projection `p_t = x_t @ input_kernel + input_bias`
            and the recurrent matmul `a_t = h_in @ kernel`, where
            `h_in = carry[0] * recurrent_mask`. It may read layer variables.
        return_sequences: Whether to return the stacked `y_t`.
        additive_gates: Whether `gate_step` sees `p_t` and `a_t` only through
            `p_t + a_t`.
        jit_compile: Whether to compile the loops with XLA.
        tensor_arrays: Whether the forward loop reads `x_t` from and writes
            `y_t` to TensorArrays. False (for export to LiteRT, which lowers
            TensorArrays only at a fixed batch size): it slices the inputs
            and concatenates the outputs (O(time^2) copies).

    The instance keeps its `tf.function`s, so a layer traces (and XLA
    compiles) each loop once per input signature, not once per call.
    """

    def __init__(
        self,
        gate_step,
        return_sequences,
        additive_gates,
        jit_compile,
        tensor_arrays=True,
    ):
        self.gate_step = gate_step
        self.tensor_arrays = tensor_arrays
        self.return_sequences = return_sequences
        self.additive_gates = additive_gates
        self.num_pre_gates = 1 if additive_gates else 2
        options = {
            "jit_compile": jit_compile,
            "autograph": False,
            "reduce_retracing": True,
        }
        self._forward = tf.function(self._forward_loop, **options)
        self._backward = {}
        self._options = options

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
        save_for_backward=True,
        recurrent_bias=None,
    ):
        """Runs the recurrence.

        Args:
            inputs: `(time, batch, input_dim)` inputs.
            input_kernel: `(input_dim, width)` input kernel.
            input_bias: `(width,)` bias added to `p_t`, or None.
            kernel: `(units, width)` recurrent kernel.
            carry: Tuple of `(batch, ...)` tensors; `carry[0]` is `h`.
            mask: Optional `(time, batch)` boolean tensor.
            recurrent_mask: Optional `(batch, units)` recurrent dropout mask.
            gate_variables: The variables `gate_step` reads.
            save_for_backward: Whether the forward loop keeps what the backward
                loop reads. Without it, a gradient (if one is asked for after
                all) runs the forward loop again.
            recurrent_bias: Optional `(width,)` bias added to `a_t`; its
                gradient is one sum over all steps, outside the loop.

        Returns:
            `(final_carry, ys)`, `ys` `(time, batch, ...)` or None.
        """
        if input_bias is None:
            input_bias = tf.zeros((input_kernel.shape[-1],), inputs.dtype)
        num_carry = len(carry)
        biased = recurrent_bias is not None
        extra = (tf.convert_to_tensor(recurrent_bias),) if biased else ()

        @tf.custom_gradient
        def recurrence(inputs, input_kernel, input_bias, kernel, *rest):
            recurrent_bias = rest[0] if biased else None
            carry = rest[1:] if biased else rest
            args = (
                inputs,
                input_kernel,
                input_bias,
                kernel,
                recurrent_bias,
                carry,
                mask,
                recurrent_mask,
            )
            # The tape must not differentiate the compiled loop itself (its
            # TensorArrays cannot leave XLA); `grad` below is the gradient.
            # Stopped, it would not see the variables the gates read either:
            # read them here so that `grad` receives them.
            for variable in gate_variables:
                tf.convert_to_tensor(variable)
            with record.stop_recording():
                final, outputs, saved = self._forward(*args, save=save_for_backward)
            results = (*final, outputs) if self.return_sequences else tuple(final)

            def grad(*upstream, variables=None):
                variables = list(variables or [])
                nonlocal saved
                if not save_for_backward:
                    with record.stop_recording():
                        saved = self._forward(*args, save=True)[2]
                upstream = [
                    tf.zeros_like(r) if u is None else u
                    for u, r in zip(upstream, results)
                ]
                d_outputs = upstream[-1] if self.return_sequences else None
                backward = self._backward_for(variables)
                # Not under `stop_recording`: the loop has a tape of its own.
                d_projected, d_carry, d_weights, d_variables = backward(
                    inputs,
                    input_kernel,
                    kernel,
                    saved,
                    tuple(upstream[:num_carry]),
                    d_outputs,
                    mask,
                    recurrent_mask,
                )
                # Outside the compiled loop, graph pruning drops `d_inputs`
                # when the inputs need no gradient (a first layer).
                d_inputs = tf.reshape(
                    tf.matmul(_flat(d_projected), input_kernel, transpose_b=True),
                    tf.shape(inputs),
                )
                d_input_kernel, d_input_bias, d_kernel, d_recurrent_bias = d_weights
                input_grads = (
                    d_inputs,
                    d_input_kernel,
                    d_input_bias,
                    d_kernel,
                    *([d_recurrent_bias] if biased else []),
                    *d_carry,
                )
                if variables:
                    return input_grads, list(d_variables)
                return input_grads

            return results, grad

        results = recurrence(
            inputs,
            tf.convert_to_tensor(input_kernel),
            tf.convert_to_tensor(input_bias),
            tf.convert_to_tensor(kernel),
            *extra,
            *carry,
        )
        if self.return_sequences:
            return tuple(results[:-1]), results[-1]
        return tuple(results), None

    def _forward_loop(
        self,
        inputs,
        input_kernel,
        input_bias,
        kernel,
        recurrent_bias,
        carry,
        mask,
        recurrent_mask,
        save,
    ):
        steps = tf.shape(inputs)[0]
        if self.tensor_arrays:
            inputs_t = _array(inputs, keep=False)
            mask_t = None if mask is None else _array(mask, keep=False)
        else:
            inputs_t = _Rows(inputs)
            mask_t = None if mask is None else _Rows(mask)
        widths = [(inputs.shape[1], input_kernel.shape[-1])]
        widths.append((inputs.shape[1], kernel.shape[-1]))

        def body(t, carry, saved, pre_gates, *outputs):
            h_in = carry[0] if recurrent_mask is None else carry[0] * recurrent_mask
            p = tf.matmul(inputs_t.read(t), input_kernel) + input_bias
            a = tf.matmul(h_in, kernel)
            if recurrent_bias is not None:
                a = a + recurrent_bias
            step_mask = None if mask_t is None else mask_t.read(t)
            if self.additive_gates:
                # The gates take the sum as `projected` and `recurrent=None`.
                p, a = p + a, None
            new_carry, y = self.gate_step(p, a, carry, step_mask, h_in)
            if save:
                saved = tuple(array.write(t, c) for array, c in zip(saved, carry))
                if self.additive_gates:
                    pre_gates = (pre_gates[0].write(t, p),)
                else:
                    pre_gates = (pre_gates[0].write(t, p), pre_gates[1].write(t, a))
            if self.return_sequences and self.tensor_arrays:
                outputs = (outputs[0].write(t, y),)
            elif self.return_sequences:
                outputs = (tf.concat([outputs[0], y[None]], 0),)
            return t + 1, tuple(new_carry), saved, pre_gates, *outputs

        saved = pre_gates = ()
        if save:
            saved = tuple(_empty(c.dtype, c.shape, steps) for c in carry)
            pre_gates = tuple(
                _empty(inputs.dtype, widths[i], steps)
                for i in range(self.num_pre_gates)
            )
        # Only a loop that returns the sequence carries an output array: an
        # array nothing writes breaks ONNX's loop conversion (tf2onnx).
        outputs = invariants = ()
        if self.return_sequences and self.tensor_arrays:
            outputs = (_empty(carry[-1].dtype, carry[-1].shape, steps),)
        elif self.return_sequences:
            y = carry[-1]
            outputs = (tf.zeros(tf.concat([[0], tf.shape(y)], 0), y.dtype),)
            invariants = {"shape_invariants": _invariants(carry, saved, pre_gates)}
        _, final, saved, pre_gates, *outputs = tf.while_loop(
            lambda t, *_: t < steps,
            body,
            (tf.constant(0), tuple(carry), saved, pre_gates, *outputs),
            # Without a bound when exporting: tf2onnx types a constant one
            # (a known number of steps) int64 against the int32 counter.
            maximum_iterations=steps if self.tensor_arrays else None,
            **dict(invariants),
        )
        if self.return_sequences:
            outputs = outputs[0].stack() if self.tensor_arrays else outputs[0]
        else:
            outputs = None
        saved = tuple(array.stack() for array in saved + pre_gates) if save else None
        return final, outputs, saved

    def _backward_for(self, variables):
        # One compiled backward loop per set of variables the gates read.
        key = tuple(id(v) for v in variables)
        if key not in self._backward:

            def backward(*args):
                return self._backward_loop(variables, *args)

            self._backward[key] = tf.function(backward, **self._options)
        return self._backward[key]

    def _backward_loop(
        self,
        variables,
        inputs,
        input_kernel,
        kernel,
        saved,
        d_carry,
        d_outputs,
        mask,
        recurrent_mask,
    ):
        num_carry = len(d_carry)
        additive = self.additive_gates
        steps = tf.shape(inputs)[0]
        # Transposed once, not in every step's matmul (~10 % of the loop).
        kernel_t = tf.transpose(kernel)
        previous_t = tuple(_array(s) for s in saved[:num_carry])
        pre_gates_t = tuple(_array(s) for s in saved[num_carry:])
        mask_t = None if mask is None else _array(mask)
        d_outputs_t = None if d_outputs is None else _array(d_outputs, keep=False)
        inputs_t = _array(inputs, keep=False)

        def h_in_of(h):
            return h if recurrent_mask is None else h * recurrent_mask

        def body(t, d_carry, d_weights, d_variables, d_projected):
            previous = tuple(array.read(t) for array in previous_t)
            if additive:
                watched = [pre_gates_t[0].read(t), None]
            else:
                watched = [pre_gates_t[0].read(t), pre_gates_t[1].read(t)]
            step_mask = None if mask_t is None else mask_t.read(t)
            with tf.GradientTape() as tape:
                tape.watch([*watched[: self.num_pre_gates], *previous])
                h_in = h_in_of(previous[0])
                new_carry, y = self.gate_step(*watched, previous, step_mask, h_in)
            targets, seeds = list(new_carry), list(d_carry)
            if d_outputs_t is not None:
                targets.append(y)
                seeds.append(d_outputs_t.read(t))
            sources = watched[: self.num_pre_gates] + [*previous, *variables]
            grads = tape.gradient(
                targets,
                sources,
                output_gradients=seeds,
            )
            # None (not a zeros tensor and an add) where nothing depends on
            # a source, e.g. `h_{t-1}` outside the recurrent matmul.
            d_p = _zeros_if_none(grads[0], watched[0])
            d_a = d_p if additive else _zeros_if_none(grads[1], watched[1])
            rest = grads[self.num_pre_gates :]
            d_h = h_in_of(tf.matmul(d_a, kernel_t))
            d_previous = [d_h if rest[0] is None else d_h + rest[0]] + [
                _zeros_if_none(g, c) for g, c in zip(rest[1:num_carry], previous[1:])
            ]
            d_variables = tuple(
                total if g is None else total + g
                for total, g in zip(d_variables, rest[num_carry:])
            )
            d_input_kernel, d_input_bias, d_kernel, d_recurrent_bias = d_weights
            d_weights = (
                d_input_kernel + tf.matmul(inputs_t.read(t), d_p, transpose_a=True),
                d_input_bias + tf.reduce_sum(d_p, axis=0),
                d_kernel + tf.matmul(h_in, d_a, transpose_a=True),
                d_recurrent_bias + tf.reduce_sum(d_a, axis=0),
            )
            d_projected = d_projected.write(t, d_p)
            return t - 1, tuple(d_previous), d_weights, d_variables, d_projected

        d_weights = (
            tf.zeros_like(input_kernel),
            tf.zeros_like(input_kernel[0]),
            tf.zeros_like(kernel),
            tf.zeros_like(kernel[0]),
        )
        _, d_carry, d_weights, d_variables, d_projected = tf.while_loop(
            lambda t, *_: t >= 0,
            body,
            (
                steps - 1,
                tuple(d_carry),
                d_weights,
                tuple(tf.zeros_like(v) for v in variables),
                _empty(inputs.dtype, (inputs.shape[1], input_kernel.shape[-1]), steps),
            ),
            maximum_iterations=steps,
        )
        return d_projected.stack(), d_carry, d_weights, d_variables
