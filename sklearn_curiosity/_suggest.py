"""``suggest``: which rows of a candidates CSV file to label next.

For people who keep their data in spreadsheets: the labelled rows train a
CuriousRegressor (after scaling, and polynomial terms if asked), and the
candidate rows are ranked by the model's curiosity, the expected squared
influence of their (unknown) labels on the model's complexity.

Every number printed or written is finite, or the command stops and names the
cell or the condition that prevents it; scores that carry no information (a
constant target, constant features, a model that interpolates its labels) are
said to, never shown as a ranking. The files are read and written by
:mod:`._spreadsheet`, and the library's messages put in the command line's
terms by :mod:`._cli_messages`; rows are numbered as a spreadsheet shows them
(the header is row 1).
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from ._cli_messages import in_cli_terms
from ._cv import CuriousRegressorCV
from ._regressor import CuriousRegressor
from ._spreadsheet import (
    InputError,
    check_target,
    names,
    numbers,
    read_table,
    write_table,
)
from .exceptions import CuriosityWarning
from .query._influence import STRATEGY_UNCERTAINTY
from .scores import influence_score

__all__ = ["InputError", "fit_and_rank", "read_data", "run_suggest"]

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
NETWORK_DEFAULTS = {
    "hidden_layer_sizes": (32,),
    "activation": "tanh",
    "random_state": 0,
    "max_iter": MLP_MAX_ITER,
}

# The intercept takes one row and the noise estimate at least one more; a
# third leaves leave-one-out something to choose alpha with.
MIN_LABELLED_ROWS = 3

# The noise variance is the residual sum of squares over n - dof. Below a
# thousandth of a row of residual freedom its value is set by rounding, not by
# the data; below one row it rests on less than one residual.
_UNDETERMINED_RESIDUAL_DOF = 1e-3
_THIN_RESIDUAL_DOF = 1.0


@dataclass
class Data:
    """The two files, read and checked.

    ``features`` are in the labelled file's order; ``X_pool`` has its columns
    in that order too. ``carried`` are the candidates' other columns (an ID,
    say), shown next to each candidate as they are.
    """

    labelled: object
    candidates: object
    target: str
    features: list
    X: np.ndarray
    y: np.ndarray
    X_pool: np.ndarray
    carried: list = field(default_factory=list)

    @property
    def pool_rows(self):
        return self.candidates.row_numbers


def _choose_features(labelled, candidates, target, features, ignore):
    """The feature columns, from --features, --ignore and the two headers."""
    header = labelled.header
    if target not in header:
        raise InputError(
            f"{labelled.name} has no column {target!r} for --target "
            f"(its columns: {names(header)})."
        )
    ignore = list(dict.fromkeys(ignore or ()))
    requested = list(dict.fromkeys(features)) if features else None
    if requested is not None:
        unknown = [column for column in requested if column not in header]
        if unknown:
            raise InputError(
                f"--features names {names(unknown)}, not a column of {labelled.name} "
                f"(its columns: {names(header)})."
            )
    unknown = [c for c in ignore if c not in header and c not in candidates.header]
    if unknown:
        raise InputError(
            f"--ignore names {names(unknown)}, a column of neither file "
            f"({labelled.name}'s columns: {names(header)}; "
            f"{candidates.name}'s columns: {names(candidates.header)})."
        )
    for option, given in [("--features", requested or []), ("--ignore", ignore)]:
        if target in given:
            raise InputError(f"{option} names the target {target!r}; leave it out.")
    both = [column for column in requested or [] if column in ignore]
    if both:
        raise InputError(f"--features and --ignore both name {names(both)}; choose one.")

    if requested is None:
        chosen = [column for column in header if column != target and column not in ignore]
    else:
        chosen = requested
    if not chosen:
        raise InputError(
            f"{labelled.name} has no feature columns besides the target {target!r}"
            f"{' and the --ignore columns' if ignore else ''}."
        )
    # The candidates may carry an (empty) target column: it is ignored.
    missing = [column for column in chosen if column not in candidates.header]
    extra = [
        column
        for column in candidates.header
        if column not in chosen and column != target and column not in ignore
    ]
    if missing or (extra and requested is None):
        parts = []
        if missing:
            parts.append(f"{candidates.name} lacks {names(missing)}")
        if extra and requested is None:
            parts.append(f"{candidates.name} has {names(extra)} that {labelled.name} lacks")
        advice = (
            "Give both files the same columns, or name the columns to use with "
            "--features COLUMN... or to leave out with --ignore COLUMN."
        )
        raise InputError(f"The two files' feature columns differ: {'; '.join(parts)}. {advice}")
    carried = [column for column in candidates.header if column not in chosen and column != target]
    return chosen, carried


def _check_magnitudes(table, columns, values):
    """Refuse columns whose spread overflows double precision, naming the cell.

    The scaler divides by the standard deviation; a value above about 1e154
    makes the sum of squares infinite, and the column would silently count
    as constant.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        centered = values - values.mean(axis=0)
        spread = np.sum(centered**2, axis=0)
    for j in np.flatnonzero(~np.isfinite(spread)):
        i = int(np.argmax(np.abs(values[:, j])))
        raise InputError(
            f"{table.name}, row {table.row_numbers[i]}, column {columns[j]!r}: "
            f"{values[i, j]:g} is too large to compute with (the squares of the column's "
            "values overflow); check the cell, or rescale the column (other units)."
        )


