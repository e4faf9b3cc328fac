"""Corpus BLEU (Papineni et al. 2002), as sacreBLEU computes it, and a Keras metric."""

import collections
import math

import keras
from keras import ops

_SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}

BLEUScore = collections.namedtuple(
    "BLEUScore",
    [
        "score",
        "precisions",
        "brevity_penalty",
        "sys_len",
        "ref_len",
        "counts",
        "totals",
    ],
)
BLEUScore.__doc__ = """Corpus BLEU and its parts.

`score` and `precisions` are in percent (0-100, as sacreBLEU prints them);
`counts` / `totals` are the clipped matches and the hypothesis n-grams per
order; `sys_len` / `ref_len` the hypothesis and effective reference lengths.
"""


def _tokens(text, name):
    if isinstance(text, str):
        return text.split()
    if isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        return list(text)
    raise ValueError(
        f"Each {name} must be a string (split on whitespace) or a list of string "
        f"tokens, got {type(text).__name__}: {text!r:.60}."
    )


def _ngrams(tokens, max_order):
    counts = collections.Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


def _closest_length(hyp_len, ref_lens):
    # The reference length closest to the hypothesis; the shorter on a tie.
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def bleu_from_statistics(
    counts, totals, sys_len, ref_len, max_order=4, smooth="exp", smooth_value=None
):
    """BLEU from its sufficient statistics (what `corpus_bleu` sums)."""
    if smooth not in _SMOOTH_DEFAULTS:
        raise ValueError(
            "Received an invalid value for argument `smooth`, expected one of "
            f"{list(_SMOOTH_DEFAULTS)}, got {smooth!r}."
        )
    if smooth_value is None:
        smooth_value = _SMOOTH_DEFAULTS[smooth]
    counts, totals = list(counts), list(totals)
    brevity_penalty = 1.0
    if sys_len < ref_len:
        brevity_penalty = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * max_order
    if not any(counts):
        return BLEUScore(
            0.0, precisions, brevity_penalty, sys_len, ref_len, counts, totals
        )
    smooth_exp = 1.0
    for n in range(max_order):
        if smooth == "add-k" and n > 0:
            counts[n] += smooth_value
            totals[n] += smooth_value
        if totals[n] == 0:
            break
        if counts[n] == 0:
            if smooth == "exp":
                smooth_exp *= 2
                precisions[n] = 100.0 / (smooth_exp * totals[n])
            elif smooth == "floor":
                precisions[n] = 100.0 * smooth_value / totals[n]
        else:
            precisions[n] = 100.0 * counts[n] / totals[n]
    # A zero precision makes BLEU 0 (sacreBLEU floors log(0) likewise).
    logs = [math.log(p) if p > 0 else -9999999999 for p in precisions]
    score = brevity_penalty * math.exp(sum(logs) / max_order)
    return BLEUScore(
        score, precisions, brevity_penalty, sys_len, ref_len, counts, totals
    )


