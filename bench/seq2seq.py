"""keras_seq's AttentionWrapper decoder vs the same decoder written by hand.

Both models: source and target embeddings, a GRU encoder, a GRU decoder
whose new state attends over the encoder outputs (Bahdanau's additive
score, Luong's placement, no input feeding), the attentional layer
`tanh(W_c [c; h])` and the output layer. The hand-written one is the usual
Keras pattern: one fast `GRU` layer over the target, then the attention
over all steps; the other is `AttentionRNN(AttentionWrapper(...))`
(which runs the same way for this configuration). Times a training step
(`train_on_batch`) and a beam search (each model's own step function, the
wrapper's or hand-written), alternating the two so that both see the same
machine load, and prints the medians and the ratio wrapper / hand-written
(below 1.0 means the wrapper is faster). Also times the wrapper with input
feeding, which must run step by step, for reference.

    python bench/seq2seq.py                      # TF backend, CPU
    KERAS_BACKEND=jax python bench/seq2seq.py    # e.g. on a GPU machine
"""

import argparse
import os
import platform
import statistics
import time

import keras
import numpy as np
from keras import ops
from results import add_argument, measure, write

from keras_seq import decoding, layers

START, END = 1, 2


class Seq2Seq:
    """A model and the beam search over its weights."""

    def __init__(self, args, kind):
        self.args = args
        source = keras.Input((args.length,), dtype="int32")
        target_in = keras.Input((args.length,), dtype="int32")
        self.source_embedding = keras.layers.Embedding(args.vocab, args.embedding)
        self.target_embedding = keras.layers.Embedding(args.vocab, args.embedding)
        self.encoder = layers.GRU(args.units, return_sequences=True, return_state=True)
        self.output = keras.layers.Dense(args.vocab)
        memory, state = self.encoder(self.source_embedding(source))
        embedded = self.target_embedding(target_in)
        if kind == "hand-written":
            self.cell_layer = layers.GRU(args.units, return_sequences=True)
            self.attention = layers.AdditiveAttention(args.units)
            self.attentional = keras.layers.Dense(
                args.units, activation="tanh", use_bias=False
            )
            hidden = self.cell_layer(embedded, initial_state=[state])
            context = self.attention(hidden, memory)
            outputs = self.attentional(ops.concatenate([context, hidden], -1))
        else:
            self.wrapper = layers.AttentionWrapper(
                layers.GRUCell(args.units),
                layers.AdditiveAttention(args.units),
                attention_layer_size=args.units,
                input_feeding=kind == "wrapper, input feeding",
            )
            outputs = layers.AttentionRNN(self.wrapper)(
                embedded, memory, initial_state=[state]
            )
        self.kind = kind
        self.model = keras.Model([source, target_in], self.output(outputs))
        self.model.compile(
            "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        )

    def step_fn(self, tokens, state):
        x = self.target_embedding(tokens)
        if self.kind == "hand-written":
            cell = self.cell_layer.cell
            h, _ = cell(x, state["h"])
            context = self.attention(h, state["memory"])
            a = self.attentional(ops.concatenate([context, h], -1))
            return self.output(a), {**state, "h": h}
        a, states = self.wrapper(x, state["decoder"], state["memory"])
        return self.output(a), {**state, "decoder": states}

    def search(self, source):
        memory, h = self.encoder(self.source_embedding(source))
        state = {"memory": memory}
        if self.kind == "hand-written":
            state["h"] = h
        else:
            state["decoder"] = self.wrapper.get_initial_state(cell_states=[h])
        start = ops.full((ops.shape(source)[0],), START, "int32")
        return decoding.beam_search(
            self.step_fn, state, start, END, self.args.beam, self.args.length, 0.7
        )


def compiled(function):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(function)
    return function


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=30)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=7)
    add_argument(parser, "seq2seq")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    shape = (args.batch, args.length)
    source = rng.integers(3, args.vocab, shape).astype("int32")
    target_in = rng.integers(3, args.vocab, shape).astype("int32")
    target_out = rng.integers(3, args.vocab, shape).astype("int32")
    kinds = ["hand-written", "wrapper", "wrapper, input feeding"]
    models = {kind: Seq2Seq(args, kind) for kind in kinds}
    searches = {kind: compiled(model.search) for kind, model in models.items()}
    for kind, model in models.items():  # compile and warm up
        for _ in range(2):
            model.model.train_on_batch([source, target_in], target_out)
            ops.convert_to_numpy(searches[kind](source)[0])
    train = {kind: [] for kind in kinds}
    search = {kind: [] for kind in kinds}
    for repeat in range(args.repeats):
        for kind in kinds if repeat % 2 == 0 else kinds[::-1]:
            start = time.perf_counter()
            models[kind].model.train_on_batch([source, target_in], target_out)
            train[kind].append(time.perf_counter() - start)
            start = time.perf_counter()
            ops.convert_to_numpy(searches[kind](source)[0])
            search[kind].append(time.perf_counter() - start)

    print(
        f"backend {keras.backend.backend()}, {platform.processor() or platform.machine()}"
        f", {os.cpu_count()} CPUs; batch {args.batch}, length {args.length}, GRU "
        f"{args.units}, vocabulary {args.vocab}, beam {args.beam}; medians of "
        f"{args.repeats}"
    )
    base_train = statistics.median(train["hand-written"])
    base_search = statistics.median(search["hand-written"])
    print(
        f"{'decoder':<24}{'train step':>12}{'ratio':>8}{'beam search':>13}{'ratio':>8}"
    )
    rows = []
    for kind in kinds:
        t, s = statistics.median(train[kind]), statistics.median(search[kind])
        print(
            f"{kind:<24}{t * 1000:>10.1f}ms{t / base_train:>8.2f}"
            f"{s * 1000:>11.1f}ms{s / base_search:>8.2f}"
        )
        if kind == "hand-written":
            continue
        # Input feeding runs step by step: reported, no target.
        target = None if "feeding" in kind else {"on": "ratio", "at_most": 1.1}
        for what, ours_s, base in (
            ("train step", t, base_train),
            ("beam search", s, base_search),
        ):
            rows.append(
                measure(
                    f"`AttentionWrapper` decoder ({kind}), {what}",
                    round(ours_s * 1e3, 2),
                    "ms",
                    "the same decoder written by hand",
                    round(base * 1e3, 2),
                    target,
                )
            )
    write(
        args.results,
        "Seq2seq decoder (`bench/seq2seq.py`)",
        rows,
        notes=(
            f"Batch {args.batch}, length {args.length}, GRU {args.units}, "
            f"vocabulary {args.vocab}, beam {args.beam}; medians of "
            f"{args.repeats}, the decoders alternated."
        ),
    )


if __name__ == "__main__":
    main()
