"""`docs/build.py`'s check that the site's search finds Chinese words."""

import importlib.util
import json
import pathlib

import pytest

BUILD = pathlib.Path(__file__).parents[2] / "docs" / "build.py"
CHINESE_SEPARATOR = "[\\s\\u200b\\u3000\\-、。，．？！；]+"


def load_build():
    spec = importlib.util.spec_from_file_location("docs_build", BUILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_index(tmp_path, separator, text):
    path = tmp_path / "search_index.json"
    index = {
        "config": {"lang": ["en", "zh"], "separator": separator},
        "docs": [
            {"location": "", "title": "keras_seq", "text": "Sequence models."},
            {"location": "zh/", "title": "中文", "text": text},
        ],
    }
    path.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    return path


def test_segmented_text_and_separator_pass(tmp_path):
    text = "keras_seq \u200b是\u200b Keras 3 \u200b的\u200b序列\u200b模型\u200b组件\u200b库。"
    load_build().check_search_index(write_index(tmp_path, CHINESE_SEPARATOR, text))


def test_unsegmented_chinese_names_jieba(tmp_path):
    text = "keras_seq 是 Keras 3 的序列模型组件库和模型库，可在三种后端上运行。"
    with pytest.raises(SystemExit, match="pip install jieba") as error:
        load_build().check_search_index(write_index(tmp_path, CHINESE_SEPARATOR, text))
    assert "'zh/'" in str(error.value)


def test_separator_without_zero_width_space_is_refused(tmp_path):
    text = "keras_seq \u200b是\u200b Keras 3 \u200b的\u200b序列\u200b模型"
    with pytest.raises(SystemExit, match="mkdocs.yml"):
        load_build().check_search_index(write_index(tmp_path, "[\\s\\-]+", text))


def test_site_config_separates_chinese_words():
    import re

    import yaml

    config = (BUILD.parent.parent / "mkdocs.yml").read_text(encoding="utf-8")
    # mkdocs.yml has Python tags (!!python/name) that safe_load refuses:
    # only the search plugin's block is read.
    block = config[config.index("  - search:") :].split("  - mkdocstrings")[0]
    (search,) = yaml.safe_load(block)
    separator = re.compile(search["search"]["separator"])
    assert separator.split("词\u200b向量，模型。layer-wise x") == [
        "词",
        "向量",
        "模型",
        "layer",
        "wise",
        "x",
    ]
