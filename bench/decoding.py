"""keras_seq.decoding.beam_search vs keras_hub.samplers.BeamSampler.

The same step function for both: embedding -> GRU step -> dense to the
vocabulary (random weights), batch 32, beam 4, 32 generated tokens, each search
compiled (`tf.function(jit_compile=True)` on TensorFlow, `jax.jit` on JAX).
Prints compile time (the first call) apart and sentences per second (batch /
median time of a call) and the ratio ours / keras-hub. keras-hub's sampler has
no length penalty and stops at the end token only when every beam has one;
ours runs with length_penalty=0.7 and its exact early stop. The end token is
made improbable so that both run all the steps (see `make_step`).

    python bench/decoding.py                      # TF backend, CPU
    KERAS_BACKEND=jax python bench/decoding.py    # e.g. on a GPU machine
"""

import argparse
import os
import platform
import statistics
import time

import keras
import keras_hub
from keras import ops
from results import add_argument, measure, write

from keras_seq.decoding import beam_search


def compiled(fn):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def make_step(args, end_id, end_bias):
    """Embedding + GRUCell + Dense; `(tokens, h) -> (logits, h)`.

    With `end_bias` (e.g. -30) the end token is improbable, so that no search
    ends early and both run all `steps` steps. Without it (random weights, an
    8k-way softmax) `[end]` at step 1 is the best finished hypothesis, our
    exact early stop ends the search after ~12 steps and keras-hub's sampler
    runs on to the end: the second scenario.
    """
    keras.utils.set_random_seed(0)
    embedding = keras.layers.Embedding(args.vocab, args.units)
    cell = keras.layers.GRUCell(args.units)
    dense = keras.layers.Dense(args.vocab)
    embedding.build((None,))
    cell.build((None, args.units))
    dense.build((None, args.units))
    if end_bias is not None:
        bias = keras.ops.convert_to_numpy(dense.bias)
        bias[end_id] = end_bias
        dense.bias.assign(bias)

    def step(tokens, h):
        output, states = cell(embedding(tokens), [h])
        return dense(output), states[0]

    return step


def timed(fn, repeats):
    start = time.perf_counter()
    keras.tree.map_structure(ops.convert_to_numpy, fn())
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        keras.tree.map_structure(ops.convert_to_numpy, fn())
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    add_argument(parser, "decoding")
    args = parser.parse_args()
    end_id, start_id = 2, 1
    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} "
        f"keras_hub={keras_hub.__version__} machine={platform.machine()} "
        f"cpus={os.cpu_count()} batch={args.batch} beam={args.beam} "
        f"steps={args.steps} vocab={args.vocab} units={args.units} "
        f"repeats={args.repeats} (median)"
    )
    print(
        "| scenario | search | compile s | ms per batch | sentences/s "
        "| keras-hub time / ours |"
    )
    print("|---|---|---|---|---|---|")
    scenarios = (("all 32 steps (end improbable)", -30.0), ("random model", None))
    rows = []
    for scenario, end_bias in scenarios:
        ours, theirs = run_scenario(
            args, scenario, make_step(args, end_id, end_bias), end_id, start_id
        )
        rows.append(
            measure(
                f"beam search, {scenario}: time per batch",
                round(ours * 1e3, 2),
                "ms",
                "keras_hub.samplers.BeamSampler",
                round(theirs * 1e3, 2),
                {"on": "ratio", "at_most": 0.5},  # the aim: twice as fast
            )
        )
    write(
        args.results,
        "Beam search (`bench/decoding.py`)",
        rows,
        notes=(
            f"An embedding, a GRU step ({args.units} units) and a dense layer to "
            f"{args.vocab} words; batch {args.batch}, beam {args.beam}, at most "
            f"{args.steps} steps, both searches compiled; medians of "
            f"{args.repeats}. With a random model rows end early and keras_seq "
            "stops when no live beam can win; with the end token made "
            "improbable both run every step."
        ),
    )


def run_scenario(args, scenario, step, end_id, start_id):
    h0 = ops.zeros((args.batch, args.units))
    starts = ops.full((args.batch,), start_id, "int32")

    def ours():
        return beam_search(
            step, h0, starts, end_id, args.beam, args.steps, length_penalty=0.7
        )

    sampler = keras_hub.samplers.BeamSampler(num_beams=args.beam)
    prompt = ops.concatenate(
        [
            ops.full((args.batch, 1), start_id, "int32"),
            ops.zeros((args.batch, args.steps), "int32"),
        ],
        axis=1,
    )

    def theirs():
        def next_fn(prompt, cache, index):
            tokens = ops.take_along_axis(
                prompt, ops.broadcast_to(index - 1, (ops.shape(prompt)[0], 1)), axis=1
            )[:, 0]
            logits, h = step(tokens, cache)
            return logits, None, h

        return sampler(next_fn, prompt, cache=h0, index=1, stop_token_ids=[end_id])

    results = {}
    for name, fn in (
        ("keras_seq beam_search", ours),
        ("keras_hub BeamSampler", theirs),
    ):
        results[name] = timed(compiled(fn), args.repeats)
    speed_up = results["keras_hub BeamSampler"][1] / results["keras_seq beam_search"][1]
    for name, (first, median) in results.items():
        ratio = f"{speed_up:.2f}x" if name.startswith("keras_seq") else ""
        print(
            f"| {scenario} | {name} | {first:.2f} | {median * 1e3:.1f} "
            f"| {args.batch / median:.0f} | {ratio} |",
            flush=True,
        )
    return results["keras_seq beam_search"][1], results["keras_hub BeamSampler"][1]


if __name__ == "__main__":
    main()
