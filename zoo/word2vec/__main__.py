"""python -m zoo.word2vec train --corpus ptb|FILE --model sg|cbow [...]

python -m zoo.word2vec train --corpus ptb --model sg --workdir runs/word2vec
python -m zoo.word2vec neighbours --vectors runs/word2vec/vectors.txt stock yen
"""

import argparse
import os

from . import cli


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}", description=__doc__
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train, evaluate, save, plot")
    train.add_argument("--corpus", default="ptb", help="'ptb' or a text file")
    train.add_argument("--model", default="sg", choices=["sg", "cbow"])
    train.add_argument("--dim", type=int, default=100)
    train.add_argument("--window", type=int, default=5)
    train.add_argument("--negative", type=int, default=5)
    train.add_argument("--sample", type=float, default=1e-3)
    train.add_argument("--min-count", type=int, default=5)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--workdir", default="runs/word2vec")
    train.add_argument("--plot-words", nargs="*", default=None)
    train.add_argument("--verbose", action="store_true")
    neighbours = commands.add_parser(
        "neighbours", help="nearest words of saved vectors"
    )
    neighbours.add_argument("--vectors", required=True)
    neighbours.add_argument("--topn", type=int, default=8)
    neighbours.add_argument("words", nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            return cli.run_train(args)
        return cli.run_neighbours(args)
    except ValueError as error:
        # A setting or a file the trainer cannot work with: its message says
        # what was expected. ZOO_TRACEBACK=1 shows where it came from.
        if os.environ.get("ZOO_TRACEBACK"):
            raise
        raise SystemExit(
            f"python -m {__package__} {args.command}: error: {error} "
            "(ZOO_TRACEBACK=1 shows where it came from)"
        ) from None


if __name__ == "__main__":
    main()
