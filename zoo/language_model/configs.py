"""Presets of the PTB language model `lm_ptb` (Zaremba et al. 2014)."""

import dataclasses

from ..config_checks import check_fields
from ..task_config import TaskConfig


@dataclasses.dataclass(frozen=True)
class Config(TaskConfig):
    """Word-level stacked LSTM, truncated backpropagation through time."""

    name: str = "lm_ptb"
    # "ptb" (keras_seq.datasets.load_penn_treebank) or one's own text: a
    # file or a directory of train.txt / valid.txt / test.txt (`load_text`),
    # read lower-cased as the prompts are.
    dataset: str = "ptb"
    # Words of the training text kept, the most frequent (`<unk>` among them);
    # the others read as `<unk>`. PTB has exactly 10,000.
    max_tokens: int = 10000
    units: int = 200  # also the embedding size
    num_layers: int = 2
    # On the embeddings, between layers and before the output.
    dropout: float = 0.0
    batch_size: int = 20  # parallel streams of the corpus, state carried along
    bptt: int = 20  # steps per training window
    epochs: int = 13
    learning_rate: float = 1.0  # plain SGD
    decay: float = 0.5  # the rate is multiplied by this every epoch after `decay_after`
    decay_after: int = 4
    clipnorm: float = 5.0  # global norm
    init_scale: float = 0.1  # uniform initialisation of every weight matrix
    # Biases uniform in +-init_scale too, as Zaremba's code draws every
    # parameter; False: biases start at zero (the paper's text is silent).
    uniform_biases: bool = False
    # Two biases per LSTM layer, input and recurrent, as Zaremba's code (two
    # `Linear` layers per LSTM, their sum the bias) and PyTorch / cuDNN: the
    # same model, but each gets the bias gradient, so SGD moves the sum twice
    # as far and the clipped norm counts it twice (`use_recurrent_bias`).
    recurrent_bias: bool = False
    # The output layer's weight is the embedding table (Press & Wolf 2017):
    # 2M fewer weights for `small`; the output bias stays.
    tie_weights: bool = False
    # Seconds `fit` may take (0: no limit): training stops after the last
    # epoch that ends inside it (`zoo.training.TimeLimit`), then evaluates.
    time_limit: float = 0.0

    def __post_init__(self):
        super().__post_init__()
        check_fields(
            self,
            positive=(
                "max_tokens",
                "units",
                "num_layers",
                "bptt",
                "init_scale",
            ),
            non_negative=(
                "decay_after",
                "time_limit",
            ),
            unit_interval=("decay",),
        )


SMALL = Config()
MEDIUM = Config(
    units=650,
    dropout=0.5,
    bptt=35,
    epochs=39,
    decay=1 / 1.2,
    decay_after=6,
    init_scale=0.05,
)
PRESETS = {
    "lm_ptb": {
        "small": SMALL,
        "default": SMALL,
        "small_tied": dataclasses.replace(SMALL, tie_weights=True),
        "medium": MEDIUM,
        "medium_tied": dataclasses.replace(MEDIUM, tie_weights=True),
        "tiny": Config(
            units=16,
            bptt=10,
            epochs=2,
            train_limit=8000,
            eval_limit=4000,
            decay_after=1,
        ),
    },
}
