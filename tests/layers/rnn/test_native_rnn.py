"""The C++ recurrent ops (`rnn_kernels.cc`) against NumPy, TensorFlow
autodiff and the compiled loops they replace."""

import keras
import numpy as np
import pytest

from keras_seq.layers import GRU, LSTM, Bidirectional, SimpleRNN
from tests.fake_compiler import use_fake_compiler

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow-only code path"
)

T, B, I, H = 6, 3, 5, 48  # 48 units: up to three workers of 16
# Batches under 16 take the weight gradients after the loop, larger ones
# step by step (`WeightGradientsAfterLoop` in rnn_kernels.cc): both.
BATCHES = [B, 17]


def _arrays(peepholes, seed=0, batch=B):
    rng = np.random.default_rng(seed)

    def normal(*shape, scale=0.4):
        return (rng.normal(size=shape) * scale).astype("float32")

    return {
        "inputs": normal(T, batch, I, scale=1.0),
        "kernel": normal(I, 4 * H),
        "bias": normal(4 * H, scale=0.2),
        "recurrent_kernel": normal(H, 4 * H, scale=0.2),
        "peepholes": normal(3, H) if peepholes else np.zeros((0, H), "float32"),
        "h0": normal(batch, H, scale=0.5),
        "c0": normal(batch, H, scale=1.0),
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
    from keras_seq.layers.rnn import native_rnn

    loaded = native_rnn.library()
    assert loaded is not None, "the recurrent ops did not build"
    return loaded


def _assert_gradients_match(ours, reference, sources, seeds, err_msg=""):
    """Gradients of `sum(output * seed)` over the outputs each function
    returns (in the same order), through the op and through autodiff."""
    import tensorflow as tf

    def gradients(run):
        with tf.GradientTape() as tape:
            tape.watch(sources)
            loss = sum(tf.reduce_sum(o * s) for o, s in zip(run(*sources), seeds))
        return tape.gradient(loss, sources)

    for index, (got, want) in enumerate(zip(gradients(ours), gradients(reference))):
        if want is None:  # e.g. no peepholes: the op's (0, units) zeros
            assert not np.any(got), index
            continue
        np.testing.assert_allclose(
            got, want, rtol=1e-5, atol=1e-5, err_msg=f"{err_msg} input {index}"
        )


def _seeds(batch, sequence, count, seed=2):
    """Random seeds of the last state(s), after the sequence's if `sequence`."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    seeds = [rng.normal(size=(batch, H)) for _ in range(count)]
    if sequence:
        seeds.insert(0, rng.normal(size=(T, batch, H)))
    return [tf.constant(s, tf.float32) for s in seeds]


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_forward_matches_numpy(library, peepholes, threads):
    a = _arrays(peepholes)
    h, c, gates, h_last, c_last = library.keras_seq_lstm(**a, threads=threads)
    expected_h, expected_c = _numpy_lstm(a)
    np.testing.assert_allclose(h, expected_h, atol=2e-6)
    np.testing.assert_allclose(c, expected_c, atol=2e-6)
    np.testing.assert_array_equal(h_last, h[-1])
    np.testing.assert_array_equal(c_last, c[-1])
    assert gates.shape == (T, B, 4 * H)
    unsaved = library.keras_seq_lstm(**a, threads=threads, save_gates=False)
    np.testing.assert_array_equal(unsaved[0], h)
    assert unsaved[1].shape == (0, B, H) and unsaved[2].shape == (0, B, 4 * H)
    np.testing.assert_array_equal(unsaved[3], h_last)
    np.testing.assert_array_equal(unsaved[4], c_last)


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("save_gates", [True, False])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("sequence", [True, False])
def test_gradient_matches_autodiff(
    library, peepholes, threads, save_gates, batch, sequence
):
    """Gradients through h (every step, unless `sequence` is False: then
    only the last states carry one, and the op gets an empty `dh`), h_last
    and c_last."""
    import tensorflow as tf

    a = _arrays(peepholes, seed=1, batch=batch)
    sources = [tf.constant(v) for v in a.values()]

    def ours(*args):
        h, _, _, h_last, c_last = library.keras_seq_lstm(
            *args, threads=threads, save_gates=save_gates
        )
        return [h, h_last, c_last] if sequence else [h_last, c_last]

    def reference(*args):
        h, c = _tf_lstm(*args)
        return [h, h[-1], c[-1]] if sequence else [h[-1], c[-1]]

    from keras_seq.layers.rnn import native_rnn  # noqa: F401 - the gradient

    _assert_gradients_match(ours, reference, sources, _seeds(batch, sequence, 2))


# Sizes at which each worker projects the inputs step by step and both
# products read weights packed once (`PackedWeights` in rnn_kernels.cc:
# batches of 8 or more, T * B * gates * units per worker over 2**18); the
# SimpleRNN's depth of 1,101 is cut in several of Eigen's blocks, each
# 1,101 (one worker) or 550 / 551 columns wide, so that the blocks' sizes
# are not multiples of the kernel's alignment.
PACKED = {
    "lstm": (10, 64, 64, 256),  # T, B, I, H
    "gru": (10, 64, 64, 288),
    "rnn": (8, 32, 1101, 1101),
}


def _packed_case(kind):
    """`(op name, keyword arguments, NumPy's h)` of the `PACKED` sizes."""
    steps, batch, features, units = PACKED[kind]
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    rng = np.random.default_rng(3)

    def normal(*shape, scale):
        return (rng.normal(size=shape) * scale).astype("float32")

    inputs = normal(steps, batch, features, scale=1.0)
    kernel = normal(features, gates * units, scale=features**-0.5)
    bias = normal(gates * units, scale=0.2)
    recurrent_kernel = normal(units, gates * units, scale=units**-0.5)
    h0 = normal(batch, units, scale=0.5)
    if kind == "lstm":
        a = {
            "inputs": inputs,
            "kernel": kernel,
            "bias": bias,
            "recurrent_kernel": recurrent_kernel,
            "peepholes": np.zeros((0, units), "float32"),
            "h0": h0,
            "c0": normal(batch, units, scale=1.0),
        }
        return "keras_seq_lstm", a, _numpy_lstm(a)[0]
    if kind == "gru":
        arrays = [
            inputs,
            kernel,
            bias,
            recurrent_kernel,
            normal(gates * units, scale=0.2),
            h0,
        ]
        names = ["inputs", "kernel", "input_bias", "recurrent_kernel"]
        names += ["recurrent_bias", "h0"]
        return "keras_seq_gru", dict(zip(names, arrays)), _numpy_gru(*arrays)
    arrays = [inputs, kernel, bias, recurrent_kernel, h0]
    expected = _rnn_reference(np.tanh, np.stack)(
        *[a.astype(np.float64) for a in arrays]
    )
    names = ["inputs", "kernel", "bias", "recurrent_kernel", "h0"]
    return "keras_seq_rnn", dict(zip(names, arrays)), expected


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("kind", sorted(PACKED))
def test_packed_weight_products_match_numpy(library, kind, threads):
    name, arrays, expected = _packed_case(kind)
    h = getattr(library, name)(**arrays, threads=threads)[0]
    # float32 sums of up to 2,202 terms
    np.testing.assert_allclose(h, expected, atol=2e-5)


# Runs in a fresh process: a process loads one library of these ops.
PORTABLE_RUN = """
import sys
import numpy as np
import tensorflow as tf
library = tf.load_op_library(sys.argv[1])
cases = np.load(sys.argv[2], allow_pickle=True)["cases"].item()
np.savez(sys.argv[3], **{
    f"{kind}_{threads}": getattr(library, name)(**arrays, threads=threads)[0]
    for kind, (name, arrays) in cases.items() for threads in (1, 2)
})
"""


def test_portable_build_gives_the_same_numbers(library, tmp_path):
    """Built with KERAS_SEQ_PORTABLE (Eigen's public products, for an Eigen
    whose internal kernels differ), the ops give the numbers of the packed
    products."""
    import subprocess
    import sys

    from keras_seq.layers.rnn import native_rnn
    from keras_seq.utils import native_ops

    portable = tuple(f for f in native_rnn.FLAG_SETS if "-DKERAS_SEQ_PORTABLE" in f)
    path = native_ops.build(native_rnn.SOURCE, flag_sets=portable)
    cases = {kind: _packed_case(kind) for kind in PACKED}
    np.savez(
        tmp_path / "cases.npz",
        cases=np.array({k: (name, a) for k, (name, a, _) in cases.items()}),
    )
    subprocess.run(
        [
            sys.executable,
            "-c",
            PORTABLE_RUN,
            str(path),
            str(tmp_path / "cases.npz"),
            str(tmp_path / "out.npz"),
        ],
        check=True,
    )
    got = np.load(tmp_path / "out.npz")
    for kind, (name, arrays, expected) in cases.items():
        for threads in (1, 2):
            h = got[f"{kind}_{threads}"]
            np.testing.assert_allclose(h, expected, atol=2e-5)
            packed = getattr(library, name)(**arrays, threads=threads)[0]
            np.testing.assert_allclose(h, packed, rtol=0, atol=1e-6)


# Refuses any command without -DKERAS_SEQ_PORTABLE (as for an Eigen without
# the internal kernels `PackedWeights` calls); else writes the file after -o.
PORTABLE_ONLY_COMPILER = """#!/bin/sh
echo "$@" >> "$CALLS"
case " $* " in *" -DKERAS_SEQ_PORTABLE "*) ;; *) echo "error: no gebp" >&2; exit 1;; esac
while [ $# -gt 1 ]; do [ "$1" = "-o" ] && echo built > "$2"; shift; done
"""


def test_build_falls_back_to_eigen_public_products(tmp_path, monkeypatch):
    """Where the packed products do not compile, the ops are built with
    KERAS_SEQ_PORTABLE, after both sets of CPU flags were tried."""
    from keras_seq.layers.rnn import native_rnn

    calls = use_fake_compiler(tmp_path, monkeypatch, PORTABLE_ONLY_COMPILER)
    assert native_rnn.build().read_text() == "built\n"
    tried = calls.read_text().splitlines()
    assert len(tried) == 3
    assert all("-DKERAS_SEQ_PORTABLE" not in command for command in tried[:2])
    assert "-march=native -mno-avx512fp16 -DKERAS_SEQ_PORTABLE" in tried[2]


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


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _gru_arrays(seed=0, batch=B):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=shape) * scale).astype("float32")
        for shape, scale in [
            ((T, batch, I), 1.0),
            ((I, 3 * H), 0.4),
            ((3 * H,), 0.2),
            ((H, 3 * H), 0.2),
            ((3 * H,), 0.2),
            ((batch, H), 0.5),
        ]
    ]


def _numpy_gru(inputs, kernel, input_bias, recurrent_kernel, recurrent_bias, h0):
    """Keras's GRU with `reset_after=True`, in float64."""
    h = h0.astype(np.float64)
    hs = []
    for x_t in inputs:
        x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, 3, axis=-1)
        u_z, u_r, u_h = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z, r = _sigmoid(x_z + u_z), _sigmoid(x_r + u_r)
        h = z * h + (1 - z) * np.tanh(x_h + r * u_h)
        hs.append(h)
    return np.stack(hs)


