"""Every zoo config checks its fields when made: out of range is refused at once."""

import dataclasses
import math

import numpy as np
import pytest

import zoo
from zoo.adding_problem.configs import CONFIGS as ADDING_CONFIGS
from zoo.config_checks import check_fields


def test_every_preset_is_valid():
    for name in zoo.names():
        for preset in zoo.module(name).PRESETS[name]:
            zoo.config(name, preset)
    for config in ADDING_CONFIGS.values():
        dataclasses.replace(config)


@pytest.mark.parametrize(
    "name, field, value, expected",
    [
        ("sentiment_zh", "epochs", 0, "a positive integer"),
        ("sentiment_zh", "batch_size", -1, "a positive integer"),
        ("sentiment_zh", "dropout", 1.0, "a number in [0, 1)"),
        ("sentiment_zh", "cell", "RNN", "one of ['GRU', 'LSTM']"),
        ("sentiment_en", "standardize", "loud", "one of [None, 'lower'"),
        ("sentiment_en", "units", 8.0, "an integer"),
        ("pos_zh", "patience", -1, "an integer >= 0"),
        ("pos_zh", "max_word_chars", 1, "an integer >= 2"),
        ("pos_zh", "learning_rate", 0.0, "a number > 0"),
        ("lm_ptb", "decay", 0.0, "a number in (0, 1]"),
        ("lm_ptb", "decay", 1.5, "a number in (0, 1]"),
        ("lm_ptb", "clipnorm", math.nan, "a finite number"),
        ("lm_ptb", "learning_rate", math.inf, "a finite number"),
        ("lm_ptb", "tie_weights", 1, "True or False"),
        ("lm_ptb", "bptt", True, "an integer"),
        ("lm_ptb", "time_limit", -5.0, "a number >= 0"),
        ("translate_rnn", "decoder_cell", "LSTM", "one of ['GRU', 'PeepholeLSTM']"),
        ("translate_rnn", "scheduled_sampling", 1.5, "a probability in [0, 1]"),
        ("translate_rnn", "beam_width", 0, "a positive integer"),
        ("translate_transformer", "label_smoothing", 1.0, "a number in [0, 1)"),
        ("translate_transformer", "architecture", "cnn", "one of ['rnn'"),
        ("translate_transformer", "dataset", None, "a string"),
    ],
)
def test_an_out_of_range_field_is_named(name, field, value, expected):
    with pytest.raises(ValueError) as error:
        zoo.config(name, "tiny", **{field: value})
    message = str(error.value)
    assert message.startswith(
        f"Received an invalid value for `{field}` of {name}'s config, expected "
    )
    assert expected in message and message.endswith(f"got {value!r}.")


def test_adding_problem_config_is_checked():
    with pytest.raises(ValueError, match="`length` of Config.*positive integer"):
        dataclasses.replace(ADDING_CONFIGS["tiny"], length=0)


def test_numpy_numbers_and_none_defaults_are_accepted():
    config = zoo.config(
        "sentiment_zh", "tiny", epochs=np.int64(3), learning_rate=np.float32(1e-3)
    )
    assert (type(config.epochs), type(config.learning_rate)) == (int, float)
    assert config.epochs == 3 and config.learning_rate == pytest.approx(1e-3)
    assert type(zoo.config("lm_ptb", "tiny", decay=1).decay) is float
    assert zoo.config("sentiment_en", "tiny", standardize=None).standardize is None


def test_check_fields_on_a_dataclass_of_ones_own():
    @dataclasses.dataclass(frozen=True)
    class Settings:
        rate: float = 0.1
        keep: float = 1.0

        def __post_init__(self):
            check_fields(self, positive=("rate",), unit_interval=("keep",))

    assert Settings(rate=2).rate == 2  # an int is a number
    with pytest.raises(ValueError, match="`keep` of Settings's config"):
        Settings(keep=0.0)
    with pytest.raises(ValueError, match="`rate`.*expected a number, got '0.1'"):
        Settings(rate="0.1")
