"""CuriousRegressorCV: choose the regularity by cross-validation (:ref:`theory-alpha`).

Two ways to score a value of ``alpha``:

- ``cv=None`` with the linear model under the ridge penalty: exact
  leave-one-out (LOO) errors for every ``alpha`` from ONE eigendecomposition of
  the centered, weighted design (n x n when n <= p), via the diagonal of the
  hat matrix, as sklearn's ``RidgeCV`` does;
- an integer or a splitter: K-fold refits, for any model.

Two ways to search: a grid, or gradient steps on ``log alpha`` driven by the
hypergradient ``dV/dalpha = grad_theta V . tau``. For a validation loss
``V = sum_val w (f - y)^2`` this is ``2 sum_val w (f(x) - y) g(x)``, twice the
weighted sum of the validation points' signed influence scores, so it only
needs the fitted regressor's public :func:`~sklearn_curiosity.influence_score`
and works for any model.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import inspect
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import validate_data

from ._checks import as_numeric_target
from ._regressor import CuriousRegressor
from ._ridge import (
    _CenteredDesign,
    _centered_weighted_gram,
    choose_solver,
    weighted_offsets,
)
from ._threads import blas_threads_for
from ._utils import check_sample_weight
from .exceptions import CuriosityWarning
from .scores import influence_score

# The CuriousRegressor parameters (name: default) passed to every fit: all but
# alpha, which the search sets. Read from CuriousRegressor's signature, so that
# a parameter added there is forwarded without an edit here.
_FORWARDED = {
    name: parameter.default
    for name, parameter in inspect.signature(CuriousRegressor).parameters.items()
    if name != "alpha"
}


def _warn_if_alpha_at_an_edge(alpha, alphas):
    """Warn (CuriosityWarning) when the chosen alpha is the smallest or largest allowed.

    The validation loss may still fall beyond the edge: the choice, and the
    tangent and scores at it, are then those of a truncated search.
    """
    if alphas.size < 2:
        return  # one value: there was no choice to make
    for edge, name, direction in ((alphas.min(), "smallest", "smaller"),
                                  (alphas.max(), "largest", "larger")):
        # rtol: the hypergradient search reaches an edge through exp(log(edge)).
        if np.isclose(alpha, edge, rtol=1e-9, atol=0.0):
            warnings.warn(
                f"The chosen alpha_ = {alpha:.6g} is the {name} value of alphas: the "
                f"validation loss may still improve beyond it. Widen alphas towards "
                f"{direction} values (e.g. np.logspace over a few more decades) and refit.",
                CuriosityWarning,
                stacklevel=5,  # the caller of fit: here, _fit, fit, _fit_context, caller
            )
            return


def _fitted_attributes(estimator):
    """Names of the fitted state of a fitted CuriousRegressor, private included.

    ``__init__`` stores only the parameters, so every other attribute was set
    by ``fit``: no list to keep in step with the regressor.
    """
    parameters = estimator.get_params(deep=False)
    return [name for name in vars(estimator) if name not in parameters]


def _with_forwarded_parameters(init):
    """Give ``init`` (which takes ``**regressor_params``) an explicit signature.

    scikit-learn reads an estimator's parameters from its ``__init__``
    signature (``get_params``, ``clone``, ``repr``): the forwarded parameters
    are appended to it as keyword-only parameters with CuriousRegressor's
    defaults.
    """
    own = [
        parameter
        for parameter in inspect.signature(init).parameters.values()
        if parameter.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    forwarded = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
        for name, default in _FORWARDED.items()
    ]
    init.__signature__ = inspect.Signature(own + forwarded)
    return init


# Alphas scored together by the closed-form LOO: bounds its memory to a few
# (n_samples, _LOO_BLOCK) arrays while keeping the products matrix-matrix.
_LOO_BLOCK = 16


def _concatenate(entries):
    """Join per-alpha result dicts along their last (alpha) axis."""
    return {key: np.concatenate([e[key] for e in entries], axis=-1) for key in entries[0]}


class _LeaveOneOut:
    """Closed-form leave-one-out errors of weighted ridge for any ``alpha``.

    With ``Xs = sqrt(w) (X - x_mean)`` and ``ys = sqrt(w) (y - y_mean)`` (the
    weighted means; no centering without an intercept), the hat matrix is
    ``Xs (Xs^T Xs + alpha I)^-1 Xs^T + sqrt(w) sqrt(w)^T / sum(w)``. One
    eigendecomposition serves every ``alpha``: of ``Xs^T Xs = V diag(lambda)
    V^T`` when ``n > p`` (a p x p problem; the ridge part of the hat matrix is
    ``B diag(1 / (lambda + alpha)) B^T`` with ``B = Xs V``), of ``Xs Xs^T = Q
    diag(lambda) Q^T`` otherwise (n x n, dense or sparse ``X``; no p x p
    array), as ``RidgeCV``'s ``gcv_mode="auto"`` and the fit's
    :func:`~sklearn_curiosity._ridge.choose_solver` choose. Each ``alpha``
    then costs O(n r).

    The errors are in ``RidgeCV``'s scaled convention: ``sqrt(w_i) (y_i -
    f_{-i}(x_i))``, with ``f_{-i}`` the fit without sample ``i``.
    """

    def __init__(self, X, y, sample_weight, fit_intercept):
        n_samples, n_features = X.shape
        # With the complete eigenbasis Q of Xs Xs^T (n <= p), I - hat is
        # Q diag(alpha / (lambda + alpha)) Q^T: computed so, 1 - h_ii does not
        # lose its digits to cancellation near interpolation (as RidgeCV's
        # "gram" mode). Otherwise B = Xs V and hat = B diag(1/(lambda+alpha)) B^T.
        solver = choose_solver(n_samples, n_features)
        self.complete_basis = solver == "dual"
        # The largest product is the n x n kernel (dual) or B = X V (primal),
        # n p min(n, p) multiply-adds; each alpha's errors are smaller ones.
        self._threads = partial(
            blas_threads_for, 2.0 * n_samples * n_features * min(n_samples, n_features)
        )
        with self._threads():
            self._decompose(X, y, sample_weight, fit_intercept)

    def _decompose(self, X, y, sample_weight, fit_intercept):
        weight_sum = sample_weight.sum()
        sqrt_w = np.sqrt(sample_weight)
        if self.complete_basis:
            X_offset, y_offset = weighted_offsets(X, y, sample_weight, fit_intercept)
            # The n x n kernel of the ridge fit's dual; sparse X stays sparse.
            kernel = _CenteredDesign(X, X_offset, sqrt_w).kernel(1.0)
            eigvals, B = np.linalg.eigh(kernel)
            eigvals = np.maximum(eigvals, 0.0)
        else:
            # The ridge fit's Gram matrix Xs^T Xs and Xs^T ys; B = Xs V is
            # formed from X itself, so sparse X is never centered (densified).
            gram, Xs_ys, _, X_offset, y_offset = _centered_weighted_gram(
                X, y, sample_weight, fit_intercept
            )
            eigvals, V = np.linalg.eigh(gram)
            B = (safe_sparse_dot(X, V, dense_output=True) - X_offset @ V) * sqrt_w[:, None]
            self.Bt_ys = V.T @ Xs_ys
        self.eigvals = eigvals
        self.B = B
        self.B_squared = B**2
        self.ys = sqrt_w * (y - y_offset)
        if self.complete_basis:
            self.Bt_ys = B.T @ self.ys
        # The unpenalized intercept's share of the hat diagonal, w / sum(w).
        # With the complete basis, sqrt(w) spans part of the null space of
        # Xs Xs^T: the share is taken from the same eigenvectors, so that it
        # cancels their null-space part exactly (as RidgeCV does).
        self.fit_intercept = fit_intercept
        self.sqrt_w_scaled = sqrt_w / weight_sum
        self.Bt_sqrt_w = B.T @ sqrt_w
        self.intercept_leverage = sample_weight / weight_sum if fit_intercept else 0.0

    def _intercept_part(self, factor):
        """``(Q diag(factor) Q^T sqrt(w))_i sqrt(w_i) / sum(w)``, per column of ``factor``."""
        return (self.B @ (factor * self.Bt_sqrt_w[:, None])) * self.sqrt_w_scaled[:, None]

    def errors(self, alphas, derivative=False):
        """LOO errors, shape (n_samples, n_alphas), and optionally d/dalpha."""
        with self._threads():
            return self._errors(alphas, derivative)

    def _errors(self, alphas, derivative):
        alphas = np.asarray(alphas, dtype=float)[None, :]
        D = 1.0 / (self.eigvals[:, None] + alphas)
        if self.complete_basis:
            residual = alphas * (self.B @ (D * self.Bt_ys[:, None]))
            one_minus_h = alphas * (self.B_squared @ D)
            if self.fit_intercept:
                one_minus_h -= alphas * self._intercept_part(D)
            # d/dalpha of alpha / (lambda + alpha) is lambda D^2.
            d_factor = self.eigvals[:, None] * D**2
        else:
            residual = self.ys[:, None] - self.B @ (D * self.Bt_ys[:, None])
            leverage = np.reshape(self.intercept_leverage, (-1, 1))
            one_minus_h = 1.0 - self.B_squared @ D - leverage
            # d/dalpha of 1/(lambda + alpha) is -D^2.
            d_factor = D**2
        errors = residual / one_minus_h
        if not derivative:
            return errors
        # The residual grows with sqrt(w) g(x), g = df/dalpha from the
        # tangent; the leverage shrinks.
        d_residual = self.B @ (d_factor * self.Bt_ys[:, None])
        d_one_minus_h = self.B_squared @ d_factor
        if self.complete_basis and self.fit_intercept:
            d_one_minus_h -= self._intercept_part(d_factor)
        d_errors = (d_residual - errors * d_one_minus_h) / one_minus_h
        return errors, d_errors


class CuriousRegressorCV(CuriousRegressor):
    """CuriousRegressor with the regularity chosen by cross-validation.

    The counterpart of :class:`sklearn.linear_model.RidgeCV`. With
    ``cv=None`` and the linear model under the default ridge penalty, the
    leave-one-out (LOO) error of every
    ``alpha`` comes in closed form from one eigendecomposition of the
    centered, weighted design (the hat-matrix diagonal), exactly as
    ``RidgeCV``'s efficient LOO. With an integer or a splitter ``cv``, each
    ``alpha`` is scored by K-fold refits, for any model (the network too).
    The chosen ``alpha`` is then refitted on all the data, and the refitted
    :class:`CuriousRegressor` (``best_estimator_``) lends its fitted state
    to this estimator, which then predicts and scores as a
    :class:`CuriousRegressor` does: ``tangent_``, ``predict``,
    ``regularity_sensitivity``, ``influence_score``, and the module-level
    :func:`~sklearn_curiosity.influence_score` all work on it directly.

    With ``alpha_search="hypergradient"``, ``alpha`` is tuned continuously by
    gradient steps on ``log alpha`` from the starting point ``alpha``, within
    ``[min(alphas), max(alphas)]``. The hypergradient of the validation loss
    is ``dV/dalpha = grad_theta V . tau``: for K-fold, twice the weighted sum
    of the signed influence scores of the validation points under each fold's
    fitted regressor (any model); for the linear model's LOO loss, its exact
    derivative from the same eigendecomposition.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=(0.1, 1.0, 10.0)
        The regularities to try (all positive). With
        ``alpha_search="hypergradient"``, only their range is used: the
        search stays within ``[min(alphas), max(alphas)]``.

    cv : int, cross-validation generator or iterable, default=None
        ``None``: efficient leave-one-out with the linear model under the
        default ridge penalty. A network, a user-defined model or another
        ``regularizer`` has no closed-form LOO here and ``n_samples``
        refits would be costly: ``None`` falls back to 5-fold
        :class:`~sklearn.model_selection.KFold` for them (pass a
        :class:`~sklearn.model_selection.LeaveOneOut` splitter for
        brute-force LOO). An integer gives that many unshuffled K folds; a
        splitter or an iterable of ``(train, test)`` index arrays is used as
        is.

    alpha_search : {"grid", "hypergradient"}, default="grid"
        ``"grid"``: score every value of ``alphas``. ``"hypergradient"``:
        gradient steps on ``log alpha`` from ``alpha``.

    alpha : float, default=1.0
        Starting point of the hypergradient search (clipped into the range
        of ``alphas``). Unused by the grid search.

    search_max_iter : int, default=30
        Largest number of validation-loss evaluations of the hypergradient
        search.

    search_tol : float, default=1e-3
        The hypergradient search stops once ``log alpha`` is known to within
        ``search_tol`` (or its gradient is zero).

    store_cv_results : bool, default=False
        Whether ``cv_results_`` keeps the per-sample LOO errors
        (``"loo_squared_errors"``, n_samples x n_alphas, as ``RidgeCV``'s
        ``store_cv_results``).

    **regressor_params
        Every parameter of :class:`CuriousRegressor` but ``alpha``
        (``model``, ``fit_intercept``, ``hidden_layer_sizes``, ``activation``,
        ``solver``, ``batch_size``, ``learning_rate_init``, ``max_iter``,
        ``tol``, ``random_state``, ``warm_start``, ``tangent_solver``,
        ``differentiation``, ``regularizer``, ``n_jobs``, and any parameter
        it gains), with the same meaning and default, passed to every fit.
        They are parameters of this estimator (``get_params``,
        ``set_params``, ``GridSearchCV``). Across the fits of a search:

        - ``random_state``: every fit starts from the same initial
          parameters, so the validation loss is a function of ``alpha``
          alone. An int is passed as is; ``None`` or a ``RandomState``
          instance draws one seed per call to ``fit``.
        - ``warm_start``: each fold's fit starts from that fold's previous
          solution, in the order the alphas are evaluated (the grid's order
          or the search path), which follows one local minimum along
          ``alpha`` and speeds up iterative training; the final refit starts
          from the previous call's ``best_estimator_``.

    Attributes
    ----------
    alpha_ : float
        The chosen regularity.

    best_score_ : float
        Score of ``alpha_``: the negative mean of the weighted squared
        validation errors, ``-sum_i w_i e_i^2 / n`` (``RidgeCV``'s convention
        for ``scoring=None``; higher is better).

    cv_results_ : dict of ndarrays
        One entry per evaluated ``alpha`` (the grid, or the search path):

        - ``"param_alpha"``, shape (n_evaluated,): the regularities;
        - ``"mean_test_score"``, shape (n_evaluated,): their scores, as
          ``best_score_``;
        - ``"loo_squared_errors"``, shape (n_samples, n_evaluated), LOO with
          ``store_cv_results=True`` only: the weighted squared LOO errors
          ``w_i e_i^2`` (``RidgeCV``'s ``cv_results_``);
        - ``"split_test_scores"``, shape (n_splits, n_evaluated), K-fold
          only: each fold's ``-sum_val w e^2 / n_val``;
        - ``"hypergradient"``, shape (n_evaluated,), hypergradient search
          only: the derivative in ``alpha`` of the validation loss (minus
          ``"mean_test_score"``) at each evaluated ``alpha``.

    alpha_path_ : ndarray of shape (n_evaluated,)
        The regularities in the order they were evaluated.

    n_fits_ : int
        Number of validation-loss fits: evaluated alphas times the number of
        folds for K-fold; one per evaluated alpha for the closed-form LOO
        (each a solve with the shared decomposition).

    best_estimator_ : CuriousRegressor
        The regressor refitted on all the data with ``alpha_``.

    params_, tangent_, noise_variance_, complexity_, effective_dof_, tangent_solver_, n_iter_
        Those of ``best_estimator_``, as every fitted attribute it has
        (``coef_`` and ``intercept_`` with the linear model).

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
    CuriousRegressor : The regressor at a fixed ``alpha``.
    sklearn.linear_model.RidgeCV : The same LOO selection, without the tangent.

    Notes
    -----
    With sample weights, the LOO error of sample ``i`` is ``e_i = y_i -
    f_{-i}(x_i)`` with ``f_{-i}`` fitted without sample ``i``, and the score
    weights its square by ``w_i``, as ``RidgeCV`` does. K-fold scores weight
    the validation errors the same way (``RidgeCV`` ignores the weights
    there), so a :class:`~sklearn.model_selection.LeaveOneOut` splitter gives
    the closed-form LOO scores.

    A network's validation loss is that of the local minimum each fit
    reaches. For its hypergradient to be the derivative of that loss, fit
    tightly (``solver="lbfgs"`` with a small ``tol``) and keep the minimum
    the same along ``alpha`` (a fixed ``random_state``, or ``warm_start``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.5 * rng.normal(size=40)
    >>> reg = CuriousRegressorCV(alphas=np.logspace(-2, 2, 9)).fit(X, y)
    >>> float(reg.alpha_)
    0.1
    >>> reg.tangent_.shape
    (4,)
    """

    _parameter_constraints: dict = {
        **{
            name: constraints
            for name, constraints in CuriousRegressor._parameter_constraints.items()
            if name in _FORWARDED
        },
        "alphas": ["array-like", Interval(Real, 0, None, closed="neither")],
        "cv": ["cv_object"],
        "alpha_search": [StrOptions({"grid", "hypergradient"})],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "search_max_iter": [Interval(Integral, 1, None, closed="left")],
        "search_tol": [Interval(Real, 0, None, closed="neither")],
        "store_cv_results": ["boolean"],
    }

    @_with_forwarded_parameters
    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        cv=None,
        alpha_search="grid",
        alpha=1.0,
        search_max_iter=30,
        search_tol=1e-3,
        store_cv_results=False,
        **regressor_params,
    ):
        unknown = sorted(set(regressor_params).difference(_FORWARDED))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword arguments {unknown}."
            )
        self.alphas = alphas
        self.cv = cv
        self.alpha_search = alpha_search
        self.alpha = alpha
        self.search_max_iter = search_max_iter
        self.search_tol = search_tol
        self.store_cv_results = store_cv_results
        for name, default in _FORWARDED.items():
            setattr(self, name, regressor_params.get(name, default))

    def _regressor_params(self):
        """The forwarded parameters, with one seed for every fit of this call."""
        params = {name: getattr(self, name) for name in _FORWARDED}
        if not isinstance(self.random_state, Integral):
            params["random_state"] = check_random_state(self.random_state).randint(2**31 - 1)
        return params

    # fit (with its validation and its restore on failure) is CuriousRegressor's.
    def _fit(self, X, y, sample_weight):
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc"), dtype=np.float64, y_numeric=True
        )
        y = as_numeric_target(y)
        sample_weight = check_sample_weight(sample_weight, X)
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
            raise ValueError(
                f"alphas must be a non-empty list of positive finite numbers; got {self.alphas!r}."
            )
        regressor_params = self._regressor_params()

        # The closed form is ridge's: another penalty's LOO is not its own.
        if self.cv is None and self.model == "linear" and self.regularizer is None:
            loo = _LeaveOneOut(X, y, sample_weight, self.fit_intercept)

            def evaluate(alpha_values, derivative):
                blocks = []
                # A few alphas at a time: the work arrays are (n_samples, block).
                for start in range(0, len(alpha_values), _LOO_BLOCK):
                    block = alpha_values[start : start + _LOO_BLOCK]
                    result = loo.errors(block, derivative)
                    errors, d_errors = result if derivative else (result, None)
                    squared = errors**2
                    entry = {"mean_test_score": -squared.mean(axis=0)}
                    if self.store_cv_results:
                        entry["loo_squared_errors"] = squared
                    if derivative:
                        entry["hypergradient"] = 2 * np.mean(errors * d_errors, axis=0)
                    blocks.append(entry)
                return _concatenate(blocks), len(alpha_values)

        else:
            folds = list(check_cv(self.cv).split(X, y))
            # One regressor per fold for the whole search: with warm_start,
            # each fit starts from the fold's previous solution.
            fold_regressors = [CuriousRegressor(**regressor_params) for _ in folds]
            evaluate = partial(self._kfold, X, y, sample_weight, folds, fold_regressors)

        if self.alpha_search == "grid":
            results, n_fits = evaluate(alphas, derivative=False)
            path = alphas
        else:
            path, results, n_fits = self._hypergradient_search(evaluate, alphas)

        best = int(np.argmax(results["mean_test_score"]))
        self.alpha_ = float(path[best])
        _warn_if_alpha_at_an_edge(self.alpha_, alphas)
        self.best_score_ = float(results["mean_test_score"][best])
        self.cv_results_ = {"param_alpha": np.asarray(path, dtype=float)}
        self.cv_results_.update((key, np.asarray(value)) for key, value in results.items())
        self.alpha_path_ = np.asarray(path, dtype=float)
        self.n_fits_ = int(n_fits)

        previous = getattr(self, "best_estimator_", None)
        if self.warm_start and previous is not None:
            # A copy: the previous fit's state stays intact if this one fails.
            best_estimator = copy.deepcopy(previous).set_params(**regressor_params)
        else:
            best_estimator = CuriousRegressor(**regressor_params)
        best_estimator.set_params(alpha=self.alpha_)
        best_estimator.fit(X, y, sample_weight=sample_weight)
        if previous is not None:  # what the previous model had and this one lacks
            for name in _fitted_attributes(previous):
                vars(self).pop(name, None)
        self.best_estimator_ = best_estimator
        for name in _fitted_attributes(best_estimator):
            setattr(self, name, getattr(best_estimator, name))

    @staticmethod
    def _kfold(X, y, sample_weight, folds, fold_regressors, alpha_values, derivative):
        """Fold scores (and hypergradients) of each alpha; refits ``len(folds)`` models each."""
        n_alphas = len(alpha_values)
        split_scores = np.empty((len(folds), n_alphas))
        weighted_sse = np.zeros(n_alphas)
        gradient = np.zeros(n_alphas)
        n_validation = 0
        for k, ((train, test), fold_regressor) in enumerate(zip(folds, fold_regressors)):
            X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
            w_test = sample_weight[test]
            n_validation += len(test)
            for j, alpha in enumerate(alpha_values):
                fold_regressor.set_params(alpha=alpha).fit(
                    X_train, y[train], sample_weight=sample_weight[train]
                )
                sse = float(w_test @ (fold_regressor.predict(X_test) - y[test]) ** 2)
                split_scores[k, j] = -sse / len(test)
                weighted_sse[j] += sse
                if derivative:
                    # dV/dalpha = grad_theta V . tau = 2 sum_val w (f - y) g.
                    gradient[j] += 2 * float(
                        w_test @ influence_score(fold_regressor, X_test, y[test])
                    )
        entry = {"mean_test_score": -weighted_sse / n_validation, "split_test_scores": split_scores}
        if derivative:
            entry["hypergradient"] = gradient / n_validation
        return entry, n_alphas * len(folds)

    def _hypergradient_search(self, evaluate, alphas):
        """Minimize the validation loss over ``log alpha`` with its hypergradient.

        Gradient steps of doubling length bracket a zero of the derivative in
        ``log alpha``; regula falsi (Illinois variant) on the derivative then
        narrows the bracket to ``search_tol``. Every step uses one loss and one
        hypergradient evaluation.
        """
        lower, upper = np.log(alphas.min()), np.log(alphas.max())
        path, entries = [], []
        n_fits = 0

        def loss_and_slope(log_alpha):
            nonlocal n_fits
            alpha = float(np.exp(log_alpha))
            entry, fits = evaluate(np.array([alpha]), derivative=True)
            n_fits += fits
            path.append(alpha)
            entries.append(entry)
            # The score is minus the loss; d/dlog(alpha) = alpha d/dalpha.
            return -entry["mean_test_score"][0], alpha * entry["hypergradient"][0]

        u = float(np.clip(np.log(self.alpha), lower, upper))
        loss, slope = loss_and_slope(u)
        bracket = None
        step = 1.0
        while bracket is None and len(path) < self.search_max_iter and slope != 0:
            direction = -np.sign(slope)
            u_next = float(np.clip(u + direction * step, lower, upper))
            if u_next == u:  # the minimum lies on the boundary of the range
                break
            loss_next, slope_next = loss_and_slope(u_next)
            if np.sign(slope_next) != np.sign(slope) or loss_next > loss:
                bracket = sorted([(u, slope), (u_next, slope_next)])
            else:
                u, loss, slope = u_next, loss_next, slope_next
                step *= 2

        if bracket is not None:
            (a, slope_a), (b, slope_b) = bracket
            side = 0
            while len(path) < self.search_max_iter and b - a > self.search_tol:
                if slope_a < 0 < slope_b:
                    u = b - slope_b * (b - a) / (slope_b - slope_a)
                    u = float(np.clip(u, a + 0.01 * (b - a), b - 0.01 * (b - a)))
                else:  # loss rose without a sign change: bisect
                    u = 0.5 * (a + b)
                _, slope = loss_and_slope(u)
                if slope == 0:
                    break
                if slope > 0:
                    b, slope_b = u, slope
                    if side == 1:
                        slope_a /= 2
                    side = 1
                else:
                    a, slope_a = u, slope
                    if side == -1:
                        slope_b /= 2
                    side = -1

        return np.array(path), _concatenate(entries), n_fits
