import keras
from keras import ops

from keras_seq.utils import checks


def negative_sampling_loss(positive, negatives, negative):
    """`-log sig(positive) - negative * mean_s log sig(-negatives_s)` per example.

    `negatives` `(batch, shared)` are scores against negatives drawn once per
    batch and shared by all its examples; weighting their mean by `negative`
    makes the loss an unbiased estimate of word2vec's loss with `negative`
    negatives per example (Mikolov et al. 2013).
    """
    log_sigmoid = keras.activations.log_sigmoid
    return -log_sigmoid(positive) - negative * ops.mean(
        log_sigmoid(-negatives), axis=-1
    )


def identity_loss(y_true, y_pred):
    """The models return their per-example loss; `fit` averages it."""
    return y_pred


class Word2VecBase(keras.Model):
    """Input (`embeddings`) and output (`context_embeddings`) vectors of word2vec."""

    def __init__(
        self,
        vocabulary_size,
        dim=100,
        negative=5,
        shared_negatives=None,
        unigram_log_probs=None,
        loss="negative_sampling",
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = checks.check_positive_int(
            "vocabulary_size", vocabulary_size
        )
        self.dim = checks.check_positive_int("dim", dim)
        self.negative = checks.check_positive_int("negative", negative)
        self.shared_negatives = checks.check_positive_int(
            "shared_negatives", shared_negatives or 8 * negative
        )
        self.loss_kind = checks.check_choice(
            "loss", loss, ("negative_sampling", "softmax")
        )
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        if unigram_log_probs is None:
            unigram_log_probs = [0.0] * vocabulary_size
        if len(unigram_log_probs) != vocabulary_size:
            raise ValueError(
                f"`unigram_log_probs` must have {vocabulary_size} entries (one per "
                f"word), got {len(unigram_log_probs)}."
            )
        self.unigram_log_probs = [float(p) for p in unigram_log_probs]
        # word2vec's initialisation: inputs uniform in +-0.5 / dim, outputs 0.
        self.embeddings = self.add_weight(
            shape=(vocabulary_size, dim),
            initializer=keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim, seed),
            name="embeddings",
        )
        self.context_embeddings = self.add_weight(
            shape=(vocabulary_size, dim), initializer="zeros", name="context_embeddings"
        )
        self._loss_tracker = keras.metrics.Mean(name="loss")
        # Use the fused TensorFlow step when it applies (see `train_step`),
        # with the C++ kernel on a CPU (`use_kernel`, see `_uses_kernel`).
        self.fused_step = True
        self.use_kernel = True
        # CBOW with the kernel: what each context row gets of the hidden
        # vector's error: "word2vec" (all of it for a mean, as word2vec.c and
        # gensim; 1/count of it for a sum, as gensim) or "gradient" (the
        # loss's gradient: 1/count for a mean, all for a sum). Measured on
        # PTB, "word2vec" scores as gensim, "gradient" far below it.
        self.kernel_context_scale = "word2vec"
        # The batch size the compiled rate is scaled by (`train` sets it): the
        # rate per example is the rate over this, so that a short batch (an
        # epoch's last, or a tiny corpus's only one) does not take steps
        # `batch_size / its size` times too large. None: each batch's size.
        self.rate_batch_size = None
        self._alias_table = None

    def _negatives(self, steps=1):
        """`steps * shared_negatives` int32 ids drawn from the unigram table."""
        return ops.cast(
            keras.random.categorical(
                ops.convert_to_tensor([self.unigram_log_probs]),
                steps * self.shared_negatives,
                seed=self.seed_generator,
            )[0],
            "int32",
        )

    def _hidden_and_targets(self, inputs, table):
        """For the fused step: `(hidden, targets, rows, row_example, row_weight)`.

        `hidden` `(batch, dim)` is built from the rows `rows` of the input
        table `table`; row `j` belongs to example `row_example[j]` and
        receives `row_weight[j]` times that example's hidden-vector gradient.
        """
        raise NotImplementedError

    def _uses_fused_step(self):
        return (
            self.fused_step
            and keras.backend.backend() in ("tensorflow", "jax")
            and self.loss_kind == "negative_sampling"
            and isinstance(self.optimizer, keras.optimizers.SGD)
            and not self.optimizer.momentum
        )

    def _uses_kernel(self):
        """The C++ kernel (`keras_seq.embeddings.kernels`) runs the fused step.

        On TensorFlow with the tables on a CPU, when the kernel could be built.
        """
        if not (self.use_kernel and keras.backend.backend() == "tensorflow"):
            return False
        if "GPU" in self.embeddings.value.device.upper():
            return False
        from keras_seq.embeddings import kernels

        return kernels.load() is not None

    def _kernel_alias_table(self, library):
        """The negatives' alias table, built once, outside any traced graph."""
        if self._alias_table is None:
            import numpy as np
            import tensorflow as tf

            with tf.init_scope():
                weights = np.exp(np.asarray(self.unigram_log_probs, np.float64))
                self._alias_table = library.keras_seq_word2_vec_alias_table(weights)
        return self._alias_table

    def _kernel_train_step(self, inputs):
        """word2vec's per-example SGD in the C++ kernel, in place, Hogwild.

        Each example draws its own `negative` negatives (as word2vec.c);
        the rate per example is the compiled schedule's over the batch.
        """
        import tensorflow as tf

        from keras_seq.embeddings import kernels

        library = kernels.load()
        first, second = (tf.cast(x, tf.int32) for x in inputs)
        keep, alias = self._kernel_alias_table(library)
        rate = self._rate_per_example(tf.shape(second)[0])
        seed = tf.cast(self.optimizer.iterations, tf.int64) * 1000003 + (self.seed or 0)
        loss, count = library.keras_seq_word2_vec_sgd(
            self.embeddings.value.handle,
            self.context_embeddings.value.handle,
            first,
            second,
            tf.zeros((0, 0), tf.int32),
            keep,
            alias,
            tf.cast(rate, tf.float32),
            seed,
            negative=self.negative,
            cbow_mean=getattr(self, "cbow_mean", True),
            context_scale=self.kernel_context_scale,
        )
        self.optimizer.iterations.assign_add(1)
        count = tf.cast(count, tf.float32)
        self._loss_tracker.update_state(
            tf.cast(loss, tf.float32) / tf.maximum(count, 1.0), sample_weight=count
        )
        return {"loss": self._loss_tracker.result()}

    def _rate_per_example(self, batch):
        """The compiled rate is per batch-mean loss: per example it is / batch.

        `batch` is the size of the batch at hand; `rate_batch_size`, when
        set, is used instead (the full batch size the rate was scaled by).
        """
        rate = self.optimizer.learning_rate
        if callable(rate):
            rate = rate(self.optimizer.iterations)
        if self.rate_batch_size is not None:
            batch = self.rate_batch_size
        return ops.cast(rate, self.embeddings.dtype) / ops.cast(
            batch, self.embeddings.dtype
        )

    def _fused_gradients(self, hidden, positive_rows, negative_rows):
        """Loss and its gradients by the scores and by `hidden`, written out."""
        positive = ops.sum(hidden * positive_rows, -1)
        scores = ops.matmul(hidden, ops.transpose(negative_rows))
        loss = negative_sampling_loss(positive, scores, self.negative)
        d_positive = ops.sigmoid(positive) - 1.0  # d loss / d positive
        d_scores = self.negative / self.shared_negatives * ops.sigmoid(scores)
        d_hidden = ops.expand_dims(d_positive, -1) * positive_rows + ops.matmul(
            d_scores, negative_rows
        )
        return loss, d_positive, d_scores, d_hidden

    def train_step(self, *args):
        """With negative sampling and plain SGD: a fused SGD step.

        The gradients of the negative-sampling loss are written out (they are
        a few products of the rows involved) and applied as sparse row
        updates, per example as word2vec does, with the rate of the compiled
        optimizer's schedule; this skips the generic autodiff and optimizer
        path (measured ~1.5x faster per step on a CPU). On JAX a batch may
        hold several steps, `(steps, batch, ...)`, run in one compiled scan
        on the device (see `keras_seq.embeddings.train`). Otherwise, and for
        the softmax loss, Keras's own step.
        """
        if not self._uses_fused_step():
            return super().train_step(*args)
        if keras.backend.backend() == "jax":
            return self._jax_train_step(*args)
        import tensorflow as tf

        inputs = args[0][0]  # data = (inputs, dummy targets)
        if self._uses_kernel():
            return self._kernel_train_step(inputs)
        table = self.embeddings.value
        hidden, targets, rows, row_example, row_weight = self._hidden_and_targets(
            inputs, table
        )
        rate = self._rate_per_example(tf.shape(targets)[0])
        negatives = self._negatives()
        context = self.context_embeddings.value
        positive_rows = tf.gather(context, targets)
        negative_rows = tf.gather(context, negatives)
        loss, d_positive, d_scores, d_hidden = self._fused_gradients(
            hidden, positive_rows, negative_rows
        )
        d_rows = tf.gather(d_hidden, row_example) * row_weight[:, None]
        table.scatter_sub(tf.IndexedSlices(rate * d_rows, rows))
        context.scatter_sub(
            tf.IndexedSlices(rate * d_positive[:, None] * hidden, targets)
        )
        context.scatter_sub(
            tf.IndexedSlices(
                rate * tf.matmul(d_scores, hidden, transpose_a=True), negatives
            )
        )
        self.optimizer.iterations.assign_add(1)
        self._loss_tracker.update_state(loss)
        return {"loss": self._loss_tracker.result()}

    def _jax_train_step(self, state, data):
        """The fused step on JAX, stateless: `lax.scan` over the steps of `data`.

        Inputs are `(steps, batch, ...)` (or one step, `(batch, ...)`);
        examples whose target id is -1 are padding and change nothing. The
        learning rate is the schedule's at the first of the steps.
        """
        import jax

        first, second = (ops.cast(x, "int32") for x in data[0])
        if len(second.shape) == 1:
            first, second = first[None], second[None]
        steps = second.shape[0]
        groups = (
            (self.trainable_variables, state[0]),
            (self.non_trainable_variables, state[1]),
            (self.optimizer.variables, state[2]),
            (self.metrics_variables, state[3]),
        )
        mapping = [pair for refs, values in groups for pair in zip(refs, values)]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            rate = self._rate_per_example(second.shape[1])
            negatives = ops.reshape(
                self._negatives(steps), (steps, self.shared_negatives)
            )

            def step(tables, inputs):
                table, context = tables
                *inputs, negatives = inputs
                hidden, targets, rows, row_example, row_weight = (
                    self._hidden_and_targets(inputs, table)
                )
                real = ops.cast(targets >= 0, hidden.dtype)
                targets = ops.maximum(targets, 0)
                loss, d_positive, d_scores, d_hidden = self._fused_gradients(
                    hidden, context[targets], context[negatives]
                )
                d_positive = d_positive * real
                d_scores = d_scores * real[:, None]
                d_hidden = d_hidden * real[:, None]
                d_rows = d_hidden[row_example] * row_weight[:, None]
                table = table.at[rows].add(-rate * d_rows)
                context = context.at[targets].add(-rate * d_positive[:, None] * hidden)
                context = context.at[negatives].add(-rate * (d_scores.T @ hidden))
                return (table, context), (ops.sum(loss * real), ops.sum(real))

            tables = (self.embeddings.value, self.context_embeddings.value)
            (table, context), (losses, counts) = jax.lax.scan(
                step, tables, (first, second, negatives)
            )
            self.embeddings.assign(table)
            self.context_embeddings.assign(context)
            self.optimizer.iterations.assign_add(steps)
            count = ops.sum(counts)
            self._loss_tracker.update_state(
                ops.sum(losses) / ops.maximum(count, 1.0), sample_weight=count
            )
            logs = {"loss": self._loss_tracker.result()}
        new_state = []
        for refs, values in groups:
            new_values = []
            for ref, value in zip(refs, values):
                current = scope.get_current_value(ref)
                new_values.append(value if current is None else current)
            new_state.append(new_values)
        return logs, tuple(new_state)

    @property
    def metrics(self):
        return [self._loss_tracker]

    def _loss_from_hidden(self, hidden, targets):
        """Per-example loss of predicting `targets` from `hidden` `(batch, dim)`."""
        if self.loss_kind == "softmax":
            logits = ops.matmul(hidden, ops.transpose(self.context_embeddings))
            return keras.losses.sparse_categorical_crossentropy(
                targets, logits, from_logits=True
            )
        positive = ops.sum(
            hidden * ops.take(self.context_embeddings, targets, axis=0), -1
        )
        negatives = self._negatives()
        scores = ops.matmul(
            hidden, ops.transpose(ops.take(self.context_embeddings, negatives, axis=0))
        )
        return negative_sampling_loss(positive, scores, self.negative)

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "dim": self.dim,
            "negative": self.negative,
            "shared_negatives": self.shared_negatives,
            "unigram_log_probs": self.unigram_log_probs,
            "loss": self.loss_kind,
            "seed": self.seed,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="keras_seq")
