import keras
import numpy as np

from keras_seq.layers import SimpleRNN
from keras_seq.testing import TestCase
from tests.layers.rnn import keras_reference as ref


class SimpleRNNTest(TestCase):
    def test_layer(self):
        x = ref.sequences()
        self.run_layer_test(
            SimpleRNN,
            {"units": 3, "return_sequences": True, "return_state": True},
            x,
            expected_output_shape=[(4, 7, 3), (4, 3)],
            expected_num_trainable_weights=3,
            input_mask=ref.masks()["right"],
        )

    def test_relu_and_no_bias(self):
        x = ref.sequences()
        ours = SimpleRNN(ref.UNITS, activation="relu", use_bias=False)
        theirs = keras.layers.SimpleRNN(ref.UNITS, activation="relu", use_bias=False)
        ours(x)
        theirs(x)
        ours.set_weights(theirs.get_weights())
        self.assertAllClose(ours(x), theirs(x), atol=1e-5)

    def test_unroll_equals_loop(self):
        x = ref.sequences()
        looped = SimpleRNN(ref.UNITS, return_sequences=True)
        unrolled = SimpleRNN(ref.UNITS, return_sequences=True, unroll=True)
        looped(x)
        unrolled(x)
        unrolled.set_weights(looped.get_weights())
        mask = ref.masks()["left"]
        self.assertAllClose(unrolled(x, mask=mask), looped(x, mask=mask), atol=1e-6)

    def test_bad_inputs(self):
        ref.check_bad_inputs(self, SimpleRNN)

    def test_stateful(self):
        ref.check_stateful(self, SimpleRNN)

    def test_dropout(self):
        ref.check_dropout(self, SimpleRNN)


@ref.keras_cases
def test_matches_keras(mask_kind, go_backwards, use_initial_state):
    ref.check_matches_keras(
        TestCase(),
        SimpleRNN,
        keras.layers.SimpleRNN,
        mask_kind,
        use_initial_state,
        go_backwards=go_backwards,
    )


def test_course_notes_worked_example():
    """The vanilla-RNN BPTT example of the course notes, to their 5 decimals.

    s_t = tanh(U x_t + W s_{t-1}), y_t = softmax(V s_t), L = sum_t CE(y_t, t_t),
    with column-vector matrices as in the notes (Keras kernels are transposes).
    """
    U = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "float32")
    W = np.array([[0.1, 0.2], [0.3, 0.4]], "float32")
    V = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "float32")
    x = np.array([[[1, 2, 3], [2, 3, 4], [3, 4, 5]]], "float32")
    targets = np.array([[0, 2, 1]])

    rnn = SimpleRNN(2, use_bias=False, return_sequences=True)
    dense = keras.layers.Dense(3, use_bias=False)
    states = rnn(x)
    dense(states)
    rnn.set_weights([U.T, W.T])
    dense.set_weights([V.T])

    case = TestCase()
    states = keras.ops.convert_to_numpy(rnn(x))[0]
    expected_states = [[0.88535, 0.99668], [0.97961, 0.99996], [0.99394, 1.00000]]
    np.testing.assert_allclose(states, expected_states, atol=6e-6)

    class Net(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.rnn, self.dense = rnn, dense

        def call(self, inputs):
            logits = self.dense(self.rnn(inputs))
            return keras.ops.sum(
                keras.losses.sparse_categorical_crossentropy(
                    targets, logits, from_logits=True
                )
            )

    net = Net()
    _, _, grads = case.layer_gradients(net, x)
    # layer_gradients differentiates sum(sin(3 L)); divide by dsin(3L)/dL.
    loss = float(keras.ops.convert_to_numpy(net(x)))
    grads = [g / (3 * np.cos(3 * loss)) for g in grads]
    grad_by_name = dict(zip([v.path for v in net.trainable_variables], grads))
    d_u = grad_by_name[rnn.cell.kernel.path].T
    d_w = grad_by_name[rnn.cell.recurrent_kernel.path].T
    d_v = grad_by_name[dense.kernel.path].T

    np.testing.assert_allclose(
        d_v,
        [[-0.27229, -0.35369], [-0.08774, -0.05002], [0.36003, 0.40372]],
        atol=6e-6,
    )
    np.testing.assert_allclose(
        d_w, [[-0.00469, -0.00535], [-0.00001, -0.00001]], atol=6e-6
    )
    np.testing.assert_allclose(
        d_u, _numpy_bptt_d_u(U, W, V, x[0], targets[0]), atol=1e-6
    )


def _numpy_bptt_d_u(U, W, V, x, targets):
    """dL/dU by backpropagation through time, written out in float64."""
    U, W, V, x = (a.astype("float64") for a in (U, W, V, x))
    s = [np.zeros(2)]
    for x_t in x:
        s.append(np.tanh(U @ x_t + W @ s[-1]))
    d_u = np.zeros_like(U)
    d_s_next = np.zeros(2)
    for t in reversed(range(len(x))):
        logits = V @ s[t + 1]
        y = np.exp(logits - logits.max())
        y /= y.sum()
        y[targets[t]] -= 1.0
        d_s = V.T @ y + d_s_next
        d_a = d_s * (1 - s[t + 1] ** 2)
        d_u += np.outer(d_a, x[t])
        d_s_next = W.T @ d_a
    return d_u