def _tf_gru(inputs, kernel, input_bias, recurrent_kernel, recurrent_bias, h0):
    import tensorflow as tf

    h, hs = h0, []
    for t in range(inputs.shape[0]):
        x_z, x_r, x_h = tf.split(inputs[t] @ kernel + input_bias, 3, axis=-1)
        u_z, u_r, u_h = tf.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z, r = tf.sigmoid(x_z + u_z), tf.sigmoid(x_r + u_r)
        h = z * h + (1 - z) * tf.tanh(x_h + r * u_h)
        hs.append(h)
    return tf.stack(hs)


def _rnn_arrays(seed=0, batch=B):
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=shape) * scale).astype("float32")
        for shape, scale in [
            ((T, batch, I), 1.0),
            ((I, H), 0.3),
            ((H,), 0.2),
            ((H, H), 0.15),
            ((batch, H), 0.5),
        ]
    ]


def _rnn_reference(tanh, stack):
    def run(inputs, kernel, bias, recurrent_kernel, h0):
        h, hs = h0, []
        for t in range(inputs.shape[0]):
            h = tanh(inputs[t] @ kernel + bias + h @ recurrent_kernel)
            hs.append(h)
        return stack(hs)

    return run


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("sequence", [True, False])
def test_gru_matches_numpy_and_autodiff(library, threads, batch, sequence):
    import tensorflow as tf

    arrays = _gru_arrays(batch=batch)
    h, saved, h_last = library.keras_seq_gru(*arrays, threads=threads)
    np.testing.assert_allclose(h, _numpy_gru(*arrays), atol=2e-6)
    np.testing.assert_array_equal(h_last, h[-1])
    assert saved.shape == (T, batch, 4 * H)
    sources = [tf.constant(a) for a in arrays]
    for save_gates in (True, False):

        def ours(*args, save_gates=save_gates):
            h, _, h_last = library.keras_seq_gru(
                *args, threads=threads, save_gates=save_gates
            )
            return [h, h_last] if sequence else [h_last]

        def reference(*args):
            h = _tf_gru(*args)
            return [h, h[-1]] if sequence else [h[-1]]

        seeds = _seeds(batch, sequence, 1)
        _assert_gradients_match(ours, reference, sources, seeds, f"{save_gates=}")


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("sequence", [True, False])
def test_simple_rnn_matches_numpy_and_autodiff(library, threads, batch, sequence):
    import tensorflow as tf

    arrays = _rnn_arrays(batch=batch)
    h, h_last = library.keras_seq_rnn(*arrays, threads=threads)
    expected = _rnn_reference(np.tanh, np.stack)(
        *[a.astype(np.float64) for a in arrays]
    )
    np.testing.assert_allclose(h, expected, atol=2e-6)
    np.testing.assert_array_equal(h_last, h[-1])

    def ours(*args):
        h, h_last = library.keras_seq_rnn(*args, threads=threads)
        return [h, h_last] if sequence else [h_last]

    def reference(*args):
        h = _rnn_reference(tf.tanh, tf.stack)(*args)
        return [h, h[-1]] if sequence else [h[-1]]

    sources = [tf.constant(a) for a in arrays]
    _assert_gradients_match(ours, reference, sources, _seeds(batch, sequence, 1))


