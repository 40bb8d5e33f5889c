"""CuriousRegressor: a scikit-learn regressor that knows its regularity tangent."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._quadratic import fit_quadratic
from ._ridge import fit_ridge
from ._utils import fitted_state_restored_on_failure
from .models import LinearModel
from .regularizers import L2Regularizer, QuadraticPenalties
from .scores import expected_squared_influence, signed_influence
from .tangent import exact_tangent


class CuriousRegressor(RegressorMixin, BaseEstimator):
    """Regularized regressor with its regularity tangent and influence scores.

    The model minimizes ``sum_i w_i / 2 (y_i - f(x_i; theta))^2 + alpha/2
    ||theta_pen||^2`` (the intercept is not penalized). Alongside the fit it
    computes the regularity tangent ``tangent_ = d theta* / d alpha``: how the
    fitted parameters move as the regularization tightens. The tangent turns
    into influence scores at the cost of one product per point: the
    influence of a labelled point on the model's complexity, and the expected
    squared influence (the model's curiosity) of an unlabelled one.

    With ``model="linear"`` the coefficients equal those of
    :class:`sklearn.linear_model.Ridge` with the same ``alpha``, and the
    tangent costs one extra solve with the fit's Cholesky factor.

    Parameters
    ----------
    model : {"linear"}, default="linear"
        What ``f(x; theta)`` is. ``"linear"``: ``f(x) = x . coef + intercept``.

    alpha : float or array-like of shape (n_penalties,), default=1.0
        Regularity: the strength of the L2 penalty, in ``[0, inf)``. With
        ``alpha=0`` the features must not be collinear. With a
        ``regularizer``, one strength per penalty (a float: the same for all).

    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept.

    regularizer : QuadraticPenalties, default=None
        Several quadratic penalties ``sum_k alpha[k] Omega_k(coef)`` instead of
        the single L2 penalty (see
        :class:`~sklearn_curiosity.regularizers.QuadraticPenalties`). Then
        ``tangent_`` has one column per penalty, ``complexity_`` one entry,
        ``regularity_sensitivity`` one column, and ``influence_score`` their
        total (or one column each with ``per_regularity=True``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Fitted coefficients.

    intercept_ : float
        Fitted intercept (0.0 when ``fit_intercept=False``).

    params_ : ndarray of shape (n_params,)
        The flat parameter vector ``theta* = [coef_, intercept_]`` (just
        ``coef_`` without an intercept).

    tangent_ : ndarray of shape (n_params,) or (n_params, n_penalties)
        The regularity tangent ``d theta* / d alpha``, in the layout of
        ``params_``; with a ``regularizer``, one column ``d theta*/d alpha[k]``
        per penalty.

    complexity_ : float or ndarray of shape (n_penalties,)
        The model complexity ``c(theta*) = 1/2 ||coef_||^2``, the derivative of
        the training objective in ``alpha`` (with a ``regularizer``,
        ``Omega_k(coef_)`` for each penalty).

    effective_dof_ : float
        Effective degrees of freedom, the trace of the hat matrix (the
        intercept counts one).

    noise_variance_ : float
        Noise variance estimated from the training residuals,
        ``sum_i w_i r_i^2 / (sum_i w_i - effective_dof_)`` (sample weights
        count as repetitions). NaN, with a warning at fit time, when there are
        no residual degrees of freedom left.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    sklearn.linear_model.Ridge : The same linear fit, without the tangent.
    influence_score : Scores for a fitted estimator or a Pipeline ending in one.

    Notes
    -----
    The tangent solves ``H tau = -b`` with ``H`` the Hessian of the training
    objective and ``b = d/dalpha grad_theta R = theta*_pen``. The influence of
    up-weighting a point ``(x, y)`` on the complexity is
    ``I = tau . grad_theta loss = (f(x) - y) g(x)`` with
    ``g(x) = grad_theta f(x) . tau = d f(x) / d alpha``.

    References
    ----------
    F. Eaton, "Influence functions and regularity tangents for efficient
    active learning", arXiv:2411.15292, 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(20, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=20)
    >>> reg = CuriousRegressor(alpha=1.0).fit(X, y)
    >>> reg.tangent_.shape
    (4,)
    >>> pool = rng.normal(size=(5, 3))
    >>> int(np.argmax(reg.influence_score(pool)))
    3
    """

    _parameter_constraints: dict = {
        "model": [StrOptions({"linear"})],
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "regularizer": [None, QuadraticPenalties],
    }

    def __init__(self, model="linear", alpha=1.0, *, fit_intercept=True, regularizer=None):
        self.model = model
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.regularizer = regularizer

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model and its regularity tangent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples' losses; a weight of 2 counts
            a sample twice.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        with fitted_state_restored_on_failure(self):
            self._fit(X, y, sample_weight)
        return self

    def _fit(self, X, y, sample_weight):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc", "coo"),
            dtype=np.float64,
            y_numeric=True,
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )

        model = LinearModel(X.shape[1], fit_intercept=self.fit_intercept)
        if self.regularizer is None:
            if not isinstance(self.alpha, Real):
                raise ValueError(
                    "alpha must be a single number without a regularizer; one "
                    "strength per penalty needs regularizer=QuadraticPenalties(...)."
                )
            regularizer = L2Regularizer(model.penalized)
            params, hessian, weighted_rss, dof = fit_ridge(
                X, y, sample_weight, self.alpha, self.fit_intercept
            )
        else:
            regularizer = self.regularizer
            alpha = _penalty_strengths(self.alpha, regularizer, X.shape[1])
            params, hessian, weighted_rss, dof = fit_quadratic(
                X, y, sample_weight, regularizer.penalty_matrix(alpha), self.fit_intercept, alpha
            )
        tangent = exact_tangent(hessian, regularizer, params)

        residual_dof = sample_weight.sum() - dof
        if residual_dof > 0:
            noise_variance = weighted_rss / residual_dof
        else:
            warnings.warn(
                f"No residual degrees of freedom are left (effective dof {dof:.3g} "
                f"for a total sample weight of {sample_weight.sum():.3g}): "
                "noise_variance_ is NaN and unlabelled points cannot be scored. "
                "Fit on more samples or raise alpha.",
                UserWarning,
            )
            noise_variance = np.nan

        self._model = model
        self._hessian = hessian
        self.params_ = params
        self.coef_, self.intercept_ = model.split(params)
        self.intercept_ = float(self.intercept_)
        self.tangent_ = tangent
        self.complexity_ = regularizer.complexity(params)
        self.effective_dof_ = float(dof)
        self.noise_variance_ = float(noise_variance)

    def _validate_X(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=("csr", "csc", "coo"), dtype=np.float64, reset=False
        )

    def predict(self, X):
        """Predict with the fitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values.
        """
        X = self._validate_X(X)
        return self._model.predict(self.params_, X)

    def regularity_sensitivity(self, X):
        """Sensitivity of the predictions to the regularity, ``g(x) = df(x)/dalpha``.

        With a ``regularizer``, one column ``df(x)/dalpha[k]`` per penalty.

        One forward-mode product of the model with the tangent for the whole
        batch: ``g(x) = grad_theta f(x; theta*) . tangent_``. Its units are
        those of ``y`` per unit of ``alpha``; a positive value means the
        prediction at ``x`` rises as the regularization tightens.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        sensitivity : ndarray of shape (n_samples,) or (n_samples, n_penalties)
            ``g(x)`` for each sample.
        """
        X = self._validate_X(X)
        return self._model.jvp(self.params_, X, self.tangent_)

    def influence_score(self, X, y=None, *, per_regularity=False):
        """Influence of each point on the model's complexity.

        With labels, the signed influence of each labelled point,
        ``I(x, y) = (f(x) - y) g(x)``: the rate at which the complexity
        ``complexity_`` changes as the point's sample weight grows from its
        current value (positive: adding or up-weighting the point makes the
        model more complex). Units: those of ``complexity_`` per unit of
        sample weight, i.e. ``y``'s units squared per unit of ``alpha``.

        Without labels, the expected squared influence under the model's
        predictive distribution ``y ~ N(f(x), noise_variance_)``,
        ``E[I^2] = noise_variance_ * g(x)^2`` (its mean ``E[I]`` is zero): the
        model's curiosity about ``x``, non-negative, in the square of the
        labelled score's units. Label the points with the largest scores first.

        With a ``regularizer`` of several penalties, each penalty ``k`` has its
        own ``g_k`` and scores ``I_k`` and ``E[I_k^2]``; the default total is
        ``sum_k I_k`` (the influence on ``sum_k Omega_k``) with labels and
        ``sum_k E[I_k^2]`` without (METHOD.md section 6): the expected squared
        norm of the per-penalty influences, not the expected square of the
        labelled total.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : array-like of shape (n_samples,), default=None
            Labels of the samples, if known.

        per_regularity : bool, default=False
            Return one column per regularity instead of their total.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_penalties)
            Signed influence (with ``y``) or expected squared influence
            (without).
        """
        if y is None:
            sensitivity = self.regularity_sensitivity(X)
            scores = expected_squared_influence(sensitivity, self.noise_variance_)
            return _per_regularity(scores, per_regularity)
        check_is_fitted(self)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc", "coo"),
            dtype=np.float64,
            y_numeric=True,
            reset=False,
        )
        prediction = self._model.predict(self.params_, X)
        sensitivity = self._model.jvp(self.params_, X, self.tangent_)
        if sensitivity.ndim == 2:
            prediction, y = prediction[:, np.newaxis], y[:, np.newaxis]
        return _per_regularity(signed_influence(prediction, sensitivity, y), per_regularity)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _penalty_strengths(alpha, regularizer, n_features):
    """One non-negative strength per penalty of ``regularizer``."""
    if regularizer.n_coef != n_features:
        raise ValueError(
            f"The regularizer penalizes {regularizer.n_coef} coefficients but X "
            f"has {n_features} features. Build it for {n_features} features."
        )
    alpha = np.asarray(alpha, dtype=np.float64)
    if alpha.ndim > 1 or (alpha.ndim == 1 and len(alpha) != regularizer.n_penalties):
        raise ValueError(
            f"alpha must be a number or hold one strength per penalty "
            f"({regularizer.n_penalties}); got shape {alpha.shape}."
        )
    if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
        raise ValueError(f"Every strength in alpha must be finite and >= 0; got {alpha}.")
    return np.broadcast_to(alpha, (regularizer.n_penalties,))


def _per_regularity(scores, per_regularity):
    """Scores as (n_samples, K) columns, or their total over the regularities."""
    if per_regularity:
        return scores if scores.ndim == 2 else scores[:, np.newaxis]
    return scores.sum(axis=1) if scores.ndim == 2 else scores
