import keras

from keras_seq.layers.rnn import torch_fused
from keras_seq.layers.rnn.base_recurrent import BaseRecurrent
from keras_seq.layers.rnn.peephole_lstm_cell import PeepholeLSTMCell


@keras.saving.register_keras_serializable(package="keras_seq")
class LSTM(BaseRecurrent):
    """Fast LSTM layer, with optional peephole connections.

    The equations are those of `keras_seq.layers.PeepholeLSTMCell`. With
    `use_peepholes=False` (the default) this is `keras.layers.LSTM` with the same
    arguments and weight layout. How the loop runs: docs/layers.md. On
    TensorFlow on a CPU it is a C++ op whose threads split each step by
    units (sigmoid / tanh, float32, no mask, no recurrent dropout:
    `keras_seq.layers.rnn.native_rnn`), else a loop compiled with XLA. On
    TensorFlow with a GPU and a cuDNN-compatible configuration (no
    peepholes, tanh / sigmoid, bias, no recurrent dropout, not unrolled,
    right-padded mask) it runs Keras's fused cuDNN kernel instead;
    on PyTorch (no peepholes, tanh / sigmoid, no mask, float32, not unrolled)
    `torch.lstm`, the kernel of `torch.nn.LSTM`, on a CPU or a GPU.

    Args:
        units: Positive integer, size of `h` and `c`.
        use_peepholes: Add the diagonal peephole terms. Default False.
        activation: As `keras_seq.layers.PeepholeLSTMCell`.
        recurrent_activation: As `keras_seq.layers.PeepholeLSTMCell`.
        use_bias: As `keras_seq.layers.PeepholeLSTMCell`.
        kernel_initializer: As `keras_seq.layers.PeepholeLSTMCell`.
        recurrent_initializer: As `keras_seq.layers.PeepholeLSTMCell`.
        bias_initializer: As `keras_seq.layers.PeepholeLSTMCell`.
        peephole_initializer: As `keras_seq.layers.PeepholeLSTMCell`.
        unit_forget_bias: As `keras_seq.layers.PeepholeLSTMCell`.
        use_recurrent_bias: As `keras_seq.layers.PeepholeLSTMCell`.
        kernel_regularizer: As `keras_seq.layers.PeepholeLSTMCell`.
        recurrent_regularizer: As `keras_seq.layers.PeepholeLSTMCell`.
        bias_regularizer: As `keras_seq.layers.PeepholeLSTMCell`.
        peephole_regularizer: As `keras_seq.layers.PeepholeLSTMCell`.
        kernel_constraint: As `keras_seq.layers.PeepholeLSTMCell`.
        recurrent_constraint: As `keras_seq.layers.PeepholeLSTMCell`.
        bias_constraint: As `keras_seq.layers.PeepholeLSTMCell`.
        peephole_constraint: As `keras_seq.layers.PeepholeLSTMCell`.
        dropout: As `keras_seq.layers.PeepholeLSTMCell`.
        recurrent_dropout: As `keras_seq.layers.PeepholeLSTMCell`.
        seed: As `keras_seq.layers.PeepholeLSTMCell`.
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
            the PyTorch backend the fused kernel is `torch.lstm`, that of
            `torch.nn.LSTM` (oneDNN on a CPU, cuDNN on a GPU), for tanh /
            sigmoid, no peepholes, no mask, float32, not unrolled
            (`keras_seq.layers.rnn.torch_fused`); True asks for it on a GPU.
        jit_compile: TensorFlow only: compile the time loops with XLA (True),
            not (False), or as measured fastest ("auto", default: on a CPU
            the C++ op of `keras_seq.layers.rnn.native_rnn` where it
            applies, else XLA).

    Call arguments:
        sequences: `(batch, time, features)` float tensor.
        initial_state: Optional list of `[h, c]`.
        mask: Optional `(batch, time)` boolean tensor, `True` for real steps.
            Masked steps carry the state unchanged; any pattern (right, left
            padding, holes) is allowed. Propagated when `return_sequences`.
        training: Whether dropout is active.

    Returns:
        `(batch, units)` (or `(batch, time, units)` with `return_sequences`),
        followed by the final `[h, c]` when `return_state`.

    Example:

    >>> import numpy as np
    >>> from keras_seq.layers import LSTM
    >>> layer = LSTM(8, use_peepholes=True, return_state=True)
    >>> output, h, c = layer(np.ones((2, 5, 3), "float32"))
    >>> tuple(output.shape), tuple(c.shape)
    ((2, 8), (2, 8))

    References:
        Hochreiter & Schmidhuber, "Long short-term memory", 1997.
        Gers & Schmidhuber, "Recurrent nets that time and count", IJCNN 2000.
    """

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        use_peepholes=False,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        peephole_initializer="glorot_uniform",
        unit_forget_bias=True,
        use_recurrent_bias=False,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        peephole_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        peephole_constraint=None,
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
        cell = PeepholeLSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            use_peepholes=use_peepholes,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            peephole_initializer=peephole_initializer,
            unit_forget_bias=unit_forget_bias,
            use_recurrent_bias=use_recurrent_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            peephole_regularizer=peephole_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            peephole_constraint=peephole_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name="peephole_lstm_cell",
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
        fused = torch_fused.fused_call(self, "lstm", sequences, initial_state, mask)
        if fused is not None:
            return fused
        if keras.backend.backend() != "tensorflow" or cell.use_peepholes or self.unroll:
            return None
        from keras_seq.utils.compat import fused_lstm

        try:
            last_output, outputs, states = fused_lstm(
                sequences,
                initial_state[0],
                initial_state[1],
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell._input_bias(),
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=self.go_backwards,
            )
        except NotImplementedError:
            return None
        # cuDNN ops are not XLA-compatible (as in keras.layers.LSTM).
        self.supports_jit = False
        return last_output, outputs, list(states)