LAYER_CASES = {
    "lstm_sequences": (LSTM, {"return_sequences": True}),
    "lstm_peepholes_state": (LSTM, {"use_peepholes": True, "return_state": True}),
    "lstm_backwards": (
        LSTM,
        {"go_backwards": True, "return_sequences": True, "use_bias": False},
    ),
    "lstm_recurrent_bias": (LSTM, {"use_recurrent_bias": True, "use_peepholes": True}),
    "gru_sequences_state": (GRU, {"return_sequences": True, "return_state": True}),
    "gru_backwards": (GRU, {"go_backwards": True, "use_bias": False}),
    "simple_rnn_sequences": (SimpleRNN, {"return_sequences": True}),
    "simple_rnn_backwards_state": (
        SimpleRNN,
        {"go_backwards": True, "return_state": True, "use_bias": False},
    ),
}


def _fit_step(layer_class, layer_kwargs, native, monkeypatch):
    """Outputs and one SGD step's weights of a model with the layer."""
    import tensorflow as tf

    from keras_seq.layers.rnn import native_rnn

    monkeypatch.setenv("KERAS_SEQ_NATIVE_RNN", "1" if native else "0")
    calls = []
    usable = native_rnn.usable

    def spy(*args, **kwargs):
        calls.append(usable(*args, **kwargs))
        return calls[-1]

    monkeypatch.setattr(native_rnn, "usable", spy)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((T, I))
    layer = layer_class(H, **layer_kwargs)
    states = [keras.Input((H,)) for _ in layer.state_size]
    outputs = layer(inputs, initial_state=states)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    flat = keras.layers.Concatenate()(
        [keras.layers.Flatten()(o) if len(o.shape) == 3 else o for o in outputs]
    )
    model = keras.Model([inputs, *states], keras.layers.Dense(1)(flat))
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(8, T, I)).astype("float32")]
    x += [rng.normal(size=(8, H)).astype("float32") for _ in states]
    y = rng.normal(size=(8, 1)).astype("float32")
    before = model.predict_on_batch(x)
    model.train_on_batch(x, y)
    assert any(calls) == native and all(c == native for c in calls), calls
    assert tf.executing_eagerly()
    return before, [w.numpy() for w in model.weights]


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_matches_compiled_loop(case, monkeypatch):
    """A prediction and an SGD step through the op equal those through the
    loop of `tf_recurrence` (XLA-compiled for LSTM and GRU)."""
    layer_class, kwargs = LAYER_CASES[case]
    before, weights = _fit_step(layer_class, kwargs, True, monkeypatch)
    expected_before, expected_weights = _fit_step(
        layer_class, kwargs, False, monkeypatch
    )
    np.testing.assert_allclose(before, expected_before, atol=2e-5)
    for got, want in zip(weights, expected_weights):
        np.testing.assert_allclose(got, want, atol=5e-5)


