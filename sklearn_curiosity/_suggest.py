"""``suggest``: which rows of a candidates CSV file to label next.

For people who keep their data in spreadsheets: the labelled rows train a
CuriousRegressor (after scaling, and polynomial terms if asked), and the
candidate rows are ranked by the model's curiosity, the expected squared
influence of their (unknown) labels on the model's complexity.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first
data row is row 2.
"""

# SPDX-License-Identifier: BSD-3-Clause

import csv
import math
import os
import sys
import warnings

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from ._cv import CuriousRegressorCV
from ._regressor import CuriousRegressor
from .scores import influence_score

# The grid that leave-one-out chooses alpha from when --alpha is not given.
LOO_ALPHAS = np.logspace(-4, 4, 33)

# The MLP's regularity when --alpha is not given: leave-one-out is closed
# form for the linear model only, and K-fold refits of a network over the
# grid would take minutes. The target is standardized for the MLP, so this
# alpha means the same for every target's units.
MLP_DEFAULT_ALPHA = 1.0

# lbfgs iterations for the MLP: a spreadsheet's few hundred rows converge
# well within this, and sklearn's default of 200 often stops short.
MLP_MAX_ITER = 2000

# The network's settings that the command line exposes, and their defaults.
NETWORK_DEFAULTS = {"hidden_layer_sizes": (32,), "activation": "tanh", "random_state": 0}

# The intercept takes one row and the noise estimate at least one more; a
# third leaves leave-one-out something to choose alpha with.
MIN_LABELLED_ROWS = 3


class InputError(Exception):
    """Bad input, reported as one line on stderr (no traceback)."""


