"""PyTorch's own recurrent kernels behind keras_seq's layers on the PyTorch backend.

On the PyTorch backend `LSTM` hands the whole sequence to `torch.lstm`,
`GRU(reset_after=True)` to `torch.gru` and `SimpleRNN` (tanh) to
`torch.rnn_tanh`, the kernels behind `torch.nn.LSTM` / `GRU` / `RNN` (oneDNN
on a CPU, cuDNN on a GPU), as Keras hands its layers to cuDNN
on TensorFlow: the same functions, with the layer's variables as their
weights, and autograd carries the gradient back to those variables.
PyTorch's LSTM gate order is Keras's (input, forget, candidate, output);
its GRU's is reset, update, candidate where Keras's is update, reset,
candidate, so the first two blocks swap places. They run where the kernel
computes what the layer would: tanh and sigmoid, no peepholes, no mask, no
recurrent dropout, float32, not unrolled; everything else goes through the
layer's own loop.

The kernels read their weights as `(out, in)` matrices; the layer's kernels
are `(in, out)`. A transposed view is slower to read (at batch 1, a
forward pass takes nearly twice as long), so the weights are copied into
torch's layout: once per call while a gradient may be taken (the copy is
part of the graph), and kept between calls otherwise (`predict`, serving),
until a variable changes.
"""

import weakref

import keras
from keras import ops

# cell -> (the variables' storage and versions, the kernel's parameters):
# inference-time copies of the weights in torch's layout.
_KEPT = weakref.WeakKeyDictionary()


def _applies(cell, sequences, mask, unroll):
    return (
        keras.backend.backend() == "torch"
        and mask is None
        and not unroll
        and cell.activation is keras.activations.tanh
        and getattr(cell, "recurrent_activation", keras.activations.sigmoid)
        is keras.activations.sigmoid
        and keras.backend.standardize_dtype(sequences.dtype) == "float32"
    )


def simple_rnn_applies(cell, sequences, mask, unroll):
    """Whether `torch.rnn_tanh` computes what `cell`'s loop would."""
    return _applies(cell, sequences, mask, unroll)


def lstm_applies(cell, sequences, mask, unroll):
    """Whether `torch.lstm` computes what `cell`'s loop would."""
    return _applies(cell, sequences, mask, unroll) and not cell.use_peepholes


def gru_applies(cell, sequences, mask, unroll):
    """Whether `torch.gru` computes what `cell`'s loop would."""
    return _applies(cell, sequences, mask, unroll) and cell.reset_after


def on_gpu(tensor):
    """Whether a tensor of the PyTorch backend lives on a CUDA device."""
    return ops.convert_to_tensor(tensor).is_cuda


def fused_call(layer, kernel, sequences, initial_state, mask):
    """`(last_output, outputs, states)` of `layer` by the torch kernel
    `kernel` ("lstm", "gru", "simple_rnn"), or None where it does not
    compute what the layer's loop would. `use_cudnn=True` asks for cuDNN:
    the kernel on a GPU, not on a CPU."""
    applies = globals()[f"{kernel}_applies"]
    if not applies(layer.cell, sequences, mask, layer.unroll):
        return None
    if getattr(layer, "use_cudnn", None) is True and not on_gpu(sequences):
        return None
    return globals()[kernel](sequences, initial_state, layer.cell, layer.go_backwards)


def _parameters(cell, build):
    """`build()`, the kernel's weight list from the cell's variables; kept
    for the next call while no gradient is taken and no variable changes
    (an assignment bumps the tensor's `_version`)."""
    import torch

    if torch.is_grad_enabled():
        return build()
    values = [ops.convert_to_tensor(v.value) for v in cell.weights]
    key = tuple((v.data_ptr(), v._version, v.dtype) for v in values)
    kept = _KEPT.get(cell)
    if kept is not None and kept[0] == key:
        return kept[1]
    parameters = build()
    _KEPT[cell] = (key, parameters)
    return parameters


def _run(kernel, sequences, states, cell, go_backwards, build):
    """`kernel` (`torch.lstm` / `torch.gru` / `torch.rnn_tanh`) over
    `sequences` (batch first), one layer, one direction, from `states`:
    `(outputs, *states)`. `build()`: the cell's input and recurrent kernels
    `(out, in)`, then, if the cell has a bias, the input and recurrent bias
    vectors (`_parameters` keeps them between calls)."""
    import torch

    x = ops.convert_to_tensor(sequences)
    if go_backwards:
        x = torch.flip(x, (1,))
    states = tuple(ops.convert_to_tensor(s).unsqueeze(0) for s in states)
    return kernel(
        x,
        states if len(states) > 1 else states[0],
        _parameters(cell, build),
        cell.bias is not None,  # has_biases
        1,  # num_layers
        0.0,  # dropout (between layers)
        # Keeps what the backward pass needs only when a gradient may be taken.
        torch.is_grad_enabled(),
        False,  # bidirectional
        True,  # batch_first
    )


def _weights(cell, arrange=ops.convert_to_tensor):
    """The cell's kernels as torch's contiguous `(out, in)` weights, blocks
    `arrange`d."""
    import torch

    return [
        torch.transpose(arrange(cell.kernel), 0, 1).contiguous(),
        torch.transpose(arrange(cell.recurrent_kernel), 0, 1).contiguous(),
    ]


def _one_bias(bias):
    """A single bias vector as torch's input and (zero) recurrent biases
    (none without a bias)."""
    import torch

    if bias is None:
        return []
    bias = ops.convert_to_tensor(bias)
    return [bias, torch.zeros_like(bias)]


def lstm(sequences, states, cell, go_backwards):
    """`(last_output, outputs, [h, c])` of an LSTM over `sequences`
    `(batch, time, features)` from states `[h, c]`, by `torch.lstm`."""
    import torch

    outputs, h, c = _run(
        torch.lstm,
        sequences,
        states,
        cell,
        go_backwards,
        lambda: _weights(cell) + _one_bias(cell._input_bias()),
    )
    return h[0], outputs, [h[0], c[0]]


def _reset_first(weights):
    """Keras's GRU blocks `[update | reset | candidate]` along the last axis
    as PyTorch's `[reset | update | candidate]`."""
    import torch

    update, reset, candidate = torch.chunk(ops.convert_to_tensor(weights), 3, dim=-1)
    return torch.cat([reset, update, candidate], dim=-1)


def gru(sequences, states, cell, go_backwards):
    """`(last_output, outputs, [h])` of a `reset_after=True` GRU over
    `sequences` `(batch, time, features)` from states `[h]`, by `torch.gru`;
    the cell's bias `(2, 3 * units)` holds the input and recurrent rows."""
    import torch

    outputs, h = _run(
        torch.gru,
        sequences,
        states,
        cell,
        go_backwards,
        lambda: (
            _weights(cell, _reset_first)
            + ([] if cell.bias is None else list(_reset_first(cell.bias)))
        ),
    )
    return h[0], outputs, [h[0]]


def simple_rnn(sequences, states, cell, go_backwards):
    """`(last_output, outputs, [h])` of a tanh SimpleRNN over `sequences`
    `(batch, time, features)` from states `[h]`, by `torch.rnn_tanh`."""
    import torch

    outputs, h = _run(
        torch.rnn_tanh,
        sequences,
        states,
        cell,
        go_backwards,
        lambda: _weights(cell) + _one_bias(cell.bias),
    )
    return h[0], outputs, [h[0]]