def corpus_bleu(hypotheses, references, max_order=4, smooth="exp", smooth_value=None):
    """Corpus-level BLEU of tokenised hypotheses against one or more references.

    n-gram matches are clipped by the largest count of that n-gram in any one
    reference of the sentence and summed over the corpus; precisions `p_n` are
    matches / hypothesis n-grams; the brevity penalty is `exp(1 - r / c)` when
    the corpus hypothesis length `c` is below `r`, the sum of each sentence's
    closest reference length (the shorter on a tie). BLEU =
    `BP * exp(mean_n log p_n)`. Equals `sacrebleu.corpus_bleu(hypotheses,
    reference_streams, tokenize="none", smooth_method=smooth)`.

    Args:
        hypotheses: Sequence of hypotheses, each a string (split on
            whitespace: tokenise first) or a list of tokens.
        references: Sequence, one entry per hypothesis: a list of references
            (strings or token lists), or a single string.
        max_order: Longest n-gram. Default 4.
        smooth: `"exp"` (default, sacreBLEU's), `"none"`, `"floor"` or
            `"add-k"` (Chen & Cherry 2014).
        smooth_value: For `"floor"` (default 0.1) and `"add-k"` (default 1).

    Returns:
        A `BLEUScore`; `.score` is in percent.

    Example:

    >>> from keras_seq.metrics import corpus_bleu
    >>> corpus_bleu(["the cat is on the mat"], [["the cat is on the mat"]]).score
    100.00000000000004
    """
    if isinstance(hypotheses, str) or isinstance(references, str):
        raise ValueError(  # noqa: TRY004 - bad input is a ValueError here
            "`hypotheses` and `references` must be sequences with one entry per "
            "sentence, got a single string."
        )
    hypotheses, references = list(hypotheses), list(references)
    if not hypotheses:
        raise ValueError("`hypotheses` is empty: BLEU needs at least one sentence.")
    if len(hypotheses) != len(references):
        raise ValueError(
            f"`references` must have one entry per hypothesis: got "
            f"{len(hypotheses)} hypotheses and {len(references)} references."
        )
    if isinstance(max_order, bool) or not isinstance(max_order, int) or max_order < 1:
        raise ValueError(
            f"Argument `max_order` must be a positive integer, got {max_order!r}."
        )
    counts, totals = [0] * max_order, [0] * max_order
    sys_len = ref_len = 0
    for hypothesis, refs in zip(hypotheses, references):
        if isinstance(refs, str):
            refs = [refs]
        refs = [_tokens(r, "reference") for r in refs]
        if not refs:
            raise ValueError("Every hypothesis needs at least one reference, got [].")
        hyp = _tokens(hypothesis, "hypothesis")
        clip = collections.Counter()
        for ref in refs:
            clip |= _ngrams(ref, max_order)  # max count over the references
        for ngram, count in _ngrams(hyp, max_order).items():
            totals[len(ngram) - 1] += count
            counts[len(ngram) - 1] += min(count, clip[ngram])
        sys_len += len(hyp)
        ref_len += _closest_length(len(hyp), [len(r) for r in refs])
    return bleu_from_statistics(
        counts, totals, sys_len, ref_len, max_order, smooth, smooth_value
    )


def _valid_lengths(tokens, end_id, pad_id):
    """Tokens before the first end / padding token."""
    stop = tokens == pad_id
    if end_id is not None:
        stop = stop | (tokens == end_id)
    return ops.argmax(
        ops.concatenate([stop, ops.ones_like(stop[:, :1])], axis=1), axis=1
    )


