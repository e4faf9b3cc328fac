"""Attention-weight heatmaps (matplotlib, the `plot` extra)."""

import numpy as np


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "keras_seq.plotting needs matplotlib: pip install 'keras_seq[plot]' "
            "(or pip install matplotlib)."
        ) from error
    return pyplot


def plot_attention(weights, source_tokens, target_tokens, path=None, title=None):
    """Draws attention weights with the tokens on the axes; saves a PNG.

    Args:
        weights: `(len(target_tokens), len(source_tokens))` array: row `i` is
            the weight each source token gets when target token `i` is
            produced (e.g. one example and head of the `return_attention_scores`
            output).
        source_tokens: Sequence of strings, the columns (keys).
        target_tokens: Sequence of strings, the rows (queries).
        path: Where to save the PNG; not saved when None.
        title: Optional figure title.

    Returns:
        The matplotlib `Figure`.

    Raises:
        ValueError: If `weights` is not 2-D, its shape does not match the
            token lists, or it holds a non-finite value.
    """
    weights = np.asarray(weights, dtype="float64")
    expected = (len(target_tokens), len(source_tokens))
    if weights.ndim != 2 or weights.shape != expected:
        raise ValueError(
            "Argument `weights` must have shape (len(target_tokens), "
            f"len(source_tokens)) = {expected}, got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError("Argument `weights` must be finite, got NaN or inf.")
    pyplot = _pyplot()
    width = max(4.0, 0.5 * len(source_tokens) + 2)
    height = max(3.0, 0.5 * len(target_tokens) + 1.5)
    figure, axes = pyplot.subplots(figsize=(width, height))
    image = axes.imshow(weights, cmap="viridis", vmin=0.0, aspect="auto")
    axes.set_xticks(range(len(source_tokens)))
    axes.set_xticklabels(source_tokens, rotation=60, ha="right")
    axes.set_yticks(range(len(target_tokens)))
    axes.set_yticklabels(target_tokens)
    axes.set_xlabel("source (keys)")
    axes.set_ylabel("target (queries)")
    if title:
        axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return figure
