"""`translate_rnn`: tiny preset end to end, SavedModel contract, memorising 20 pairs."""

import dataclasses
import importlib.util
import json
import os
import shutil

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tensorflow_text")
pytest.importorskip("keras_hub")
needs_ding = pytest.mark.skipif(
    not os.path.exists("/usr/share/trans/de-en"), reason="needs trans-de-en (apt)"
)

import sacrebleu

import zoo
from keras_seq.datasets import Split
from keras_seq.export import (
    TENSORFLOW_TEXT_2_12_OPS,
    graph_ops,
    non_core_ops,
    xla_functions,
)
from tests.zoo.padding import assert_padding_changes_nothing
from tests.zoo.serving import check_serving_contract, fresh_process_answer
from zoo.translation import decode, input_pipeline, train, transformer
from zoo.translation.model import END, PAD, START, build_translator

TEXTS = [
    "Das Haus ist sehr alt.",
    "",
    "☃ 漢字 ÄÖÜ ß",
    " ".join(["Haus"] * 1000),
]


@pytest.fixture(scope="module", params=["translate_rnn", "translate_transformer"])
def trained(request, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp(request.param))
    metrics = train.train_and_evaluate(zoo.config(request.param, "tiny"), workdir)
    return workdir, metrics


@needs_ding
def test_tiny_trains_and_reports_bleu(trained):
    workdir, metrics = trained
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    for name in (
        "model.keras",
        "best.keras",
        "source_vocabulary.txt",
        "target_vocabulary.txt",
        "metrics.json",
        "training_curves.png",
        "attention.png",
    ):
        assert os.path.exists(os.path.join(workdir, name)), name
    alpha = metrics["config"]["length_penalty"]  # the config's own
    assert set(metrics["test_bleu"]) == {
        "greedy",
        "beam4_alpha0.0",
        f"beam4_alpha{alpha}",
    }
    for result in metrics["test_bleu"].values():
        assert result["sacrebleu"] == pytest.approx(result["corpus_bleu"], abs=0.01)
        assert len(result["examples"]) == decode.REPORTED


@needs_ding
def test_saved_model_in_a_fresh_process_equals_python(trained):
    workdir, metrics = trained
    config = zoo.config(metrics["model"], "tiny")
    model = zoo.load(os.path.join(workdir, "model.keras"))
    translator = decode.translator_of(model, workdir, config)
    expected = {
        "serving_default": translator.translate(TEXTS),
        "translate_greedy": translator.translate(TEXTS, beam_width=1),
    }
    code = (
        "import json, sys, tensorflow as tf, tensorflow_text\n"
        "saved = tf.saved_model.load(sys.argv[1])\n"
        "texts = tf.constant(json.loads(sys.argv[2]))\n"
        "print(json.dumps({name: [t.decode() for t in "
        "saved.signatures[name](texts=texts)['translation'].numpy()] "
        "for name in ('serving_default', 'translate_greedy')}))\n"
    )
    answer = fresh_process_answer(
        code, os.path.join(workdir, "export"), json.dumps(TEXTS)
    )
    assert json.loads(answer) == expected
    served = zoo.load(os.path.join(workdir, "export"))
    assert served.translate(TEXTS) == expected["serving_default"]
    assert served.translate(TEXTS, beam_width=1) == expected["translate_greedy"]
    nbest = served.translate(TEXTS[:1], num_return=3)
    assert len(nbest[0]) == 3 and nbest[0][0] == expected["serving_default"][0]
    with pytest.raises(ValueError, match="beam width 4"):
        served.translate(TEXTS, beam_width=8)
    # One string is one text, in Python as served (not one per character).
    assert translator.translate(TEXTS[0]) == expected["serving_default"][:1]
    assert served.translate(TEXTS[0]) == expected["serving_default"][:1]
    # Batches of any size share one trace of each search.
    assert len(TEXTS) > 1
    for search in translator._compiled.values():
        assert search.experimental_get_tracing_count() == 1


@needs_ding
def test_export_ops_and_serving_contract(trained):
    workdir, _ = trained
    export = os.path.join(workdir, "export")
    ops = graph_ops(export)
    assert "FastWordpieceTokenizeWithOffsets" in ops
    assert set(non_core_ops(ops)) <= TENSORFLOW_TEXT_2_12_OPS
    assert xla_functions(export) == []
    answer = check_serving_contract(export, TEXTS, ("translation", "score"))
    assert answer["translation"].shape == (len(TEXTS),)


@needs_ding
def test_cli_exports_a_trained_workdir(trained, tmp_path):
    # What `python -m zoo export` finds in a workdir: model and vocabularies.
    # One architecture is enough: the export code is shared.
    workdir, metrics = trained
    if metrics["model"] != "translate_rnn":
        pytest.skip("the CLI export path is the same for translate_transformer")
    for name in ("model.keras", "source_vocabulary.txt", "target_vocabulary.txt"):
        shutil.copy(os.path.join(workdir, name), tmp_path)
    from zoo.__main__ import main

    argv = ["export", metrics["model"], "--preset", "tiny", "--workdir", str(tmp_path)]
    assert main(argv) == 0
    exported = zoo.load(os.path.join(tmp_path, "export"))
    assert exported.translate(TEXTS) == zoo.load(
        os.path.join(workdir, "export")
    ).translate(TEXTS)


