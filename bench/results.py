"""Results files: each figure once, with its peer, target, command, machine and date.

Every benchmark in `bench/` writes what it measured to
`bench/results/<name>.json` (`--results PATH` writes elsewhere, `--results
''` nowhere); a zoo run's `metrics.json` becomes one with `python
bench/results.py zoo WORKDIR`. The files are committed: they are the
project's figures. `docs/results.md` and the tables between
`<!-- results NAME -->` and `<!-- end results -->` in the Markdown files
(`NAME` a results file, or `summary`: the targets met, file by file) are
generated from them, so a figure cannot disagree with itself:

    python bench/results.py render           # rewrite docs/results.md and the marked tables
    python bench/results.py render --check   # exit 1 if any of them is stale (make test)
    python bench/results.py zoo runs/pos_zh  # a run's figures, as zoo_<model>.json

A file holds `title`, `command`, `date`, `machine`, `versions`, `commit`,
optionally `notes`, and `measures`: each `measure` (what), `value` and
`unit` (keras_seq's figure), optionally `peer` and `peer_value` (the
alternative measured in the same run; `ratio` is value / peer value) and
`target` (`{"on": "value" or "ratio", "at_least" or "at_most": number}`,
whose status the page computes).
"""

import argparse
import json
import math
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "results.md"
MARKED = re.compile(
    r"(<!-- results (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- end results -->)",
    re.DOTALL,
)
FIELDS = ("title", "command", "date", "machine", "versions", "commit", "measures")


def _provenance(argv=None):
    sys.path.insert(0, str(ROOT))
    from zoo import records

    return records.provenance(argv)


def measure(name, value, unit="", peer=None, peer_value=None, target=None):
    """One row of a results file (see the module docstring)."""
    row = {"measure": name, "value": value, "unit": unit}
    if peer is not None:
        row["peer"] = peer
        row["peer_value"] = peer_value
    if target is not None:
        row["target"] = target
    return row


def add_argument(parser, name):
    """`--results PATH` of a benchmark, by default `bench/results/<name>.json`."""
    parser.add_argument(
        "--results",
        default=str(DIRECTORY / f"{name}.json"),
        help="results file to write ('' for none); default %(default)s",
    )


def write(path, title, measures, notes=None, argv=None):
    """Writes a results file for this run; returns its path (None if `path`
    is empty)."""
    if not path:
        return None
    record = {"title": title, **_provenance(argv), "measures": list(measures)}
    if notes:
        record["notes"] = notes
    check(record, path)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"results written to {path}")
    return path


def check(record, where):
    """Raises `ValueError` naming what a results record lacks."""
    missing = [f for f in FIELDS if f not in record]
    if missing:
        raise ValueError(f"{where}: results record without {missing}")
    for row in record["measures"]:
        value = row.get("value")
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{where}: {row.get('measure')!r} has value {value!r}")
        target = row.get("target")
        if target is not None:
            bounds = {"at_least", "at_most"} & set(target)
            if target.get("on") not in ("value", "ratio") or len(bounds) != 1:
                raise ValueError(f"{where}: {row['measure']!r} has target {target!r}")
            if target["on"] == "ratio" and not row.get("peer_value"):
                raise ValueError(f"{where}: {row['measure']!r}: ratio target, no peer")


def load(name):
    path = DIRECTORY / f"{name}.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    check(record, path)
    return record


def names():
    return sorted(p.stem for p in DIRECTORY.glob("*.json"))


def _number(value, unit=""):
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    else:
        text = f"{int(value):,}"
    return f"{text} {unit}".strip()


def _status(row):
    target = row.get("target")
    if target is None:
        return "", ""
    on = target["on"]
    figure = row["value"] if on == "value" else row["value"] / row["peer_value"]
    if "at_least" in target:
        bound, met = target["at_least"], figure >= target["at_least"]
        text = f"{on} >= {_number(bound)}"
    else:
        bound, met = target["at_most"], figure <= target["at_most"]
        text = f"{on} <= {_number(bound)}"
    return text, "met" if met else "**not met**"


