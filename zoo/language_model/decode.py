"""Continuing prompts with a trained language model."""

import keras
import numpy as np

from .input_pipeline import END, UNKNOWN
from .model import continue_prompts

# Prompt words read (the last ones); the exported model truncates alike.
MAX_PROMPT_WORDS = 100


def prompt_ids(prompts, words):
    """Prompts as the exported model reads them: `(ids, lengths)`, right-padded.

    Lower-cased, split on whitespace, the last `MAX_PROMPT_WORDS` words,
    unknown words as `<unk>`, `<eos>` in front (it precedes every sentence of
    the training text).
    """
    index = {w: i for i, w in enumerate(words)}
    unknown = index.get(UNKNOWN, 0)
    rows = [
        [index[END]]
        + [index.get(w, unknown) for w in p.lower().split()[-MAX_PROMPT_WORDS:]]
        for p in prompts
    ]
    ids = np.zeros((len(rows), max(map(len, rows))), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids, np.asarray([len(row) for row in rows], "int32")


def continuer(model, words, length=20, temperature=1.0, top_k=40):
    """`(ids, lengths, seed) -> (sequences, scores, lengths)`: `continue_prompts`
    with `<eos>` of `words` as the end, for `generate` and the export."""

    def continue_ids(ids, lengths, seed):
        return continue_prompts(
            model,
            ids,
            lengths,
            end_id=words.index(END),
            max_length=length,
            temperature=temperature,
            top_k=top_k,
            seed=seed,
        )

    return continue_ids


def generate(model, words, prompts, length=20, temperature=1.0, top_k=40, seed=0):
    """Continues each prompt by sampling from the LM (`continue_prompts`).

    Returns one list of new words per prompt (without the ending `<eos>`).
    """
    continue_ids = continuer(model, words, length, temperature, top_k)
    sequences, _, new_lengths = continue_ids(*prompt_ids(prompts, words), seed)
    sequences = keras.ops.convert_to_numpy(sequences)
    new_lengths = keras.ops.convert_to_numpy(new_lengths)
    return [
        [words[i] for i in row[:n] if words[i] != END]
        for row, n in zip(sequences, new_lengths)
    ]
