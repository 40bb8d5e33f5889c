"""The library's messages in the command line's terms.

The estimators' warnings and errors advise their parameters (``raise
max_iter``, ``another random_state``); a user of the command line needs its
options (``--max-iter``, ``--seed``). Advice that names a parameter the
command line does not have is dropped, since its user cannot follow it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import re

from ._regressor import CuriousRegressor

# The library's advice names estimator parameters; the command line's user
# needs its options. Each pair: a pattern of the library's wording, and the
# command line's. Advice that names a parameter the command line does not
# expose is dropped by in_cli_terms.
_CLI_WORDING = [
    (r"\bmax_iter=(\d+)", r"--max-iter \1"),
    (r"\bmax_iter\b", "--max-iter"),
    (r"\brandom_state\b", "--seed"),
    (r"\bhidden_layer_sizes\b", "--hidden-layer-sizes"),
    (r"\b(fewer|more|other) hidden units\b", r"\1 hidden units (--hidden-layer-sizes)"),
    (r"\b([Rr]aise|[Ll]ower|[Ii]ncrease|[Dd]ecrease|[Rr]educe|[Ss]et) alpha\b", r"\1 --alpha"),
    (r"\balpha=", "--alpha "),
    (r"\bactivation=", "--activation "),
    (r"\b[Tt]rain longer\b", r"\g<0> (--max-iter)"),
    (r"\b[Ff]it on more samples\b", "Label more rows"),
    (r"\bremove (the )?redundant features\b", "leave out redundant columns (--ignore COLUMN)"),
    (r"\balpha > 0\b", "--alpha above 0"),
    # The command line always uses the default penalty.
    (r" \(or under a regularizer that leaves it free\)", ""),
    # The command line standardizes every feature already.
    (r",? (or )?scale the features", ""),
]


# CuriousRegressor's parameters that the command line sets through an option
# (--alpha, --activation, --hidden-layer-sizes, --seed, --max-iter).
_PARAMETERS_WITH_OPTIONS = {"alpha", "activation", "hidden_layer_sizes", "random_state",
                            "max_iter"}


def _estimator_parameters():
    """CuriousRegressor's parameters that the command line does not expose, as a
    pattern of their use in advice."""
    params = set(CuriousRegressor().get_params()) - _PARAMETERS_WITH_OPTIONS
    # Plain words ("model", "alpha") count only as `name=` or `name[`.
    plain = [name for name in params if "_" not in name]
    snake = [name for name in params if "_" in name]
    return re.compile(
        rf"\b(({'|'.join(snake)})\b|({'|'.join(plain)})(?=\s*[=\[]))"
    )


def in_cli_terms(message):
    """A library message with its advice in the command line's options.

    The first sentence says what happened and is kept; a later sentence that
    names a parameter the command line does not have is advice its user
    cannot follow, and is dropped.

    Examples
    --------
    >>> from sklearn_curiosity._cli_messages import in_cli_terms
    >>> in_cli_terms("L-BFGS did not converge in max_iter=200 iterations; raise max_iter.")
    'L-BFGS did not converge in --max-iter 200 iterations; raise --max-iter.'
    """
    message = " ".join(str(message).split())
    for pattern, replacement in _CLI_WORDING:
        message = re.sub(pattern, replacement, message)
    parameters = _estimator_parameters()
    first, *rest = re.split(r"(?<=[.!?])\s+(?=[A-Z])", message)
    return " ".join([first, *(s for s in rest if not parameters.search(s))]).strip()
