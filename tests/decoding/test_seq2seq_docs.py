"""docs/seq2seq.md's example runs: it trains a step and beam-searches with the
penalties, on every backend."""

import pathlib
import re

import keras
import numpy as np

DOC = pathlib.Path(__file__).parents[2] / "docs" / "seq2seq.md"


def test_the_documented_model_trains_and_translates():
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    namespace = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)  # noqa: S102
    rng = np.random.default_rng(0)
    source = rng.integers(3, namespace["VOCAB"], (4, 6)).astype("int32")
    source[1, 4:] = 0
    target_in = rng.integers(3, namespace["VOCAB"], (4, 5)).astype("int32")
    namespace["model"].fit([source, target_in], target_in, epochs=1, verbose=0)
    sequences, scores, _ = namespace["translate"](source, beam_width=3)
    sequences, scores = (keras.ops.convert_to_numpy(t) for t in (sequences, scores))
    assert sequences.shape == (4, 1, 20)
    assert np.isfinite(scores).all() and (scores < 0).all()
