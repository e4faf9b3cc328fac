"""`TestCase`: the shared layer checks used by every keras_seq layer test."""

import os
import shutil
import tempfile
import unittest

import keras
import numpy as np
from keras import tree


def _to_numpy(x):
    return tree.map_structure(lambda t: np.asarray(keras.ops.convert_to_numpy(t)), x)


def _at_least_float32(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    return keras.ops.cast(x, "float32") if dtype in ("float16", "bfloat16") else x


def _flatten(x):
    return [np.asarray(keras.ops.convert_to_numpy(t)) for t in tree.flatten(x)]


class TestCase(unittest.TestCase):
    """A `unittest.TestCase` with numeric asserts and `run_layer_test`.

    Works under pytest and on every Keras backend (it only uses public Keras).
    """

    def assertAllClose(self, actual, expected, atol=1e-6, rtol=1e-6, msg=None):
        actual, expected = _flatten(actual), _flatten(expected)
        self.assertEqual(len(actual), len(expected), msg)
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=msg or "")

    def get_temp_dir(self):
        temp_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, temp_dir, True)
        return temp_dir

    def run_layer_test(
        self,
        layer_cls,
        init_kwargs,
        input_data,
        expected_output_shape=None,
        expected_num_trainable_weights=None,
        expected_num_non_trainable_weights=0,
        input_mask=None,
        call_kwargs=None,
        run_training_check=True,
        run_saving_check=True,
        mask_argument="mask",
    ):
        """Checks a layer end to end.

        1. `get_config` / `from_config` and `keras.saving.serialize_keras_object`
           round trips give the same config.
        2. Eager call: output shapes (`expected_output_shape`, a shape or a list
           of shapes for several outputs) and weight counts; outputs finite.
        3. Symbolic call on `keras.Input`: same shapes with a free batch size.
        4. With `input_mask` (`(batch, time)`, passed as `mask_argument`): the
           layer supports masking, the masked call is finite and `compute_mask`
           gives a `(batch, time)` mask or None.
        5. One `fit` step on a functional model changes the trainable weights
           and gives a finite loss.
        6. `.keras` save and load reproduce the outputs exactly.

        `input_data` is one array, or a tuple of arrays passed as positional
        arguments (e.g. `(query, value)`).
        """
        call_kwargs = call_kwargs or {}
        args = input_data if isinstance(input_data, tuple) else (input_data,)

        layer = layer_cls(**init_kwargs)
        config = layer.get_config()
        self.assertEqual(layer_cls.from_config(config).get_config(), config)
        serialized = keras.saving.serialize_keras_object(layer)
        revived = keras.saving.deserialize_keras_object(serialized)
        self.assertIsInstance(revived, layer_cls)
        self.assertEqual(revived.get_config(), config)

        outputs = layer(*args, **call_kwargs)
        output_shapes = [tuple(t.shape) for t in tree.flatten(outputs)]
        if expected_output_shape is not None:
            expected = expected_output_shape
            if not isinstance(expected[0], (tuple, list)):
                expected = [expected]
            self.assertEqual(output_shapes, [tuple(s) for s in expected])
        for value in _flatten(outputs):
            self.assertTrue(np.all(np.isfinite(value)), "non-finite output")
        if expected_num_trainable_weights is not None:
            self.assertLen(layer.trainable_weights, expected_num_trainable_weights)
        self.assertLen(layer.non_trainable_weights, expected_num_non_trainable_weights)

        inputs = [keras.Input(shape=x.shape[1:], dtype=str(x.dtype)) for x in args]
        symbolic = layer_cls(**init_kwargs)(*inputs, **call_kwargs)
        symbolic_shapes = [tuple(t.shape) for t in tree.flatten(symbolic)]
        self.assertEqual(
            symbolic_shapes, [(None,) + shape[1:] for shape in output_shapes]
        )

        if input_mask is not None:
            self.assertTrue(layer.supports_masking, "layer must support masking")
            masked = layer(*args, **{mask_argument: input_mask}, **call_kwargs)
            for value in _flatten(masked):
                self.assertTrue(np.all(np.isfinite(value)), "non-finite output")
            output_mask = layer.compute_mask(args[0], input_mask)
            for m in tree.flatten(output_mask):
                if m is not None:
                    self.assertEqual(tuple(m.shape), tuple(input_mask.shape))

        if run_training_check:
            self._run_fit_step(layer_cls, init_kwargs, input_data, call_kwargs)
        if run_saving_check:
            self._run_saving_check(layer_cls, init_kwargs, input_data, call_kwargs)

    def layer_gradients(self, layer, inputs, **call_kwargs):
        """Outputs and gradients of a fixed scalar loss of the layer outputs.

        The loss is `sum(sin(3 * output))` over every output, so all outputs
        (sequences and final states) feed the gradients. Returns
        `(outputs, grad_inputs, grads_of_trainable_weights)` as NumPy, on
        TensorFlow (`GradientTape`), JAX (`StatelessScope` + `jax.grad`) and
        PyTorch (`torch.autograd.grad`).
        """

        def loss_of(outputs):
            # Half-precision outputs are summed in float32 (as a mixed
            # precision model's loss is).
            return sum(
                keras.ops.sum(keras.ops.sin(3.0 * _at_least_float32(t)))
                for t in tree.flatten(outputs)
            )

        inputs = keras.ops.convert_to_tensor(inputs)
        layer(inputs, **call_kwargs)
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                tape.watch(inputs)
                outputs = layer(inputs, **call_kwargs)
                loss = loss_of(outputs)
            grads = tape.gradient(loss, [inputs] + list(layer.trainable_variables))
        elif backend == "jax":
            import jax

            trainable = [v.value for v in layer.trainable_variables]
            non_trainable = [v.value for v in layer.non_trainable_variables]

            def loss_fn(trainable, x):
                # The layer's `__call__` in a stateless scope (not
                # `stateless_call`, which skips it): inputs and variables are
                # autocast as inside a model, under mixed precision too.
                mapping = list(zip(layer.trainable_variables, trainable))
                mapping += list(zip(layer.non_trainable_variables, non_trainable))
                with keras.StatelessScope(state_mapping=mapping):
                    outputs = layer(x, **call_kwargs)
                return loss_of(outputs)

            outputs = layer(inputs, **call_kwargs)
            weight_grads, input_grad = jax.grad(loss_fn, argnums=(0, 1))(
                trainable, inputs
            )
            grads = [input_grad] + list(weight_grads)
        elif backend == "torch":
            import torch

            inputs = inputs.detach().requires_grad_(True)
            outputs = layer(inputs, **call_kwargs)
            loss = loss_of(outputs)
            sources = [inputs] + [v.value for v in layer.trainable_variables]
            grads = torch.autograd.grad(loss, sources)
            outputs = tree.map_structure(lambda t: t.detach(), outputs)
        else:
            self.skipTest(f"gradients are not wired for the {backend} backend")
        grads = [np.asarray(keras.ops.convert_to_numpy(g)) for g in grads]
        return _to_numpy(outputs), grads[0], grads[1:]

    def assertLen(self, container, length):
        self.assertEqual(len(container), length)

    def _functional(self, layer_cls, init_kwargs, input_data, call_kwargs):
        args = input_data if isinstance(input_data, tuple) else (input_data,)
        inputs = [keras.Input(shape=x.shape[1:], dtype=str(x.dtype)) for x in args]
        outputs = layer_cls(**init_kwargs)(*inputs, **call_kwargs)
        if isinstance(input_data, tuple):
            return keras.Model(inputs, outputs)
        return keras.Model(inputs[0], outputs)

    def _run_fit_step(self, layer_cls, init_kwargs, input_data, call_kwargs):
        model = self._functional(layer_cls, init_kwargs, input_data, call_kwargs)
        x = list(input_data) if isinstance(input_data, tuple) else input_data
        targets = tree.map_structure(
            lambda y: np.ones(y.shape, "float32"), _to_numpy(model(x))
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        history = model.fit(x, targets, epochs=1, batch_size=8, verbose=0)
        self.assertTrue(np.isfinite(history.history["loss"][-1]))
        after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
        if before:
            changed = any(not np.array_equal(b, a) for b, a in zip(before, after))
            self.assertTrue(changed, "one fit step changed no weight")

    def _run_saving_check(self, layer_cls, init_kwargs, input_data, call_kwargs):
        # Outputs are compared in inference mode: dropout draws differ.
        call_kwargs = {k: v for k, v in call_kwargs.items() if k != "training"}
        model = self._functional(layer_cls, init_kwargs, input_data, call_kwargs)
        x = list(input_data) if isinstance(input_data, tuple) else input_data
        expected = model(x)
        path = os.path.join(self.get_temp_dir(), "model.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertAllClose(restored(x), expected, atol=0, rtol=0)
