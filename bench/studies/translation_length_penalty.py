"""The beam-search length penalty of a trained translation model, chosen on
the validation split.

Decodes the validation split with beam search (the config's width) for each
`alpha` of score / length**alpha, prints the validation BLEU of each, then
the test BLEU at the alpha validation picked (and at the config's own, for
comparison). The test split plays no part in the choice.

    python bench/studies/translation_length_penalty.py runs/translate_rnn [--preset default] [--alphas 0.4 0.7 1.0 1.3]
"""

import argparse
import json

import keras

import zoo
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
    test = sweep(
        translator,
        splits.test,
        config.beam_width,
        sorted({best, config.length_penalty}),
    )
    result = {
        "beam_width": config.beam_width,
        "validation_bleu": validation,
        "chosen_alpha": best,
        "test_bleu": test,
    }
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