def table(record):
    """The Markdown table of a record's measures."""
    lines = [
        "| measure | keras_seq | peer, same run | ratio | target | status |",
        "|---|---|---|---|---|---|",
    ]
    for row in record["measures"]:
        unit = row.get("unit", "")
        peer = ""
        ratio = ""
        if row.get("peer") is not None:
            peer = f"{row['peer']}: {_number(row['peer_value'], unit)}"
            if row["peer_value"]:
                ratio = f"{row['value'] / row['peer_value']:.2f}"
        target, status = _status(row)
        lines.append(
            f"| {row['measure']} | {_number(row['value'], unit)} | {peer} "
            f"| {ratio} | {target} | {status} |"
        )
    return "\n".join(lines) + "\n"


def provenance_line(record):
    versions = ", ".join(f"{k} {v}" for k, v in record["versions"].items())
    commit = f", at {record['commit']}" if record.get("commit") else ""
    return (
        f"`{record['command']}` · {record['machine']} · {record['date']}{commit} "
        f"· {versions}"
    )


def page():
    """The text of docs/results.md."""
    out = [
        "# Results",
        "",
        "Generated by `python bench/results.py render` from the results files",
        "in `bench/results/`, which the benchmarks and the zoo runs write; do",
        "not edit by hand. Each table gives keras_seq's figure, the peer",
        "measured in the same run, their ratio (for times below 1.0 means",
        "keras_seq is faster), the target and whether it is met. Under each",
        "title: the command that reproduces it, the machine, the date, the",
        "commit and the versions.",
        "",
    ]
    for name in names():
        record = load(name)
        out += [f"## {record['title']}", "", provenance_line(record), ""]
        if record.get("notes"):
            out += [record["notes"], ""]
        out += [table(record)]
    return "\n".join(out).rstrip("\n") + "\n"


def markdown_files():
    """The repository's Markdown files (not the venvs, builds or runs)."""
    return [
        p
        for p in sorted(ROOT.glob("**/*.md"))
        if not {".venv", "build", "runs", "node_modules"}
        & set(p.relative_to(ROOT).parts)
        and not p.relative_to(ROOT).parts[0].startswith(".")
    ]


def summary(link):
    """One row per results file with targets: those met and not met; then
    one row linking the files without a target. `link`: the results page,
    relative to the file the table goes in."""
    lines = ["| results | targets met | not met |", "|---|---|---|"]
    untargeted = []
    for name in names():
        record = load(name)
        statuses = [_status(row) for row in record["measures"]]
        missed = [
            row["measure"]
            for row, (_, status) in zip(record["measures"], statuses)
            if status and status != "met"
        ]
        met = sum(status == "met" for _, status in statuses)
        anchor = re.sub(r"[^\w\- ]", "", record["title"].lower()).replace(" ", "-")
        if not met + len(missed):
            untargeted.append(f"[{record['title']}]({link}#{anchor})")
            continue
        count = f"{met} of {met + len(missed)}"
        if len(missed) > 3:  # the page lists them all
            missed = [*missed[:3], f"{len(missed) - 3} more"]
        lines.append(
            f"| [{record['title']}]({link}#{anchor}) | {count} | {'; '.join(missed)} |"
        )
    if untargeted:
        lines.append(f"| figures without a target: {', '.join(untargeted)} | | |")
    return "\n".join(lines) + "\n"


def copied_figures():
    """`[(path, line number, figure, results file)]`: each figure of a
    results file (a value or a peer's value, as the tables render it, with
    its unit; unitless ones of three digits or more) that a Markdown file
    writes by hand, outside the tables generated from that file. A figure
    lives in its results file; other pages link to it."""
    figures = {}
    for name in names():
        for row in load(name)["measures"]:
            unit = row.get("unit", "")
            for value in (row["value"], row.get("peer_value")):
                if value is None:
                    continue
                text = _number(value, unit)
                if unit or len(re.sub(r"\D", "", text)) >= 3:
                    figures.setdefault(text, name)
    patterns = {
        figure: re.compile(r"(?<![\w.,])" + re.escape(figure) + r"(?![\w.])")
        for figure in figures
    }
    found = []
    for path in markdown_files():
        if path == PAGE:
            continue
        # The generated tables blanked out, their lines kept for the numbers.
        text = MARKED.sub(
            lambda m: m.group(1) + "\n" * m.group("body").count("\n") + m.group(4),
            path.read_text(encoding="utf-8"),
        )
        for number, line in enumerate(text.splitlines(), 1):
            for figure, pattern in patterns.items():
                if pattern.search(line):
                    relative = path.relative_to(ROOT).as_posix()
                    found.append((relative, number, figure, figures[figure]))
    return found


