import keras
import numpy as np
import pytest
import sacrebleu
from sacrebleu.metrics import BLEU as SacreBLEU

from keras_seq.metrics import BLEU, corpus_bleu


def random_corpus(rng, sentences, references, vocab=8):
    def sentence():
        n = int(rng.integers(0, 12))
        return " ".join(f"w{t}" for t in rng.integers(0, vocab, size=n))

    hyps = [sentence() for _ in range(sentences)]
    refs = [[sentence() or "w0" for _ in range(references)] for _ in range(sentences)]
    return hyps, refs


@pytest.mark.parametrize("smooth", ["exp", "none", "floor", "add-k"])
@pytest.mark.parametrize("references", [1, 3])
@pytest.mark.parametrize("max_order", [4, 2])
def test_equals_sacrebleu_on_random_corpora(smooth, references, max_order):
    rng = np.random.default_rng(references * 10 + max_order)
    scorer = SacreBLEU(tokenize="none", smooth_method=smooth, max_ngram_order=max_order)
    for _ in range(20):
        hyps, refs = random_corpus(rng, int(rng.integers(1, 30)), references)
        ours = corpus_bleu(hyps, refs, max_order=max_order, smooth=smooth)
        streams = [[r[k] for r in refs] for k in range(references)]
        theirs = scorer.corpus_score(hyps, streams)
        assert abs(ours.score - theirs.score) < 1e-6, (ours, theirs)
        assert ours.sys_len == theirs.sys_len and ours.ref_len == theirs.ref_len
        np.testing.assert_allclose(ours.precisions, theirs.precisions, atol=1e-9)


def test_course_notes_example():
    # References "The cat is on the mat." / "There is a cat on the mat.",
    # output "The cat the cat on the mat." (lower-cased, punctuation split).
    hyp = "the cat the cat on the mat ."
    refs = ["the cat is on the mat .", "there is a cat on the mat ."]
    result = corpus_bleu([hyp], [refs])
    # Clipped unigrams: the 2 (of 3), cat 1 (of 2), on 1, mat 1, . 1 -> 6 / 8.
    assert result.counts[0] == 6 and result.totals[0] == 8
    # the cat (1 of 2), cat on, on the, the mat, mat . ("cat the" none): 5 / 7.
    assert result.counts[1] == 5 and result.totals[1] == 7
    assert result.counts[2:] == [3, 2] and abs(result.score - 57.2124842) < 1e-6
    theirs = sacrebleu.corpus_bleu([hyp], [[refs[0]], [refs[1]]], tokenize="none")
    assert abs(result.score - theirs.score) < 1e-9
    assert abs(corpus_bleu([refs[0]], [refs]).score - 100.0) < 1e-9


def test_token_lists_and_single_reference_strings():
    a = corpus_bleu([["a", "b", "c", "d"]], [[["a", "b", "c", "d", "e"]]])
    b = corpus_bleu(["a b c d"], ["a b c d e"])
    assert a == b
    assert a.brevity_penalty == pytest.approx(np.exp(1 - 5 / 4))


def test_bad_input():
    with pytest.raises(ValueError, match="one entry per hypothesis: got 2"):
        corpus_bleu(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="empty"):
        corpus_bleu([], [])
    with pytest.raises(ValueError, match="single string"):
        corpus_bleu("a b", ["a b"])
    with pytest.raises(ValueError, match="`smooth`"):
        corpus_bleu(["a"], [["a"]], smooth="laplace")
    with pytest.raises(ValueError, match="hypothesis must be a string"):
        corpus_bleu([3], [["a"]])
    with pytest.raises(ValueError, match="at least one reference"):
        corpus_bleu(["a"], [[]])
    with pytest.raises(ValueError, match="`max_order`"):
        corpus_bleu(["a"], [["a"]], max_order=0)


def test_keras_metric_equals_corpus_bleu():
    rng = np.random.default_rng(0)
    vocab, end, pad = 9, 1, 0
    metric = BLEU(end_id=end, pad_id=pad)
    hyps, refs = [], []

    def text(row):
        words = []
        for t in row:
            if t in (end, pad):
                break
            words.append(f"w{t}")
        return " ".join(words)

    for _ in range(3):
        y_true = rng.integers(2, vocab, size=(5, 10))
        y_pred_ids = np.where(
            rng.random((5, 10)) < 0.6, y_true, rng.integers(2, vocab, (5, 10))
        )
        for row in range(5):  # random lengths: end token, then padding
            y_true[row, rng.integers(3, 10) :] = pad
            y_pred_ids[row, rng.integers(2, 10)] = end
        logits = np.eye(vocab, dtype="float32")[y_pred_ids]
        metric.update_state(y_true, logits)
        hyps += [text(r) for r in y_pred_ids]
        refs += [[text(r)] for r in y_true]
    expected = corpus_bleu(hyps, refs).score
    assert abs(float(metric.result()) - expected) < 1e-4
    for smooth in ("none", "floor", "add-k"):  # the tensor formula, each method
        other = BLEU(end_id=end, pad_id=pad, smooth=smooth)
        other.statistics.assign(metric.statistics)
        expected = corpus_bleu(hyps, refs, smooth=smooth).score
        assert abs(float(other.result()) - expected) < 1e-4, smooth
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_keras_metric_in_evaluate():
    rng = np.random.default_rng(1)
    x = rng.integers(2, 7, size=(16, 6))
    inputs = keras.Input((6,), dtype="int32")
    model = keras.Model(inputs, keras.ops.one_hot(inputs, 7) * 5.0)
    model.compile(loss="sparse_categorical_crossentropy", metrics=[BLEU()])
    # Predicting the input itself: BLEU 100 against itself.
    results = model.evaluate(x, x, verbose=0, return_dict=True)
    assert results["bleu"] == pytest.approx(100.0, abs=1e-3)
