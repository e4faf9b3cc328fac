"""keras_seq recurrent layers vs the Keras built-ins and torch.nn (if installed).

Times one training step (`train_on_batch`, forward + backward + SGD update) and
one forward pass (`predict_on_batch`) of each layer, its Keras built-in and
the torch.nn layer of the same recurrence (SimpleRNN, LSTM, GRU), at two sizes
(batch 64 x length 100, and batch 1 x length 50: the serving case),
alternating the models so that all see the same machine load, with PyTorch on
as many threads as TensorFlow. Prints the median times and the ratios ours /
peer (below 1.0 means keras_seq is faster) and writes them to the results file
of the backend (`bench/results/rnn.json` on TensorFlow, `rnn_jax.json`,
`rnn_torch.json`). The Keras models are compiled the same way (Keras's
default `jit_compile="auto"`).

    python bench/rnn.py                      # TF backend, CPU
    KERAS_BACKEND=torch python bench/rnn.py  # our layers on PyTorch against torch.nn
    KERAS_BACKEND=jax python bench/rnn.py    # e.g. on a GPU machine
"""

import argparse
import os
import platform

import keras
import numpy as np
from results import add_argument, measure, write
from timing import median_times

from keras_seq import layers


def pairs(units):
    return [
        ("SimpleRNN", layers.SimpleRNN(units), keras.layers.SimpleRNN(units)),
        ("LSTM", layers.LSTM(units), keras.layers.LSTM(units)),
        ("GRU reset_after=True", layers.GRU(units), keras.layers.GRU(units)),
        (
            "GRU reset_after=False",
            layers.GRU(units, reset_after=False),
            keras.layers.GRU(units, reset_after=False),
        ),
        (
            "LSTM peepholes vs Keras LSTM",
            layers.LSTM(units, use_peepholes=True),
            keras.layers.LSTM(units),
        ),
    ]


def compiled(layer, args):
    model = keras.Sequential([keras.Input((args.length, args.input)), layer])
    model.compile(optimizer="sgd", loss="mse")
    return model


# The torch.nn layer of the same recurrence (GRU: torch resets after the
# recurrent matmul, as `reset_after=True`). Peepholes and `reset_after=False`
# have no torch.nn layer.
TORCH_PEERS = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU reset_after=True": "GRU"}


BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