def read_data(labelled_path, candidates_path, target, *, features=None, ignore=(), decimal="."):
    """Read and check the two files; return a :class:`Data`.

    ``features`` (the columns to use) and ``ignore`` (columns to leave out)
    select the features; by default every column of the labelled file but
    the target is one. ``decimal`` is the files' decimal mark.
    """
    labelled = read_table(labelled_path)
    candidates = read_table(candidates_path)
    chosen, carried = _choose_features(labelled, candidates, target, features, ignore)
    if len(labelled.rows) < MIN_LABELLED_ROWS:
        raise InputError(
            f"{labelled.name} has {len(labelled.rows)} data row(s); the model needs at least "
            f"{MIN_LABELLED_ROWS} labelled rows."
        )
    y = numbers(labelled, [target], decimal)
    X = numbers(labelled, chosen, decimal)
    X_pool = numbers(candidates, chosen, decimal)
    _check_magnitudes(labelled, [target], y)
    _check_magnitudes(labelled, chosen, X)
    return Data(labelled, candidates, target, chosen, X, y[:, 0], X_pool, carried)


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
    return CuriousRegressor(model="mlp", alpha=alpha, **network)


def _is_damping_note(warning):
    # A network often stops where its Hessian is not positive definite; the
    # tangent then uses a documented damping, which is worth a note, not a
    # refusal (see CuriousRegressor, tangent_solver).
    return "damped Hessian" in str(warning.message)


@dataclass
class Ranking:
    """What :func:`fit_and_rank` found: the fitted pipeline, where alpha came
    from (``how``), each candidate's prediction and curiosity in the target's
    units, ``order`` from the most to the least curious (ties keep the file's
    order), the target's scale for the MLP (1 for the linear model),
    ``notes`` that do not invalidate the ranking and ``cautions`` that weaken
    it."""

    pipeline: object
    how: str
    prediction: np.ndarray
    curiosity: np.ndarray
    order: np.ndarray
    target_scale: float
    notes: list
    cautions: list


# The query strategies' default, chosen on the label-efficiency benchmark.
SUGGEST_UNCERTAINTY = STRATEGY_UNCERTAINTY

# What the printed curiosity is, for each --uncertainty.
_CURIOSITY_MEANING = {
    "noise": "expected squared influence of the row's label on the model's complexity, "
    "over the label noise",
    "epistemic": "expected squared influence of the row's label on the model's complexity, "
    "the part that comes from what the model does not know yet",
    "total": "expected squared influence of the row's label on the model's complexity, "
    "over the label noise and what the model does not know",
}


def _uninformative_data(data):
    """Why the labelled rows cannot rank anything, or None."""
    if np.ptp(data.y) == 0:
        return (
            f"the target {data.target!r} is {data.y[0]:g} in every labelled row of "
            f"{data.labelled.name}, so the model has nothing to learn and every curiosity "
            "is 0: no candidate is more worth labelling than another. Label a few "
            "candidates of your choice first"
        )
    if np.all(np.ptp(data.X, axis=0) == 0):
        return (
            f"every feature ({names(data.features)}) has one value in all labelled rows "
            f"of {data.labelled.name}, so the model cannot tell rows apart and every "
            "curiosity is 0. Label candidates that differ in their features first, or "
            "choose other columns (--features, --ignore)"
        )
    return None


