"""From a TSV of sentence pairs to BLEU and a served SavedModel, in one script.

The tutorial of docs/seq2seq.md: read `source<TAB>target` pairs, turn both
sides into word ids with `keras.layers.TextVectorization`, train a
`keras_seq.models.Seq2Seq` (bidirectional GRU encoder, GRU decoder with
additive attention) with `model.fit`, translate the test split with beam
search in one compiled call, score it with BLEU, export a SavedModel that
takes and returns text, and ask it for translations from a fresh Python
process, as a server would load it.

    python docs/examples/seq2seq_translate.py pairs.tsv --workdir runs/tutorial

An Anki / Tatoeba file (e.g. `deu.txt` of manythings.org) is such a TSV.
Training and decoding run on any Keras backend (TensorFlow must be
installed for `TextVectorization`); the SavedModel is written on the
TensorFlow backend (the default) and skipped on the others.
"""

import argparse
import json
import os
import subprocess
import sys

import keras
import numpy as np
import tensorflow as tf

from keras_seq import datasets
from keras_seq.export import export_seq2seq
from keras_seq.metrics import corpus_bleu
from keras_seq.models import Seq2Seq

START, END = "[start]", "[end]"


def standardize(texts):
    """Lower case, punctuation split off as words of its own."""
    texts = tf.strings.lower(texts)
    return tf.strings.regex_replace(texts, r"([.,!?¿¡;:\"])", r" \1 ")


def vectorizers(splits, vocabulary_size, max_length):
    """Source and target `TextVectorization`s learned on the training split.

    Targets are read as `[start] words [end]`, one id longer than
    `max_length` so that `target_in` and `target_out` both have it.
    """
    source = keras.layers.TextVectorization(
        vocabulary_size, standardize=standardize, output_sequence_length=max_length
    )
    source.adapt(list(splits.train.inputs))
    target = keras.layers.TextVectorization(
        vocabulary_size, standardize=standardize, output_sequence_length=max_length + 1
    )
    target.adapt([f"{START} {t} {END}" for t in splits.train.targets])
    return source, target


def arrays(split, source, target):
    """`([source, target_in], target_out)` as NumPy arrays (any backend)."""
    ids = np.asarray(target([f"{START} {t} {END}" for t in split.targets]))
    return [np.asarray(source(list(split.inputs))), ids[:, :-1]], ids[:, 1:]


def words(ids, lengths, vocabulary, end_id):
    """Generated ids -> text (words joined by spaces, up to the end id)."""
    return [
        " ".join(vocabulary[i] for i in row[:n] if i not in (0, end_id))
        for row, n in zip(ids, lengths)
    ]


def translate(model, source_ids, vocabulary, beam_width=4, max_length=20):
    """Beam search (length penalty 0.6) over batches of 256 sources."""
    texts = []
    for i in range(0, len(source_ids), 256):
        sequences, _, lengths = model.generate(
            source_ids[i : i + 256],
            beam_width=beam_width,
            max_length=max_length,
            length_penalty=0.6,
        )
        texts += words(
            keras.ops.convert_to_numpy(sequences)[:, 0],
            keras.ops.convert_to_numpy(lengths)[:, 0],
            vocabulary,
            model.end_id,
        )
    return texts


SERVE = """
import sys, tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
answer = served.signatures["serving_default"](texts=tf.constant(sys.argv[2:]))
for text in answer["translation"].numpy():
    print(text.decode())
"""


def ask_served_model(path, texts):
    """Translations of `texts` by the SavedModel at `path`, loaded by a new
    Python process that imports nothing but TensorFlow."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", SERVE, path, *texts],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    return result.stdout.splitlines()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tsv", help="source<TAB>target pairs, one per line")
    parser.add_argument("--workdir", default="runs/seq2seq_tutorial")
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--max-length", type=int, default=20)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    os.makedirs(args.workdir, exist_ok=True)

    # 1. Pairs, split 80/10/10, and word ids.
    splits = datasets.load_translation_tsv(args.tsv)
    source, target = vectorizers(splits, args.vocabulary_size, args.max_length)
    target_vocabulary = target.get_vocabulary()
    train, valid, test = (arrays(s, source, target) for s in splits)

    # 2. The model, trained with `fit`; padding (id 0) costs nothing.
    model = Seq2Seq(
        source.vocabulary_size(),
        target.vocabulary_size(),
        embedding_dim=min(args.units, 128),
        units=args.units,
        dropout=0.2,
        start_id=target_vocabulary.index(START),
        end_id=target_vocabulary.index(END),
    )
    model.compile(
        keras.optimizers.Adam(2e-3, clipnorm=1.0),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
    )
    model.fit(
        *train,
        validation_data=tuple(valid),
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[
            keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
        ],
        verbose=2,
    )

    # 3. Beam search on the test split, BLEU against the references.
    hypotheses = translate(
        model, test[0][0], target_vocabulary, max_length=args.max_length
    )
    references = [
        " ".join(t.split())
        for t in standardize(list(splits.test.targets)).numpy().astype(str)
    ]
    bleu = corpus_bleu(hypotheses, [[r] for r in references]).score
    print(f"test BLEU {bleu:.2f} on {len(references)} pairs")
    for s, h in list(zip(splits.test.inputs, hypotheses))[:5]:
        print(f"  {s}  ->  {h}")

    # 4. A SavedModel from text to text, asked from a fresh process.
    model.save(os.path.join(args.workdir, "model.keras"))
    served = []
    if keras.backend.backend() == "tensorflow":
        path = os.path.join(args.workdir, "export")
        export_seq2seq(
            path,
            model,
            source,
            target_vocabulary=target_vocabulary,
            max_length=args.max_length,
            length_penalty=0.6,
        )
        served = ask_served_model(path, list(splits.test.inputs[:5]))
    else:
        print("The SavedModel export needs KERAS_BACKEND=tensorflow: skipped.")
    for s, t in zip(splits.test.inputs, served):
        print(f"  served: {s}  ->  {t}")
    results = {
        "test_bleu": round(bleu, 2),
        "test_pairs": len(references),
        "examples": [
            {"source": s, "translation": h, "served": t}
            for s, h, t in zip(splits.test.inputs, hypotheses, served or [None] * 5)
        ],
    }
    with open(os.path.join(args.workdir, "results.json"), "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
    return results


if __name__ == "__main__":
    main()
