"""Command line: ``python -m sklearn_curiosity {demo,suggest}``.

Also installed as the console script ``sklearn-curiosity``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit status 2), like every other bad input."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _layer_sizes(text):
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"must be widths >= 1 separated by commas, such as 32,32; got {text!r}"
        )
    return sizes


_positive_int.__name__ = "integer"
_non_negative_float.__name__ = "number"


def _prog():
    # The console script runs as "sklearn-curiosity", the module as "python -m ...".
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if name in ("", "__main__.py", "-c"):
        return "python -m sklearn_curiosity"
    return name


def build_parser():
    parser = _Parser(
        prog=_prog(),
        description="Regression models that know which points to label next.",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="{demo,suggest}", required=True, parser_class=_Parser
    )
    demo = commands.add_parser(
        "demo",
        help="rank diabetes patients by the model's curiosity (data shipped with scikit-learn)",
        description="Fit a CuriousRegressor on a few labelled patients of scikit-learn's "
        "diabetes data and print the candidates it is most curious about, and why.",
    )
    demo.add_argument("--n-labelled", type=int, default=40, help="labelled patients (default 40)")
    demo.add_argument("-n", "--n-show", type=int, default=5, help="rows to list (default 5)")
    demo.add_argument("--seed", type=int, default=0, help="seed of the labelled subset")

    suggest = commands.add_parser(
        "suggest",
        help="rank the rows of a candidates CSV file by which to label next",
        description="Fit a CuriousRegressor on the labelled rows (features standardized, "
        "polynomial terms with --degree) and rank the candidate rows by the model's "
        "curiosity: the expected squared influence of a row's label on the model's "
        "complexity. Label the top rows first. Both files are CSV with a header row; "
        "every column of the labelled file except the target is a feature, and the "
        "candidates file must have the same feature columns (in any order; a target "
        "column there is ignored). Every feature cell must be a number. Rows are "
        "numbered as in a spreadsheet: the header is row 1.",
    )
    suggest.add_argument("labelled", help="CSV file of the rows whose target is known")
    suggest.add_argument("candidates", help="CSV file of the rows that could be labelled next")
    suggest.add_argument(
        "--target", required=True, metavar="COLUMN", help="the column to predict (in LABELLED)"
    )
    suggest.add_argument(
        "-n", "--n-show", type=_positive_int, default=5, metavar="N",
        help="how many top candidates to print (default 5)",
    )
    suggest.add_argument(
        "--alpha", type=_non_negative_float, default=None, metavar="A",
        help="regularization strength (default: for the linear model, chosen by "
        "leave-one-out cross-validation among 33 values from 1e-4 to 1e4; 1 for the MLP)",
    )
    suggest.add_argument(
        "--model", choices=["linear", "mlp"], default="linear",
        help="the regression model: 'linear' (ridge regression on the standardized features "
        "and their polynomial terms) or 'mlp' (a neural network on the standardized features "
        "and target, trained by L-BFGS; without --alpha it uses alpha = 1). Default linear.",
    )
    suggest.add_argument(
        "--hidden-layer-sizes", type=_layer_sizes, default=None, metavar="W[,W...]",
        help="widths of the MLP's hidden layers, such as 32,32 (default 32; --model mlp only)",
    )
    suggest.add_argument(
        "--activation", choices=["tanh", "relu", "logistic"], default=None,
        help="the MLP's activation (default tanh; --model mlp only)",
    )
    suggest.add_argument(
        "--seed", type=int, default=None,
        help="seed of the MLP's initial weights (default 0; --model mlp only)",
    )
    suggest.add_argument(
        "--degree", type=_positive_int, default=1, metavar="D",
        help="add polynomial terms of the standardized features up to degree D (default 1)",
    )
    suggest.add_argument(
        "--out", metavar="FILE", default=None,
        help="write all candidates, ranked, with their predictions and scores to this CSV file",
    )
    suggest.add_argument(
        "--force", action="store_true", help="overwrite the --out file if it exists"
    )
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(n_labelled=args.n_labelled, n_show=args.n_show, random_state=args.seed)
    elif args.command == "suggest":
        from ._suggest import InputError, run_suggest

        # The network's options given on the command line, by option name.
        given = {
            option: (parameter, value)
            for option, parameter, value in [
                ("--hidden-layer-sizes", "hidden_layer_sizes", args.hidden_layer_sizes),
                ("--activation", "activation", args.activation),
                ("--seed", "random_state", args.seed),
            ]
            if value is not None
        }
        if given and args.model != "mlp":
            _Parser(prog=f"{parser.prog} suggest").error(
                f"{', '.join(given)}: only with --model mlp"
            )
        network = dict(given.values())
        try:
            run_suggest(
                args.labelled,
                args.candidates,
                args.target,
                n_show=args.n_show,
                alpha=args.alpha,
                model=args.model,
                degree=args.degree,
                network=network,
                out=args.out,
                force=args.force,
            )
        except InputError as exc:
            print(f"{parser.prog} suggest: error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
