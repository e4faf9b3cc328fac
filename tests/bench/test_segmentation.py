import numpy as np
import pytest

from tests.bench import load_script


@pytest.fixture(scope="module")
def script():
    return load_script("segmentation")


def bmes(words):
    """The tags of `words`, written out directly from their lengths."""
    return [
        t
        for w in words
        for t in (["s"] if len(w) == 1 else ["b", *["m"] * (len(w) - 2), "e"])
    ]


def test_tags_to_words_round_trip(script):
    random = np.random.default_rng(0)
    for _ in range(50):
        words = ["x" * int(n) for n in random.integers(1, 5, size=8)]
        characters = list("".join(words))
        assert script.words_of(characters, bmes(words)) == words


def test_ill_formed_tags_still_cover_the_text(script):
    # `m` after an end starts a word; a `b` with no end runs to the next start.
    assert script.words_of(list("abcde"), ["s", "m", "e", "b", "b"]) == [
        "a",
        "bc",
        "d",
        "e",
    ]


def test_word_scores_by_hand(script):
    gold = [["中国", "人民", "站", "起来"]]
    predicted = [["中国人", "民", "站", "起来"]]  # 2 of 4 words right, 2 of 4 found
    scores = script.word_scores(predicted, gold)
    assert scores == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5})
    scores = script.word_scores([["中国", "人民站起来"]], gold)
    assert scores == pytest.approx({"precision": 0.5, "recall": 0.25, "f1": 1 / 3})


def test_forward_maximum_matching_by_hand(script):
    dictionary = {"研究", "研究生", "生命", "起源"}
    # The greedy longest match takes 研究生 and leaves 命: FMM's classic error.
    assert script.forward_maximum_matching("研究生命的起源", dictionary, 3) == [
        "研究生",
        "命",
        "的",
        "起源",
    ]
