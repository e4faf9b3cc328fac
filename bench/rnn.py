"""keras_seq recurrent layers vs the Keras built-ins and torch.nn (if installed).

Times one training step (`train_on_batch`, forward + backward + SGD update) and
one forward pass (`predict_on_batch`) of each layer, its Keras built-in and
the torch.nn layer of the same recurrence (SimpleRNN, LSTM, GRU; the peephole
LSTM, GRU(reset_after=False) and an LSTM with recurrent dropout against Keras
only), at two sizes
(batch 64 x length 100, and batch 1 x length 50: the serving case),
alternating the models so that all see the same machine load, with PyTorch on
as many threads as TensorFlow. Prints the median times and the ratios ours /
peer (below 1.0 means keras_seq is faster) and writes them to the results file
of the backend (`bench/results/rnn.json` on TensorFlow, `rnn_jax.json`,
`rnn_torch.json`). The Keras models are compiled the same way (Keras's
default `jit_compile="auto"`). On the CPU it also measures the peak memory
of a training step of each model at the first size, in a child process
(`bench/memory.py`; `--no-memory` skips it).

    python bench/rnn.py                      # TF backend, CPU
    KERAS_BACKEND=torch python bench/rnn.py  # our layers on PyTorch against torch.nn
    KERAS_BACKEND=jax python bench/rnn.py    # e.g. on a GPU machine
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import keras
import memory
import numpy as np
from results import add_argument, measure, write
from timing import batches, median_times

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
        # No fused kernel (cuDNN, torch.lstm, the C++ ops) takes recurrent
        # dropout: every framework runs its loop.
        (
            "LSTM recurrent_dropout=0.25",
            layers.LSTM(units, recurrent_dropout=0.25),
            keras.layers.LSTM(units, recurrent_dropout=0.25),
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
# Peak memory of a training step: at most this times torch.nn's.
MEMORY_AGAINST_TORCH = 1.2


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


def builtin_name(name, peer):
    """How the results file names the Keras built-in of pair `name`."""
    text = type(peer).__module__.split(".")[0] + ".layers." + type(peer).__name__
    return text + (" (reset_after=False)" if "False" in name else "")


def memory_rows(args, against_torch):
    """The peak memory of a training step, measured in a child process."""
    report = measured_memory(sys.argv[1:])
    if report is None:
        return []
    batch, length = args.sizes[0]
    print(f"peak memory of a training step, batch {batch} x length {length}, MB:")
    rows = []
    names = {name: peer for name, _, peer in pairs(args.units)}
    for name, peaks in report.items():
        mb = {which: round(value / 2**20, 3) for which, value in peaks.items()}
        print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in mb.items()))
        case = f"train step peak memory, batch {batch}, length {length}"
        rows.append(
            measure(
                f"{name}, {case}",
                mb["ours"],
                "MB",
                builtin_name(name, names[name]),
                mb["keras"],
            )
        )
        if "torch" in mb:
            rows.append(
                measure(
                    f"{name}, {case}, against PyTorch",
                    mb["ours"],
                    "MB",
                    f"torch.nn.{TORCH_PEERS[name]}",
                    mb["torch"],
                    None
                    if against_torch is None
                    else {"on": "ratio", "at_most": MEMORY_AGAINST_TORCH},
                )
            )
    return rows


def memory_report(args):
    """Prints {layer: {"ours"|"keras"|"torch": bytes}}: the peak heap memory
    of one training step of each model at the first size, above what it held
    before the step (bench/memory.py; run with `memory.measured_env()`)."""
    batch, length = args.sizes[0]
    args.length = length
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, length, args.input)).astype("float32")
    y = rng.normal(size=(batch, args.units)).astype("float32")
    report = {}
    for name, ours, peer in pairs(args.units):
        if args.only and args.only not in name:
            continue
        models = {"ours": compiled(ours, args), "keras": compiled(peer, args)}
        if torch_available() and name in TORCH_PEERS:
            models["torch"] = TorchModel(TORCH_PEERS[name], args, x, y)
        report[name] = {}
        inputs = batches(models, x, y)  # converted before, as for the times
        for which, model in models.items():
            for _ in range(2):  # compile, first-call caches
                model.train_on_batch(*inputs[which])
            report[name][which] = memory.peak_during(
                lambda model=model, batch=inputs[which]: model.train_on_batch(*batch)
            )
    print("MEMORY " + json.dumps(report))


def on_gpu():
    """Whether the Keras backend or torch.nn would run on a GPU."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        if jax.default_backend() != "cpu":
            return True
    elif backend == "tensorflow":
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return True
    if torch_available():
        import torch

        return torch.cuda.is_available()
    return False


def measured_memory(argv):
    """Runs `memory_report` in a child process that can measure; None where
    it cannot (no glibc, or the models run on a GPU: it measures host heap)."""
    if memory._LIBC is None:
        print("peak memory: not measured, needs glibc's mallinfo2 (Linux)")
        return None
    if on_gpu():
        print("peak memory: not measured, it counts host memory and a GPU is in use")
        return None
    done = subprocess.run(
        [sys.executable, __file__, *argv, "--memory-report"],
        env=memory.measured_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("MEMORY ")]
    if done.returncode or not lines:
        raise RuntimeError(
            f"the peak-memory run failed (exit {done.returncode}):\n"
            f"{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len("MEMORY ") :])


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
    parser.add_argument(
        "--no-memory",
        dest="memory",
        action="store_false",
        help="skip the peak memory of a training step (a child process)",
    )
    parser.add_argument("--memory-report", action="store_true", help=argparse.SUPPRESS)
    backend = keras.backend.backend()
    add_argument(parser, "rnn" if backend == "tensorflow" else f"rnn_{backend}")
    argv = sys.argv[1:]
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.memory_report:
        memory_report(args)
        return
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
            keras_name = builtin_name(name, peer)
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
    if args.memory:
        rows += memory_rows(args, against_torch)
    write(
        args.results,
        f"Recurrent layers on {BACKEND_NAMES[backend]} (`bench/rnn.py`)",
        rows,
        notes=(
            f"One training step (`train_on_batch`, SGD on the mean squared "
            f"error of the last output) and one forward pass "
            f"(`predict_on_batch`) at each batch x length, input {args.input}, "
            f"units {args.units}; medians of {args.repeats}, keras_seq, Keras "
            f"and PyTorch alternated (ABBA), the training steps first, then "
            f"the forward passes on fixed weights; every model given its "
            f"framework's tensors, converted before the timing; the Keras "
            f"models compiled alike, "
            f"{args.threads} threads. Peak memory: the most heap bytes in use "
            f"during a training step above the level before it, median of 3 "
            f"(`bench/memory.py`)."
        ),
    )


if __name__ == "__main__":
    main()
