"""`zoo.distribute`: `TF_CONFIG` checked before TensorFlow reads it."""

import re

import pytest

from zoo import distribute


@pytest.mark.parametrize(
    "tf_config",
    [
        '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}',
        '{"cluster": {"chief": ["a:1"]}, "task": {"type": "chief", "index": 0}}',
        None,
        "",
    ],
)
def test_tf_config_of_a_cluster_is_taken(tf_config):
    distribute._check_tf_config(tf_config)


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{cut short", "TF_CONFIG is not JSON"),
        ("[]", "TF_CONFIG []: expected JSON such as"),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
            "this task's index",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
            "expected JSON",
        ),
        (
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": ["w"], "index": 0}}',
            "expected JSON",
        ),
        ('{"cluster": {}, "task": {"type": "worker", "index": 0}}', "expected JSON"),
    ],
)
def test_tf_config_that_names_no_place_in_a_cluster_is_refused(tf_config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        distribute._check_tf_config(tf_config)
