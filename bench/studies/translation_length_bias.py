"""Why beam search without length normalisation returns empty translations.

For the first N test sentences of a trained translation model, the
log-probability of `[END]` as the very first subword (the empty
translation) beside the total log-probability of the greedy translation.
Where the first is higher, a beam search scoring total log-probability
(alpha 0) prefers the empty output.

    python bench/studies/translation_length_bias.py runs/translate_rnn [--preset default] [-n 200]
"""

import argparse

import keras
import numpy as np

import zoo
from zoo.translation import decode, input_pipeline
from zoo.translation.model import END, START


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--model", default="translate_rnn")
    parser.add_argument("--preset", default="default")
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()
    import tensorflow as tf

    config = zoo.config(args.model, args.preset)
    model = keras.saving.load_model(f"{args.workdir}/model.keras")
    translator = decode.translator_of(model, args.workdir, config)
    pieces = decode.architecture_of(config)
    texts = input_pipeline.load_data(config).test.inputs[: args.n]

    @tf.function(autograph=False)
    def log_probabilities(texts):
        source = input_pipeline.source_ids(
            translator.source_tokenizer, texts, config.max_source_tokens
        )
        _, scores, _ = decode.translate_ids(
            model, source, config.max_target_tokens, 1, 0.0, 1, config.architecture
        )
        state = pieces.start_state(model, source, config.max_target_tokens)
        logits, _ = pieces.step_function(model)(
            tf.fill([tf.shape(source)[0]], START), state
        )
        return tf.nn.log_softmax(logits)[:, END], scores[:, 0]

    empty, greedy = (np.asarray(x) for x in log_probabilities(tf.constant(texts)))
    print(f"{len(texts)} test sentences of {args.workdir}:")
    print(f"median log p([END] first) = {np.median(empty):.2f}")
    print(f"median log p(greedy translation) = {np.median(greedy):.2f}")
    print(f"empty more probable than greedy: {np.mean(empty > greedy):.1%}")


if __name__ == "__main__":
    main()
