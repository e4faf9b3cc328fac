"""python -m zoo.adding_problem --config default --workdir runs/adding_problem"""

import argparse

from ..training import check_workdir
from . import configs, train


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="SimpleRNN vs GRU vs LSTM vs peephole LSTM on the adding problem."
    )
    parser.add_argument("--config", default="default", choices=sorted(configs.CONFIGS))
    parser.add_argument("--workdir", default="runs/adding_problem")
    args = parser.parse_args(argv)
    try:
        check_workdir(args.workdir)
    except ValueError as error:
        parser.error(str(error))
    train.train_and_evaluate(configs.get_config(args.config), args.workdir)


if __name__ == "__main__":
    main()
