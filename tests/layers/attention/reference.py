"""NumPy references for the attention layers (float64, written from the formulas)."""

import numpy as np


def randomise(layer, seed=1, scale=0.5):
    """Sets every weight of `layer` to normal(0, scale) values."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [
            rng.normal(scale=scale, size=w.shape).astype("float32")
            for w in layer.get_weights()
        ]
    )


def softmax(scores, mask=None):
    """Softmax over the last axis; masked entries 0, fully masked rows all 0."""
    scores = np.asarray(scores, np.float64)
    if mask is None:
        mask = np.ones(scores.shape, bool)
    mask = np.broadcast_to(mask, scores.shape)
    shifted = np.where(mask, scores, -np.inf)
    top = np.max(shifted, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exp = np.where(mask, np.exp(shifted - top), 0.0)
    total = exp.sum(axis=-1, keepdims=True)
    return np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)


def merge_masks(t_q, t_k, batch, query_mask=None, value_mask=None, causal=False):
    mask = np.ones((batch, t_q, t_k), bool)
    if query_mask is not None:
        mask &= np.asarray(query_mask, bool)[:, :, None]
    if value_mask is not None:
        mask &= np.asarray(value_mask, bool)[:, None, :]
    if causal:
        mask &= np.tril(np.ones((t_q, t_k), bool))[None]
    return mask


def dot_product(query, key, value, mask=None, scale=True):
    scores = np.einsum("bqd,bkd->bqk", query, key)
    if scale is True:
        scores = scores / np.sqrt(query.shape[-1])
    elif scale is not False:
        scores = scores * scale
    weights = softmax(scores, mask)
    return weights @ value, weights


def additive(
    query, key, value, query_kernel, key_kernel, bias, score_kernel, mask=None
):
    """Bahdanau: score[b, i, j] = w . tanh(q_i Wq + k_j Wk + b)."""
    q = query @ query_kernel
    k = key @ key_kernel + (0.0 if bias is None else bias)
    hidden = np.tanh(q[:, :, None, :] + k[:, None, :, :])
    weights = softmax(hidden @ score_kernel, mask)
    return weights @ value, weights


def multi_head(query, value, key, weights, num_heads, mask=None, score="dot"):
    """Multi-head attention with Keras's weight layout.

    `weights`: [query_kernel (d, h, k), query_bias (h, k), key_kernel,
    key_bias, value_kernel (d, h, v), value_bias, (score_kernel (h, k) for
    additive), output_kernel (h, v, o), output_bias (o,)].
    """
    weights = [np.asarray(w, np.float64) for w in weights]
    qk, qb, kk, kb, vk, vb = weights[:6]
    rest = weights[6:]
    score_kernel = None
    if score == "additive":
        score_kernel, rest = rest[0], rest[1:]
    ok, ob = rest
    q = np.einsum("btd,dhk->bhtk", query, qk) + qb[None, :, None, :]
    k = np.einsum("btd,dhk->bhtk", key, kk) + kb[None, :, None, :]
    v = np.einsum("btd,dhk->bhtk", value, vk) + vb[None, :, None, :]
    if score == "dot":
        scores = np.einsum("bhqk,bhsk->bhqs", q, k) / np.sqrt(q.shape[-1])
    else:
        hidden = np.tanh(q[:, :, :, None, :] + k[:, :, None, :, :])
        scores = np.einsum("bhqsk,hk->bhqs", hidden, score_kernel)
    full_mask = None if mask is None else np.asarray(mask, bool)[:, None]
    attention = softmax(scores, full_mask)
    context = np.einsum("bhqs,bhsv->bqhv", attention, v)
    return np.einsum("bqhv,hvo->bqo", context, ok) + ob, attention


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def luong(query, key, value, score_mode, weights, mask=None, scale=None):
    """Luong et al. 2015, eq. 8, from the formulas.

    dot: h_t . h_s; general: h_t . (W_a h_s) with `weights = [W_a (d_k, d_q)]`;
    concat: v_a . tanh(W_a [h_t; h_s]), `weights = [W_q, W_k, v_a]`
    (W_a = [W_q; W_k] applied to the concatenation). `scale` multiplies.
    """
    query, key = np.asarray(query, np.float64), np.asarray(key, np.float64)
    weights = [np.asarray(w, np.float64) for w in weights]
    b, t_q, t_k = query.shape[0], query.shape[1], key.shape[1]
    scores = np.zeros((b, t_q, t_k))
    for n in range(b):
        for i in range(t_q):
            for j in range(t_k):
                h_t, h_s = query[n, i], key[n, j]
                if score_mode == "dot":
                    scores[n, i, j] = h_t @ h_s
                elif score_mode == "general":
                    scores[n, i, j] = h_t @ (h_s @ weights[0])
                else:
                    w_a = np.concatenate([weights[0], weights[1]], axis=0)
                    both = np.concatenate([h_t, h_s])
                    scores[n, i, j] = weights[2] @ np.tanh(both @ w_a)
    if scale is not None:
        scores = scores * scale
    attention = softmax(scores, mask)
    return attention @ np.asarray(value, np.float64), attention
