"""Command line: ``python -m sklearn_curiosity demo``."""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_curiosity",
        description="Regression models that know which points to label next.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="rank diabetes patients by the model's curiosity (data shipped with scikit-learn)",
        description="Fit a CuriousRegressor on a few labelled patients of scikit-learn's "
        "diabetes data and print the candidates it is most curious about, and why.",
    )
    demo.add_argument("--n-labelled", type=int, default=40, help="labelled patients (default 40)")
    demo.add_argument("-n", "--n-show", type=int, default=5, help="rows to list (default 5)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the labelled subset")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(n_labelled=args.n_labelled, n_show=args.n_show, random_state=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
