"""Shared checks of the fast recurrent layers against the Keras built-ins."""

import keras
import numpy as np
import pytest

BATCH, STEPS, FEATURES, UNITS = 4, 7, 5, 6


def sequences(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")


def masks():
    """None, right-padded, left-padded: each row a different length."""
    lengths = [7, 5, 3, 1]
    right = np.array([[t < n for t in range(STEPS)] for n in lengths])
    left = right[:, ::-1].copy()
    return {"none": None, "right": right, "left": left}


def initial_states(num_states, seed=1):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in range(num_states)
    ]


def keras_cases(test_fn):
    """Parametrizes a test over mask kind x go_backwards x initial state."""
    for name, values in (
        ("mask_kind", ["none", "right", "left"]),
        ("go_backwards", [False, True]),
        ("use_initial_state", [False, True]),
    ):
        test_fn = pytest.mark.parametrize(name, values)(test_fn)
    return test_fn


def check_matches_keras(
    test, ours_cls, keras_cls, mask_kind, use_initial_state, **kwargs
):
    """Same weights -> same outputs, final states and gradients (1e-5)."""
    kwargs = {"return_sequences": True, "return_state": True, **kwargs}
    ours = ours_cls(UNITS, **kwargs)
    # The reference is Keras's generic loop: its JAX cuDNN path (GPU, no mask)
    # returns go_backwards sequences flipped back to input order, unlike
    # Keras's own generic loop and TensorFlow backend (Keras 3.15).
    cudnn = {"use_cudnn": False} if keras_cls is not keras.layers.SimpleRNN else {}
    theirs = keras_cls(UNITS, **kwargs, **cudnn)
    x = sequences()
    ours(x)
    theirs(x)
    rng = np.random.default_rng(2)
    weights = [rng.normal(scale=0.4, size=w.shape) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)

    call_kwargs = {}
    mask = masks()[mask_kind]
    if mask is not None:
        call_kwargs["mask"] = mask
    if use_initial_state:
        num_states = len(theirs(x)) - 1
        call_kwargs["initial_state"] = initial_states(num_states)

    ours_out, ours_dx, ours_dw = test.layer_gradients(ours, x, **call_kwargs)
    theirs_out, theirs_dx, theirs_dw = test.layer_gradients(theirs, x, **call_kwargs)
    # Keras's JAX backend emits the initial state (TF: zeros) at masked steps
    # that come before the first real step; keras_seq emits zeros on every
    # backend. Those positions are compared against zeros instead.
    leading = _leading_masked(mask, kwargs.get("go_backwards", False))
    if keras.backend.backend() == "jax" and use_initial_state and leading.any():
        theirs_out = list(theirs_out)
        theirs_out[0] = np.where(leading[..., None], 0.0, theirs_out[0])
        test.assertAllClose(ours_out, theirs_out, atol=1e-5, rtol=1e-5)
        return
    test.assertAllClose(ours_out, theirs_out, atol=1e-5, rtol=1e-5)
    test.assertAllClose(ours_dx, theirs_dx, atol=1e-5, rtol=1e-5)
    test.assertAllClose(ours_dw, theirs_dw, atol=1e-5, rtol=1e-5)


def _leading_masked(mask, go_backwards):
    if mask is None:
        return np.zeros((BATCH, STEPS), bool)
    processed = mask[:, ::-1] if go_backwards else mask
    return np.cumsum(processed, axis=1) == 0


def check_bad_inputs(test, layer_cls):
    """Wrong rank, dtype, no time step, mask shape, units and initial state
    -> ValueError."""
    layer = layer_cls(UNITS)
    x = sequences()
    with test.assertRaisesRegex(ValueError, "rank 3"):
        layer(x[:, 0])
    with test.assertRaisesRegex(ValueError, "floating point"):
        layer_cls(UNITS)(np.ones((2, 3, 4), bool))
    # Integers are taken as Keras takes them: cast to the compute dtype.
    integers = np.arange(24).reshape((2, 3, 4)) % 5
    as_int = layer_cls(UNITS, kernel_initializer="ones", recurrent_initializer="ones")
    test.assertAllClose(as_int(integers), as_int(integers.astype("float32")))
    with test.assertRaisesRegex(ValueError, "at least one time step, got shape"):
        layer_cls(UNITS)(x[:, :0])
    with test.assertRaisesRegex(ValueError, "`mask` must have shape"):
        layer(x, mask=np.ones((BATCH, STEPS + 1), bool))
    with test.assertRaisesRegex(ValueError, "positive integer, got 0"):
        layer_cls(0)
    with test.assertRaisesRegex(ValueError, "`dropout`"):
        layer_cls(UNITS, dropout=1.5)
    with test.assertRaisesRegex(ValueError, "initial_state"):
        layer(x, initial_state=[np.zeros((BATCH, UNITS + 1), "float32")] * 2)
    with test.assertRaisesRegex(ValueError, "`jit_compile`.*'auto', got 'yes'"):
        layer_cls(UNITS, jit_compile="yes")


def check_stateful(test, layer_cls, **kwargs):
    """Two stateful calls on the halves equal one call on the whole sequence."""
    x = sequences()
    whole = layer_cls(UNITS, return_sequences=True, **kwargs)
    inputs = keras.Input(batch_shape=(BATCH, None, FEATURES))
    stateful = layer_cls(UNITS, return_sequences=True, stateful=True, **kwargs)
    model = keras.Model(inputs, stateful(inputs))
    expected = whole(x)
    for variable, value in zip(stateful.trainable_weights, whole.trainable_weights):
        variable.assign(value)
    stateful.reset_state()
    first = model(x[:, :3])
    second = model(x[:, 3:])
    test.assertAllClose(
        np.concatenate(
            [keras.ops.convert_to_numpy(first), keras.ops.convert_to_numpy(second)],
            axis=1,
        ),
        expected,
        atol=1e-5,
    )
    stateful.reset_state()
    test.assertAllClose(model(x[:, :3]), first, atol=1e-6)


def check_dropout(test, layer_cls, **kwargs):
    """Dropout changes training outputs only; inference equals no dropout."""
    x = sequences()
    plain = layer_cls(UNITS, **kwargs)
    dropped = layer_cls(UNITS, dropout=0.5, recurrent_dropout=0.3, seed=3, **kwargs)
    plain(x)
    dropped(x)
    dropped.set_weights(plain.get_weights())
    test.assertAllClose(dropped(x, training=False), plain(x), atol=1e-6)
    trained = keras.ops.convert_to_numpy(dropped(x, training=True))
    test.assertTrue(np.all(np.isfinite(trained)))
    test.assertGreater(
        np.abs(trained - keras.ops.convert_to_numpy(plain(x))).max(), 1e-3
    )