class SkipGram(Word2VecBase):
    """Skip-gram: predict each context word from the centre word's vector.

    For a (centre, context) pair the score is `v_centre . u_context`
    (`embeddings` and `context_embeddings`). With negative sampling the loss
    is `-log sig(v . u_context) - sum_k log sig(-v . u_k)` over `negative`
    words drawn from the unigram distribution to the power 0.75; here
    `shared_negatives` words are drawn once per batch and shared by its pairs
    (one matmul instead of a gather per pair), their mean weighted by
    `negative`. `loss="softmax"` uses the full softmax over the vocabulary
    (the course notes' formulation, small vocabularies only).

    Args:
        vocabulary_size: Number of words.
        dim: Vector size. Default 100.
        negative: Negatives per pair. Default 5.
        shared_negatives: Negatives drawn per batch. Default `8 * negative`.
        unigram_log_probs: Log-probabilities of drawing each word as a
            negative (`keras_seq.embeddings.unigram_table`); uniform if None.
        loss: `"negative_sampling"` (default) or `"softmax"`.
        seed: Seed of the initialisation and of the negatives.

    Call: `model((centres, contexts))`, `(batch,)` int ids each; returns the
    per-pair loss `(batch,)` (compile with `identity_loss`).
    """

    def call(self, inputs):
        centres, contexts = inputs
        hidden = ops.take(self.embeddings, ops.cast(centres, "int32"), axis=0)
        return self._loss_from_hidden(hidden, ops.cast(contexts, "int32"))

    def _hidden_and_targets(self, inputs, table):
        centres, contexts = (ops.cast(x, "int32") for x in inputs)
        hidden = ops.take(table, centres, axis=0)
        examples = ops.arange(ops.shape(centres)[0])
        weight = ops.ones_like(centres, hidden.dtype)
        return hidden, contexts, centres, examples, weight


