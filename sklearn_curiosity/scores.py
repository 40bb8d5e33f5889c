"""Influence scores: how a point would change the model's complexity.

The formulas (METHOD.md sections 3 and 4), for squared error and a fitted
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
:class:`~sklearn.pipeline.Pipeline` ending in one; query strategies use them
so that Pipelines work everywhere.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from functools import partial

import numpy as np
from sklearn.pipeline import Pipeline

from ._dask import is_dask_array, map_row_blocks


def signed_influence(prediction, sensitivity, y):
    """Influence of labelled points on the complexity, ``(f - y) * g``.

    ``sensitivity`` of shape (n_samples, K) gives one column per regularity.
    """
    residual = prediction - y
    if np.ndim(sensitivity) == 2:
        residual = residual[:, np.newaxis]
    return residual * sensitivity


def total_over_regularities(scores, per_regularity=False):
    """Scores as one column per regularity, or their total (METHOD.md section 6).

    ``scores`` is (n_samples,) for one regularity or (n_samples, K) for
    several; the total sums the columns. With ``per_regularity`` the result
    is always (n_samples, K).
    """
    if per_regularity:
        return scores if scores.ndim == 2 else scores[:, np.newaxis]
    return scores.sum(axis=1) if scores.ndim == 2 else scores


def estimate_noise_variance(weighted_rss, weight_sum, dof, remedy="raise alpha"):
    """``sum_i w_i r_i^2 / (sum_i w_i - dof)``, or NaN with a warning.

    Sample weights count as repetitions. With no residual degrees of freedom
    left the variance cannot be estimated: NaN, which
    :func:`expected_squared_influence` then refuses with a clear error.
    """
    residual_dof = weight_sum - dof
    if residual_dof > 0:
        return weighted_rss / residual_dof
    warnings.warn(
        f"No residual degrees of freedom are left (effective dof {dof:.3g} "
        f"for a total sample weight of {weight_sum:.3g}): noise_variance_ is NaN "
        f"and unlabelled points cannot be scored. Fit on more samples or {remedy}.",
        UserWarning,
    )
    return np.nan


def expected_squared_influence(sensitivity, noise_variance, factor=None):
    """Expected squared influence of unlabelled points, ``sigma^2 * g^2 * factor``.

    ``factor`` (n_samples,) is that of :func:`uncertainty_factor`; ``None``
    is 1 (the noise alone). It multiplies every regularity's column.
    """
    if not np.isfinite(noise_variance):
        raise ValueError(
            "The noise variance could not be estimated at fit time (the model "
            "has as many effective degrees of freedom as samples), so unlabelled "
            "points cannot be scored. Fit on more samples or raise alpha."
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
    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X) if len(estimator) > 1 else X
        estimator = estimator[-1]
    if not hasattr(estimator, "influence_score"):
        raise TypeError(
            "Expected a CuriousRegressor or a Pipeline whose last step is one; "
            f"got {type(estimator).__name__}, which has no influence_score."
        )
    return estimator, X


def _n_regularities(estimator):
    """K, the number of tangent columns of a fitted estimator or Pipeline's last step."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    tangent = getattr(final, "tangent_", None)
    return np.shape(tangent)[1] if np.ndim(tangent) == 2 else 1


def influence_score(estimator, X, y=None, *, per_regularity=False, uncertainty="noise"):
    """Influence of each point of ``X`` on the complexity of a fitted model.

    Parameters
    ----------
    estimator : CuriousRegressor or Pipeline
        A fitted :class:`~sklearn_curiosity.CuriousRegressor`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one (the earlier
        steps transform ``X`` first).

    X : array-like of shape (n_samples, n_features)
        The points to score, as the estimator (or the pipeline) takes them. A
        dask array is scored block by block of rows (lazily, on the dask
        scheduler or cluster in use) and gives a dask array.

    y : array-like of shape (n_samples,), default=None
        Labels (a dask array with a dask ``X``). With labels, the signed influence ``(f(x) - y) g(x)`` of each
        labelled point; without, the expected squared influence
        ``sigma^2 g(x)^2`` of each unlabelled point (the curiosity).

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
    estimator : CuriousRegressor or Pipeline
        A fitted :class:`~sklearn_curiosity.CuriousRegressor`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one.

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