def test_bleu_agrees_with_sacrebleu():
    hypotheses = ["The cat sat on the mat.", "He’s not much of a talker!"]
    references = ["The cat sat on a mat.", "He is not much of a talker."]
    scores = decode.bleu(hypotheses, references)
    assert scores["sacrebleu"] == pytest.approx(
        sacrebleu.corpus_bleu(hypotheses, [references]).score, abs=0.01
    )
    assert scores["corpus_bleu"] == pytest.approx(scores["sacrebleu"], abs=0.01)
    assert 0 < scores["sacrebleu"] < 100


@pytest.mark.parametrize("scheduled_sampling", [0.0, 0.5])
def test_memorises_20_pairs_and_beam_search_recovers_them(scheduled_sampling):
    # Also with scheduled sampling: the decoder then runs a second pass on
    # inputs mixed with its predictions, the callback ramping the
    # probability to 0.5 (from epoch 10 on).
    sources = [
        f"Satz Nummer {i} ist {w}." for i, w in enumerate("abcdefghijklmnopqrst")
    ]
    targets = [
        f"Sentence {w} has number {i}." for i, w in enumerate("abcdefghijklmnopqrst")
    ]
    config = dataclasses.replace(
        zoo.config("translate_rnn", "tiny"),
        embedding_dim=32,
        units=64,
        attention_units=32,
        dropout=0.0,
        batch_size=20,
        learning_rate=1e-2,
        scheduled_sampling=scheduled_sampling,
    )
    keras.utils.set_random_seed(0)
    source_vocabulary = input_pipeline.learn_vocabulary(sources, 200)
    target_vocabulary = input_pipeline.learn_vocabulary(targets, 200)
    model = build_translator(config, len(source_vocabulary), len(target_vocabulary))
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=0
        ),
    )
    translator = decode.Translator(model, source_vocabulary, target_vocabulary, config)
    data = input_pipeline.dataset(Split(sources, targets), translator, config).cache()
    callbacks = train.scheduled_sampling_callbacks(config)
    model.fit(data, epochs=150, verbose=0, callbacks=callbacks)
    if scheduled_sampling:
        layer = model.get_layer("scheduled")
        assert float(layer.sampling_probability.numpy()) == pytest.approx(0.5)
        assert callbacks[0].history[:3] == pytest.approx([0.0, 0.05, 0.1])
    else:
        assert callbacks == []
        assert "scheduled" not in [layer.name for layer in model.layers]
    assert translator.translate(sources, beam_width=4, alpha=0.7) == targets
    with pytest.raises(ValueError, match="`scheduled_sampling`.*got 1.5"):
        dataclasses.replace(config, scheduled_sampling=1.5)


def test_transformer_cached_steps_equal_full_passes():
    """Incremental decoding with the caches == the teacher-forced full pass."""
    config = zoo.config("translate_transformer", "tiny")
    model = transformer.build_transformer(config, 30, 40)
    rng = np.random.default_rng(0)
    for variable in model.trainable_variables:
        variable.assign(rng.normal(scale=0.3, size=variable.shape))
    source = np.array([[5, 6, 7, 3], [8, 9, 3, 0]], "int32")  # [END] = 3, pad 0
    target_in = np.array([[2, 11, 12, 13, 14], [2, 15, 16, 17, 18]], "int32")
    full = keras.ops.convert_to_numpy(model([source, target_in]))
    state = transformer.encode_transformer(model, source, max_length=8)
    step = transformer.step_function_transformer(model)
    for t in range(target_in.shape[1]):
        logits, state = step(target_in[:, t], state)
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(logits), full[:, t], atol=1e-4, rtol=1e-4
        )


def test_masked_smoothed_cross_entropy_matches_numpy():
    logits = np.random.default_rng(1).normal(size=(2, 3, 5)).astype("float32")
    targets = np.array([[1, 4, 0], [2, 0, 0]], "int32")  # 0 = padding
    got = float(transformer.MaskedSmoothedCrossEntropy(0.1)(targets, logits))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    losses = [
        -0.9 * log_probs[b, t, targets[b, t]] - 0.1 * log_probs[b, t].mean()
        for b in range(2)
        for t in range(3)
        if targets[b, t] != 0
    ]
    assert got == pytest.approx(np.mean(losses), rel=1e-5)


