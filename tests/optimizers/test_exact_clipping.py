"""`with_exact_clipping` clips the gradient of the whole batch, as TF's ops do."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_seq.optimizers import exact_clipping_class, with_exact_clipping

# Rows of token ids that repeat tokens, as text does: token 1 occurs 5 times.
IDS = np.array([[1, 1, 1, 2], [1, 3, 1, 4]], "int32")
TARGETS = np.array([[5.0], [-4.0]], "float32")


def embedding_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(6, 3),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(1),
        ]
    )


def one_step(optimizer):
    """The change of every weight after one SGD step on the batch."""
    model = embedding_model()
    before = [np.array(w) for w in model.get_weights()]
    model.compile(optimizer, "mse")
    model.train_on_batch(IDS, TARGETS)
    return [after - w for after, w in zip(model.get_weights(), before)]


def gradient():
    """The whole batch's gradient, read off an unclipped step of rate 1."""
    return [-step for step in one_step(keras.optimizers.SGD(1.0))]


def clipped(kind, norm):
    """NumPy: `tf.clip_by_norm` per weight, or `tf.clip_by_global_norm`."""
    grads = gradient()
    if kind == "clipnorm":
        return [g * min(1.0, norm / np.linalg.norm(g)) for g in grads]
    total = np.sqrt(sum(np.sum(g**2) for g in grads))
    return [g * min(1.0, norm / total) for g in grads]