def _read_table(path):
    """Read a CSV file with a header row into ``(header, rows, row_numbers)``.

    Cells stay strings; ``row_numbers`` are the spreadsheet row numbers of
    the data rows (the header is row 1).
    """
    name = os.path.basename(path)
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark first.
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.reader(file)
            lines = [(reader.line_num, line) for line in reader]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a CSV file.") from None
    except UnicodeDecodeError:
        raise InputError(f"{path} is not a UTF-8 text file; save it as CSV (UTF-8).") from None
    except (OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read it as CSV ({exc}).") from None

    lines = [(number, line) for number, line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise InputError(f"{name} is empty: it needs a header row and at least one data row.")
    (_, header), body = lines[0], lines[1:]
    header = [cell.strip() for cell in header]
    if not body:
        raise InputError(f"{name} has a header but no data rows.")
    for position, column in enumerate(header, start=1):
        if not column:
            raise InputError(f"{name}: column {position} of the header has no name.")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise InputError(f"{name}: the header repeats the column(s) {_names(duplicates)}.")
    for number, line in body:
        if len(line) != len(header):
            raise InputError(
                f"{name}, row {number}: {len(line)} cells, but the header has {len(header)}."
            )
    return header, [line for _, line in body], [number for number, _ in body]


def _numbers(name, header, rows, row_numbers, columns):
    """The cells of ``columns`` as a float matrix; refuse empty, NaN or text cells."""
    index = [header.index(column) for column in columns]
    cells = np.array([[line[k] for k in index] for line in rows], dtype=str)
    try:
        values = cells.astype(np.float64)
    except ValueError:
        values = None
    if values is not None and np.isfinite(values).all():
        return values
    # Converting cell by cell finds the first bad one, to say where it is.
    values = np.empty(cells.shape)
    for i, j in np.ndindex(cells.shape):
        cell = cells[i, j].strip()
        where = f"{name}, row {row_numbers[i]}, column {columns[j]!r}"
        if not cell:
            raise InputError(f"{where}: empty cell; fill it in or delete the row.")
        try:
            values[i, j] = float(cell)
        except ValueError:
            raise InputError(f"{where}: {cell!r} is not a number.") from None
        if not math.isfinite(values[i, j]):
            raise InputError(f"{where}: {cell!r} is not a finite number.")
    return values


def _names(columns):
    return ", ".join(repr(column) for column in columns)


def read_data(labelled_path, candidates_path, target):
    """Read and check the two files.

    Returns
    -------
    features : list of str
        The feature columns, in the labelled file's order.
    X, y : ndarray
        The labelled rows' features and target.
    X_pool : ndarray
        The candidates' features (columns in the order of ``features``).
    pool_rows : list of int
        The candidates' spreadsheet row numbers.
    """
    labelled_name = os.path.basename(labelled_path)
    candidates_name = os.path.basename(candidates_path)
    header, rows, row_numbers = _read_table(labelled_path)
    pool_header, pool_rows, pool_numbers = _read_table(candidates_path)

    if target not in header:
        raise InputError(
            f"{labelled_name} has no column {target!r} for --target "
            f"(its columns: {_names(header)})."
        )
    features = [column for column in header if column != target]
    if not features:
        raise InputError(f"{labelled_name} has no feature columns besides the target {target!r}.")
    # The candidates may carry an (empty) target column: it is ignored.
    pool_features = [column for column in pool_header if column != target]
    missing = [column for column in features if column not in pool_features]
    extra = [column for column in pool_features if column not in features]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{candidates_name} lacks {_names(missing)}")
        if extra:
            parts.append(f"{candidates_name} has {_names(extra)} that {labelled_name} lacks")
        raise InputError(
            f"The two files' feature columns differ: {'; '.join(parts)}. "
            "Give both files the same columns."
        )

    if len(rows) < MIN_LABELLED_ROWS:
        raise InputError(
            f"{labelled_name} has {len(rows)} data row(s); the model needs at least "
            f"{MIN_LABELLED_ROWS} labelled rows."
        )
    y = _numbers(labelled_name, header, rows, row_numbers, [target])[:, 0]
    X = _numbers(labelled_name, header, rows, row_numbers, features)
    X_pool = _numbers(candidates_name, pool_header, pool_rows, pool_numbers, features)
    return features, X, y, X_pool, pool_numbers


def _preprocessing(degree):
    """Scaling, then polynomial terms of the scaled features when ``degree > 1``.

    Scaling before the polynomial keeps the powers well conditioned; scaling
    after it lets the penalty treat every term alike.
    """
    if degree == 1:
        return [StandardScaler()]
    return [StandardScaler(), PolynomialFeatures(degree, include_bias=False), StandardScaler()]


def _leave_one_out_alpha(X_transformed, y):
    """The alpha of ``LOO_ALPHAS`` with the smallest leave-one-out squared error.

    Closed-form leave-one-out over the grid, on the transformed features.
    """
    return float(CuriousRegressorCV(alphas=LOO_ALPHAS).fit(X_transformed, y).alpha_)


def _regressor(model, alpha, network):
    if model == "linear":
        return CuriousRegressor(alpha=alpha)
    return CuriousRegressor(model="mlp", alpha=alpha, max_iter=MLP_MAX_ITER, **network)


def _is_damping_note(warning):
    # A network often stops where its Hessian is not positive definite; the
    # tangent then uses a documented damping, which is worth a note, not a
    # refusal (see CuriousRegressor, tangent_solver).
    return "damped Hessian" in str(warning.message)


def fit_and_rank(X, y, X_pool, *, alpha=None, model="linear", degree=1, network=None):
    """Fit the pipeline on the labelled rows and score the candidates.

    The linear model's alpha, when not given, is chosen by leave-one-out; the
    MLP's is :data:`MLP_DEFAULT_ALPHA`, and the MLP learns the standardized
    target (predictions and scores are given back in the target's units).
    ``network`` overrides some of :data:`NETWORK_DEFAULTS` for the MLP.

    Returns
    -------
    pipeline : Pipeline
        The fitted pipeline, ending in a CuriousRegressor.
    how : {"given", "leave-one-out", "default"}
        Where alpha came from.
    prediction, curiosity : ndarray of shape (n_candidates,)
        Predicted target and curiosity score of each candidate.
    order : ndarray of shape (n_candidates,)
        Candidate indices from the most to the least curious (ties keep
        the file's order).
    target_scale : float
        The target's standard deviation for the MLP (1 for the linear model).
    notes : list of str
        Warnings worth showing that do not invalidate the ranking.
    """
    steps = _preprocessing(degree)
    how = "given" if alpha is not None else "leave-one-out" if model == "linear" else "default"
    center, scale = 0.0, 1.0
    if model == "mlp":
        center, scale = float(np.mean(y)), float(np.std(y))
        if not scale > 0:
            raise ValueError("the target is constant, so there is nothing to learn.")
    with warnings.catch_warnings(record=True) as caught:
        # Any other warning (e.g. no residual degrees of freedom left, or an
        # unconverged network) means the ranking cannot be trusted: it is
        # reported as the error, not printed above a table.
        warnings.simplefilter("always")
        if how == "leave-one-out":
            alpha = _leave_one_out_alpha(make_pipeline(*steps).fit_transform(X, y), y)
        elif how == "default":
            alpha = MLP_DEFAULT_ALPHA
        pipeline = make_pipeline(
            *steps, _regressor(model, alpha, {**NETWORK_DEFAULTS, **(network or {})})
        )
        pipeline.fit(X, (y - center) / scale)
        curiosity = influence_score(pipeline, X_pool)
    notes = []
    for warning in caught:
        if model == "mlp" and _is_damping_note(warning):
            notes.append(" ".join(str(warning.message).split()))
        else:
            raise warning.message
    # f = center + scale * f', so g and the noise sd scale by `scale` and the
    # curiosity sigma^2 g^2 by scale**4.
    prediction = center + scale * pipeline.predict(X_pool)
    curiosity = scale**4 * curiosity
    order = np.argsort(-curiosity, kind="stable")
    return pipeline, how, prediction, curiosity, order, scale, notes


def _format(value):
    return f"{value:.6g}"


def _table(header, rows):
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [header, *rows]
    return ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]


def run_suggest(
    labelled,
    candidates,
    target,
    *,
    n_show=5,
    alpha=None,
    model="linear",
    degree=1,
    network=None,
    out=None,
    force=False,
    file=None,
):
    """Rank the candidate rows by curiosity; print the top ones, optionally write all.

    Raises :class:`InputError` (one line of text) on bad input.
    """

    def say(line=""):
        print(line, file=file if file is not None else sys.stdout)

    if out is not None:
        if os.path.exists(out) and not force:
            raise InputError(f"{out} exists; pass --force to overwrite it.")
        directory = os.path.dirname(os.path.abspath(out))
        if not os.path.isdir(directory):
            raise InputError(f"Cannot write {out}: the folder {directory} does not exist.")

    features, X, y, X_pool, pool_rows = read_data(labelled, candidates, target)
    try:
        pipeline, how, prediction, curiosity, order, target_scale, notes = fit_and_rank(
            X, y, X_pool, alpha=alpha, model=model, degree=degree, network=network
        )
    except (ValueError, Warning) as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"Cannot fit the model on {len(y)} labelled rows: {message}") from None

    reg = pipeline[-1]
    how = {
        "leave-one-out": f"chosen by leave-one-out among {len(LOO_ALPHAS)} values "
        f"from {LOO_ALPHAS[0]:g} to {LOO_ALPHAS[-1]:g}",
        "given": "given",
        "default": "the MLP's default",
    }[how]
    terms = "" if degree == 1 else f" and their polynomial terms up to degree {degree}"
    if model == "mlp":
        settings = {**NETWORK_DEFAULTS, **(network or {})}
        layers = ",".join(str(width) for width in settings["hidden_layer_sizes"])
        what = (
            f"an MLP (hidden layers {layers}, {settings['activation']}, "
            f"seed {settings['random_state']})"
        )
        how += ", on the standardized target"
        if alpha is None:
            how += "; choose another with --alpha"
    else:
        what = "a linear"
    say(
        f"Fitted {what} CuriousRegressor on {len(y)} labelled rows "
        f"of {os.path.basename(labelled)} to predict {target!r} "
        f"from {len(features)} feature(s){terms}."
    )
    say(
        f"alpha = {reg.alpha:.4g} ({how}); "
        f"noise sd {target_scale * np.sqrt(reg.noise_variance_):.4g}, "
        f"effective dof {reg.effective_dof_:.3g}."
    )
    for note in notes:
        say(f"Note: {note}")
    say()
    shown = order[:n_show]
    say(
        f"The {len(shown)} of {len(order)} candidates the model is most curious about "
        f"(label these first); row = row in {os.path.basename(candidates)}, header = row 1:"
    )
    header = ["rank", "row", *features, f"predicted {target}", "curiosity"]
    body = [
        [
            str(rank),
            str(pool_rows[i]),
            *(_format(v) for v in X_pool[i]),
            _format(prediction[i]),
            _format(curiosity[i]),
        ]
        for rank, i in enumerate(shown, start=1)
    ]
    for line in _table(header, body):
        say(line)
    say("curiosity = expected squared influence of the row's label on the model's complexity.")

    if out is not None:
        try:
            with open(out, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["rank", "row", *features, f"predicted_{target}", "curiosity"])
                for rank, i in enumerate(order, start=1):
                    writer.writerow(
                        [rank, pool_rows[i], *X_pool[i].tolist(), prediction[i], curiosity[i]]
                    )
        except OSError as exc:
            raise InputError(f"Cannot write {out}: {exc.strerror or exc}.") from None
        say(f"Wrote all {len(order)} candidates, ranked, to {out}.")
    return [pool_rows[i] for i in order]