@keras.saving.register_keras_serializable(package="keras_seq")
class CBOW(Word2VecBase):
    """Continuous bag of words: predict the centre word from its context.

    The hidden vector is the mean (`cbow_mean=True`, default) or the sum of
    the input vectors of the context words; the loss is that of `SkipGram`
    with the centre word as the target.

    Args:
        vocabulary_size: As `SkipGram`.
        cbow_mean: Mean (True) or sum (False) of the context vectors.
        **kwargs: `dim`, `negative`, `shared_negatives`, `unigram_log_probs`,
            `loss` and `seed`, as `SkipGram`.

    Call: `model((contexts, centres))`: `(batch, 2 * window)` context ids
    padded with -1, `(batch,)` centre ids; returns the per-example loss.
    """

    def __init__(self, vocabulary_size, cbow_mean=True, **kwargs):
        super().__init__(vocabulary_size, **kwargs)
        self.cbow_mean = bool(cbow_mean)

    def call(self, inputs):
        contexts, centres = inputs
        contexts = ops.cast(contexts, "int32")
        real = ops.cast(contexts >= 0, self.embeddings.dtype)
        vectors = ops.take(self.embeddings, ops.maximum(contexts, 0), axis=0)
        hidden = ops.sum(vectors * ops.expand_dims(real, -1), axis=-2)
        if self.cbow_mean:
            hidden = hidden / ops.maximum(ops.sum(real, axis=-1, keepdims=True), 1.0)
        return self._loss_from_hidden(hidden, ops.cast(centres, "int32"))

    def _hidden_and_targets(self, inputs, table):
        contexts, centres = (ops.cast(x, "int32") for x in inputs)
        real = ops.cast(contexts >= 0, self.embeddings.dtype)
        weight = real
        if self.cbow_mean:
            weight = real / ops.maximum(ops.sum(real, axis=1, keepdims=True), 1.0)
        rows = ops.maximum(contexts, 0)
        vectors = ops.take(table, rows, axis=0)
        hidden = ops.sum(vectors * ops.expand_dims(weight, -1), axis=1)
        slots = ops.shape(contexts)[1]
        examples = ops.repeat(ops.arange(ops.shape(contexts)[0]), slots)
        return (
            hidden,
            centres,
            ops.reshape(rows, (-1,)),
            examples,
            ops.reshape(weight, (-1,)),
        )

    def get_config(self):
        config = super().get_config()
        config["cbow_mean"] = self.cbow_mean
        return config
