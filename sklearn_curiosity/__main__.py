"""Command line: ``python -m sklearn_curiosity {demo,suggest}``.

Also installed as the console script ``sklearn-curiosity``. Every failure is
one line on stderr: exit status 2 for a bad option (as argparse does), 1 for
bad data, and 141 (as a shell reports a command killed by SIGPIPE) when the
reader of standard output, such as ``head``, has gone.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys

from . import __version__
from ._demo import MIN_LABELLED, n_patients, run_demo
from ._suggest import MLP_MAX_ITER, SUGGEST_UNCERTAINTY, InputError, run_suggest
from .scores import UNCERTAINTIES


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr (exit status 2), like every other bad input."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _at_least(low):
    """An argparse type: an integer of at least ``low``."""

    def integer(text):
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return integer


_positive_int = _at_least(1)


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


_non_negative_float.__name__ = "number"

# Exit status when standard output is a closed pipe: 128 + SIGPIPE, as a
# shell reports a command that the signal ended.
EXIT_BROKEN_PIPE = 141


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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="{demo,suggest}", required=True, parser_class=_Parser
    )
    demo = commands.add_parser(
        "demo",
        help="rank diabetes patients by the model's curiosity (data shipped with scikit-learn)",
        description="Fit a CuriousRegressor on a few labelled patients of scikit-learn's "
        "diabetes data and print the candidates it is most curious about, and why.",
    )
    demo.add_argument(
        "--n-labelled", type=_at_least(MIN_LABELLED), default=40, metavar="N",
        help=f"labelled patients, from {MIN_LABELLED} to one less than the data's 442 "
        "(default 40)",
    )
    demo.add_argument(
        "-n", "--n-show", type=_positive_int, default=5, metavar="N",
        help="rows to list (default 5)",
    )
    demo.add_argument(
        "--seed", type=_at_least(0), default=0, metavar="S",
        help="seed of the labelled subset, an integer >= 0 (default 0)",
    )

    suggest = commands.add_parser(
        "suggest",
        help="rank the rows of a candidates CSV file by which to label next",
        description="Fit a CuriousRegressor on the labelled rows (features standardized, "
        "polynomial terms with --degree) and rank the candidate rows by the model's "
        "curiosity: the expected squared influence of a row's label on the model's "
        "complexity. Label the top rows first. Both files are CSV with a header row; "
        "every column of the labelled file except the target is a feature (choose "
        "them with --features or leave some out with --ignore), and the "
        "candidates file must have the same feature columns (in any order; a target "
        "column there is ignored). Cells may be separated by commas, semicolons, tabs "
        "or '|' (detected). Every feature cell must be a number. Rows are "
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
        "--max-iter", type=_positive_int, default=None, metavar="N",
        help=f"the MLP's most L-BFGS iterations (default {MLP_MAX_ITER}; --model mlp only)",
    )
    suggest.add_argument(
        "--uncertainty", choices=list(UNCERTAINTIES), default=SUGGEST_UNCERTAINTY,
        help="what the curiosity averages over: 'epistemic' (what the model does not know "
        "yet: the part of the curiosity a label can remove), 'noise' (the label noise "
        "alone, the paper's definition) or 'total' (both); default "
        f"{SUGGEST_UNCERTAINTY}",
    )
    suggest.add_argument(
        "--degree", type=_positive_int, default=1, metavar="D",
        help="add polynomial terms of the standardized features up to degree D (default 1)",
    )
    suggest.add_argument(
        "--features", nargs="+", action="extend", metavar="COLUMN", default=None,
        help="the feature columns to use (after the two files; default: every column of "
        "LABELLED but the target); the candidates' other columns are shown as they are",
    )
    suggest.add_argument(
        "--ignore", action="append", metavar="COLUMN", default=[],
        help="leave this column out of the features, such as an ID (repeatable); "
        "it is shown next to each candidate",
    )
    suggest.add_argument(
        "--decimal", choices=[".", ","], default=".",
        help="the decimal mark of the files' numbers (default '.'; ',' for 3,14)",
    )
    suggest.add_argument(
        "--out", metavar="FILE", default=None,
        help="write all candidates, ranked, with their predictions and scores to this CSV "
        "file (never an input file; written whole or not at all)",
    )
    suggest.add_argument(
        "--force", action="store_true",
        help="overwrite the --out file if it exists (when the file is written, not before)",
    )
    return parser


def main(argv=None):
    """Run the command line on ``argv`` (``sys.argv[1:]`` by default); return the
    exit status."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader (such as `head`) has gone: stop quietly. Pointing stdout
        # at devnull keeps the interpreter's final flush from failing again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (AttributeError, OSError, ValueError):
            pass  # stdout is not a file descriptor (in-process capture)
        return EXIT_BROKEN_PIPE


def _run(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        most = n_patients() - 1
        if args.n_labelled > most:
            _Parser(prog=f"{parser.prog} demo").error(
                f"argument --n-labelled: must be at most {most}, so that the "
                f"{most + 1} patients leave a candidate; got {args.n_labelled}"
            )
        run_demo(n_labelled=args.n_labelled, n_show=args.n_show, random_state=args.seed)
    elif args.command == "suggest":
        # The network's options given on the command line, by option name.
        given = {
            option: (parameter, value)
            for option, parameter, value in [
                ("--hidden-layer-sizes", "hidden_layer_sizes", args.hidden_layer_sizes),
                ("--activation", "activation", args.activation),
                ("--seed", "random_state", args.seed),
                ("--max-iter", "max_iter", args.max_iter),
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
                uncertainty=args.uncertainty,
                features=args.features,
                ignore=args.ignore,
                decimal=args.decimal,
                out=args.out,
                force=args.force,
            )
        except InputError as exc:
            print(f"{parser.prog} suggest: error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