def render_marked(text, path=None):
    def replace(match):
        if match.group("name") == "summary":
            link = PAGE.relative_to(ROOT).as_posix()
            if path is not None:
                link = os.path.relpath(PAGE, path.parent).replace(os.sep, "/")
            body = summary(link)
        else:
            record = load(match.group("name"))
            body = f"{provenance_line(record)}\n\n{table(record)}"
        return f"{match.group(1)}{body}{match.group(4)}"

    return MARKED.sub(replace, text)


def stale():
    """`{path: new text}` of each generated file whose text is out of date."""
    out = {}
    text = page()
    if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != text:
        out[PAGE] = text
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        if "<!-- results " not in text:
            continue
        new = render_marked(text, path)
        if new != text:
            out[path] = new
    return out


# A zoo run's headline figures: (measure, metrics.json key, unit, peer,
# peer's key, target). Keys may be dotted paths into nested dicts.
ZOO = {
    "sentiment_zh": [
        (
            "test accuracy",
            "test_accuracy",
            "",
            None,
            None,
            {"on": "value", "at_least": 0.86},
        ),
    ],
    "sentiment_en": [("test accuracy", "test_accuracy", "", None, None, None)],
    "pos_zh": [
        (
            "test token accuracy",
            "test_token_accuracy",
            "",
            "the most frequent tag of each word",
            "most_frequent_tag_accuracy",
            {"on": "value", "at_least": 0.95},
        ),
        (
            "test accuracy on words unseen in training",
            "test_unknown_word_accuracy",
            "",
            None,
            None,
            None,
        ),
    ],
    "lm_ptb": [
        (
            "test perplexity (one stream)",
            "test_perplexity",
            "",
            None,
            None,
            # Zaremba et al. 2014's figure for the run's size (lm_ptb_target).
            "lm_ptb",
        ),
        (
            "validation perplexity (the best epoch's weights)",
            "valid_perplexity",
            "",
            None,
            None,
            None,
        ),
    ],
}
# Zaremba et al. 2014's test perplexities, by (units, tied output weight):
# the targets of lm_ptb's `small` and `medium` presets.
ZAREMBA = {(200, False): 114.5, (650, False): 82.7}


def lm_ptb_target(config):
    """At most Zaremba et al.'s test perplexity for the run's size, if any."""
    paper = ZAREMBA.get((config.get("units"), bool(config.get("tie_weights"))))
    return None if paper is None else {"on": "value", "at_most": paper}


# Translation: the test BLEU of greedy search and of beam 4 at the config's
# length penalty (the training run's own), and, once
# `bench/studies/translation_length_penalty.py WORKDIR` has added its choice
# to metrics.json, at the penalty validation chose, where the targets are:
# translate_rnn at least 30, translate_transformer above translate_rnn's
# figure (its own results file, when there is one).
CHOSEN = "test BLEU, beam 4, length penalty chosen on validation"
for _name in ("translate_rnn", "translate_transformer"):
    ZOO[_name] = [
        ("test BLEU, greedy", "test_bleu.greedy.sacrebleu", "", None, None, None),
        (
            "test BLEU, beam 4, the config's length penalty",
            # The alpha the run's recorded config had (0.7 before 1.0).
            "test_bleu.beam4_alpha{length_penalty}.sacrebleu",
            "",
            None,
            None,
            None,
        ),
    ]
ZOO["translate_rnn"].append(
    (
        CHOSEN,
        "length_penalty_choice.chosen_test_bleu",
        "",
        None,
        None,
        {"on": "value", "at_least": 30.0},
    )
)
ZOO["translate_transformer"].append(
    (
        CHOSEN,
        "length_penalty_choice.chosen_test_bleu",
        "",
        "translate_rnn",
        # translate_rnn's results file of the same data: this file's name
        # with translate_rnn for translate_transformer.
        "results:{translate_rnn}",
        {"on": "ratio", "at_least": 1.0},
    )
)
# The targets hold on the default data (Bible en->es); a run of another
# preset (`ding_de_en`) or TSV gets its figures without them.
TARGET_DATA = {"translate_rnn": "bible_en_es", "translate_transformer": "bible_en_es"}
# Rows read from what a later script adds to metrics.json: left out until then.
OPTIONAL = ("length_penalty_choice.",)


def _get(metrics, key):
    value = metrics
    for part in re.split(r"\.(?=[a-z_])", key):
        value = value[part]
    return value