class TorchModel:
    """`torch.nn.RNN` / `LSTM` / `GRU` with the Keras models' step: the last
    output, mean squared error, one SGD update. Holds its inputs as tensors
    (converted once, not timed); `x`, `y` must be the arrays it was made with."""

    def __init__(self, kind, args, x, y):
        import torch

        self.torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        self.layer = getattr(torch.nn, kind)(args.input, args.units, batch_first=True)
        self.layer.to(self.device)
        self.optimizer = torch.optim.SGD(self.layer.parameters(), lr=0.01)
        self.arrays = (x, y)
        self.x = torch.from_numpy(x).to(self.device)
        self.y = torch.from_numpy(y).to(self.device)

    def _sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def train_on_batch(self, x, y):
        assert (x, y) == self.arrays
        self.optimizer.zero_grad()
        outputs = self.layer(self.x)[0]
        loss = self.torch.nn.functional.mse_loss(outputs[:, -1], self.y)
        loss.backward()
        self.optimizer.step()
        self._sync()

    def predict_on_batch(self, x):
        assert x is self.arrays[0]
        with self.torch.no_grad():
            outputs = self.layer(self.x)[0][:, -1]
        self._sync()
        return outputs.cpu().numpy()


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def set_threads(threads):
    """Both frameworks on `threads` CPU threads (TensorFlow: its intra-op
    pool, before it runs anything; JAX's XLA takes what it finds)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
    if torch_available():
        import torch

        torch.set_num_threads(threads)


def sizes(text):
    """`64x100,1x50` -> [(64, 100), (1, 50)] (batch x length)."""
    cases = []
    for size in text.split(","):
        numbers = size.split("x")
        if len(numbers) != 2 or not all(n.isdigit() and int(n) > 0 for n in numbers):
            raise argparse.ArgumentTypeError(
                f"expected sizes as BATCHxLENGTH[,BATCHxLENGTH...] of positive "
                f"integers, got {text!r}"
            )
        cases.append((int(numbers[0]), int(numbers[1])))
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=sizes("64x100,1x50"),
        help="batch x length of each case (default 64x100,1x50: training, serving)",
    )
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--only", default=None, help="run the pairs whose name contains this"
    )
    backend = keras.backend.backend()
    add_argument(parser, "rnn" if backend == "tensorflow" else f"rnn_{backend}")
    args = parser.parse_args()
    set_threads(args.threads)
    with_torch = torch_available()
    # PyTorch's own layers are the peer a Keras-on-PyTorch user has (within
    # 1.2x); on TensorFlow, ours should beat them.
    against_torch = {"tensorflow": 1.0, "torch": 1.2}.get(backend)

    print(
        f"backend={backend} keras={keras.__version__} "
        f"machine={platform.machine()} cpus={os.cpu_count()} threads={args.threads} "
        f"input={args.input} units={args.units} repeats={args.repeats} (median)"
    )
    print(
        "| layer | batch x length | ours train ms | Keras | PyTorch "
        "| ours predict ms | Keras | PyTorch |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    rng = np.random.default_rng(0)
    for batch, length in args.sizes:
        args.length = length
        x = rng.normal(size=(batch, length, args.input)).astype("float32")
        y = rng.normal(size=(batch, args.units)).astype("float32")
        case = f"batch {batch}, length {length}"
        for name, ours, peer in pairs(args.units):
            if args.only and args.only not in name:
                continue
            models = {"ours": compiled(ours, args), "keras": compiled(peer, args)}
            if with_torch and name in TORCH_PEERS:
                models["torch"] = TorchModel(TORCH_PEERS[name], args, x, y)
            times = median_times(models, x, y, args.repeats)
            (ot, op), (kt, kp) = times["ours"], times["keras"]
            tt, tp = times.get("torch", (None, None))

            def cell(ours_s, peer_s):
                if peer_s is None:
                    return "-"
                return f"{peer_s * 1e3:.1f} ({ours_s / peer_s:.2f}x)"

            print(
                f"| {name} | {batch} x {length} | {ot * 1e3:.1f} | {cell(ot, kt)} "
                f"| {cell(ot, tt)} | {op * 1e3:.1f} | {cell(op, kp)} | {cell(op, tp)} |",
                flush=True,
            )
            keras_name = (
                type(peer).__module__.split(".")[0] + ".layers." + type(peer).__name__
            )
            if "False" in name:
                keras_name += " (reset_after=False)"
            for kind, ours_s, keras_s, torch_s in (
                ("train step", ot, kt, tt),
                ("forward", op, kp, tp),
            ):
                rows.append(
                    measure(
                        f"{name}, {kind}, {case}",
                        round(ours_s * 1e3, 2),
                        "ms",
                        keras_name,
                        round(keras_s * 1e3, 2),
                        {"on": "ratio", "at_most": 1.0},
                    )
                )
                if torch_s is not None:
                    target = None
                    if against_torch is not None:
                        target = {"on": "ratio", "at_most": against_torch}
                    rows.append(
                        measure(
                            f"{name}, {kind}, {case}, against PyTorch",
                            round(ours_s * 1e3, 2),
                            "ms",
                            f"torch.nn.{TORCH_PEERS[name]} "
                            f"({models['torch'].device}, {args.threads} threads)",
                            round(torch_s * 1e3, 2),
                            target,
                        )
                    )
    write(
        args.results,
        f"Recurrent layers on {BACKEND_NAMES[backend]} (`bench/rnn.py`)",
        rows,
        notes=(
            f"One training step (`train_on_batch`, SGD on the mean squared "
            f"error of the last output) and one forward pass "
            f"(`predict_on_batch`) at each batch x length, input {args.input}, "
            f"units {args.units}; medians of {args.repeats}, keras_seq, Keras "
            f"and PyTorch alternated (ABBA), the Keras models compiled alike, "
            f"{args.threads} threads."
        ),
    )


if __name__ == "__main__":
    main()
