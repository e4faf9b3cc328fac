"""`LSTM` on the PyTorch backend through `torch.lstm` (the kernel of
`torch.nn.LSTM`): outputs, states and every gradient equal the layer's own
loop, and the loop runs wherever that kernel would compute something else."""

import keras
import numpy as np
import pytest

from keras_seq.layers import LSTM
from keras_seq.layers.rnn import torch_fused

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch backend's kernels"
)


def outputs_and_gradients(layer, x, h0, c0, use_loop, monkeypatch):
    import torch

    if use_loop:
        monkeypatch.setattr(torch_fused, "lstm_applies", lambda *args: False)
    x = torch.tensor(x, requires_grad=True)
    h0 = torch.tensor(h0, requires_grad=True)
    c0 = torch.tensor(c0, requires_grad=True)
    outputs = layer(x, initial_state=[h0, c0])
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    loss = sum((o * torch.linspace(-1, 1, o.shape[-1])).sum() for o in outputs)
    variables = [v.value for v in layer.trainable_variables]
    gradients = torch.autograd.grad(loss, [x, h0, c0, *variables])
    monkeypatch.undo()
    return [t.detach().numpy() for t in [*outputs, *gradients]]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"return_sequences": True, "return_state": True},
        {"go_backwards": True, "return_sequences": True},
        {"use_recurrent_bias": True, "return_sequences": True},
        {"use_bias": False},
    ],
)
def test_equals_the_loop_with_gradients(options, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 5)).astype("float32")
    h0, c0 = rng.normal(size=(2, 3, 4)).astype("float32")
    layer = LSTM(4, **options)
    layer.build(x.shape)
    for variable in layer.weights:  # a bias that is not Keras's initial one
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.5)
    calls = []
    real = torch_fused.lstm
    monkeypatch.setattr(
        torch_fused, "lstm", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    fused = outputs_and_gradients(layer, x, h0, c0, False, monkeypatch)
    assert calls  # the fused kernel ran
    loop = outputs_and_gradients(layer, x, h0, c0, True, monkeypatch)
    assert len(fused) == len(loop)
    for a, b in zip(fused, loop):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "options, masked",
    [
        ({"use_peepholes": True}, False),
        ({"activation": "relu"}, False),
        ({"recurrent_activation": "hard_sigmoid"}, False),
        ({"unroll": True}, False),
        ({}, True),
    ],
)
def test_the_loop_runs_where_the_kernel_differs(options, masked, monkeypatch):
    monkeypatch.setattr(
        torch_fused, "lstm", lambda *a, **k: pytest.fail("torch.lstm was called")
    )
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True] * 4, [True, True, False, False]]) if masked else None
    layer = LSTM(5, **options)
    assert layer(x, mask=mask).shape == (2, 5)
