"""The beam-search length penalty of a trained translation model, chosen on
the validation split.

Decodes the validation split with beam search (the config's width) for each
`alpha` of score / length**alpha, prints the validation BLEU of each, then
the test BLEU at the alpha validation picked (and at the config's own, for
comparison: the training run's figure in metrics.json, where it has one).
The test split plays no part in the choice. The result goes into the run's
metrics.json as `length_penalty_choice`, which `python bench/results.py zoo
WORKDIR` reads.

    python bench/studies/translation_length_penalty.py runs/translate_rnn [--preset default] [--alphas 0.4 0.7 1.0 1.3]
"""

import argparse
import json
import os

import keras

import zoo
from zoo import records
from zoo.translation import decode, input_pipeline


def sweep(translator, split, beam_width, alphas):
    """`{alpha: sacreBLEU}` of beam search on `split`."""
    results = decode.evaluate_bleu(
        translator, split, settings=[(beam_width, alpha) for alpha in alphas]
    )
    return {
        alpha: results[f"beam{beam_width}_alpha{alpha}"]["sacrebleu"]
        for alpha in alphas
    }


def choose(validation):
    """The alpha of the best validation BLEU (the smaller on a tie)."""
    return max(sorted(validation), key=lambda alpha: validation[alpha])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--model", default="translate_rnn")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.4, 0.7, 1.0, 1.3])
    args = parser.parse_args(argv)
    config = zoo.recorded_config(args.model, args.workdir) or zoo.config(
        args.model, args.preset
    )
    model = keras.saving.load_model(f"{args.workdir}/model.keras")
    translator = decode.translator_of(model, args.workdir, config)
    splits = input_pipeline.load_data(config)
    validation = sweep(translator, splits.valid, config.beam_width, args.alphas)
    best = choose(validation)
    path = os.path.join(args.workdir, "metrics.json")
    metrics = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    # The training run decoded the test split at the config's alpha already.
    recorded = metrics.get("test_bleu", {})
    key = f"beam{config.beam_width}_alpha{config.length_penalty}"
    test = {}
    if key in recorded:
        test[config.length_penalty] = recorded[key]["sacrebleu"]
    missing = sorted({best, config.length_penalty} - set(test))
    if missing:
        test.update(sweep(translator, splits.test, config.beam_width, missing))
    result = {
        "beam_width": config.beam_width,
        "validation_bleu": validation,
        "chosen_alpha": best,
        "test_bleu": dict(sorted(test.items())),
    }
    print(json.dumps(result, indent=1))
    if metrics:
        metrics["length_penalty_choice"] = {
            "command": records.command(None if argv is None else [__file__, *argv]),
            **{k: v for k, v in result.items() if k != "test_bleu"},
            "validation_bleu": {str(a): b for a, b in validation.items()},
            "test_bleu": {str(a): b for a, b in result["test_bleu"].items()},
            "chosen_test_bleu": test[best],
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(metrics, f, indent=2, ensure_ascii=False)
    return result


if __name__ == "__main__":
    main()
