"""Every file the repository's docs and code name is in the repository.

Markdown links (`[text](path)`, `[text](path#anchor)`) must reach a tracked
file and, for a Markdown file, one of its headings; a path written out in
Markdown or Python (`bench/rnn.py`, `docs/zoo.md`) must be a tracked file.
"""

import pathlib
import re
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Fenced code blocks hold code, not links (`f["a"](x)`).
FENCE = re.compile(r"^( *)```.*?^\1```", re.DOTALL | re.MULTILINE)
# A path under one of the repository's top-level folders, as prose writes it.
PATH = re.compile(
    r"(?<![\w/.~-])((?:bench|docs|tests|zoo|keras_seq|\.ci)/[\w./-]*\w\.(?:py|md|sh|txt|cc|toml|json))\b"
)
# Paths that name what a command writes, not a file of the repository.
WRITTEN = ("runs/", "build/")


def tracked():
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the link check reads `git ls-files`")
    return {line for line in out.splitlines() if (ROOT / line).exists()}


FILES = tracked() if (ROOT / ".git").exists() else set()


def slug(heading):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as -."""
    # Links keep their text; the backticks and asterisks of code and emphasis go.
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = re.sub(r"[`*]", "", text).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    found = set()
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        match = re.match(r"#+\s+(.*)", line)
        if match:
            found.add(slug(match.group(1)))
        found.update(re.findall(r'<a id="([^"]+)"', line))  # explicit anchors
    return found


def markdown_files():
    return sorted(f for f in FILES if f.endswith(".md"))


def source_files():
    return sorted(
        f for f in FILES if f.endswith((".md", ".py", ".sh")) or f == "Makefile"
    )


@pytest.mark.parametrize("path", markdown_files())
def test_markdown_links_reach_files_and_headings(path):
    broken = []
    text = FENCE.sub("", (ROOT / path).read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        if file:
            resolved = (ROOT / path).parent / file
            relative = resolved.resolve().relative_to(ROOT).as_posix()
            if relative not in FILES and not any(
                f.startswith(relative.rstrip("/") + "/") for f in FILES
            ):
                broken.append(f"{target} (no such file)")
                continue
        else:
            relative = path
        if anchor and relative.endswith(".md") and anchor not in anchors(relative):
            broken.append(f"{target} (no heading #{anchor} in {relative})")
    assert not broken, f"{path}: broken links {broken}"


@pytest.mark.parametrize("path", source_files())
def test_named_paths_are_in_the_repository(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    missing = sorted(
        {
            name
            for name in PATH.findall(text)
            if name not in FILES and not name.startswith(WRITTEN) and "*" not in name
        }
    )
    assert not missing, f"{path} names files that are not in the repository: {missing}"
