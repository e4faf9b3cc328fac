"""The first SGD steps of `lm_ptb`, written for the PyTorch reference to replay.

Builds `lm_ptb`'s model for `--preset` and `--set` (as `python -m zoo train`
does: same seed, vocabulary, windows and compiled optimizer), takes
`--steps` steps on the first training windows and writes to `--out` (npz):
the initial weights, the config, the windows and the loss of each step.
`bench/studies/lm_ptb_torch.py --replay OUT` (PyTorch, a venv of its own) loads the
same weights, takes the same steps and prints both losses side by side:

    python bench/studies/lm_ptb_steps.py --preset medium --set units=200 \
        --set dropout=0 --set recurrent_bias=true --out /tmp/steps.npz
    /tmp/tvenv/bin/python bench/studies/lm_ptb_torch.py --replay /tmp/steps.npz

Use `dropout=0`: the two frameworks draw different dropout masks.
"""

import argparse
import dataclasses
import json

import keras
import numpy as np

import zoo
from zoo.language_model.input_pipeline import (
    load_data,
    stream,
    vocabulary_of,
    windows,
)
from zoo.language_model.model import build_language_model
from zoo.language_model.train import compile_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--float64",
        action="store_true",
        help="compute in float64 (the replay follows), so that rounding does "
        "not set the two runs apart",
    )
    args = parser.parse_args()
    if args.float64:
        keras.config.set_floatx("float64")
    config = zoo.config(
        "lm_ptb", args.preset, **zoo.parse_overrides("lm_ptb", args.preset, args.set)
    )
    if config.tie_weights:
        parser.error("the PyTorch reference has no tied output layer")
    keras.utils.set_random_seed(config.seed)
    splits = load_data(config)
    words = vocabulary_of(splits.train.inputs, config.max_tokens)
    ids = stream(splits.train.inputs, {w: i for i, w in enumerate(words)})
    if config.train_limit:
        ids = ids[: config.train_limit]
    inputs, targets = windows(ids, config.batch_size, config.bptt)
    inputs, targets = inputs[: args.steps], targets[: args.steps]
    model = build_language_model(config, len(words))
    weights = {v.path: keras.ops.convert_to_numpy(v) for v in model.trainable_variables}
    compile_model(model, config)
    losses = []
    for step, (x, y) in enumerate(zip(inputs, targets)):
        losses.append(float(model.train_on_batch(x, y)))
        print(f"step {step}: loss {losses[-1]:.6f}", flush=True)
    np.savez(
        args.out,
        config=json.dumps(dataclasses.asdict(config)),
        words=np.asarray(words),
        inputs=inputs,
        targets=targets,
        losses=np.asarray(losses),
        names=np.asarray(list(weights)),
        **{f"weight_{i}": w for i, w in enumerate(weights.values())},
    )


if __name__ == "__main__":
    main()