def test_falls_back_where_it_cannot_run(monkeypatch):
    """A mask, recurrent dropout, an XLA-compiled caller and export each take
    the XLA / core-op loop, with the op's numbers."""
    import tensorflow as tf

    from keras_seq.layers.rnn import native_rnn

    monkeypatch.setenv("KERAS_SEQ_NATIVE_RNN", "1")
    layer = LSTM(H, return_sequences=True)
    x = np.random.default_rng(4).normal(size=(B, T, I)).astype("float32")
    native = layer(x).numpy()
    calls = []
    usable = native_rnn.usable
    monkeypatch.setattr(
        native_rnn,
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
    for other in (
        GRU(H, reset_after=False),
        SimpleRNN(H, activation="relu"),
        LSTM(H, activation="relu"),
        LSTM(H, jit_compile=True),
    ):
        other(x)
        assert calls[-1] is False, other.get_config()
    layer(x)
    assert calls[-1] is True


def bidirectional_check():
    """Two ops at once (the directions of a Bidirectional layer, run in
    parallel by the graph executor), each large enough for several workers
    (a step over 2 MFLOP): the second waits for the first, forward and
    backward, and both give the compiled loops' numbers."""
    import os

    import tensorflow as tf

    os.environ["KERAS_SEQ_NATIVE_RNN"] = "1"
    x = tf.constant(np.random.default_rng(5).normal(size=(64, 40, I)), tf.float32)
    layer = Bidirectional(LSTM(64, return_sequences=True))

    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.sin(y))
        return y, tape.gradient(loss, [x, *layer.trainable_variables])

    got, got_grads = tf.function(run)(x)
    os.environ["KERAS_SEQ_NATIVE_RNN"] = "0"
    want, want_grads = tf.function(run)(x)
    np.testing.assert_allclose(got, want, atol=5e-6)
    # The weight gradients sum 2,560 float32 terms per entry, in another
    # order than the compiled loop's.
    for g, w in zip(got_grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_bidirectional_runs_both_directions():
    """`bidirectional_check` in a process whose thread pools have two
    threads each, as on a 2-core machine (the tests' own have one: a
    default op there runs on one worker)."""
    import os
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).parents[3]
    env = {
        **os.environ,
        "TF_NUM_INTRAOP_THREADS": "2",
        "TF_NUM_INTEROP_THREADS": "2",
        "KERAS_BACKEND": "tensorflow",
    }
    command = "from tests.layers.rnn.test_native_rnn import bidirectional_check\n"
    command += "bidirectional_check()"
    subprocess.run([sys.executable, "-c", command], cwd=root, env=env, check=True)