def _blame_candidates(data, pipeline, bad, what):
    """An InputError naming the first bad candidate row and its most extreme cell."""
    scaler = pipeline[0]
    with np.errstate(all="ignore"):
        z = np.abs((data.X_pool - scaler.mean_) / scaler.scale_)
    z = np.where(np.isnan(z), np.inf, z)
    rows = np.flatnonzero(bad)
    i = rows[0]
    j = int(np.argmax(z[i]))
    others = ""
    if len(rows) > 1:
        listed = ", ".join(str(data.pool_rows[k]) for k in rows[1:4])
        more = ", ..." if len(rows) > 4 else ""
        others = f" (and row{'s' if len(rows) > 2 else ''} {listed}{more})"
    distance = (
        f", {z[i, j]:.3g} standard deviations from the labelled rows' mean"
        if np.isfinite(z[i, j])
        else ""
    )
    return InputError(
        f"{data.candidates.name}, row {data.pool_rows[i]}{others}: {what}: its column "
        f"{data.features[j]!r} is {data.X_pool[i, j]:g}{distance}. Check the cell, or "
        "leave the row out."
    )


def _fit(data, alpha, model, degree, network):
    """The fitted pipeline, where alpha came from, the target's center and scale,
    and the warnings of the fit. ValueErrors are the labelled file's."""
    steps = _preprocessing(degree)
    how = "given" if alpha is not None else "leave-one-out" if model == "linear" else "default"
    center, scale = 0.0, 1.0
    if model == "mlp":
        center, scale = float(np.mean(data.y)), float(np.std(data.y))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if how == "leave-one-out":
                alpha = _leave_one_out_alpha(make_pipeline(*steps).fit_transform(data.X), data.y)
            elif how == "default":
                alpha = MLP_DEFAULT_ALPHA
            pipeline = make_pipeline(
                *steps, _regressor(model, alpha, {**NETWORK_DEFAULTS, **(network or {})})
            )
            pipeline.fit(data.X, (data.y - center) / scale)
        except ValueError as exc:
            raise InputError(
                f"Cannot fit the model on the {len(data.y)} labelled rows of "
                f"{data.labelled.name}: {in_cli_terms(exc)}"
            ) from None
    return pipeline, how, center, scale, list(caught)


def _residual_freedom(data, reg):
    """The fit's cautions, or an InputError when the noise level is undetermined."""
    n = len(data.y)
    residual = n - reg.effective_dof_
    if reg.noise_variance_ == 0:
        raise InputError(
            f"No ranking: the model fits every labelled row of {data.labelled.name} "
            "exactly (noise sd 0), so every curiosity is 0 and no candidate is more "
            "worth labelling than another."
        )
    if not residual > _UNDETERMINED_RESIDUAL_DOF or not np.isfinite(reg.noise_variance_):
        raise InputError(
            f"No ranking: the model has as many effective degrees of freedom "
            f"({reg.effective_dof_:.4g}) as labelled rows ({n}): it fits every label "
            "exactly, so the noise level, and with it every curiosity, is undetermined. "
            "Give a larger --alpha, fewer features (--features, --ignore) or a lower "
            "--degree, or label more rows."
        )
    if residual < _THIN_RESIDUAL_DOF:
        return [
            f"the model uses {reg.effective_dof_:.4g} effective degrees of freedom on "
            f"{n} labelled rows, so the noise level rests on less than one residual; "
            "the scores are rough. A larger --alpha or more labelled rows firm them up."
        ]
    return []


def _alpha_at_edge(how, alpha):
    if how != "leave-one-out" or LOO_ALPHAS[0] < alpha < LOO_ALPHAS[-1]:
        return []
    end = "smallest" if alpha <= LOO_ALPHAS[0] else "largest"
    return [
        f"leave-one-out chose alpha = {alpha:g}, the {end} value of its grid: the best "
        "alpha may lie beyond it, and the ranking depends on alpha. Set it with --alpha."
    ]


def _score_rows(reg, transformed, uncertainty):
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        curiosity = influence_score(reg, transformed, uncertainty=uncertainty)
        prediction = reg.predict(transformed)
    return prediction, curiosity, caught


