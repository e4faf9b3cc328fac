"""The C++ LSTM ops (`lstm_kernels.cc`) against NumPy, TensorFlow autodiff and
the XLA-compiled loop they replace."""

import keras
import numpy as np
import pytest

from keras_seq.layers import LSTM, Bidirectional

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow-only code path"
)

T, B, I, H = 6, 3, 5, 48  # 48 units: up to three workers of 16


def _arrays(peepholes, seed=0):
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=0.4):
        return (rng.normal(size=shape) * scale).astype("float32")

    return {
        "inputs": normal(T, B, I, scale=1.0),
        "kernel": normal(I, 4 * H),
        "bias": normal(4 * H, scale=0.2),
        "recurrent_kernel": normal(H, 4 * H, scale=0.2),
        "peepholes": normal(3, H) if peepholes else np.zeros((0, H), "float32"),
        "h0": normal(B, H, scale=0.5),
        "c0": normal(B, H, scale=1.0),
    }


def _numpy_lstm(a):
    """The equations of the op's header, in float64."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    h, c = a["h0"].astype(np.float64), a["c0"].astype(np.float64)
    peep = a["peepholes"].shape[0] == 3
    hs, cs = [], []
    for x_t in a["inputs"]:
        z = x_t @ a["kernel"] + a["bias"] + h @ a["recurrent_kernel"]
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
        if peep:
            z_i, z_f = z_i + a["peepholes"][0] * c, z_f + a["peepholes"][1] * c
        c = sigmoid(z_f) * c + sigmoid(z_i) * np.tanh(z_g)
        if peep:
            z_o = z_o + a["peepholes"][2] * c
        h = sigmoid(z_o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def _tf_lstm(inputs, kernel, bias, recurrent_kernel, peepholes, h0, c0):
    """The same equations in TensorFlow ops, for autodiff."""
    import tensorflow as tf

    h, c = h0, c0
    hs, cs = [], []
    peep = peepholes.shape[0] == 3
    for t in range(inputs.shape[0]):
        z = inputs[t] @ kernel + bias + h @ recurrent_kernel
        z_i, z_f, z_g, z_o = tf.split(z, 4, axis=-1)
        if peep:
            z_i, z_f = z_i + peepholes[0] * c, z_f + peepholes[1] * c
        c = tf.sigmoid(z_f) * c + tf.sigmoid(z_i) * tf.tanh(z_g)
        if peep:
            z_o = z_o + peepholes[2] * c
        h = tf.sigmoid(z_o) * tf.tanh(c)
        hs.append(h)
        cs.append(c)
    return tf.stack(hs), tf.stack(cs)


@pytest.fixture(scope="module")
def library():
    from keras_seq.layers.rnn import native_lstm

    loaded = native_lstm.library()
    assert loaded is not None, "the LSTM op did not build"
    return loaded


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_forward_matches_numpy(library, peepholes, threads):
    a = _arrays(peepholes)
    h, c, gates = library.keras_seq_lstm(**a, threads=threads)
    expected_h, expected_c = _numpy_lstm(a)
    np.testing.assert_allclose(h, expected_h, atol=2e-6)
    np.testing.assert_allclose(c, expected_c, atol=2e-6)
    assert gates.shape == (T, B, 4 * H)
    unsaved = library.keras_seq_lstm(**a, threads=threads, save_gates=False)
    np.testing.assert_array_equal(unsaved[0], h)
    assert unsaved[2].shape == (0, B, 4 * H)


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("save_gates", [True, False])
def test_gradient_matches_autodiff(library, peepholes, threads, save_gates):
    import tensorflow as tf

    a = _arrays(peepholes, seed=1)
    sources = [tf.constant(v) for v in a.values()]
    rng = np.random.default_rng(2)
    seeds_h = tf.constant(rng.normal(size=(T, B, H)).astype("float32"))
    seeds_c = tf.constant(rng.normal(size=(B, H)).astype("float32"))

    def gradients(run):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            h, c = run(*sources)
            # Every output of every step, and the last c (the final state).
            loss = tf.reduce_sum(h * seeds_h) + tf.reduce_sum(c[-1] * seeds_c)
        return tape.gradient(loss, sources)

    def native(*args):
        h, c, _ = library.keras_seq_lstm(*args, threads=threads, save_gates=save_gates)
        return h, c

    from keras_seq.layers.rnn import native_lstm  # noqa: F401 - the gradient

    ours = gradients(native)
    expected = gradients(_tf_lstm)
    names = list(a)
    for name, got, want in zip(names, ours, expected):
        if name == "peepholes" and not peepholes:
            assert got.shape == (0, H)
            continue
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)


def test_bad_shapes_are_named(library):
    import tensorflow as tf

    a = _arrays(False)
    a["kernel"] = a["kernel"][:, :-1]
    with pytest.raises(tf.errors.InvalidArgumentError, match="kernel must be"):
        library.keras_seq_lstm(**a)
    a = _arrays(False)
    a["peepholes"] = np.zeros((2, H), "float32")
    with pytest.raises(tf.errors.InvalidArgumentError, match="peepholes must be"):
        library.keras_seq_lstm(**a)


LAYER_CASES = {
    "sequences": {"return_sequences": True},
    "peepholes_state": {"use_peepholes": True, "return_state": True},
    "backwards": {"go_backwards": True, "return_sequences": True, "use_bias": False},
    "recurrent_bias": {"use_recurrent_bias": True, "use_peepholes": True},
}


def _fit_step(layer_kwargs, native, monkeypatch, initial_state=False):
    """Outputs and one SGD step's weights of a model with the layer."""
    import tensorflow as tf

    from keras_seq.layers.rnn import native_lstm

    monkeypatch.setenv("KERAS_SEQ_NATIVE_LSTM", "1" if native else "0")
    calls = []
    usable = native_lstm.usable

    def spy(*args, **kwargs):
        calls.append(usable(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(native_lstm, "usable", spy)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((T, I))
    states = [keras.Input((H,)), keras.Input((H,))] if initial_state else None
    outputs = LSTM(H, **layer_kwargs)(inputs, initial_state=states)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    flat = keras.layers.Concatenate()(
        [keras.layers.Flatten()(o) if len(o.shape) == 3 else o for o in outputs]
    )
    model = keras.Model([inputs, *(states or [])], keras.layers.Dense(1)(flat))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(8, T, I)).astype("float32")]
    if initial_state:
        x += [rng.normal(size=(8, H)).astype("float32") for _ in range(2)]
    y = rng.normal(size=(8, 1)).astype("float32")
    before = model.predict_on_batch(x)
    model.train_on_batch(x, y)
    assert any(calls) == native and all(c == native for c in calls), calls
    assert tf.executing_eagerly()
    return before, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_matches_xla_loop(case, monkeypatch):
    kwargs = LAYER_CASES[case]
    before, weights = _fit_step(kwargs, True, monkeypatch, initial_state=True)
    expected_before, expected_weights = _fit_step(
        kwargs, False, monkeypatch, initial_state=True
    )
    np.testing.assert_allclose(before, expected_before, atol=2e-5)
    for got, want in zip(weights, expected_weights):
        np.testing.assert_allclose(got, want, atol=5e-5)