def _peer_value(metrics, peer_key, name, path):
    """The peer's figure: a metrics.json key, or `results:FILE`, the measure
    of the same name in another results file (None while it has none).
    `{translate_rnn}` in FILE: the name of `path`, the file being written,
    with translate_rnn for translate_transformer."""
    if not peer_key.startswith("results:"):
        return _get(metrics, peer_key)
    stem = peer_key.split(":", 1)[1].format(
        translate_rnn=path.stem.replace("translate_transformer", "translate_rnn")
    )
    path = path.parent / f"{stem}.json"
    if not path.exists():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))["measures"]
    return next((row["value"] for row in rows if row["measure"] == name), None)


def run_name(metrics):
    """`<model>`, or `<model>_<preset>` for a run of another preset than
    `default` (the `--preset` of the run's recorded command)."""
    command = (metrics.get("provenance") or {}).get("command", "")
    found = re.search(r"--preset[ =](\S+)", command)
    preset = found.group(1) if found else "default"
    return metrics["model"] if preset == "default" else f"{metrics['model']}_{preset}"


def from_zoo(workdir, path=None):
    """Writes `bench/results/zoo_<model>[_<preset>].json` (`run_name`) from a
    zoo run's metrics.json."""
    workdir = pathlib.Path(workdir)
    metrics = json.loads((workdir / "metrics.json").read_text(encoding="utf-8"))
    model = metrics["model"]
    if model not in ZOO:
        raise SystemExit(f"No headline figures are listed for {model!r} in ZOO.")
    rows = []
    config = {"length_penalty": 0.7, **metrics.get("config", {})}
    path = pathlib.Path(path or DIRECTORY / f"zoo_{run_name(metrics)}.json")
    data = TARGET_DATA.get(model)
    targets = data is None or config.get("dataset", data) == data
    for name, key, unit, peer, peer_key, target in ZOO[model]:
        key = key.format(**config)
        try:
            value = _get(metrics, key)
        except KeyError:
            if key.startswith(OPTIONAL):
                print(f"{name}: not in {workdir}/metrics.json yet, left out")
                continue
            raise
        if target == "lm_ptb":
            target = lm_ptb_target(config)
        target = target if targets else None
        peer_value = _peer_value(metrics, peer_key, name, path) if peer_key else None
        if peer_key and peer_value is None:
            print(f"{name}: no figure of {peer} to compare with yet")
            peer = None
            target = target if target and target["on"] == "value" else None
        rows.append(measure(name, value, unit, peer, peer_value, target))
    origin = metrics.get("provenance")
    if origin is None:
        raise SystemExit(
            f"{workdir}/metrics.json has no provenance (command, machine, date): "
            "it comes from a run before the zoo recorded them."
        )
    # The file's name titles it: "Zoo: lm_ptb_small" for --name zoo_lm_ptb_small.
    title = path.stem.removeprefix("zoo_") if path.stem.startswith("zoo_") else model
    record = {"title": f"Zoo: {title}", **origin, "measures": rows}
    choice = metrics.get("length_penalty_choice")
    if choice:
        record["notes"] = (
            f"The length penalty: `{choice['command']}` chose alpha "
            f"{choice['chosen_alpha']} on validation BLEU "
            + ", ".join(f"{a}: {b}" for a, b in choice["validation_bleu"].items())
            + f" (beam {choice['beam_width']})."
        )
    check(record, workdir / "metrics.json")
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"results written to {path}")
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="regenerate the generated Markdown")
    render.add_argument("--check", action="store_true", help="only say what is stale")
    zoo = commands.add_parser("zoo", help="a zoo run's metrics.json -> results file")
    zoo.add_argument("workdir")
    zoo.add_argument(
        "--name",
        help="the results file's name, default zoo_<model>, or "
        "zoo_<model>_<preset> for a run of another preset (zoo_lm_ptb_small)",
    )
    args = parser.parse_args(argv)
    if args.command == "zoo":
        from_zoo(args.workdir, args.name and DIRECTORY / f"{args.name}.json")
        return 0
    changed = stale()
    if args.check:
        for path in changed:
            print(
                f"stale: {path.relative_to(ROOT)} (run: python bench/results.py render)"
            )
        return 1 if changed else 0
    for path, text in changed.items():
        path.write_text(text, encoding="utf-8")
        print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
