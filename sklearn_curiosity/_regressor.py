"""CuriousRegressor: a scikit-learn regressor that knows its regularity tangent."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._chunking import apply_by_row_chunks
from ._ridge import fit_ridge
from ._utils import fitted_state_restored_on_failure
from .models import LinearModel
from .regularizers import L2Regularizer
from .scores import expected_squared_influence, signed_influence
from .tangent import exact_tangent


def _gradient_quadratic_form(model, hessian, params, X):
    """``grad f(x)^T H^-1 grad f(x)`` for every row of ``X``.

    A Hessian that knows a shortcut (``inverse_quadratic_form``, the linear
    model's) uses it; otherwise the per-row gradients are formed in row chunks
    bounded by sklearn's ``working_memory`` and solved against ``H`` (for a
    network, its Gauss-Newton Hessian), so memory stays bounded for any pool.
    """
    if hasattr(hessian, "inverse_quadratic_form"):
        return hessian.inverse_quadratic_form(X)
    n_samples = X.shape[0]
    n_params = len(params)
    out = np.empty(n_samples)
    chunk = get_chunk_n_rows(row_bytes=2 * 8 * n_params, max_n_rows=n_samples)
    for rows in gen_batches(n_samples, chunk):
        jacobian = model.jacobian(params, X[rows])
        solved = hessian.solve(jacobian.T)
        out[rows] = np.einsum("ij,ji->i", jacobian, solved)
    return out


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

    alpha : float, default=1.0
        Regularity: the strength of the L2 penalty, in ``[0, inf)``. With
        ``alpha=0`` the features must not be collinear.

    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept.

    n_jobs : int, default=None
        Number of jobs scoring chunks of rows in parallel in ``predict``,
        ``regularity_sensitivity`` and ``influence_score``. Rows are processed
        in chunks sized by scikit-learn's ``working_memory`` configuration
        (``sklearn.config_context(working_memory=...)``, in MB), so a pool
        never needs more than a chunk of temporaries per job. ``None`` means 1
        unless in a :obj:`joblib.parallel_config` context; ``-1`` means all
        processors.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Fitted coefficients.

    intercept_ : float
        Fitted intercept (0.0 when ``fit_intercept=False``).

    params_ : ndarray of shape (n_params,)
        The flat parameter vector ``theta* = [coef_, intercept_]`` (just
        ``coef_`` without an intercept).

    tangent_ : ndarray of shape (n_params,)
        The regularity tangent ``d theta* / d alpha``, in the layout of
        ``params_``.

    complexity_ : float
        The model complexity ``c(theta*) = 1/2 ||coef_||^2``, the derivative of
        the training objective in ``alpha``.

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
    float32 and integer input are computed in float64 (a float32 pool is cast
    one chunk of rows at a time); results are float64 and equal those of the
    same values given as float64. Pickles record the package version: a fitted
    estimator from another major.minor release is refused on loading.

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
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "n_jobs": [None, Integral],
    }

    def __init__(self, model="linear", alpha=1.0, *, fit_intercept=True, n_jobs=None):
        self.model = model
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.n_jobs = n_jobs

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
        regularizer = L2Regularizer(model.penalized)
        params, hessian, weighted_rss, dof = fit_ridge(
            X, y, sample_weight, self.alpha, self.fit_intercept
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
        # float32 is kept as it is (no whole-pool copy): chunks are cast to
        # float64 one at a time in _by_row_chunks.
        return validate_data(
            self, X, accept_sparse="csr", dtype=(np.float64, np.float32), reset=False
        )

    def _by_row_chunks(self, func, X, *row_arrays):
        """``func(X, *row_arrays)`` in float64, over chunks of rows (``working_memory``)."""

        def on_chunk(X_chunk, *chunks):
            return func(X_chunk.astype(np.float64, copy=False), *chunks)

        # A float64 copy of the row, and a few float64 outputs per row.
        row_bytes = 8 * (X.shape[1] + 4)
        return apply_by_row_chunks(
            on_chunk, X, *row_arrays, row_bytes=row_bytes, n_jobs=self.n_jobs
        )

    def predict(self, X, return_std=False):
        """Predict with the fitted model, optionally with the predictive std.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        return_std : bool, default=False
            Whether to also return the standard deviation of the predictive
            distribution of ``y`` at each sample.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted values (the predictive mean).

        y_std : ndarray of shape (n_samples,)
            Predictive standard deviation ``sqrt(noise_variance_ + Var[f(x)])``,
            returned only when ``return_std=True``. NaN where
            ``noise_variance_`` is NaN.

        Notes
        -----
        ``Var[f(x)] = noise_variance_ * grad f(x)^T H^-1 grad f(x)`` is the
        Laplace (Gaussian posterior) variance of ``f(x)`` around ``theta*``,
        with ``H`` the Hessian of the training objective: the posterior of a
        Gaussian likelihood with noise variance ``noise_variance_`` and a
        Gaussian prior of precision ``alpha / noise_variance_`` on the
        penalized parameters (flat on the intercept). For the linear model it
        is exact and equals :class:`sklearn.linear_model.BayesianRidge`'s
        predictive variance with ``alpha_ = 1 / noise_variance_`` and
        ``lambda_ = alpha / noise_variance_``, plus ``noise_variance_ /
        sum(sample_weight)`` for the uncertainty of the intercept, which
        BayesianRidge leaves out (it treats the centering as exact).

        This is the Bayesian convention of BayesianRidge and
        GaussianProcessRegressor. The frequentist sampling variance of
        ``f(x)`` over repeated labels at a fixed ``theta`` is the sandwich
        ``noise_variance_ * grad f^T H^-1 (sum_i w_i grad f_i grad f_i^T)
        H^-1 grad f`` (METHOD.md section 4); it is smaller by the prior's
        share and is not what ``return_std`` returns.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_curiosity import CuriousRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(50, 2))
        >>> y = X @ [1.0, -1.0] + 0.5 * rng.normal(size=50)
        >>> reg = CuriousRegressor(alpha=1.0).fit(X, y)
        >>> mean, std = reg.predict([[0.0, 0.0], [5.0, 5.0]], return_std=True)
        >>> bool(std[1] > std[0] > np.sqrt(reg.noise_variance_))
        True
        """
        X = self._validate_X(X)
        prediction = self._by_row_chunks(partial(self._model.predict, self.params_), X)
        if not return_std:
            return prediction
        quadratic_form = _gradient_quadratic_form(
            self._model, self._hessian, self.params_, X
        )
        std = np.sqrt(self.noise_variance_ * (1.0 + quadratic_form))
        return prediction, std

    def regularity_sensitivity(self, X):
        """Sensitivity of the predictions to the regularity, ``g(x) = df(x)/dalpha``.

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
        sensitivity : ndarray of shape (n_samples,)
            ``g(x)`` for each sample.
        """
        X = self._validate_X(X)
        return self._by_row_chunks(self._sensitivity, X)

    def _sensitivity(self, X):
        return self._model.jvp(self.params_, X, self.tangent_)

    def _expected_squared_influence(self, X):
        return expected_squared_influence(self._sensitivity(X), self.noise_variance_)

    def _signed_influence(self, X, y):
        prediction = self._model.predict(self.params_, X)
        return signed_influence(prediction, self._sensitivity(X), y)

    def influence_score(self, X, y=None):
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

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : array-like of shape (n_samples,), default=None
            Labels of the samples, if known.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Signed influence (with ``y``) or expected squared influence
            (without).
        """
        if y is None:
            return self._by_row_chunks(self._expected_squared_influence, self._validate_X(X))
        check_is_fitted(self)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            y_numeric=True,
            reset=False,
        )
        return self._by_row_chunks(self._signed_influence, X, y)

    def __getstate__(self):
        state = super().__getstate__()
        state["_sklearn_curiosity_version"] = _package_version()
        return state

    def __setstate__(self, state):
        # Same major.minor loads; otherwise a fitted estimator is refused, since
        # its private fitted state (_model, _hessian) may have changed layout.
        saved = state.pop("_sklearn_curiosity_version", "unknown")
        current = _package_version()
        if "params_" in state and _major_minor(saved) != _major_minor(current):
            raise ValueError(
                f"This {type(self).__name__} was fitted and pickled with "
                f"sklearn_curiosity {saved}, which is incompatible with the installed "
                f"version {current} (fitted estimators load only within the same "
                f"major.minor release). Refit it with sklearn_curiosity {current}, or "
                f"install sklearn_curiosity=={saved} to load it."
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _package_version():
    from . import __version__  # not at import time: __init__ imports this module

    return __version__


def _major_minor(version):
    return tuple(version.split(".")[:2])
