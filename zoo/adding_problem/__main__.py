"""python -m zoo.adding_problem --config default --workdir runs/adding_problem"""

import argparse
import os

from zoo.adding_problem import configs, train


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="SimpleRNN vs GRU vs LSTM vs peephole LSTM on the adding problem."
    )
    parser.add_argument("--config", default="default", choices=sorted(configs.CONFIGS))
    parser.add_argument("--workdir", default="runs/adding_problem")
    args = parser.parse_args(argv)
    if os.path.exists(args.workdir) and not os.path.isdir(args.workdir):
        parser.error(f"--workdir {args.workdir} is a file: expected a directory.")
    train.train_and_evaluate(configs.get_config(args.config), args.workdir)


if __name__ == "__main__":
    main()
