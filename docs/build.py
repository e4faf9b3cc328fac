"""Builds the documentation site: `python docs/build.py` (`make docs`).

The site's pages are the guides in `docs/`, the zoo's READMEs (`zoo/README.md`
and `zoo/<task>/README.md`, which stay next to their code) and an API
reference generated here from the docstrings of every public symbol. They are
staged in `build/site-src/` with their links rewritten to the staged paths,
the figures of the guides are drawn again by their scripts (`FIGURES`),
then MkDocs (`mkdocs.yml`) builds `build/site/` in strict mode: a warning
(a link to a page or anchor that does not exist, a docstring that does not
parse) fails the build.

The built search index is checked to split the Chinese page into words
(`check_search_index`): Material segments Chinese with jieba, and the
browser's search splits at the `separator` of `mkdocs.yml`.

A link to a repository file that is not a page (a script, a test) becomes
its path in code font: the site has no copy of it. The README's Chinese
version is a page of its own; links to the README go to the landing page.
"""

import argparse
import importlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "site-src"

# The public modules of the API reference, in the order of the site's menu,
# with a line saying what each holds.
REFERENCE = {
    "layers": "Recurrent cells and layers, wrappers, attention, positions, Transformer blocks.",
    "models": "`Seq2Seq` and `TextModel`.",
    "decoding": "Greedy and beam search, sampling, scheduled sampling.",
    "embeddings": "word2vec: skip-gram, CBOW, vocabulary, trained vectors.",
    "metrics": "BLEU and perplexity.",
    "optimizers": "Gradient clipping by the exact global norm.",
    "datasets": "Loaders of the installable corpora and your own files.",
    "export": "SavedModel, ONNX and LiteRT export.",
    "plotting": "Attention heatmaps.",
}

# Figures of the guides drawn by running their commands at each build (the
# copies in docs/images/ are what GitHub shows): {staged path: (arguments of
# `python`, ending with the option that takes a directory, the file the
# command writes there)}.
FIGURES = {
    "images/attention_heatmap.png": (
        ["docs/examples/attention_heatmap.py", "--output"],
        "attention_heatmap.png",
    ),
    "images/adding_problem.png": (
        ["-m", "zoo.adding_problem", "--config", "guide", "--workdir"],
        "learning_curves.png",
    ),
    "images/word2vec_pca.png": (
        [
            "-m",
            "zoo.word2vec",
            "train",
            "--corpus",
            "ptb",
            "--model",
            "sg",
            "--workdir",
        ],
        "pca.png",
    ),
}

LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
# Repository files whose place the site gives to one of its pages.
ALIASES = {"README.md": "index.md"}
FENCE = re.compile(r"^( *)```.*?^\1```", re.DOTALL | re.MULTILINE)


def pages():
    """`{repository path: staged path}` of every page of the site."""
    mapping = {}
    for path in sorted((ROOT / "docs").glob("*.md")):
        mapping[f"docs/{path.name}"] = path.name
    mapping["README.zh-CN.md"] = "zh.md"
    mapping["zoo/README.md"] = "models/index.md"
    for readme in sorted((ROOT / "zoo").glob("*/README.md")):
        mapping[f"zoo/{readme.parent.name}/README.md"] = (
            f"models/{readme.parent.name}.md"
        )
    return mapping


