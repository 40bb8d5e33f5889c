"""Influence scores: how a point would change the model's complexity.

The formulas (:ref:`theory-influence`, :ref:`theory-curiosity`), for squared error and a fitted
model with prediction ``f``, regularity sensitivity ``g = df/dalpha`` and noise
variance ``sigma^2``:

- labelled point: ``I(x, y) = (f(x) - y) * g(x)``;
- unlabelled point: ``E[I(x, y)^2] = sigma^2 * g(x)^2`` for ``y ~ N(f(x), sigma^2)``
  (``uncertainty="noise"``, the paper's curiosity). Writing the unknown label
  as ``y = f*(x) + eps``, the model's own error ``f(x) - f*(x)`` has Laplace
  posterior variance ``sigma^2 v(x)`` with ``v(x) = grad f(x)^T H^-1 grad f(x)``
  (what ``predict(return_std=True)`` adds to the noise), so over the noise and
  the posterior together ``E[I^2] = sigma^2 g(x)^2 (1 + v(x))``
  (``uncertainty="total"``), of which ``sigma^2 g(x)^2 v(x)`` is the part a
  label can remove (``uncertainty="epistemic"``).

The functions :func:`influence_score` and :func:`regularity_sensitivity`
accept a fitted :class:`~sklearn_curiosity.CuriousRegressor` or a
:class:`~sklearn.pipeline.Pipeline` ending in one, or a fitted search object
(:class:`~sklearn.model_selection.GridSearchCV`, ...) through its
``best_estimator_``; query strategies use them so that these work everywhere.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from functools import partial

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.pipeline import Pipeline

from ._dask import is_dask_array, map_row_blocks
from ._from_estimator import best_estimator
from .exceptions import CuriosityWarning


def signed_influence(prediction, sensitivity, y):
    """Influence of labelled points on the complexity, ``(f - y) * g``.

    ``sensitivity`` of shape (n_samples, K) gives one column per regularity.
    """
    residual = prediction - y
    if np.ndim(sensitivity) == 2:
        residual = residual[:, np.newaxis]
    return residual * sensitivity


def total_over_regularities(scores, per_regularity=False):
    """Scores as one column per regularity, or their total (:ref:`theory-several`).

    ``scores`` is (n_samples,) for one regularity or (n_samples, K) for
    several; the total sums the columns. With ``per_regularity`` the result
    is always (n_samples, K).
    """
    if per_regularity:
        return scores if scores.ndim == 2 else scores[:, np.newaxis]
    return scores.sum(axis=1) if scores.ndim == 2 else scores


# Residual degrees of freedom below this fraction of the total weight are
# rounding error (the dof is a trace computed to about 1e-12 relative).
_RESIDUAL_DOF_RTOL = 1e-8


def estimate_noise_variance(weighted_rss, weight_sum, dof, remedy="raise alpha"):
    """``sum_i w_i r_i^2 / (sum_i w_i - dof)``, or NaN with a warning.

    Sample weights count as repetitions. With no residual degrees of freedom
    left the variance cannot be estimated: NaN, which
    :func:`expected_squared_influence` then refuses with a clear error. A
    residual that is a rounding error of the total weight counts as none: the
    ratio would be a quotient of rounding errors.
    """
    residual_dof = weight_sum - dof
    if residual_dof > _RESIDUAL_DOF_RTOL * weight_sum:
        return weighted_rss / residual_dof
    warnings.warn(
        f"No residual degrees of freedom are left (effective dof {dof:.6g} "
        f"for a total sample weight of {weight_sum:.6g}): the model can fit every "
        f"label exactly, so noise_variance_ is NaN and unlabelled points cannot be "
        f"scored. Fit on more samples or {remedy}.",
        CuriosityWarning,
    )
    return np.nan


class NonFiniteRowsError(ValueError):
    """The results of some rows are not finite (an overflow); ``rows`` holds their indices."""

    def __init__(self, rows, first_row=0, counted_from=""):
        self.rows = rows
        shown = ", ".join(str(row + first_row) for row in rows[:10])
        super().__init__(
            f"The results for {len(rows)} row(s) are not finite (overflow), at row index "
            f"{shown}{', ...' if len(rows) > 10 else ''}{counted_from}: their values are "
            "too large for float64 arithmetic with this model. Rescale X the way the "
            "training data were (e.g. StandardScaler in a Pipeline), or drop those rows."
        )


def check_finite_scores(values):
    """``values`` (a row per sample), or a :class:`NonFiniteRowsError` naming its non-finite rows.

    A non-finite score is an overflow: a row whose values are so large that
    the model's products leave float64. Checking the whole result costs one
    comparison per value, nothing next to computing it.
    """
    finite = np.isfinite(values)
    if finite.all():
        return values
    finite_rows = finite.reshape(len(values), -1).all(axis=1)
    raise NonFiniteRowsError(np.flatnonzero(~finite_rows))


def expected_squared_influence(sensitivity, noise_variance, factor=None):
    """Expected squared influence of unlabelled points, ``sigma^2 * g^2 * factor``.

    ``factor`` (n_samples,) is that of :func:`uncertainty_factor`; ``None``
    is 1 (the noise alone). It multiplies every regularity's column.
    """
    if np.isnan(noise_variance):
        raise ValueError(
            "The noise variance could not be estimated at fit time (the model's "
            "effective degrees of freedom, effective_dof_, use up the total sample "
            "weight: it can fit every label exactly), so unlabelled points cannot "
            "be scored. Fit on more samples or raise alpha."
        )
    if not np.isfinite(noise_variance):
        raise ValueError(
            "The noise variance is infinite (an overflow at fit time), so unlabelled "
            "points cannot be scored. Rescale y (e.g. with "
            "TransformedTargetRegressor(transformer=StandardScaler())) and refit."
        )
    scores = noise_variance * sensitivity**2
    if factor is None:
        return scores
    if scores.ndim == 2:
        factor = factor[:, np.newaxis]
    return scores * factor


# What the expected squared influence of an unlabelled point averages over.
UNCERTAINTIES = ("noise", "epistemic", "total")


def check_uncertainty(uncertainty, y=None):
    """Raise ValueError unless ``uncertainty`` is one of :data:`UNCERTAINTIES`.

    With labels ``y`` there is no expectation to take: only the default
    "noise" is accepted.
    """
    if not isinstance(uncertainty, str) or uncertainty not in UNCERTAINTIES:
        raise ValueError(
            'uncertainty must be one of "noise", "epistemic" or "total"; '
            f"got {uncertainty!r}."
        )
    if y is not None and uncertainty != "noise":
        raise ValueError(
            f"uncertainty={uncertainty!r} takes the expectation over an unknown "
            "label, so it applies to unlabelled points only: call influence_score "
            "without y, or with the default uncertainty='noise' for the signed "
            "influence of labelled points."
        )
    return uncertainty


def uncertainty_factor(uncertainty, quadratic_form):
    """The factor of ``sigma^2 g^2`` for an uncertainty: ``v``, ``1 + v``, or None (1).

    ``quadratic_form`` is ``v(x) = grad f(x)^T H^-1 grad f(x)`` (called with
    the points' ``v`` only for "epistemic" and "total"; "noise" needs none).
    """
    if uncertainty == "noise":
        return None
    if uncertainty == "epistemic":
        return quadratic_form
    return 1.0 + quadratic_form


def _final_step(estimator, X):
    """Return the estimator that scores, and ``X`` transformed for it."""
    if isinstance(estimator, BaseSearchCV):
        estimator = best_estimator(estimator)
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X) if len(estimator) > 1 else X
        estimator = estimator[-1]
    if not hasattr(estimator, "influence_score"):
        raise TypeError(
            "Expected a CuriousRegressor, a Pipeline whose last step is one, or a "
            "fitted search (GridSearchCV, ...) whose best estimator is one of these; "
            f"got {type(estimator).__name__}, which has no influence_score. A fitted "
            "Ridge, RidgeCV, LinearRegression, BayesianRidge or MLPRegressor (or a "
            "Pipeline ending in one) becomes one with CuriousRegressor.from_estimator."
        )
    return estimator, X


def _n_regularities(estimator):
    """K, the number of tangent columns of a fitted estimator or Pipeline's last step."""
    if isinstance(estimator, BaseSearchCV):
        estimator = best_estimator(estimator)
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    tangent = getattr(final, "tangent_", None)
    return np.shape(tangent)[1] if np.ndim(tangent) == 2 else 1


def influence_score(estimator, X, y=None, *, per_regularity=False, uncertainty="noise"):
    """Influence of each point of ``X`` on the complexity of a fitted model.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or search object
        A fitted :class:`~sklearn_curiosity.CuriousRegressor`, a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one (the earlier
        steps transform ``X`` first), or a fitted
        :class:`~sklearn.model_selection.GridSearchCV` or
        :class:`~sklearn.model_selection.RandomizedSearchCV` whose
        ``best_estimator_`` is one of these. Another scikit-learn regressor
        becomes one with :meth:`CuriousRegressor.from_estimator`.

    X : array-like of shape (n_samples, n_features)
        The points to score, as the estimator (or the pipeline) takes them. A
        dask array is scored block by block of rows (lazily, on the dask
        scheduler or cluster in use) and gives a dask array.

    y : array-like of shape (n_samples,), default=None
        Labels (a dask array with a dask ``X``). With labels, the signed
        influence ``(f(x) - y) g(x)`` of each labelled point; without, the
        expected squared influence ``sigma^2 g(x)^2`` of each unlabelled
        point (the curiosity).

    per_regularity : bool, default=False
        One column per regularity instead of their total (see
        :meth:`CuriousRegressor.influence_score`).

    uncertainty : {"noise", "epistemic", "total"}, default="noise"
        Unlabelled points only: what the expected squared influence averages
        over (see :meth:`CuriousRegressor.influence_score` and
        :ref:`theory-epistemic`). "noise": the label noise,
        ``sigma^2 g(x)^2`` (the paper's curiosity). "epistemic":
        ``sigma^2 g(x)^2 v(x)``, the part that comes from what the model does
        not know yet. "total": ``sigma^2 g(x)^2 (1 + v(x))``, both.

    Returns
    -------
    scores : ndarray or dask array of shape (n_samples,) or (n_samples, n_regularities)
        See :meth:`CuriousRegressor.influence_score`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_curiosity import CuriousRegressor, influence_score
    >>> X = [[0.0], [1.0], [2.0], [3.0]]
    >>> y = [0.1, 0.9, 2.2, 2.8]
    >>> pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)).fit(X, y)
    >>> influence_score(pipe, [[1.5], [10.0]]).round(4)
    array([0.    , 0.1922])
    """
    check_uncertainty(uncertainty, y)
    if is_dask_array(X):
        if per_regularity:
            return map_row_blocks(
                partial(influence_score, per_regularity=True, uncertainty=uncertainty),
                estimator,
                X,
                y,
                n_columns=_n_regularities(estimator),
            )
        return map_row_blocks(partial(influence_score, uncertainty=uncertainty), estimator, X, y)
    estimator, X = _final_step(estimator, X)
    return estimator.influence_score(
        X, y, per_regularity=per_regularity, uncertainty=uncertainty
    )


def regularity_sensitivity(estimator, X):
    """Sensitivity ``g(x) = d f(x) / d alpha`` of a fitted model's predictions.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or search object
        A fitted :class:`~sklearn_curiosity.CuriousRegressor`, a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one, or a fitted
        search object whose ``best_estimator_`` is one of these (see
        :func:`influence_score`).

    X : array-like of shape (n_samples, n_features)
        The points, as the estimator (or the pipeline) takes them; a dask
        array gives a dask array (see :func:`influence_score`).

    Returns
    -------
    sensitivity : ndarray or dask array of shape (n_samples,) or (n_samples, n_regularities)
        See :meth:`CuriousRegressor.regularity_sensitivity`.
    """
    if is_dask_array(X):
        n_regularities = _n_regularities(estimator)
        return map_row_blocks(
            regularity_sensitivity,
            estimator,
            X,
            n_columns=n_regularities if n_regularities > 1 else None,
        )
    estimator, X = _final_step(estimator, X)
    return estimator.regularity_sensitivity(X)
