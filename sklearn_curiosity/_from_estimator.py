"""Curiosity for regressors fitted elsewhere, without retraining.

scikit-learn's :class:`~sklearn.linear_model.Ridge` minimises twice our
objective, and :class:`~sklearn.neural_network.MLPRegressor` minimises it
divided by the sum of the sample weights, with the same ``alpha``: their fitted
parameters are a :class:`CuriousRegressor`'s ``theta*``. So a fitted one needs
only the curvature at its own parameters (the tangent, the effective dof, the
noise variance and the Laplace factor), which
:meth:`CuriousRegressor.from_estimator` computes on the training data (see
:ref:`theory-from-estimator`).
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy

import numpy as np
from sklearn.linear_model import BayesianRidge, LinearRegression, Ridge, RidgeCV
from sklearn.model_selection._search import BaseSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import _num_features, check_is_fitted

_SUPPORTED = (
    "Ridge, RidgeCV, LinearRegression, BayesianRidge, MLPRegressor, a CuriousRegressor, "
    "a Pipeline ending in one of these, or a fitted GridSearchCV/RandomizedSearchCV "
    "(with refit=True) whose best estimator is one of these"
)


def best_estimator(search):
    """The refitted best estimator of a fitted search object (``refit=True``)."""
    check_is_fitted(search)
    if not hasattr(search, "best_estimator_"):
        raise ValueError(
            f"This {type(search).__name__} was fitted with refit=False, so it has no "
            "best_estimator_ to score with: fit it with refit=True, or pass the "
            "estimator you refitted yourself."
        )
    return search.best_estimator_


def _single_target(estimator, coef):
    if np.ndim(coef) != 1:
        raise ValueError(
            f"This {type(estimator).__name__} was fitted on several targets "
            f"(coef_ of shape {np.shape(coef)}); CuriousRegressor models one target: "
            "fit one estimator per target."
        )


def _linear(estimator, alpha):
    """Settings and ``theta`` of a fitted linear estimator with penalty ``alpha``."""
    if getattr(estimator, "positive", False):
        raise ValueError(
            f"This {type(estimator).__name__} was fitted with positive=True: a "
            "constrained fit is not the minimum of CuriousRegressor's objective, so "
            "its tangent would be wrong. Refit it with positive=False."
        )
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    _single_target(estimator, coef)
    if np.ndim(alpha) != 0:
        raise ValueError(
            f"This {type(estimator).__name__} has one alpha per target "
            f"({np.shape(alpha)}); CuriousRegressor takes one alpha for one target."
        )
    settings = {"model": "linear", "alpha": float(alpha), "fit_intercept": estimator.fit_intercept}
    intercept = [float(np.reshape(estimator.intercept_, -1)[0])] if estimator.fit_intercept else []
    return settings, np.concatenate([coef, intercept])


def _mlp(estimator):
    """Settings and ``theta`` of a fitted MLPRegressor (same layout as ours)."""
    if estimator.n_outputs_ != 1:
        raise ValueError(
            f"This MLPRegressor was fitted on {estimator.n_outputs_} targets; "
            "CuriousRegressor models one target: fit one network per target."
        )
    if getattr(estimator, "loss", "squared_error") != "squared_error":
        raise ValueError(
            f"This MLPRegressor minimises loss={estimator.loss!r}; CuriousRegressor's "
            "objective is the squared error: refit it with loss='squared_error'."
        )
    hidden = estimator.hidden_layer_sizes
    hidden = (hidden,) if np.ndim(hidden) == 0 else tuple(int(h) for h in hidden)
    solver = estimator.solver if estimator.solver in ("lbfgs", "adam", "sgd") else "lbfgs"
    settings = {
        "model": "mlp",
        "alpha": float(estimator.alpha),
        "hidden_layer_sizes": hidden,
        "activation": estimator.activation,
        "solver": solver,
        "batch_size": estimator.batch_size,
        "learning_rate_init": estimator.learning_rate_init,
        "max_iter": estimator.max_iter,
        "tol": estimator.tol,
        "random_state": copy.deepcopy(estimator.random_state),
    }
    # Row-major weight matrix (fan_in, fan_out) then bias, layer by layer: the
    # layout of sklearn_curiosity.models.MLP.
    params = np.concatenate(
        [
            part
            for W, b in zip(estimator.coefs_, estimator.intercepts_)
            for part in (np.ravel(W), np.ravel(b))
        ]
    ).astype(np.float64)
    return settings, params


# What each supported estimator's fitted parameters mean in our objective. RidgeCV
# comes before Ridge only for readability: neither subclasses the other.
_CONVERTERS = (
    (RidgeCV, lambda est: _linear(est, est.alpha_)),
    (Ridge, lambda est: _linear(est, est.alpha)),
    (LinearRegression, lambda est: _linear(est, 0.0)),
    # The posterior mean is the ridge solution with alpha = lambda_ / alpha_
    # (prior precision over noise precision), intercept unpenalized.
    (BayesianRidge, lambda est: _linear(est, est.lambda_ / est.alpha_)),
    (MLPRegressor, _mlp),
)


def curious_settings(estimator):
    """``(settings, theta)``: CuriousRegressor's parameters and the fitted ``theta``.

    Raises a TypeError for an estimator whose fitted parameters are not those
    of a CuriousRegressor, and NotFittedError for an unfitted one.
    """
    for estimator_type, settings_of in _CONVERTERS:
        if isinstance(estimator, estimator_type):
            check_is_fitted(estimator)
            return settings_of(estimator)
    raise TypeError(
        f"CuriousRegressor.from_estimator takes {_SUPPORTED}; got "
        f"{type(estimator).__name__}, whose fitted parameters are not the minimum of "
        "CuriousRegressor's objective. Fit a CuriousRegressor instead."
    )


def convert(cls, estimator, X, y, sample_weight):
    """The body of :meth:`CuriousRegressor.from_estimator`."""
    if isinstance(estimator, BaseSearchCV):
        estimator = best_estimator(estimator)
    if isinstance(estimator, Pipeline):
        check_is_fitted(estimator)
        steps = copy.deepcopy(estimator.steps[:-1])
        X_last = Pipeline(steps).transform(X) if steps else X
        name, last = estimator.steps[-1]
        return Pipeline(steps + [(name, convert(cls, last, X_last, y, sample_weight))])
    if isinstance(estimator, cls):
        check_is_fitted(estimator)
        return copy.deepcopy(estimator)
    settings, params = curious_settings(estimator)
    n_features = _num_features(X)
    if n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but this {type(estimator).__name__} was "
            f"fitted on {estimator.n_features_in_}: pass the data it was fitted on."
        )
    converted = cls(**settings)
    converted._fit_at(X, y, sample_weight, params, n_iter=getattr(estimator, "n_iter_", None))
    return converted