def _score(data, reg, transformed, uncertainty):
    """Each candidate's prediction and curiosity, and which rows overflow."""
    try:
        prediction, curiosity, caught = _score_rows(reg, transformed, uncertainty)
    except ValueError as exc:
        # The library refuses non-finite scores; find the rows, to name them.
        bad = np.zeros(len(transformed), dtype=bool)
        for i in range(len(transformed)):
            try:
                _, row_curiosity, _ = _score_rows(reg, transformed[i : i + 1], uncertainty)
                bad[i] = not np.isfinite(row_curiosity).all()
            except ValueError:
                bad[i] = True
        if bad.any():
            return None, None, bad
        raise InputError(
            f"Cannot score the candidates of {data.candidates.name}: {in_cli_terms(exc)}"
        ) from None
    for warning in caught:
        if not _is_damping_note(warning):
            raise InputError(
                f"Cannot score the candidates of {data.candidates.name}: "
                f"{in_cli_terms(warning.message)}"
            )
    return prediction, curiosity, ~(np.isfinite(prediction) & np.isfinite(curiosity))


def _transform_pool(pipeline, X_pool):
    """The candidates through the preprocessing, and which rows overflow in it."""
    preprocessing = pipeline[:-1]
    with np.errstate(all="ignore"):
        try:
            transformed = preprocessing.transform(X_pool)
            return transformed, ~np.isfinite(transformed).all(axis=1)
        except ValueError:
            # A scaler refuses the infinite polynomial terms of some row:
            # find which, one row at a time.
            bad = np.zeros(len(X_pool), dtype=bool)
            for i in range(len(X_pool)):
                try:
                    bad[i] = not np.isfinite(preprocessing.transform(X_pool[i : i + 1])).all()
                except ValueError:
                    bad[i] = True
            if not bad.any():
                raise
            return None, bad


def fit_and_rank(
    data, *, alpha=None, model="linear", degree=1, network=None,
    uncertainty=SUGGEST_UNCERTAINTY,
):
    """Fit the pipeline on the labelled rows and score the candidates.

    ``uncertainty`` is that of :func:`~sklearn_curiosity.influence_score`:
    what the curiosity averages over (the query strategies' default,
    "epistemic", unless given).

    The linear model's alpha, when not given, is chosen by leave-one-out; the
    MLP's is :data:`MLP_DEFAULT_ALPHA`, and the MLP learns the standardized
    target (predictions and scores are given back in the target's units).
    ``network`` overrides some of :data:`NETWORK_DEFAULTS` for the MLP.

    Returns a :class:`Ranking`; raises :class:`InputError` naming the file and
    row or the condition when no meaningful ranking exists.
    """
    reason = _uninformative_data(data)
    if reason is not None:
        raise InputError(f"No ranking: {reason}.")
    pipeline, how, center, scale, caught = _fit(data, alpha, model, degree, network)
    reg = pipeline[-1]
    cautions = _residual_freedom(data, reg) + _alpha_at_edge(how, reg.alpha)
    notes = []
    for warning in caught:
        if model == "mlp" and _is_damping_note(warning):
            notes.append(in_cli_terms(warning.message))
        elif issubclass(warning.category, CuriosityWarning):
            # The library says the scores carry little information. The
            # conditions that void them were refused above; the ones that
            # weaken them are cautions, said in the command line's terms.
            if not cautions:
                cautions.append(in_cli_terms(warning.message))
        else:
            # Any other warning (an unconverged network, collinear features)
            # means the ranking cannot be trusted: it is the error, not a
            # line above a table.
            raise InputError(
                f"Cannot fit the model on the {len(data.y)} labelled rows of "
                f"{data.labelled.name}: {in_cli_terms(warning.message)}"
            )

    transformed, bad = _transform_pool(pipeline, data.X_pool)
    if bad.any():
        raise _blame_candidates(data, pipeline, bad, "its features overflow once scaled")
    prediction, curiosity, bad = _score(data, reg, transformed, uncertainty)
    if bad.any():
        raise _blame_candidates(data, pipeline, bad, "its scores overflow")
    # f = center + scale * f', so g and the noise sd scale by `scale` and the
    # curiosity sigma^2 g^2 by scale**4.
    with np.errstate(all="ignore"):
        prediction = center + scale * prediction
        curiosity = scale**4 * curiosity
    bad = ~(np.isfinite(prediction) & np.isfinite(curiosity))
    if bad.any():
        raise _blame_candidates(data, pipeline, bad, "its scores overflow")
    if not np.any(curiosity > 0):
        raise InputError(
            "No ranking: every candidate's curiosity is 0 (noise sd "
            f"{scale * np.sqrt(reg.noise_variance_):.3g}), so the scores carry no "
            "information and no candidate is more worth labelling than another."
        )
    order = np.argsort(-curiosity, kind="stable")
    return Ranking(pipeline, how, prediction, curiosity, order, scale, notes, cautions)


