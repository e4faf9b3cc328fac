"""The packages of the wheel (the metadata is in pyproject.toml).

The repository's `zoo/` is installed as `keras_seq_zoo`: a top-level `zoo`
would clash with other projects of that name.
"""

from setuptools import find_packages, setup

zoo = [
    "keras_seq_zoo" + name[len("zoo") :]
    for name in find_packages(include=["zoo", "zoo.*"])
]

setup(
    packages=find_packages(include=["keras_seq", "keras_seq.*"]) + zoo,
    package_dir={"keras_seq_zoo": "zoo"},
)
