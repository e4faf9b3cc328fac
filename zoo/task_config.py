"""`TaskConfig`: the fields every zoo task's `Config` has, declared once."""

import dataclasses

from .config_checks import check_fields


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """The base of each task's frozen `Config` dataclass.

    A task's `Config` subclasses it, gives these fields its own defaults (a
    field declared again keeps its place, first) and adds its own; its
    `__post_init__` calls this one, then `check_fields` on its own fields.
    """

    # The model's name (`zoo.names()`): `config("pos_zh")` has `name="pos_zh"`.
    name: str = ""
    # A corpus the task loads by name, or the path of one's own file.
    dataset: str = ""
    batch_size: int = 32
    epochs: int = 1
    learning_rate: float = 1e-3
    clipnorm: float = 1.0  # the whole batch's gradient, global norm
    dropout: float = 0.0
    # The first examples used (reviews, paragraphs, words of a stream, pairs:
    # the task's unit), for quick runs and tests; 0: all.
    train_limit: int = 0  # of the training split
    eval_limit: int = 0  # of the validation and test splits
    seed: int = 0  # training's randomness: the initial weights, the batches
    # The shuffle before the data is split: the same test split whatever
    # `seed`, so that seeds of one model can be compared.
    split_seed: int = 0

    def __post_init__(self):
        check_fields(
            self,
            positive=("batch_size", "epochs", "learning_rate", "clipnorm"),
            non_negative=("train_limit", "eval_limit", "seed", "split_seed"),
            fractions=("dropout",),
        )