def _format(value):
    return f"{value:.6g}"


def _table(header, rows):
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    lines = [header, *rows]
    return ["  ".join(cell.rjust(width) for cell, width in zip(line, widths)) for line in lines]


def _report(data, ranking, *, model, degree, network, alpha, n_show, out, uncertainty):
    """The lines ``suggest`` prints."""
    reg = ranking.pipeline[-1]
    how = {
        "leave-one-out": f"chosen by leave-one-out among {len(LOO_ALPHAS)} values "
        f"from {LOO_ALPHAS[0]:g} to {LOO_ALPHAS[-1]:g}",
        "given": "given",
        "default": "the MLP's default",
    }[ranking.how]
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
    lines = []
    for table in (data.labelled, data.candidates):
        if table.delimiter != ",":
            lines.append(f"Read {table.name}: cells separated by {table.delimiter_name}.")
    lines.append(
        f"Fitted {what} CuriousRegressor on {len(data.y)} labelled rows "
        f"of {data.labelled.name} to predict {data.target!r} "
        f"from {len(data.features)} feature(s){terms}."
    )
    lines.append(
        f"alpha = {reg.alpha:.4g} ({how}); "
        f"noise sd {ranking.target_scale * np.sqrt(reg.noise_variance_):.4g}, "
        f"effective dof {reg.effective_dof_:.3g}."
    )
    lines += [f"Note: {note}" for note in ranking.notes]
    lines += [f"Caution: {caution}" for caution in ranking.cautions]
    lines.append("")
    shown = ranking.order[:n_show]
    advice = "see the caution above before labelling by it" if ranking.cautions else (
        "label these first"
    )
    lines.append(
        f"The {len(shown)} of {len(ranking.order)} candidates the model is most curious about "
        f"({advice}); row = row in {data.candidates.name}, header = row 1:"
    )
    header = ["rank", "row", *data.carried, *data.features, f"predicted {data.target}",
              "curiosity"]
    carried = [data.candidates.column(column) for column in data.carried]
    body = [
        [
            str(rank),
            str(data.pool_rows[i]),
            *(column[i] for column in carried),
            *(_format(v) for v in data.X_pool[i]),
            _format(ranking.prediction[i]),
            _format(ranking.curiosity[i]),
        ]
        for rank, i in enumerate(shown, start=1)
    ]
    lines += _table(header, body)
    lines.append(f"curiosity = {_CURIOSITY_MEANING[uncertainty]}.")
    if out is not None:
        lines.append(f"Wrote all {len(ranking.order)} candidates, ranked, to {out}.")
    return lines


def _ranked_rows(data, ranking):
    """The --out file's header and rows: every candidate, most curious first."""
    header = ["rank", "row", *data.carried, *data.features, f"predicted_{data.target}",
              "curiosity"]
    carried = [data.candidates.column(column) for column in data.carried]
    rows = [
        [
            rank,
            data.pool_rows[i],
            *(column[i] for column in carried),
            *data.X_pool[i].tolist(),
            ranking.prediction[i],
            ranking.curiosity[i],
        ]
        for rank, i in enumerate(ranking.order, start=1)
    ]
    return header, rows


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
    uncertainty=SUGGEST_UNCERTAINTY,
    features=None,
    ignore=(),
    decimal=".",
    out=None,
    force=False,
    file=None,
):
    """Rank the candidate rows by curiosity; print the top ones, optionally write all.

    The ``--out`` file is written first, in one step (all of it or nothing),
    and then the report is printed. Raises :class:`InputError` (one line of
    text) on bad input.
    """
    inputs = [labelled, candidates]
    if out is not None:
        # Fail before a long fit; write_table checks again at the moment of writing.
        check_target(out, inputs, force)
    data = read_data(labelled, candidates, target, features=features, ignore=ignore,
                     decimal=decimal)
    ranking = fit_and_rank(
        data, alpha=alpha, model=model, degree=degree, network=network, uncertainty=uncertainty
    )
    if out is not None:
        write_table(out, *_ranked_rows(data, ranking), inputs=inputs, force=force)
    stream = file if file is not None else sys.stdout
    for line in _report(data, ranking, model=model, degree=degree, network=network,
                        alpha=alpha, n_show=n_show, out=out, uncertainty=uncertainty):
        print(line, file=stream)
    return [data.pool_rows[i] for i in ranking.order]