def test_without_the_ops_the_loop_runs(monkeypatch):
    """Where the ops cannot be built (`library()` is None, after a warning),
    the layers run their loops, with the same numbers."""
    from keras_seq.layers.rnn import native_rnn

    monkeypatch.setenv("KERAS_SEQ_NATIVE_RNN", "1")
    x = np.random.default_rng(6).normal(size=(B, T, I)).astype("float32")
    for layer in (LSTM(H), GRU(H), SimpleRNN(H)):
        with_ops = layer(x).numpy()
        with monkeypatch.context() as patch:
            patch.setattr(native_rnn, "library", lambda: None)
            assert not native_rnn.usable(layer, layer(x), None, None)
            np.testing.assert_allclose(layer(x), with_ops, atol=2e-6)


def _saved_model_ops(path):
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as f:
        saved.ParseFromString(f.read())
    graph = saved.meta_graphs[0].graph_def
    return {n.op for n in graph.node} | {
        n.op for f in graph.library.function for n in f.node_def
    }


def test_exports_take_the_core_op_loops(tmp_path, monkeypatch):
    """`export_model` and `model.export` inside `exportable()` write the
    loops of core ops (TF Serving has no keras_seq op), with the numbers of
    the ops."""
    import tensorflow as tf

    from keras_seq.export import export_model, exportable

    monkeypatch.setenv("KERAS_SEQ_NATIVE_RNN", "1")
    inputs = keras.Input((T, I))
    outputs = keras.layers.Concatenate()(
        [LSTM(H)(inputs), GRU(H)(inputs), SimpleRNN(H)(inputs)]
    )
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(7).normal(size=(B, T, I)).astype("float32")
    expected = model.predict_on_batch(x)
    export_model(
        model, str(tmp_path / "portable"), format="tf_saved_model", examples=[x]
    )
    with exportable():
        model.export(str(tmp_path / "keras"), verbose=False)
    for name in ("portable", "keras"):
        ops = _saved_model_ops(tmp_path / name)
        assert not {op for op in ops if op.startswith("KerasSeq")}, name
        served = tf.saved_model.load(str(tmp_path / name)).signatures["serving_default"]
        (got,) = served(tf.constant(x)).values()
        np.testing.assert_allclose(got, expected, atol=2e-5, err_msg=name)