def rewrite_links(text, source, staged, mapping):
    """`text` of repository file `source` with its relative links pointing at
    the staged pages (`staged` is where `source` lands in the site)."""

    def replace(match):
        image, label, target = match.groups()
        if re.match(r"[a-z]+:|#|/", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if resolved in mapping or resolved in ALIASES:
            page = mapping.get(resolved) or ALIASES[resolved]
            new = posixpath.relpath(page, posixpath.dirname(staged))
        elif resolved.startswith("docs/images/"):
            new = posixpath.relpath(resolved[len("docs/") :], posixpath.dirname(staged))
        elif (ROOT / resolved).exists():
            # A script or a test: its path, in code font unless it is already.
            return label if label.startswith("`") else f"{label} (`{resolved}`)"
        else:
            raise SystemExit(f"{source}: link to {target!r}, which does not exist")
        return f"{image}[{label}]({new}{'#' + anchor if anchor else ''})"

    # Links outside the code blocks (code such as `f["a"](x)` is no link).
    pieces, last = [], 0
    for fence in FENCE.finditer(text):
        pieces += [LINK.sub(replace, text[last : fence.start()]), fence.group(0)]
        last = fence.end()
    return "".join(pieces) + LINK.sub(replace, text[last:])


def public_names(module_name):
    module = importlib.import_module(f"keras_seq.{module_name}")
    names = getattr(module, "__all__", None)
    if names is None:
        raise SystemExit(f"keras_seq.{module_name} has no __all__")
    return list(names)


def reference_pages():
    """`{staged path: text}` of the API reference."""
    out = {}
    index = [
        "# API reference",
        "",
        "Generated from the docstrings of every public symbol (each module's `__all__`).",
        "",
        "| module | what it holds |",
        "|---|---|",
    ]
    for name, summary in REFERENCE.items():
        index.append(f"| [`keras_seq.{name}`]({name}.md) | {summary} |")
        lines = [f"# `keras_seq.{name}`", "", summary, ""]
        module = importlib.import_module(f"keras_seq.{name}")
        for symbol in public_names(name):
            if not callable(getattr(module, symbol)):
                continue  # constants (sets of op names), described where used
            lines += [f"::: keras_seq.{name}.{symbol}", ""]
        out[f"reference/{name}.md"] = "\n".join(lines)
    out["reference/index.md"] = "\n".join(index) + "\n"
    return out


def stage():
    """Writes the site's sources to `build/site-src/`."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True)
    mapping = pages()
    for source, staged in mapping.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        target = STAGE / staged
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            rewrite_links(text, source, staged, mapping), encoding="utf-8"
        )
    shutil.copytree(ROOT / "docs" / "images", STAGE / "images")
    for staged, text in reference_pages().items():
        target = STAGE / staged
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def draw_figures(env):
    """Runs the figures' commands, all at once (each is mostly one thread of
    Python and compilation), then puts each file in the staged site."""
    with tempfile.TemporaryDirectory() as directory:
        running = []
        for index, (staged, (arguments, produced)) in enumerate(FIGURES.items()):
            workdir = Path(directory) / str(index)
            workdir.mkdir()
            target = workdir / produced
            output = target if arguments[-1] == "--output" else workdir
            command = [sys.executable, *arguments, str(output)]
            log = workdir / "stderr.txt"
            with open(log, "w") as errors:  # a file: a pipe could fill and block
                process = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors
                )
            running.append((staged, target, command, process, log))
        failed = []
        for staged, target, command, process, log in running:
            if process.wait():
                failed.append(f"{' '.join(command[1:])} (exit {process.returncode}):")
                failed.append(log.read_text(errors="replace")[-3000:])
            else:
                shutil.copyfile(target, STAGE / staged)
        if failed:
            raise SystemExit("A figure's command failed:\n" + "\n".join(failed))


# The longest run of Chinese characters one word of the search index may
# hold: jieba's words are one to four characters long, a sentence is dozens.
LONGEST_CHINESE_WORD = 8
CHINESE = re.compile(r"[\u3400-\u9fff]+")


def check_search_index(path):
    """Raises SystemExit unless the search index at `path` (Material's
    `search_index.json`) splits its Chinese text into words: Material joins
    jieba's words with zero-width spaces, and the browser's search splits
    the text at the index's `separator`, which must include them."""
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    separator = re.compile(index["config"]["separator"])
    if separator.split("词\u200b向量") != ["词", "向量"]:
        raise SystemExit(
            f"{path}: the search separator {separator.pattern!r} does not split "
            "at zero-width spaces (\\u200b), so Chinese words are not found: "
            "add it to `separator` of the search plugin in mkdocs.yml."
        )
    for doc in index["docs"]:
        words = separator.split(f"{doc['title']} {doc['text']}")
        runs = [run for word in words for run in CHINESE.findall(word)]
        longest = max(runs, key=len, default="")
        if len(longest) > LONGEST_CHINESE_WORD:
            raise SystemExit(
                f"{path}: {doc['location']!r} holds Chinese text the search "
                f"cannot find words in ({longest[:20]!r}...): Material segments "
                "it only where jieba is installed (pip install jieba, in the "
                "docs extra)."
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stage-only", action="store_true", help="write build/site-src/ and stop"
    )
    parser.add_argument(
        "--no-figures",
        action="store_true",
        help="keep the committed figures instead of drawing them again",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    stage()
    # NO_MKDOCS_2_WARNING: Material's banner about its successor, not a
    # warning about this site.
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_MKDOCS_2_WARNING="1")
    if not args.no_figures:
        draw_figures(env)
    if args.stage_only:
        return
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    check_search_index(ROOT / "build" / "site" / "search" / "search_index.json")


if __name__ == "__main__":
    main()
