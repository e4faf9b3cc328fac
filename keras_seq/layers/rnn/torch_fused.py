"""PyTorch's own recurrent kernels behind keras_seq's layers on the PyTorch backend.

On the PyTorch backend `LSTM` hands the whole sequence to `torch.lstm`, the
kernel behind `torch.nn.LSTM` (oneDNN on a CPU, cuDNN on a GPU), as Keras
hands its layers to cuDNN on TensorFlow: the same function, PyTorch's gate
order is Keras's (input, forget, candidate, output), and autograd carries
the gradient back to the layer's variables. It runs where that kernel
computes what the layer would: tanh and sigmoid, no peepholes, no mask, no
recurrent dropout, float32, not unrolled; everything else goes through the
layer's own loop.
"""

import keras
from keras import ops


def lstm_applies(cell, sequences, mask, unroll):
    """Whether `torch.lstm` computes what `cell`'s loop would."""
    return (
        keras.backend.backend() == "torch"
        and mask is None
        and not unroll
        and not cell.use_peepholes
        and cell.activation is keras.activations.tanh
        and cell.recurrent_activation is keras.activations.sigmoid
        and keras.backend.standardize_dtype(sequences.dtype) == "float32"
    )


def on_gpu(tensor):
    """Whether a tensor of the PyTorch backend lives on a CUDA device."""
    return ops.convert_to_tensor(tensor).is_cuda


def lstm(sequences, h, c, kernel, recurrent_kernel, bias, go_backwards):
    """`(last_output, outputs, [h, c])` of an LSTM over `sequences`
    `(batch, time, features)` from states `h`, `c`, by `torch.lstm`."""
    import torch

    x = ops.convert_to_tensor(sequences)
    if go_backwards:
        x = torch.flip(x, (1,))
    params = [
        torch.transpose(ops.convert_to_tensor(kernel), 0, 1),
        torch.transpose(ops.convert_to_tensor(recurrent_kernel), 0, 1),
    ]
    if bias is not None:
        bias = ops.convert_to_tensor(bias)
        params += [bias, torch.zeros_like(bias)]
    h = ops.convert_to_tensor(h)
    c = ops.convert_to_tensor(c)
    outputs, h, c = torch.lstm(
        x,
        (h.unsqueeze(0), c.unsqueeze(0)),
        params,
        bias is not None,  # has_biases
        1,  # num_layers
        0.0,  # dropout (between layers)
        # Keeps what the backward pass needs only when a gradient may be taken.
        torch.is_grad_enabled(),
        False,  # bidirectional
        True,  # batch_first
    )
    h, c = h[0], c[0]
    return h, outputs, [h, c]
