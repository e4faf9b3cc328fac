#!/usr/bin/env bash
# The package as a user gets it. Builds the sdist and, from it, the wheel;
# checks both with twine; installs the wheel in a fresh venv outside the
# checkout and runs, from another directory:
#  1. smoke_layers.py: keras_seq on JAX with no TensorFlow installed (fit,
#     save, load, beam search, BLEU, word vectors);
#  2. with the `zoo` extra: trains the tiny sentiment_zh model with the
#     `keras-seq-zoo` command, exports it and answers a request from the
#     SavedModel. The extra brings no matplotlib: the run must still write
#     its model, export and metrics.json, and say which extra brings plots.
# Installs at the versions of constraints.txt. `make test-wheel` runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/keras_seq_wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "build the sdist and the wheel (from the sdist), twine check"
"$root/.venv/bin/python" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; exit 1; }
"$root/.venv/bin/twine" check --strict "$work"/dist/*
wheel=$(ls "$work"/dist/*.whl)
tops=$("$python" -c 'import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(" ".join(sorted({n.split("/")[0] for n in names if ".dist-info/" not in n})))' "$wheel")
echo "top-level packages: $tops"
[ "$tops" = "keras_seq keras_seq_zoo" ] || { echo "expected keras_seq keras_seq_zoo"; exit 1; }

say "a fresh venv with the wheel, Keras and JAX: keras_seq without TensorFlow"
"$python" -m venv "$work/venv"
bin=$work/venv/bin
install() { "$bin/python" -m pip install --quiet --disable-pip-version-check -c "$root/constraints.txt" "$@"; }
install "$wheel" "jax[cpu]"
cp "$root/tests/install/smoke_layers.py" "$work/"
mkdir "$work/user" && cd "$work/user"
KERAS_BACKEND=jax "$bin/python" "$work/smoke_layers.py" "$work/user"
! "$bin/python" -c "import zoo" 2>/dev/null || { echo "the wheel installed a top-level zoo"; exit 1; }

say "a zoo command without the zoo extra: one line naming the pip install"
set +e
message=$(KERAS_BACKEND=jax "$bin/keras-seq-zoo" train sentiment_zh --preset tiny --workdir run 2>&1)
status=$?
set -e
echo "$message"
[ $status -ne 0 ] && [ "$(echo "$message" | wc -l)" -eq 1 ] &&
    echo "$message" | grep -q "pip install 'keras_seq\[zoo\]'" ||
    { echo "expected one line naming pip install 'keras_seq[zoo]'"; exit 1; }
[ ! -e run/model.keras ] || { echo "it trained anyway"; exit 1; }

say "the zoo extra: train, export and serve the tiny sentiment_zh"
install "${wheel}[zoo]"
"$bin/python" -c "import matplotlib" 2>/dev/null && { echo "matplotlib came with [zoo]"; exit 1; }
"$bin/keras-seq-zoo" train sentiment_zh --preset tiny --workdir run >train.log 2>&1 ||
    { cat train.log; exit 1; }
tail -n 3 train.log
grep -q "pip install 'keras_seq\[plot\]'" train.log || { echo "no word of the plot extra"; exit 1; }
for f in model.keras metrics.json export/saved_model.pb; do
    [ -e "run/$f" ] || { echo "run/$f missing"; exit 1; }
done
"$bin/keras-seq-zoo" predict sentiment_zh --workdir run "质量很好，物流也快，非常满意" | tee predict.log
grep -q "质量很好" predict.log
say "wheel: ok"
