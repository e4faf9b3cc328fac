"""`LSTM`, `GRU` and `SimpleRNN` on the PyTorch backend through
`torch.lstm` / `torch.gru` / `torch.rnn_tanh` (the kernels of `torch.nn`'s
`LSTM` / `GRU` / `RNN`): outputs, states and
every gradient equal the layer's own loop, and the loop runs wherever the
kernel would compute something else; the loop reads its variables once per
sequence."""

import keras
import numpy as np
import pytest

from keras_seq.layers import GRU, LSTM, SimpleRNN
from keras_seq.layers.rnn import torch_fused

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch backend's kernels"
)


def outputs_and_gradients(layer, x, states, use_loop, monkeypatch):
    import torch

    if use_loop:
        monkeypatch.setattr(torch_fused, "lstm_applies", lambda *args: False)
        monkeypatch.setattr(torch_fused, "gru_applies", lambda *args: False)
        monkeypatch.setattr(torch_fused, "simple_rnn_applies", lambda *args: False)
    x = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s, requires_grad=True) for s in states]
    outputs = layer(x, initial_state=states)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    loss = sum((o * torch.linspace(-1, 1, o.shape[-1])).sum() for o in outputs)
    variables = [v.value for v in layer.trainable_variables]
    gradients = torch.autograd.grad(loss, [x, *states, *variables])
    monkeypatch.undo()
    return [t.detach().numpy() for t in [*outputs, *gradients]]


@pytest.mark.parametrize(
    "cls, options",
    [
        (LSTM, {}),
        (LSTM, {"return_sequences": True, "return_state": True}),
        (LSTM, {"go_backwards": True, "return_sequences": True}),
        (LSTM, {"use_recurrent_bias": True, "return_sequences": True}),
        (LSTM, {"use_bias": False}),
        (GRU, {}),
        (GRU, {"return_sequences": True, "return_state": True}),
        (GRU, {"go_backwards": True, "return_sequences": True}),
        (GRU, {"use_bias": False}),
        (SimpleRNN, {}),
        (SimpleRNN, {"return_sequences": True, "return_state": True}),
        (SimpleRNN, {"go_backwards": True, "return_sequences": True}),
        (SimpleRNN, {"use_bias": False}),
    ],
)
def test_equals_the_loop_with_gradients(cls, options, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 5)).astype("float32")
    states = list(rng.normal(size=(2 if cls is LSTM else 1, 3, 4)).astype("float32"))
    layer = cls(4, **options)
    layer.build(x.shape)
    for variable in layer.weights:  # a bias that is not Keras's initial one
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.5)
    calls = []
    kernel = {LSTM: "lstm", GRU: "gru", SimpleRNN: "simple_rnn"}[cls]
    real = getattr(torch_fused, kernel)
    monkeypatch.setattr(
        torch_fused, kernel, lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    fused = outputs_and_gradients(layer, x, states, False, monkeypatch)
    assert calls  # the fused kernel ran
    loop = outputs_and_gradients(layer, x, states, True, monkeypatch)
    assert len(fused) == len(loop)
    for a, b in zip(fused, loop):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "cls, options, masked",
    [
        (LSTM, {"use_peepholes": True}, False),
        (LSTM, {"activation": "relu"}, False),
        (LSTM, {"recurrent_activation": "hard_sigmoid"}, False),
        (LSTM, {"unroll": True}, False),
        (LSTM, {}, True),
        (GRU, {"reset_after": False}, False),
        (GRU, {"activation": "relu"}, False),
        (GRU, {}, True),
        (SimpleRNN, {"activation": "relu"}, False),
        (SimpleRNN, {}, True),
    ],
)
def test_the_loop_runs_where_the_kernel_differs(cls, options, masked, monkeypatch):
    for kernel in ("lstm", "gru", "simple_rnn"):
        monkeypatch.setattr(
            torch_fused, kernel, lambda *a, **k: pytest.fail("a torch kernel ran")
        )
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True] * 4, [True, True, False, False]]) if masked else None
    layer = cls(5, **options)
    assert layer(x, mask=mask).shape == (2, 5)


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_inference_keeps_its_weights_until_a_variable_changes(cls):
    """Without a gradient the weights in torch's layout are kept between calls;
    an assignment (an optimizer step, `set_weights`) makes new ones."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    layer = cls(4, return_sequences=True)
    model = keras.Sequential([keras.Input((5, 3)), layer])
    first = model.predict_on_batch(x)
    kept = torch_fused._KEPT[layer.cell][1]
    np.testing.assert_array_equal(model.predict_on_batch(x), first)
    assert torch_fused._KEPT[layer.cell][1] is kept  # not rebuilt
    assert all(weight.is_contiguous() for weight in kept)
    new = [w * 0.5 + 0.1 for w in layer.get_weights()]
    layer.set_weights(new)
    after = model.predict_on_batch(x)
    assert torch_fused._KEPT[layer.cell][1] is not kept
    loop = cls(4, return_sequences=True, use_cudnn=False)
    loop.build(x.shape)
    loop.set_weights(new)
    np.testing.assert_allclose(
        after, keras.ops.convert_to_numpy(loop(x)), rtol=1e-5, atol=1e-5
    )
    # One training step changes the variables in place: the next prediction
    # reads the new values.
    model.compile("sgd", "mse")
    model.train_on_batch(x, np.ones_like(after))
    trained = model.predict_on_batch(x)
    loop.set_weights(layer.get_weights())
    np.testing.assert_allclose(
        trained, keras.ops.convert_to_numpy(loop(x)), rtol=1e-5, atol=1e-5
    )
    assert not np.allclose(trained, after)


@pytest.mark.parametrize(
    "cls, options",
    [
        (LSTM, {"use_peepholes": True}),
        (LSTM, {"use_peepholes": True, "use_recurrent_bias": True}),
        (GRU, {"reset_after": False}),
    ],
)
def test_the_loop_reads_its_variables_once_with_every_gradient(cls, options):
    """The eager loop reads the peepholes (GRU: its candidate kernel) once per
    sequence; outputs and gradients equal the cell's own step-by-step call
    (`keras.layers.RNN`, which reads them at every step)."""
    import torch

    from keras_seq.layers.rnn import base_rnn_cell

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6, 5)).astype("float32")
    layer = cls(4, return_sequences=True, **options)
    layer.build(x.shape)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32") * 0.5)
    computed = []
    real = layer.cell._read
    layer.cell._read = lambda name, compute: real(
        name, lambda: computed.append(name) or compute()
    )

    def outputs_and_gradients(model):
        inputs = torch.tensor(x, requires_grad=True)
        outputs = model(inputs)
        loss = (outputs * torch.linspace(-1, 1, outputs.shape[-1])).sum()
        variables = [v.value for v in layer.trainable_variables]
        gradients = torch.autograd.grad(loss, [inputs, *variables])
        return [t.detach().numpy() for t in [outputs, *gradients]]

    fused = outputs_and_gradients(layer)
    names = sorted(set(computed))
    assert sorted(computed) == names  # each once, for the whole sequence
    assert not base_rnn_cell._READ  # nothing kept after the call
    computed.clear()
    cell_by_cell = outputs_and_gradients(
        keras.layers.RNN(layer.cell, return_sequences=True)
    )
    assert len(computed) >= len(names) * x.shape[1]  # at every step
    for a, b in zip(fused, cell_by_cell):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
