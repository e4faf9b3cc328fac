"""English <-> Spanish Bible verses: World English Bible and Reina-Valera 1909.

The two SWORD modules install with `apt-get install -y sword-text-web
sword-text-sparv` and are read with `pysword` (`pip install 'keras_seq[data]'`).
"""

import functools
import os
import re

from keras_seq.datasets.split import split_examples
from keras_seq.utils.cache import cache_root

INSTALL = "apt-get install -y sword-text-web sword-text-sparv && pip install 'keras_seq[data]'"
SWORD_PATH = "/usr/share/sword"
CACHE_VERSION = 1
MODULES = {"en": "engWEB2015eb", "es": "spaRV1909eb"}
# Footnotes are removed with their text; every other tag (Strong's numbers,
# poetry lines, milestones) is removed and its text kept.
_NOTE = re.compile(r"<note\b.*?</note>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def clean_verse(markup):
    """A verse's OSIS markup -> plain text (notes dropped, tags removed)."""
    text = _TAG.sub(" ", _NOTE.sub(" ", markup))
    text = " ".join(text.split())
    text = re.sub(r"\s+([.,;:!?»”’)])", r"\1", text)
    return re.sub(r"([(«“‘¿¡])\s+", r"\1", text)


def _keep_last_blocks(bible):
    """Keeps the last decompressed blocks of a pysword ZText bible.

    pysword decompresses a verse's whole block (a book, in these modules)
    for every verse it reads; reading verse after verse, the same block is
    decompressed again each time (about 80 s for the two Bibles, against a
    few seconds with this). The blocks' contents do not change, so the
    text read is the same. Where pysword's reader is not there (another
    module type or version), verses are read as before.
    """
    decompressed = getattr(bible, "_decompressed_text", None)
    if callable(decompressed):
        bible._decompressed_text = functools.lru_cache(maxsize=4)(decompressed)


def _read_pairs(path):
    """Every verse present in both modules with the same chapter length."""
    try:
        from pysword.modules import SwordModules
    except ImportError:
        raise ModuleNotFoundError(
            f"The Bible verses are read with `pysword`, which is not installed. "
            f"Install the data with: {INSTALL}",
            name="pysword",
        ) from None
    modules = SwordModules(path)
    found = modules.parse_modules()
    missing = [name for name in MODULES.values() if name not in found]
    if missing:
        raise FileNotFoundError(
            f"The SWORD modules {missing} are not under {path}. Install them "
            f"with: {INSTALL}"
        )
    english, spanish = (
        modules.get_bible_from_module(MODULES[code]) for code in ("en", "es")
    )
    for bible in (english, spanish):
        _keep_last_blocks(bible)

    def books(bible):
        structure = bible.get_structure().get_books()
        return {b.osis_name: b for part in structure.values() for b in part}

    english_books, spanish_books = books(english), books(spanish)
    pairs = []
    for name, book in english_books.items():
        if name not in spanish_books:  # the deuterocanon is only in the WEB
            continue
        chapters = min(book.num_chapters, spanish_books[name].num_chapters)
        for chapter in range(1, chapters + 1):
            verses = [
                list(bible.get_iter(books=[name], chapters=[chapter], clean=False))
                for bible in (english, spanish)
            ]
            if len(verses[0]) != len(verses[1]):
                continue
            for en, es in zip(*verses):
                en, es = clean_verse(en), clean_verse(es)
                if en and es:
                    pairs.append((en, es))
    return pairs


def load_bible_en_es(
    direction="en-es", path=SWORD_PATH, fractions=(0.8, 0.1, 0.1), seed=0
):
    """Verse-aligned English and Spanish Bible text, for translation.

    Verses of the books both modules have (the 66 of the Protestant canon),
    paired by book, chapter and verse where the chapter has the same number
    of verses in both; footnotes removed, markup stripped. Deduplicated by
    source verse (the first pair kept), shuffled with `seed` and split by
    `fractions`. The pairs are cached in `~/.cache/keras_seq/bible_en_es_v1.tsv`
    (`$KERAS_SEQ_CACHE`): reading the compressed modules takes a minute or
    two.

    Args:
        direction: `"en-es"` (English sources, Spanish targets) or `"es-en"`.
        path: The SWORD folder holding `mods.d/` and `modules/`.
        fractions: As `split_examples`.
        seed: As `split_examples`.

    Returns:
        `Splits` with `inputs` in the source language and `targets` in the
        target language (strings).
    """
    if direction not in ("en-es", "es-en"):
        raise ValueError(
            f"Received an invalid value for `direction`, expected 'en-es' or "
            f"'es-en', got {direction!r}."
        )
    # The file name's version changes with `clean_verse`: no stale cache is read.
    cache = str(cache_root() / f"bible_en_es_v{CACHE_VERSION}.tsv")
    if path == SWORD_PATH and os.path.exists(cache):
        with open(cache, encoding="utf-8") as f:
            pairs = [tuple(line.rstrip("\n").split("\t")) for line in f]
    else:
        if not os.path.isdir(path):
            raise FileNotFoundError(
                f"No SWORD modules at {path}. Install them with: {INSTALL}"
            )
        pairs = _read_pairs(path)
        if path == SWORD_PATH:
            os.makedirs(os.path.dirname(cache), exist_ok=True)
            with open(cache + ".tmp", "w", encoding="utf-8") as f:
                f.writelines(f"{en}\t{es}\n" for en, es in pairs)
            os.replace(cache + ".tmp", cache)
    if direction == "es-en":
        pairs = [(es, en) for en, es in pairs]
    first = {}
    for source, target in pairs:
        first.setdefault(source, target)
    sources = sorted(first)
    return split_examples(
        sources,
        [first[s] for s in sources],
        fractions,
        seed,
        description=(
            f"Bible, World English Bible / Reina-Valera 1909 ({path}), "
            f"{direction}: {len(sources)} verse pairs deduplicated by source, "
            f"shuffled with seed {seed}, split {fractions}."
        ),
    )