@pytest.mark.parametrize("name", ["translate_rnn", "translate_transformer"])
def test_output_bias_starts_at_the_target_unigram_distribution(name):
    batches = [np.array([[5, 5, 7, 0], [3, 0, 0, 0]]), np.array([[5, 3, 0, 0]])]
    counts = np.ones(10)
    for token, extra in ((5, 3), (7, 1), (3, 2)):
        counts[token] += extra
    expected = np.log(counts / counts.sum())
    log_frequencies = train.target_log_frequencies(batches, 10)
    np.testing.assert_allclose(log_frequencies, expected, rtol=1e-6)

    config = zoo.config(name, "tiny")
    keras.utils.set_random_seed(0)
    model = train.build_model(config, 12, 10)
    train.initialise_output_bias(model, log_frequencies)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.get_layer("logits").bias), expected, rtol=1e-6
    )
    if name == "translate_rnn":
        # Its freshly initialised kernels move the logits only a little (the
        # Transformer's layer normalisation gives the kernel unit-size inputs).
        source = np.array([[4, 5, 6, 3], [7, 3, 0, 0]], "int32")
        target_in = np.array([[2, 5, 5, 7], [2, 3, 0, 0]], "int32")
        probabilities = keras.ops.convert_to_numpy(
            keras.ops.softmax(model([source, target_in]), axis=-1)
        )
        np.testing.assert_allclose(
            probabilities,
            np.broadcast_to(np.exp(expected), probabilities.shape),
            atol=0.05,
        )


def test_time_padding_changes_no_loss_or_gradient():
    # translate_rnn's batches are padded to a multiple of 16 on both sides
    # (`text_inputs.pad_time`): steps the masks and `ignore_class` must skip.
    from zoo.text_inputs import pad_time

    config = zoo.config("translate_rnn", "tiny")
    keras.utils.set_random_seed(0)
    model = train.build_model(config, 12, 10)
    train.compile_model(model, config, steps_per_epoch=1)
    random = np.random.default_rng(0)
    source = random.integers(3, 12, (3, 5)).astype("int32")
    source[1, 3:] = source[2, 1:] = 0
    target = random.integers(3, 10, (3, 7)).astype("int32")
    target[0, 4:] = target[2, 2:] = 0
    target_in, target_out = target[:, :-1], target[:, 1:]

    def loss_and_gradients(source, target_in, target_out):
        with tf.GradientTape() as tape:
            predicted = model([source, target_in], training=False)
            loss = model.compute_loss(y=target_out, y_pred=predicted)
        return loss, tape.gradient(loss, model.trainable_variables)

    (padded_source,) = pad_time([tf.constant(source)])
    padded_in, padded_out = pad_time([tf.constant(target_in), tf.constant(target_out)])
    assert padded_source.shape[1] == padded_in.shape[1] == 16
    assert_padding_changes_nothing(
        loss_and_gradients(padded_source, padded_in, padded_out),
        loss_and_gradients(source, target_in, target_out),
    )


@needs_ding
def test_encoder_and_step_decode_greedily_as_keras_in_onnx_runtime(trained):
    pytest.importorskip("onnxruntime")
    workdir, metrics = trained
    name = metrics["model"]
    model = zoo.load(os.path.join(workdir, "model.keras"))
    from zoo.__main__ import main

    # LiteRT: exported and checked against Keras at two shapes by export_model.
    if importlib.util.find_spec("ai_edge_litert") is not None:
        assert main(["export", name, "--workdir", workdir, "--format", "litert"]) == 0
        assert os.path.exists(os.path.join(workdir, "decoder_step.tflite"))
    assert main(["export", name, "--workdir", workdir, "--format", "onnx"]) == 0
    import onnxruntime

    encoder = onnxruntime.InferenceSession(os.path.join(workdir, "encoder.onnx"))
    step = onnxruntime.InferenceSession(os.path.join(workdir, "decoder_step.onnx"))
    source = np.array([[5, 9, 12, 7, 0, 0], [8, 4, 6, 11, 13, 10]], "int32")
    # The caller's greedy search over the two files.
    encoded = encoder.run(None, {"source": source})
    tokens = np.full((2,), START, "int32")
    positions = np.zeros((2,), "int32")
    done = np.zeros(2, bool)
    generated = []
    for _ in range(12):
        if name == "translate_rnn":
            *states, memory, memory_mask = encoded
            feeds = {"tokens": tokens, "memory": memory, "memory_mask": memory_mask}
            feeds.update({f"decoder_state_{i}": s for i, s in enumerate(states)})
            logits, *states, _ = step.run(None, feeds)
            encoded = [*states, memory, memory_mask]
        else:
            k = (len(encoded) - 1) // 2
            feeds = {
                "tokens": tokens,
                "positions": positions,
                "source_mask": encoded[-1],
            }
            feeds.update({f"self_cache_{i}": c for i, c in enumerate(encoded[:k])})
            feeds.update({f"cross_cache_{i}": c for i, c in enumerate(encoded[k:-1])})
            logits, positions, *self_caches = step.run(None, feeds)
            encoded = [*self_caches, *encoded[k:]]
        tokens = np.where(done, PAD, logits.argmax(-1)).astype("int32")
        generated.append(tokens)
        done |= tokens == END
        if done.all():
            break
    ours = np.stack(generated, 1)
    config = zoo.recorded_config(name, workdir)
    keras_ids, _, _ = decode.translate_ids(
        model, source, 12, 1, 0.0, 1, config.architecture
    )
    keras_ids = keras.ops.convert_to_numpy(keras_ids).reshape(len(source), -1)
    for row, expected in zip(ours, keras_ids):
        end = list(row).index(END) + 1 if END in row else len(row)
        assert list(row[:end]) == list(expected[:end])
