import os

import numpy as np
import pytest
from gensim.models import KeyedVectors
from scipy import stats

from keras_seq.embeddings import WordVectors

WORDS = ["king", "queen", "man", "woman", "paris", "france", "rome", "italy"]


def vectors(seed=0, dim=6):
    return WordVectors(
        WORDS, np.random.default_rng(seed).normal(size=(len(WORDS), dim))
    )


def test_most_similar_matches_brute_force():
    wv = vectors()
    unit = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    query = unit[1] + unit[2] - unit[0]
    query /= np.linalg.norm(query)
    scores = unit @ query
    expected = [
        WORDS[i]
        for i in np.argsort(-scores)
        if WORDS[i] not in ("king", "queen", "man")
    ]
    got = wv.most_similar(positive=["queen", "man"], negative=["king"], topn=3)
    assert [w for w, _ in got] == expected[:3]
    np.testing.assert_allclose(got[0][1], scores[WORDS.index(expected[0])], rtol=1e-5)


def test_queries_match_gensim():
    wv = vectors(1)
    kv = KeyedVectors(vector_size=wv.dim)
    kv.add_vectors(WORDS, wv.vectors)
    assert wv.similarity("rome", "italy") == pytest.approx(
        kv.similarity("rome", "italy"), 1e-5
    )
    ours = wv.most_similar(positive=["woman", "king"], negative=["man"], topn=4)
    theirs = kv.most_similar(positive=["woman", "king"], negative=["man"], topn=4)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5)
    ours = wv.most_similar_cosmul(positive=["woman", "king"], negative=["man"], topn=4)
    theirs = kv.most_similar_cosmul(
        positive=["woman", "king"], negative=["man"], topn=4
    )
    assert [w for w, _ in ours] == [w for w, _ in theirs]


def test_evaluations(tmp_path):
    wv = vectors(2)
    pairs = [("king", "queen", 8.0), ("man", "woman", 7.5), ("paris", "rome", 6.0),
             ("king", "rome", 1.0), ("france", "man", 0.5), ("zebra", "king", 3.0)]  # fmt: skip
    result = wv.evaluate_word_pairs(pairs)
    ours = [wv.similarity(a, b) for a, b, _ in pairs[:5]]
    assert result["spearman"] == pytest.approx(
        stats.spearmanr(ours, [p[2] for p in pairs[:5]])[0]
    )
    assert result["oov_ratio"] == pytest.approx(1 / 6) and result["pairs"] == 5
    path = tmp_path / "pairs.tsv"
    path.write_text("# comment\nWord 1\tWord 2\tHuman (mean)\n" + "".join(
        f"{a}\t{b}\t{s}\n" for a, b, s in pairs))  # fmt: skip
    assert wv.evaluate_word_pairs(str(path)) == result
    # An analogy set solved by construction: capital - country offsets.
    base = np.random.default_rng(3).normal(size=(4, 6))
    offset = np.random.default_rng(4).normal(size=6) * 3
    planted = WordVectors(
        ["paris", "rome", "berlin", "madrid", "france", "italy", "germany", "spain"],
        np.vstack([base, base + offset]),
    )
    questions = tmp_path / "questions.txt"
    questions.write_text(": capital-common-countries\nparis france rome italy\n"
                         "berlin germany madrid spain\nparis france zebra italy\n")  # fmt: skip
    for method in ("add", "mul"):
        result = planted.evaluate_analogies(str(questions), method=method)
        assert result["accuracy"] == 1.0 and result["skipped"] == 1
        assert result["sections"] == {"capital-common-countries": (2, 2)}


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_both_ways_with_gensim(tmp_path, binary):
    wv = WordVectors([*WORDS, "naïve"], np.random.default_rng(5).normal(size=(9, 4)))
    ours = os.path.join(tmp_path, "ours.vec")
    wv.save_word2vec_format(ours, binary=binary)
    kv = KeyedVectors.load_word2vec_format(ours, binary=binary)
    assert kv.index_to_key == wv.words
    np.testing.assert_allclose(kv.vectors, wv.vectors, rtol=1e-6)
    theirs = os.path.join(tmp_path, "theirs.vec")
    kv.save_word2vec_format(theirs, binary=binary)
    back = WordVectors.load_word2vec_format(theirs, binary=binary)
    assert back.words == wv.words
    np.testing.assert_allclose(back.vectors, wv.vectors, rtol=1e-6)


def test_projector_and_embedding_layer(tmp_path):
    wv = vectors(6)
    wv.export_projector(tmp_path)
    assert (tmp_path / "metadata.tsv").read_text().split("\n")[:2] == ["king", "queen"]
    np.testing.assert_allclose(
        np.loadtxt(tmp_path / "vectors.tsv"), wv.vectors, rtol=1e-6
    )
    layer = wv.embedding_layer(["<pad>", "queen", "unseen"], trainable=False)
    table = layer.get_weights()[0]
    np.testing.assert_allclose(table[1], wv["queen"])
    assert np.abs(table[2]).max() <= 0.5 / wv.dim and not layer.trainable


def test_unknown_words_and_bad_shapes():
    wv = vectors()
    with pytest.raises(KeyError, match="'zebra' is not in the vocabulary"):
        wv.most_similar("zebra")
    with pytest.raises(KeyError, match="'zebra'"):
        wv.similarity("king", "zebra")
    with pytest.raises(ValueError, match=r"shape \(2, dim\)"):
        WordVectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match="at least one positive"):
        wv.most_similar()
    with pytest.raises(ValueError, match="`most_similar_cosmul` needs at least one"):
        wv.most_similar_cosmul()


def test_topn_and_vectors_are_checked(tmp_path):
    wv = vectors()
    for method in (wv.most_similar, wv.most_similar_cosmul):
        for topn in (0, -1, 2.5, None):
            with pytest.raises(ValueError, match="`topn`, expected a positive integer"):
                method("king", topn=topn)
        assert len(method("king", topn=100)) == len(WORDS) - 1
    table = np.ones((2, 3))
    table[1, 2] = np.nan
    with pytest.raises(ValueError, match="must be finite.*vector of 'b'"):
        WordVectors(["a", "b"], table)
    path = tmp_path / "vectors.txt"
    path.write_text("2 3\na 1 2 3\nb 1 inf 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be finite.*vector of 'b'"):
        WordVectors.load_word2vec_format(str(path))
