"""`translation_length_penalty.py` picks alpha on validation BLEU alone."""

import importlib.util
import json
import os

import pytest

from tests.bench import load_script

pytest.importorskip("tensorflow")
study = load_script("translation_length_penalty")


def test_choose_takes_the_best_and_the_smaller_on_a_tie():
    assert study.choose({0.4: 10.0, 0.7: 12.5, 1.0: 11.0}) == 0.7
    assert study.choose({1.0: 12.5, 0.7: 12.5}) == 0.7


@pytest.mark.skipif(
    not os.path.exists("/usr/share/trans/de-en")
    or importlib.util.find_spec("keras_hub") is None,
    reason="needs the Ding dictionary (trans-de-en) and keras-hub",
)
def test_sweep_on_a_tiny_model(tmp_path):
    import zoo
    from zoo.translation import decode, input_pipeline, train

    workdir = str(tmp_path / "tiny")
    config = zoo.config("translate_rnn", "tiny")
    train.train_and_evaluate(config, workdir)
    result = study.main([workdir, "--preset", "tiny", "--alphas", "0.0", "1.0"])
    assert set(result["validation_bleu"]) == {0.0, 1.0}
    assert result["chosen_alpha"] == study.choose(result["validation_bleu"])
    assert set(result["test_bleu"]) == {result["chosen_alpha"], config.length_penalty}
    # The recorded figure of the config's alpha is the training run's own.
    recorded = decode.evaluate_bleu(
        decode.translator_of(
            zoo.load(os.path.join(workdir, "model.keras")), workdir, config
        ),
        input_pipeline.load_data(config).test,
        settings=[(config.beam_width, config.length_penalty)],
    )
    key = f"beam{config.beam_width}_alpha{config.length_penalty}"
    assert result["test_bleu"][config.length_penalty] == recorded[key]["sacrebleu"]
    # The choice joins the run's metrics.json, where results.py finds it.
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        choice = json.load(f)["length_penalty_choice"]
    assert choice["command"].startswith(
        f"python bench/studies/translation_length_penalty.py {workdir}"
    )
    best = result["chosen_alpha"]
    assert choice["chosen_alpha"] == best
    assert choice["chosen_test_bleu"] == result["test_bleu"][best]
    assert choice["validation_bleu"] == {
        str(a): b for a, b in result["validation_bleu"].items()
    }