@pytest.mark.parametrize("kind", ["clipnorm", "global_clipnorm"])
def test_one_step_clips_the_whole_gradient(kind):
    grads = gradient()
    norm = 0.05
    # Clipping is active for the embedding and the dense kernel alike.
    assert min(np.linalg.norm(g) for g in grads[:2]) > norm
    optimizer = with_exact_clipping(keras.optimizers.SGD(1.0, **{kind: norm}))
    for got, want in zip(one_step(optimizer), clipped(kind, norm)):
        np.testing.assert_allclose(-got, want, atol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TF-only bug")
@pytest.mark.parametrize("kind", ["clipnorm", "global_clipnorm"])
def test_keras_alone_miscounts_the_embedding_gradient(kind):
    # What the function fixes (Keras 3.15, TensorFlow): the embedding's
    # gradient is clipped by the norm of its per-occurrence rows.
    got = one_step(keras.optimizers.SGD(1.0, **{kind: 0.05}))
    assert np.abs(-got[0] - clipped(kind, 0.05)[0]).max() > 1e-3


def test_loss_scale_optimizer_clips_its_inner_optimizer():
    inner = keras.optimizers.SGD(1.0, global_clipnorm=0.05)
    optimizer = with_exact_clipping(
        keras.optimizers.LossScaleOptimizer(inner, initial_scale=64.0)
    )
    assert type(optimizer.inner_optimizer).__name__ == "ExactClippingSGD"
    assert optimizer.get_config()["initial_scale"] == 64.0
    for got, want in zip(one_step(optimizer), clipped("global_clipnorm", 0.05)):
        np.testing.assert_allclose(-got, want, atol=1e-6)


def test_the_optimizer_keeps_its_config_and_class():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    adam = keras.optimizers.AdamW(schedule, beta_1=0.8, clipnorm=2.0)
    exact = with_exact_clipping(adam)
    assert isinstance(exact, keras.optimizers.AdamW)
    assert type(exact).__name__ == "ExactClippingAdamW"
    assert exact.get_config() == adam.get_config()
    assert with_exact_clipping(exact) is exact


def test_weight_decay_exclusions_carry_over():
    def adamw():
        return keras.optimizers.AdamW(0.1, weight_decay=0.5, global_clipnorm=0.05)

    excluded = adamw()
    excluded.exclude_from_weight_decay(var_names=["embeddings"])
    got = one_step(with_exact_clipping(excluded))
    want = exact_clipping_class(keras.optimizers.AdamW)(**adamw().get_config())
    want.exclude_from_weight_decay(var_names=["embeddings"])
    for a, b in zip(got, one_step(want)):
        np.testing.assert_allclose(a, b, atol=1e-7)
    # Decay would have moved the embeddings by rate * decay * weight more.
    decayed = one_step(with_exact_clipping(adamw()))
    assert np.abs(got[0] - decayed[0]).max() > 1e-3


# Saved with the model, loaded in a fresh process that imports keras_seq (as
# for any custom object) and never calls `with_exact_clipping`.
LOAD = """
import json, sys
import keras
import numpy as np
import keras_seq
model = keras.saving.load_model(sys.argv[1])
print(type(model.optimizer).__name__)
before = [np.array(w) for w in model.get_weights()]
ids, targets = (np.array(a, dtype) for a, dtype in zip(json.loads(sys.argv[3]), ("int32", "float32")))
model.train_on_batch(ids, targets)
np.save(sys.argv[2], np.concatenate(
    [(a - b).ravel() for a, b in zip(model.get_weights(), before)]
))
"""


def test_a_saved_model_loads_with_exact_clipping(tmp_path):
    model = embedding_model()
    model.compile(with_exact_clipping(keras.optimizers.SGD(1.0, clipnorm=0.05)), "mse")
    path = str(tmp_path / "model.keras")
    model.save(path)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD,
            path,
            str(tmp_path / "step.npy"),
            json.dumps([IDS.tolist(), TARGETS.tolist()]),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split()[-1] == "ExactClippingSGD"
    want = np.concatenate([-g.ravel() for g in clipped("clipnorm", 0.05)])
    np.testing.assert_allclose(np.load(tmp_path / "step.npy"), want, atol=1e-6)


def test_bad_input():
    with pytest.raises(TypeError, match="`optimizer`.*keras.optimizers.Optimizer"):
        with_exact_clipping("adam")
    with pytest.raises(ValueError, match="`clipnorm` or `global_clipnorm`.*Adam"):
        with_exact_clipping(keras.optimizers.Adam(clipvalue=1.0))
    used = keras.optimizers.SGD(1.0, clipnorm=1.0)
    one_step(used)
    with pytest.raises(ValueError, match="not yet used.*before `compile`"):
        with_exact_clipping(used)


# Logical devices must be set before TensorFlow starts: a process of its own.
# It prints, for each kind of clipping, with and without the fix, the weight
# changes of one step on one device and on two replicas.
SCRIPT = """
import json
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)
import keras
from keras_seq.optimizers import exact_clipping_class, with_exact_clipping
from tests.optimizers.test_exact_clipping import IDS, TARGETS, embedding_model

mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
steps = {}
for kind in ("clipnorm", "global_clipnorm"):
    for exact in (True, False):
        for strategy in (None, mirrored):
            scope = strategy.scope() if strategy else tf.name_scope("one")
            with scope:
                model = embedding_model()
                before = [np.array(w) for w in model.get_weights()]
                optimizer = keras.optimizers.SGD(1.0, **{kind: 0.05})
                if exact:
                    optimizer = with_exact_clipping(optimizer)
                model.compile(optimizer, "mse")
            model.fit(IDS, TARGETS, batch_size=2, epochs=1, verbose=0)
            steps.setdefault(f"{kind} {exact}", []).append(
                [(a - b).tolist() for a, b in zip(model.get_weights(), before)]
            )
print(json.dumps(steps))
"""


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="tf.distribute")
@pytest.mark.slow
def test_two_replicas_clip_as_one_device():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    )
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    for kind in ("clipnorm", "global_clipnorm"):
        one, two = steps[f"{kind} True"]
        for a, b in zip(one, two):
            np.testing.assert_allclose(b, a, atol=1e-6, err_msg=kind)
        # Keras alone clips each replica's half of the batch by itself.
        one, two = steps[f"{kind} False"]
        gap = max(np.abs(np.subtract(a, b)).max() for a, b in zip(one, two))
        assert gap > 1e-3, kind


def test_an_optimizer_class_of_ones_own_gets_its_subclass():
    class Plain(keras.optimizers.SGD):
        pass

    exact = exact_clipping_class(Plain)
    assert exact is exact_clipping_class(Plain)  # made once
    assert keras.saving.get_registered_name(exact) == "keras_seq>ExactClippingPlain"
    optimizer = with_exact_clipping(Plain(1.0, clipnorm=0.05))
    assert type(optimizer) is exact
    for got, want in zip(one_step(optimizer), clipped("clipnorm", 0.05)):
        np.testing.assert_allclose(-got, want, atol=1e-6)

    class Other(keras.optimizers.SGD):
        pass

    Other.__name__ = "Plain"
    with pytest.raises(ValueError, match="Two optimizer classes named Plain"):
        exact_clipping_class(Other)
