"""Named presets for the adding-problem experiment."""

import dataclasses

from ..config_checks import check_fields


@dataclasses.dataclass(frozen=True)
class Config:
    """Adding problem: sum the two marked numbers of a length-`length` sequence."""

    length: int = 150
    train_size: int = 12800
    test_size: int = 1280
    units: int = 64
    batch_size: int = 64
    epochs: int = 25
    learning_rate: float = 2e-3
    clipnorm: float = 1.0
    models: tuple = ("SimpleRNN", "GRU", "LSTM", "PeepholeLSTM")
    tolerance: float = 0.04
    seed: int = 0

    def __post_init__(self):
        check_fields(
            self,
            positive=(
                "length",
                "train_size",
                "test_size",
                "units",
                "batch_size",
                "epochs",
                "learning_rate",
                "clipnorm",
                "tolerance",
            ),
            non_negative=("seed",),
        )


CONFIGS = {
    "default": Config(),
    "short": Config(length=30, epochs=10),
    # The figure of docs/layers.md, drawn at each `make docs` (35 s).
    "guide": Config(
        length=40,
        train_size=6400,
        test_size=512,
        units=32,
        epochs=8,
        learning_rate=5e-3,
    ),
    "tiny": Config(length=8, train_size=128, test_size=64, units=4, epochs=2),
}


def get_config(name):
    if name not in CONFIGS:
        raise ValueError(f"Unknown config {name!r}, expected one of {sorted(CONFIGS)}.")
    return CONFIGS[name]
