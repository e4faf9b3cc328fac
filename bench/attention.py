"""keras_seq MultiHeadAttention vs keras.layers.MultiHeadAttention.

Times one training step (`train_on_batch`: forward, backward, SGD update) and
one forward pass (`predict_on_batch`) of a model that is a single self-attention
layer, for both layers with the same configuration (and the same weights),
alternating them so that both see the same machine load, and prints the
median times and the ratio ours / Keras (below 1.0 means keras_seq is faster).

    python bench/attention.py                      # TF backend, CPU
    KERAS_BACKEND=jax python bench/attention.py    # e.g. on a GPU machine
"""

import argparse
import os
import platform

import keras
import numpy as np
from results import add_argument, measure, write
from timing import median_times

from keras_seq import layers


def self_attention_model(layer, args, causal):
    inputs = keras.Input((args.length, args.heads * args.key_dim))
    model = keras.Model(inputs, layer(inputs, inputs, use_causal_mask=causal))
    model.compile(optimizer="sgd", loss="mse")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--key-dim", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    add_argument(parser, "attention")
    args = parser.parse_args()

    dim = args.heads * args.key_dim
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.length, dim)).astype("float32")
    y = rng.normal(size=(args.batch, args.length, dim)).astype("float32")
    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} "
        f"machine={platform.machine()} cpus={os.cpu_count()} batch={args.batch} "
        f"length={args.length} heads={args.heads} key_dim={args.key_dim} "
        f"repeats={args.repeats} (median)"
    )
    print(
        "| self-attention | ours train ms | keras train ms | train ratio "
        "| ours predict ms | keras predict ms | predict ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    for causal in (False, True):
        ours = layers.MultiHeadAttention(args.heads, args.key_dim)
        peer = keras.layers.MultiHeadAttention(args.heads, args.key_dim)
        models = {
            "ours": self_attention_model(ours, args, causal),
            "peer": self_attention_model(peer, args, causal),
        }
        peer.set_weights(ours.get_weights())
        times = median_times(models, x, y, args.repeats)
        (ot, op), (pt, pp) = times["ours"], times["peer"]
        name = "causal" if causal else "full"
        print(
            f"| {name} | {ot * 1e3:.1f} | {pt * 1e3:.1f} | {ot / pt:.2f} "
            f"| {op * 1e3:.1f} | {pp * 1e3:.1f} | {op / pp:.2f} |",
            flush=True,
        )
        peer_name = "keras.layers.MultiHeadAttention"
        at_most_1 = {"on": "ratio", "at_most": 1.0}
        for kind, ours_s, peer_s in (("train step", ot, pt), ("forward", op, pp)):
            rows.append(
                measure(
                    f"self-attention ({name}), {kind}",
                    round(ours_s * 1e3, 2),
                    "ms",
                    peer_name,
                    round(peer_s * 1e3, 2),
                    at_most_1,
                )
            )
    write(
        args.results,
        "Multi-head attention (`bench/attention.py`)",
        rows,
        notes=(
            f"A model of one self-attention layer, batch {args.batch}, length "
            f"{args.length}, {args.heads} heads of {args.key_dim}; medians of "
            f"{args.repeats}, the two layers alternated, same weights, the "
            f"training steps first, then the forward passes; the inputs as "
            f"tensors, converted before the timing."
        ),
    )


if __name__ == "__main__":
    main()