@keras.saving.register_keras_serializable(package="keras_seq")
class BLEU(keras.metrics.Metric):
    """Corpus BLEU over token ids, for `model.evaluate` (one reference each).

    Accumulates the clipped n-gram matches, n-gram counts and lengths of every
    batch and reports `corpus_bleu` of all of them (in percent). Each sequence
    ends at its first `end_id` or `pad_id`. n-grams are compared as tensors
    (no Python per token), so it runs inside compiled evaluation.

    Args:
        max_order: Longest n-gram. Default 4.
        smooth: As `corpus_bleu`. Default `"exp"`.
        pad_id: Padding id in `y_true` (and `y_pred`). Default 0.
        end_id: Optional end-of-sequence id.
        from_logits: `y_pred` holds `(batch, time, vocab)` scores (argmax
            taken) rather than token ids. Default True.
        name: Metric name. Default `"bleu"`.

    Call `update_state(y_true, y_pred)` with `y_true` `(batch, time)` ids.
    """

    def __init__(
        self,
        max_order=4,
        smooth="exp",
        pad_id=0,
        end_id=None,
        from_logits=True,
        name="bleu",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if smooth not in _SMOOTH_DEFAULTS:
            raise ValueError(
                "Received an invalid value for argument `smooth`, expected one of "
                f"{list(_SMOOTH_DEFAULTS)}, got {smooth!r}."
            )
        self.max_order, self.smooth = max_order, smooth
        self.pad_id, self.end_id, self.from_logits = pad_id, end_id, from_logits
        self.statistics = self.add_variable(
            shape=(2 * max_order + 2,), initializer="zeros", name="statistics"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        reference = ops.cast(y_true, "int32")
        hypothesis = ops.argmax(y_pred, axis=-1) if self.from_logits else y_pred
        hypothesis = ops.cast(hypothesis, "int32")
        if len(reference.shape) != 2 or len(hypothesis.shape) != 2:
            raise ValueError(
                "BLEU expects `y_true` (batch, time) token ids and `y_pred` "
                "(batch, time, vocab) scores (or (batch, time) ids with "
                f"from_logits=False), got shapes {tuple(y_true.shape)} and "
                f"{tuple(y_pred.shape)}."
            )
        hyp_len = _valid_lengths(hypothesis, self.end_id, self.pad_id)
        ref_len = _valid_lengths(reference, self.end_id, self.pad_id)
        stats = [ops.sum(hyp_len), ops.sum(ref_len)]
        counts, totals = [], []
        for n in range(1, self.max_order + 1):
            matched, total = _ngram_matches(hypothesis, hyp_len, reference, ref_len, n)
            counts.append(matched)
            totals.append(total)
        update = ops.cast(ops.stack(stats + counts + totals), "float32")
        self.statistics.assign_add(update)

    def result(self):
        # `bleu_from_statistics` in tensor ops, so that it runs compiled.
        stats = ops.convert_to_tensor(self.statistics)
        sys_len, ref_len = stats[0], stats[1]
        counts = stats[2 : 2 + self.max_order]
        totals = stats[2 + self.max_order :]
        if self.smooth == "add-k":
            k = float(_SMOOTH_DEFAULTS["add-k"])
            shift = ops.cast(ops.arange(self.max_order) > 0, "float32") * k
            counts, totals = counts + shift, totals + shift
        safe_totals = ops.maximum(totals, 1.0)
        matched = counts > 0
        if self.smooth == "exp":
            zeros = ops.cumsum(ops.cast(ops.logical_not(matched), "float32"))
            fallback = 100.0 / (ops.power(2.0, zeros) * safe_totals)
        elif self.smooth == "floor":
            fallback = 100.0 * _SMOOTH_DEFAULTS["floor"] / safe_totals
        else:
            fallback = ops.zeros_like(totals)
        precisions = ops.where(matched, 100.0 * counts / safe_totals, fallback)
        # Orders from the first one without any n-gram on count as 0.
        present = ops.cumprod(ops.cast(totals > 0, "float32")) > 0
        precisions = ops.where(present, precisions, 0.0)
        logs = ops.where(
            precisions > 0, ops.log(ops.maximum(precisions, 1e-30)), -9999999999.0
        )
        brevity = ops.where(
            sys_len < ref_len,
            ops.where(
                sys_len > 0, ops.exp(1.0 - ref_len / ops.maximum(sys_len, 1.0)), 0.0
            ),
            1.0,
        )
        score = brevity * ops.exp(ops.mean(logs))
        return ops.where(ops.any(stats[2 : 2 + self.max_order] > 0), score, 0.0)

    def reset_state(self):
        self.statistics.assign(ops.zeros(self.statistics.shape, "float32"))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_order": self.max_order,
                "smooth": self.smooth,
                "pad_id": self.pad_id,
                "end_id": self.end_id,
                "from_logits": self.from_logits,
            }
        )
        return config


def _ngram_matches(hypothesis, hyp_len, reference, ref_len, n):
    """Clipped matches and hypothesis n-gram count of order `n`, summed over the batch.

    An n-gram occurring `c_h` times in the hypothesis and `c_r` times in the
    reference contributes `min(c_h, c_r)`; summing `min(c_h, c_r) / c_h` over
    its `c_h` occurrences gives the same without building a dictionary.
    """
    steps_h, steps_r = hypothesis.shape[1], reference.shape[1]
    if steps_h < n or steps_r < n:
        zero = ops.zeros((), "float32")
        return zero, ops.sum(ops.cast(ops.maximum(hyp_len - n + 1, 0), "float32"))

    def windows(tokens, length):
        grams = ops.stack([tokens[:, i : length - n + 1 + i] for i in range(n)], -1)
        return grams

    hyp = windows(hypothesis, steps_h)  # (B, H, n)
    ref = windows(reference, steps_r)  # (B, R, n)
    hyp_valid = ops.arange(steps_h - n + 1)[None] < (hyp_len[:, None] - n + 1)
    ref_valid = ops.arange(steps_r - n + 1)[None] < (ref_len[:, None] - n + 1)

    def equal(a, b):
        return ops.all(ops.expand_dims(a, 2) == ops.expand_dims(b, 1), axis=-1)

    in_hyp = ops.sum(
        ops.cast(equal(hyp, hyp) & hyp_valid[:, None, :], "float32"), axis=-1
    )
    in_ref = ops.sum(
        ops.cast(equal(hyp, ref) & ref_valid[:, None, :], "float32"), axis=-1
    )
    valid = ops.cast(hyp_valid, "float32")
    matched = ops.sum(valid * ops.minimum(in_hyp, in_ref) / ops.maximum(in_hyp, 1.0))
    return matched, ops.sum(valid)
