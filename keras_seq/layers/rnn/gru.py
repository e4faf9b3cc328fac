import keras

from keras_seq.layers.rnn import torch_fused
from keras_seq.layers.rnn.base_recurrent import BaseRecurrent
from keras_seq.layers.rnn.gru_cell import GRUCell


@keras.saving.register_keras_serializable(package="keras_seq")
class GRU(BaseRecurrent):
    """Fast GRU layer with the reset gate before or after the recurrent matmul.

    The equations are those of `keras_seq.layers.GRUCell`; this is a drop-in for
    `keras.layers.GRU` (same arguments and weight layout for both values of
    `reset_after`). How the loop runs: docs/layers.md. On TensorFlow on a
    CPU, `reset_after=True` runs a C++ op whose threads split each step by
    units (sigmoid / tanh, float32, no mask, no recurrent dropout:
    `keras_seq.layers.rnn.native_rnn`), else a loop compiled with XLA. On
    TensorFlow with a GPU and a cuDNN-compatible configuration
    (`reset_after=True`, tanh / sigmoid, bias, no recurrent dropout, not
    unrolled, right-padded mask) it runs Keras's fused cuDNN kernel instead;
    on PyTorch (`reset_after=True`, tanh / sigmoid, no mask, float32, not
    unrolled) `torch.gru`, the kernel of `torch.nn.GRU`, on a CPU or a GPU.

    Args:
        units: Positive integer, size of the state.
        reset_after: `True` (default, cuDNN / PyTorch / Keras):
            `tanh(x W_h + r * (h U_h + b_rh))`; `False` (Cho et al. 2014):
            `tanh(x W_h + (r * h) U_h + b_h)`.
        activation: As `keras_seq.layers.GRUCell`.
        recurrent_activation: As `keras_seq.layers.GRUCell`.
        use_bias: As `keras_seq.layers.GRUCell`.
        kernel_initializer: As `keras_seq.layers.GRUCell`.
        recurrent_initializer: As `keras_seq.layers.GRUCell`.
        bias_initializer: As `keras_seq.layers.GRUCell`.
        kernel_regularizer: As `keras_seq.layers.GRUCell`.
        recurrent_regularizer: As `keras_seq.layers.GRUCell`.
        bias_regularizer: As `keras_seq.layers.GRUCell`.
        kernel_constraint: As `keras_seq.layers.GRUCell`.
        recurrent_constraint: As `keras_seq.layers.GRUCell`.
        bias_constraint: As `keras_seq.layers.GRUCell`.
        dropout: As `keras_seq.layers.GRUCell`.
        recurrent_dropout: As `keras_seq.layers.GRUCell`.
        seed: As `keras_seq.layers.GRUCell`.
        return_sequences: Return the whole output sequence
            `(batch, time, units)` instead of the last output. Default False.
        return_state: Also return the final states. Default False.
        go_backwards: Process the sequence backwards and return the reversed
            output sequence (as Keras). Default False.
        stateful: Carry the last state of batch `i` over to batch `i` of the
            next call; needs a static batch size. Under a `tf.distribute`
            strategy, give the per-replica batch size: each replica carries
            the state of the rows it is fed. Default False.
        unroll: Unroll the time loop in Python (short sequences only).
            Default False.
        zero_output_for_mask: Output zeros (instead of the previous output) at
            masked steps. Default False, as Keras.
        use_cudnn: `"auto"` (default) runs the fused cuDNN kernel when the
            configuration allows it (see above), False never, True always
            (a `ValueError` at the call where it cannot run), as Keras. On
            the PyTorch backend the fused kernel is `torch.gru`, that of
            `torch.nn.GRU` (`keras_seq.layers.rnn.torch_fused`); True asks
            for it on a GPU.
        jit_compile: TensorFlow only: compile the time loops with XLA (True),
            not (False), or as measured fastest ("auto", default: on a CPU
            the C++ op of `keras_seq.layers.rnn.native_rnn` where it
            applies, else XLA).

    Call arguments:
        sequences: `(batch, time, features)` float tensor.
        initial_state: Optional list of `[h]`.
        mask: Optional `(batch, time)` boolean tensor, `True` for real steps.
            Masked steps carry the state unchanged; any pattern (right, left
            padding, holes) is allowed. Propagated when `return_sequences`.
        training: Whether dropout is active.

    Returns:
        `(batch, units)` (or `(batch, time, units)` with `return_sequences`),
        followed by the final `[h]` when `return_state`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import GRU
    >>> layer = GRU(8, reset_after=False, return_sequences=True)
    >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 8)

    References:
        Cho et al., "Learning phrase representations using RNN encoder-decoder
        for statistical machine translation", EMNLP 2014.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        reset_after=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        use_cudnn="auto",
        jit_compile="auto",
        **kwargs,
    ):
        cell = GRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            reset_after=reset_after,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="gru_cell",
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            use_cudnn=use_cudnn,
            jit_compile=jit_compile,
            **kwargs,
        )

    def _fused_call(self, sequences, initial_state, mask):
        cell = self.cell
        fused = torch_fused.fused_call(self, "gru", sequences, initial_state, mask)
        if fused is not None:
            return fused
        if (
            keras.backend.backend() != "tensorflow"
            or not cell.reset_after
            or self.unroll
        ):
            return None
        from keras_seq.utils.compat import fused_gru

        try:
            last_output, outputs, states = fused_gru(
                sequences,
                initial_state[0],
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell.bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
                reset_after=True,
            )
        except NotImplementedError:
            return None
        self.supports_jit = False
        return last_output, outputs, list(states)
