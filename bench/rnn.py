"""keras_seq recurrent layers vs the Keras built-ins (and torch.nn.LSTM if installed).

Times one training step (`train_on_batch`, forward + backward + SGD update) and
one forward pass (`predict_on_batch`) for each pair, alternating the two models
so that both see the same machine load, and prints the median times and the
ratio ours / peer (below 1.0 means keras_seq is faster). Both models are
compiled the same way (Keras's default `jit_compile="auto"`).

    python bench/rnn.py                      # TF backend, CPU
    KERAS_BACKEND=jax python bench/rnn.py    # e.g. on a GPU machine
"""

import argparse
import os
import platform
import statistics
import time

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


def torch_lstm_times(args, x, y):
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    lstm = torch.nn.LSTM(args.input, args.units, batch_first=True).to(device)
    optimizer = torch.optim.SGD(lstm.parameters(), lr=0.01)
    tx = torch.from_numpy(x).to(device)
    ty = torch.from_numpy(y).to(device)

    def sync():
        if device == "cuda":
            torch.cuda.synchronize()

    def train():
        optimizer.zero_grad()
        _, (h, _) = lstm(tx)
        loss = torch.nn.functional.mse_loss(h[0], ty)
        loss.backward()
        optimizer.step()
        sync()

    def predict():
        with torch.no_grad():
            lstm(tx)
        sync()

    times = []
    for fn in (train, predict):
        fn()
        fn()
        runs = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - start)
        times.append(statistics.median(runs))
    return device, times


def torch_threads():
    import torch

    return torch.get_num_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=100)
    parser.add_argument("--input", type=int, default=128)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--only", default=None, help="run the pairs whose name contains this"
    )
    add_argument(parser, "rnn")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.length, args.input)).astype("float32")
    y = rng.normal(size=(args.batch, args.units)).astype("float32")

    print(
        f"backend={keras.backend.backend()} keras={keras.__version__} "
        f"machine={platform.machine()} cpus={os.cpu_count()} "
        f"batch={args.batch} length={args.length} input={args.input} "
        f"units={args.units} repeats={args.repeats} (median)"
    )
    print(
        "| layer | ours train ms | peer train ms | train ratio "
        "| ours predict ms | peer predict ms | predict ratio |"
    )
    print("|---|---|---|---|---|---|---|")
    rows, ours_lstm = [], None
    at_most_1 = {"on": "ratio", "at_most": 1.0}
    for name, ours, peer in pairs(args.units):
        if args.only and args.only not in name:
            continue
        times = median_times(
            {"ours": compiled(ours, args), "peer": compiled(peer, args)},
            x,
            y,
            args.repeats,
        )
        (ot, op), (pt, pp) = times["ours"], times["peer"]
        print(
            f"| {name} | {ot * 1e3:.1f} | {pt * 1e3:.1f} | {ot / pt:.2f} "
            f"| {op * 1e3:.1f} | {pp * 1e3:.1f} | {op / pp:.2f} |",
            flush=True,
        )
        peer_name = (
            type(peer).__module__.split(".")[0] + ".layers." + type(peer).__name__
        )
        if name == "LSTM":
            ours_lstm = (ot, op)
        for kind, ours_s, peer_s in (("train step", ot, pt), ("forward", op, pp)):
            rows.append(
                measure(
                    f"{name}, {kind}",
                    round(ours_s * 1e3, 2),
                    "ms",
                    peer_name + (" (reset_after=False)" if "False" in name else ""),
                    round(peer_s * 1e3, 2),
                    at_most_1,
                )
            )
    try:
        device, (train, predict) = torch_lstm_times(args, x, y)
    except ImportError:
        print("torch not installed: torch.nn.LSTM row skipped")
    else:
        print(
            f"| torch.nn.LSTM ({device}) | {train * 1e3:.1f} | | | "
            f"{predict * 1e3:.1f} | | |"
        )
        if ours_lstm is not None:
            for kind, ours_s, peer_s in zip(
                ("train step", "forward"), ours_lstm, (train, predict)
            ):
                rows.append(
                    measure(
                        f"LSTM, {kind}, against PyTorch",
                        round(ours_s * 1e3, 2),
                        "ms",
                        f"torch.nn.LSTM ({device}, {torch_threads()} threads)",
                        round(peer_s * 1e3, 2),
                        at_most_1,
                    )
                )
    write(
        args.results,
        "Recurrent layers (`bench/rnn.py`)",
        rows,
        notes=(
            f"One training step (`train_on_batch`, SGD) and one forward pass "
            f"(`predict_on_batch`), batch {args.batch}, length {args.length}, "
            f"input {args.input}, units {args.units}; medians of {args.repeats}, "
            "keras_seq and Keras alternated (ABBA), both compiled alike."
        ),
    )


if __name__ == "__main__":
    main()