def test_falls_back_where_it_cannot_run(monkeypatch):
    """A mask, recurrent dropout, an XLA-compiled caller and export each take
    the XLA / core-op loop, with the op's numbers."""
    import tensorflow as tf

    from keras_seq.layers.rnn import native_lstm

    monkeypatch.setenv("KERAS_SEQ_NATIVE_LSTM", "1")
    layer = LSTM(H, return_sequences=True)
    x = np.random.default_rng(4).normal(size=(B, T, I)).astype("float32")
    native = layer(x).numpy()
    calls = []
    usable = native_lstm.usable
    monkeypatch.setattr(
        native_lstm,
        "usable",
        lambda *a, **k: calls.append(usable(*a, **k)) or calls[-1],
    )
    mask = np.ones((B, T), bool)
    np.testing.assert_allclose(layer(x, mask=mask), native, atol=2e-6)
    xla = tf.function(lambda x: layer(x), jit_compile=True)
    np.testing.assert_allclose(xla(x), native, atol=2e-6)
    assert calls == [False, False]
    dropout = LSTM(H, recurrent_dropout=0.5)
    dropout(x, training=True)
    assert calls[-1] is False
    layer(x)
    assert calls[-1] is True


def test_bidirectional_runs_both_directions(monkeypatch):
    """Two ops at once (the directions of a Bidirectional layer, run in
    parallel by the graph executor): the second runs on one worker."""
    import tensorflow as tf

    monkeypatch.setenv("KERAS_SEQ_NATIVE_LSTM", "1")
    x = np.random.default_rng(5).normal(size=(16, 40, I)).astype("float32")
    layer = Bidirectional(LSTM(64, return_sequences=True))
    got = tf.function(layer)(x).numpy()
    monkeypatch.setenv("KERAS_SEQ_NATIVE_LSTM", "0")
    np.testing.assert_allclose(tf.function(layer)(x), got, atol=5e-6)
