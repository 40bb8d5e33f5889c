"""CuriousRegressor: a scikit-learn regressor that knows its regularity tangent."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    validate_data,
)

from ._checks import (
    as_numeric_target,
    check_fit_is_finite,
    check_squares_finite,
    warn_if_curiosity_is_zero,
    warn_if_scores_are_zero,
)
from ._chunking import apply_by_row_chunks, block_n_rows
from ._fitting import architecture, fit_closed_form, fit_iterative
from ._from_estimator import convert
from ._pickle_version import VersionedPickleMixin
from ._ridge import RidgeHessian
from ._utils import check_sample_weight, fitted_state_restored_on_failure
from .models import MLP, LinearModel, Model
from .scores import (
    check_finite_scores,
    check_uncertainty,
    estimate_noise_variance,
    expected_squared_influence,
    signed_influence,
    total_over_regularities,
    uncertainty_factor,
)


class CuriousRegressor(VersionedPickleMixin, RegressorMixin, BaseEstimator):
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
    tangent costs one extra solve with the fit's Cholesky factor. With no
    more samples than features (text, polynomial or spline expansions), the
    fit, the tangent, the scores, ``predict(return_std=True)``, the effective
    dof and the greedy batch factorize the n x n kernel instead of the p x p
    Gram matrix, as Ridge does (the dual form, :ref:`theory-dual`): memory
    O(n^2 + n p), no p x p array.

    Parameters
    ----------
    model : {"linear", "mlp"} or Model instance, default="linear"
        What ``f(x; theta)`` is. ``"linear"``: ``f(x) = x . coef + intercept``,
        fitted in closed form (the training parameters below are ignored).
        ``"mlp"``: a fully connected network (:class:`~sklearn_curiosity.models.MLP`)
        trained iteratively. A :class:`~sklearn_curiosity.models.Model`
        instance: a user-defined model written with ``autograd.numpy``
        (copied at fit time, never modified).

    alpha : float or array-like of shape (n_regularities,), default=1.0
        Regularity: the strength of the L2 penalty, in ``[0, inf)``. With
        ``alpha=0`` the features must not be collinear. With a ``regularizer``
        of several strengths ``R(s, theta) = sum_k s_k Omega_k(theta)``, one
        non-negative strength per regularity (a float: the same for all).

    fit_intercept : bool, default=True
        Whether to fit an (unpenalized) intercept. Linear model only (a
        network always has unpenalized biases).

    hidden_layer_sizes : int or tuple of int, default=(32,)
        Widths of the hidden layers of the MLP, each an integer >= 1 (an int
        is one hidden layer), as in :class:`~sklearn.neural_network.MLPRegressor`.

    activation : {"tanh", "relu", "logistic", "identity"}, default="tanh"
        Activation of the MLP's hidden layers. "relu" has a zero second
        derivative almost everywhere, so its exact Hessian equals Gauss-Newton's.

    solver : {"lbfgs", "adam", "sgd"}, default="lbfgs"
        Training solver for nonlinear models, as in
        :class:`~sklearn.neural_network.MLPRegressor` ("sgd" uses a constant
        learning rate and momentum 0.9, without Nesterov's correction).

    batch_size : int or "auto", default="auto"
        Mini-batch size of "adam" and "sgd"; "auto" is ``min(200, n_samples)``.

    learning_rate_init : float, default=1e-3
        Step size of "adam" and "sgd".

    max_iter : int, default=200
        Maximum iterations of "lbfgs", or epochs of "adam" and "sgd".

    tol : float or None, default=1e-4
        "lbfgs": tolerance on the projected gradient of the objective divided
        by the total sample weight. "adam"/"sgd": stop when the epoch's mean
        training loss has not improved by ``tol`` for 10 epochs; ``None``
        runs exactly ``max_iter`` epochs (no early stop, no warning).

    random_state : int, RandomState instance or None, default=None
        Seeds the initial parameters and the mini-batch order.

    warm_start : bool, default=False
        Start training from the previous fit's parameters (and, for the
        "forward" tangent, its tangent) when the architecture still matches:
        the same model class, number of features, ``hidden_layer_sizes`` and
        ``activation``. Otherwise training starts afresh from
        ``random_state``, as if ``warm_start=False``.

    tangent_solver : {"auto", "exact", "cg", "forward", "lissa"}, default="auto"
        How a nonlinear model's tangent is computed (:ref:`theory-solvers`).
        "exact": the dense Hessian (in closed form for a one-hidden-layer
        MLP, otherwise as a block of ``n_params`` Hessian-vector products),
        Cholesky. "cg": conjugate gradients on Hessian-vector products,
        preconditioned by the Gauss-Newton factorization shifted by the
        damping, which the "exact" rule decides first from Lanczos and LOBPCG
        estimates of the extreme eigenvalues.
        "forward": carried through "adam"/"sgd" training, one Hessian-vector
        product per step (not available with "lbfgs"). "lissa": the
        stochastic Neumann series on mini-batch Hessian-vector products (see
        ``tangent_options``), for very large ``n``. "auto": "exact" up to
        500 parameters, "cg" above. The choice is in ``tangent_solver_``. A
        Hessian that is not positive definite at the fitted parameters is
        damped (see :class:`~sklearn_curiosity.tangent.NetworkHessian`) with a
        warning ("lissa" instead raises unless given enough ``damping``). The
        linear model always uses its exact closed form.

    tangent_options : dict or None, default=None
        Options of the chosen ``tangent_solver`` (others raise ValueError).

        - "lissa": ``scale`` (float or "auto", default "auto": 1.5 times a
          20-step power-iteration estimate of the largest eigenvalue of
          ``H + damping I``), ``damping`` (float >= 0, default 0: the series
          solves ``(H + damping I) tau = -b``, biased towards zero by the
          damping), ``depth`` (int, default 1000: terms of the series; its
          truncation error decays like ``(1 - lambda_min / scale)^depth``),
          ``batch_size`` (int or "auto", default "auto" = ``min(200,
          n_samples)``: rows per Hessian-vector product, drawn with
          replacement from ``random_state``; ``>= n_samples`` uses the full
          data, making the series deterministic) and ``repeats`` (int,
          default 1: independent series averaged). The fit raises ValueError
          if the series diverges (raise ``scale`` or ``damping``) and warns
          (ConvergenceWarning) if the solution's relative residual exceeds
          1e-2 (raise ``depth``, ``batch_size`` or ``repeats``).
        - "cg": ``tol`` (default 1e-10, relative residual) and ``maxiter``
          (default ``None``: ``2 * n_params``), the Hessian-vector products
          allowed per start (the eigenvalue estimates have budgets of their
          own); a negative curvature still met raises the damping and
          restarts, at most 8 times, so a solve is always bounded.

    differentiation : {"analytic", "autograd"}, default="analytic"
        Hand-written derivatives of the built-in MLP, or autograd's (slower;
        for checking). User-defined models always use autograd.

    regularizer : regularizer object or None, default=None
        ``None``: ``alpha/2 ||theta_pen||^2`` on the weights (not the biases or
        intercept). Otherwise an object with ``value``, ``gradient``,
        ``complexity``, ``alpha_gradient`` and ``hessian_vector_product``:
        :class:`~sklearn_curiosity.regularizers.QuadraticPenalties` (several
        quadratic penalties, fitted in closed form by the linear model), or
        :class:`~sklearn_curiosity.regularizers.AutogradRegularizer` (any
        smooth ``R(alpha, theta)``, nonlinear models only). With ``K > 1``
        strengths, ``tangent_`` has one column per regularity,
        ``complexity_`` one entry, ``regularity_sensitivity`` one column and
        ``influence_score`` their total (or one column each with
        ``per_regularity=True``). ``tangent_solver="forward"`` carries a
        single tangent only.

    n_jobs : int, default=None
        Number of jobs scoring chunks of rows in parallel in ``predict``,
        ``regularity_sensitivity`` and ``influence_score``. Rows are processed
        in chunks sized by scikit-learn's ``working_memory`` configuration
        (``sklearn.config_context(working_memory=...)``, in MB), so a pool
        never needs more than a chunk of temporaries per job. ``None`` means 1
        unless in a :obj:`joblib.parallel_config` context; ``-1`` means all
        processors. Each job runs BLAS on one thread (its products are
        small, cache-sized blocks of rows): ``n_jobs`` is how scoring uses
        several cores. Threads share the pool without copying it; a pool in
        memory scales with them until the memory bandwidth is spent (the
        linear model reads each row once, a network computes more per row
        and scales further). A pool larger than memory, or on several
        machines, is scored block by block as a dask array through
        :func:`~sklearn_curiosity.influence_score`.

    precision : {"auto", "float64"}, default="auto"
        Arithmetic of ``predict``, ``regularity_sensitivity`` and
        ``influence_score`` on a pool. "auto": a dense float32 pool is
        multiplied in float32, without a float64 copy, at the speed of reading
        it once: each score agrees with the float64 computation to ``1e-5``
        relative, measured on the scale of the terms it sums (see Notes); any
        other pool is computed in float64. "float64": every pool is computed
        in float64 (a float32 pool cast block by block), and a float32 pool's
        results equal those of the same values given as float64, bit for bit.
        For a linear model factorized in the primal (``n_samples >
        n_features``), "auto" also computes the predictive std's ``v(x)``
        and the "epistemic" and "total" scores' factor in float32, to
        ``(n_features + 3) * 2**-24`` relative on the scale of its terms
        (:ref:`theory-precision`). The fit and the tangent are always
        computed in float64.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Fitted coefficients (linear model only).

    intercept_ : float
        Fitted intercept (0.0 when ``fit_intercept=False``; linear model only).

    params_ : ndarray of shape (n_params,)
        The flat parameter vector ``theta* = [coef_, intercept_]`` (just
        ``coef_`` without an intercept).

    tangent_ : ndarray of shape (n_params,) or (n_params, n_regularities)
        The regularity tangent ``d theta* / d alpha``, in the layout of
        ``params_``; with several regularities, one column
        ``d theta* / d alpha[k]`` per regularity.

    tangent_solver_ : str
        The tangent solver used ("exact" for the linear model).

    n_iter_ : int
        Training iterations (epochs for "adam"/"sgd"); 1 for the linear
        model, fitted by one closed-form solve.

    complexity_ : float or ndarray of shape (n_regularities,)
        The model complexity ``c(theta*) = dR/dalpha`` (by default
        ``1/2 ||theta_pen||^2``), the derivative of the training objective in
        ``alpha``; with several regularities ``Omega_k(theta*)`` for each.

    effective_dof_ : float
        Effective degrees of freedom, the trace of the hat matrix (the
        intercept counts one). For a nonlinear model, that of its
        linearization at ``theta*`` (MacKay's effective number of parameters),
        ``trace(G^-1 J^T W J)`` with ``J`` the Jacobian of the predictions and
        ``G = J^T W J + grad^2 R`` the Gauss-Newton Hessian that
        ``predict(return_std=True)`` uses: between 0 and ``min(n, n_params)``
        wherever training stopped. ``G`` carries a weak prior on the
        unpenalized parameters (:ref:`theory-singular-directions`), so a dead
        unit's bias counts 0. Exact (a dense Cholesky factor, or the n x n
        dual when there are fewer rows than parameters); a Hutchinson
        estimate (30 probes) only with more than 5000 parameters and as many
        rows, or above 1000 parameters under a regularizer whose Hessian is
        not diagonal.

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
    A linear model fitted in the dual form keeps its centered training
    design (sparse ``X`` as given) for the solves that scores and queries
    need after the fit, so its pickle holds O(n p) numbers.

    Fitting always computes in float64. Scoring returns float64. With
    ``precision="auto"`` a dense float32 pool is scored in float32 (the
    pool's rows are first centered on the training mean, in float32, and the
    biases and intercepts are added in float64), so each product ``x . w``
    with the coefficients or the tangent is within
    ``n_features * 2**-24 * sum_j |x_j - mean_j| |w_j|`` of the exact one:
    ``1e-5`` relative wherever the terms do not cancel each other, and scores
    rank as in float64 except among scores within that tolerance of each
    other (:ref:`theory-precision`). For a linear model fitted in the primal
    form, ``v(x) = grad f^T H^-1 grad f`` (the predictive std's ``std^2 =
    noise_variance_ * (1 + v)``, and the factor of the "epistemic" and
    "total" scores) is computed in float32 too, as ``||L^-1 (x - mean)||^2``
    with ``L`` the Cholesky factor of the centered Hessian: a sum of squares,
    which does not cancel, so ``1 + v`` is within ``(n_features + 3) *
    2**-24 * (|| |L^-1| |x - mean| || + 1)`` relative of the exact one and
    ``v`` within ``(n_features + 3) * 2**-24 * (1 + 2 || |L^-1| |x - mean| ||
    / ||L^-1 (x - mean)||)`` relative. The dual form's ``v`` is a difference
    of two terms that cancel near the training rows, and stays in float64.
    With ``precision="float64"``, and for
    float64, integer and sparse pools, scoring computes in float64, a float32
    pool cast one block of rows at a time, and its results equal those of the
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
        "model": [StrOptions({"linear", "mlp"}), Model],
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "fit_intercept": ["boolean"],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"tanh", "relu", "logistic", "identity"})],
        "solver": [StrOptions({"lbfgs", "adam", "sgd"})],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "tangent_solver": [StrOptions({"auto", "exact", "cg", "forward", "lissa"})],
        "tangent_options": [dict, None],
        "differentiation": [StrOptions({"analytic", "autograd"})],
        "regularizer": [
            None,
            HasMethods(
                ["value", "gradient", "complexity", "alpha_gradient", "hessian_vector_product"]
            ),
        ],
        "n_jobs": [None, Integral],
        "precision": [StrOptions({"auto", "float64"})],
    }

    def __init__(
        self,
        model="linear",
        alpha=1.0,
        *,
        fit_intercept=True,
        hidden_layer_sizes=(32,),
        activation="tanh",
        solver="lbfgs",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        random_state=None,
        warm_start=False,
        tangent_solver="auto",
        tangent_options=None,
        differentiation="analytic",
        regularizer=None,
        n_jobs=None,
        precision="auto",
    ):
        self.model = model
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.warm_start = warm_start
        self.tangent_solver = tangent_solver
        self.tangent_options = tangent_options
        self.differentiation = differentiation
        self.regularizer = regularizer
        self.n_jobs = n_jobs
        self.precision = precision

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

        Raises
        ------
        ValueError
            Also when values of ``X``, ``y`` or ``sample_weight`` are so large
            that the fit would overflow float64 (rescale them).

        Warns
        -----
        CuriosityWarning
            When every curiosity of the fitted model is zero (a constant
            target, constant features of the linear model, residuals all
            zero, a tangent that is zero because alpha is too large for the
            fit to move with it), or no residual degrees of freedom are left
            to estimate the noise variance.
        """
        with fitted_state_restored_on_failure(self):
            self._fit(X, y, sample_weight)
        return self

    @classmethod
    def from_estimator(cls, estimator, X, y, sample_weight=None):
        """A curious regressor at the parameters of a regressor fitted elsewhere.

        scikit-learn's :class:`~sklearn.linear_model.Ridge` minimises this
        estimator's objective (times two), and
        :class:`~sklearn.neural_network.MLPRegressor` minimises it divided by
        the sum of the sample weights, with the same ``alpha``: their fitted
        parameters are ``theta*``, so no retraining is needed. The returned
        regressor keeps the given estimator's parameters (its predictions are
        the original's) and computes the tangent, the effective dof, the noise
        variance and the predictive std at them, on the data given here (see
        :ref:`theory-from-estimator`).

        Parameters
        ----------
        estimator : estimator object
            A fitted :class:`~sklearn.linear_model.Ridge`,
            :class:`~sklearn.linear_model.RidgeCV` (its ``alpha_``),
            :class:`~sklearn.linear_model.LinearRegression` (``alpha=0``),
            :class:`~sklearn.linear_model.BayesianRidge` (``alpha = lambda_ /
            alpha_``) or :class:`~sklearn.neural_network.MLPRegressor` (the same
            layers, activation and ``alpha``), all with one target; a
            :class:`~sklearn.pipeline.Pipeline` ending in one of these; or a
            fitted :class:`~sklearn.model_selection.GridSearchCV` or
            :class:`~sklearn.model_selection.RandomizedSearchCV` (its
            ``best_estimator_``).

        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The data the estimator was fitted on (for a Pipeline, as the
            Pipeline takes it). The tangent and the scores are those of the
            objective on these data.

        y : array-like of shape (n_samples,)
            Its targets.

        sample_weight : array-like of shape (n_samples,), default=None
            The sample weights it was fitted with.

        Returns
        -------
        converted : CuriousRegressor or Pipeline
            A fitted CuriousRegressor, or, for a Pipeline (or a search whose best
            estimator is one), a Pipeline with copies of its fitted transformers
            and its last step converted.

        Notes
        -----
        The tangent is ``-H^-1 b`` at the given parameters. It is the
        derivative of the fitted parameters in ``alpha`` when the estimator
        was trained to convergence; a network stopped early (or trained with
        ``early_stopping`` on part of the data) gets the tangent of the
        objective on ``X`` at the point where it stopped, as
        ``CuriousRegressor``'s own networks do. ``noise_variance_`` is this
        package's estimate from the residuals and the effective dof, also for
        BayesianRidge (whose own noise precision is ``alpha_``).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> from sklearn_curiosity import CuriousRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 3))
        >>> y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=30)
        >>> ridge = Ridge(alpha=2.0).fit(X, y)
        >>> reg = CuriousRegressor.from_estimator(ridge, X, y)
        >>> bool(np.allclose(reg.predict(X), ridge.predict(X)))
        True
        >>> reg.alpha, reg.tangent_.shape
        (2.0, (4,))
        """
        return convert(cls, estimator, X, y, sample_weight)

    def _fit_at(self, X, y, sample_weight, params, n_iter=None):
        """Fit everything but ``theta``, which is given: see :meth:`from_estimator`."""
        self._validate_params()
        with fitted_state_restored_on_failure(self):
            self._fit(X, y, sample_weight, fixed_params=params)
            if n_iter is not None:
                self.n_iter_ = int(n_iter)
        return self

    def _fit(self, X, y, sample_weight, fixed_params=None):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=("csr", "csc", "coo"),
            dtype=np.float64,
            y_numeric=True,
        )
        y = as_numeric_target(y)
        sample_weight = check_sample_weight(sample_weight, X)
        column_squares = check_squares_finite(X, y, sample_weight)

        alpha, n_regularities = _check_strengths(self.alpha, self.regularizer)
        self._input_center = _input_center(X, sample_weight, column_squares)
        fitter = fit_closed_form if self.model == "linear" else fit_iterative
        fitted = fitter(self, X, y, sample_weight, alpha, n_regularities, fixed_params)
        model, regularizer, params, tangent = (
            fitted.model, fitted.regularizer, fitted.params, fitted.tangent
        )
        weighted_rss, dof = fitted.weighted_rss, fitted.dof
        if self.model == "linear":
            self.coef_, intercept = model.split(params)
            self.intercept_ = float(intercept)
        self.tangent_solver_ = fitted.tangent_solver
        self.n_iter_ = fitted.n_iter
        self._laplace = fitted.laplace

        noise_variance = estimate_noise_variance(weighted_rss, sample_weight.sum(), dof)
        complexity = regularizer.complexity(params, alpha=alpha)
        check_fit_is_finite(
            {"params_": params, "tangent_": tangent, "complexity_": complexity,
             "effective_dof_": dof, "noise_variance_": noise_variance},
            nan_allowed=("noise_variance_",),
        )
        warn_if_curiosity_is_zero(
            X, y, sample_weight, noise_variance, tangent, linear=self.model == "linear"
        )

        self._model = model
        self._architecture = architecture(model, X.shape[1])
        self._hessian = fitted.hessian
        self.params_ = params
        # One regularity keeps the single-tangent shapes: (n_params,), a float.
        if n_regularities == 1:
            self.tangent_ = np.reshape(tangent, -1)
            self.complexity_ = float(np.reshape(complexity, -1)[0])
        else:
            self.tangent_ = tangent
            self.complexity_ = np.asarray(complexity, dtype=np.float64)
        self.effective_dof_ = float(dof)
        self.noise_variance_ = float(noise_variance)

    def _validate_X(self, X, *, scoring=False, sensitivity=False):
        check_is_fitted(self)
        # float32 is kept as it is (no whole-pool copy): blocks are computed
        # in float32 or cast to float64 one at a time in _by_row_chunks.
        # Scoring a linear model checks finiteness on its results instead.
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            reset=False,
            ensure_all_finite=not (scoring and self._finite_from_results(sensitivity)),
        )
        if hasattr(X, "toarray") and self.model not in ("linear", "mlp"):
            # As at fit time: a user Model is written for dense arrays, and on
            # a scipy sparse *matrix* ``X**2`` is a matrix power, not squares.
            X = X.toarray()
        return X

    def _finite_from_results(self, sensitivity=False):
        """Whether a non-finite pool entry always shows in the scoring results.

        A NaN or infinite entry of a row makes the linear model's products
        with that row NaN or infinite (IEEE arithmetic: ``0 * inf`` is NaN), so
        one O(n) look at the results replaces the O(n p) pass over the pool
        that scikit-learn's check costs (as much as the product itself). A
        network's activations map infinity to finite values, so its
        predictions need the pool checked in full; its sensitivities
        (``sensitivity=True``) do not: the first layer's tangent is then
        infinite or NaN too, and the slope of a saturated activation is 0
        (``0 * inf`` is NaN) or, for relu and identity, passes it on.
        """
        if isinstance(self._model, LinearModel):
            return True
        return sensitivity and isinstance(self._model, MLP) and (
            self._model.differentiation == "analytic")

    def _scoring_dtype(self, X):
        """float32 for a dense float32 pool with ``precision="auto"``, else float64."""
        if self.precision == "auto" and X.dtype == np.float32 and not sparse.issparse(X):
            return np.float32
        return np.float64

    def _by_row_chunks(self, func, X, *row_arrays, extra_width=0):
        """``func(X, *row_arrays)`` over chunks of rows (``working_memory``) and cache blocks.

        ``func`` sees blocks of rows in the scoring dtype (a float32 block
        cast to float64 unless the pool is scored in float32). ``extra_width``
        values a row, in that dtype, are the further temporaries ``func``
        holds for a block (the predictive std's centered copy).
        """
        nonfinite = []

        def checked(X_block, *blocks):
            # Each block's results while in cache: a pass over the whole
            # result afterwards would be serial work for n_jobs threads.
            result = func(X_block, *blocks)
            if not np.isfinite(result).all():
                nonfinite.append(True)
            return result

        result = self._by_row_blocks(checked, X, *row_arrays, extra_width=extra_width)
        if nonfinite:
            # scikit-learn's own error if the pool holds NaN or infinity.
            check_array(X, accept_sparse="csr", dtype=None, input_name="X")
            # A finite pool whose results overflow: the rows are named.
            check_finite_scores(result)
        return result

    def _by_row_blocks(self, func, X, *row_arrays, extra_width=0):
        dtype = self._scoring_dtype(X)

        def on_block(X_block, *blocks):
            if sparse.issparse(X_block):
                X_block = X_block.astype(dtype, copy=False)
            else:
                # Rows contiguous (a DataFrame's values are column-major), so that a
                # row's products do not depend on the rows around it in its block.
                X_block = np.ascontiguousarray(X_block, dtype=dtype)
            # An overflow is named by rows afterwards (_by_row_chunks); numpy's
            # warnings would only say "overflow". Set here: n_jobs threads do not
            # inherit the caller's error state.
            with np.errstate(over="ignore", invalid="ignore"):
                return func(X_block, *blocks)

        n_features = X.shape[1]
        n_directions = 1 + self._n_regularities()  # the prediction and each tangent
        # The widest activation of one row with its tangents, and the first
        # layer's product, whose size decides the BLAS threads.
        layer_widths = getattr(self._model, "hidden_layer_sizes", None) or (1,)
        width = n_directions * max(layer_widths)
        # A block: its rows, their cast or centered copies, three activations.
        copies = int(X.dtype != dtype) + int(
            dtype == np.float32 and self._scoring_center() is not None
        )
        block_row_bytes = X.dtype.itemsize * n_features + np.dtype(dtype).itemsize * (
            copies * n_features + 3 * width + extra_width
        )
        first_product_flops = (
            2 * block_n_rows(block_row_bytes) * n_features * n_directions * layer_widths[0]
        )
        return apply_by_row_chunks(
            on_block,
            X,
            *row_arrays,
            # A chunk holds its float64 results; its temporaries are a block's.
            row_bytes=8 * 2 * n_directions,
            block_row_bytes=block_row_bytes,
            product_flops=first_product_flops,
            n_jobs=self.n_jobs,
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

        For a nonlinear model ``H`` is the Gauss-Newton Hessian
        ``sum_i w_i grad f_i grad f_i^T + grad^2 R`` (the linearized model's
        exact Hessian, positive semi-definite by construction), not the exact
        Hessian the tangent uses, plus a weak prior of precision ``1e-10``
        times the largest diagonal entry of ``J^T W J`` on the unpenalized
        parameters (:ref:`theory-singular-directions`): a bias that no
        training prediction depends on (a dead unit's) gets a large, finite
        variance instead of a singular ``H``. It is factorized at fit:
        densely up to 1000 parameters, through the n x n dual when there are
        fewer training rows than parameters, otherwise densely up to 5000
        parameters and by preconditioned conjugate gradients above.

        This is the Bayesian convention of BayesianRidge and
        GaussianProcessRegressor. The frequentist sampling variance of
        ``f(x)`` over repeated labels at a fixed ``theta`` is the sandwich
        ``noise_variance_ * grad f^T H^-1 (sum_i w_i grad f_i grad f_i^T)
        H^-1 grad f`` (:ref:`theory-laplace`); it is smaller by the prior's
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
        X = self._validate_X(X, scoring=True)
        evaluate = self._evaluator(sensitivity=False)
        if not return_std or not isinstance(self._model, LinearModel):
            prediction = self._by_row_chunks(lambda X_block: evaluate(X_block)[0], X)
            if not return_std:
                return prediction
            # A network's form runs over its own chunks (a CG solve costs
            # as much for a few rows as for many).
            quadratic_form = self._laplace.inverse_quadratic_form(X)
            return prediction, np.sqrt(self.noise_variance_ * (1.0 + quadratic_form))

        def prediction_and_std_factor(X_block):
            # One read of each block of the pool for both; sqrt(1 + v) while
            # in cache (finite, so the results' finiteness check holds even
            # where noise_variance_ is NaN).
            out = np.empty((X_block.shape[0], 2))
            out[:, 0] = evaluate(X_block)[0]
            factor = self._quadratic_form(X_block)
            factor += 1.0
            np.sqrt(factor, out=out[:, 1])
            return out

        both = self._by_row_chunks(prediction_and_std_factor, X, extra_width=X.shape[1])
        # Contiguous results, as from any predict: one pass for both.
        prediction, std = np.ascontiguousarray(both.T)
        std *= np.sqrt(self.noise_variance_)
        return prediction, std

    def _n_regularities(self):
        return 1 if np.ndim(self.tangent_) == 1 else self.tangent_.shape[1]

    def regularity_sensitivity(self, X):
        """Sensitivity of the predictions to the regularity, ``g(x) = df(x)/dalpha``.

        With several regularities, one column ``df(x)/dalpha[k]`` each.

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
        sensitivity : ndarray of shape (n_samples,) or (n_samples, n_regularities)
            ``g(x)`` for each sample (and regularity).
        """
        X = self._validate_X(X, scoring=True, sensitivity=True)
        evaluate = self._evaluator(prediction=False)
        return self._by_row_chunks(lambda X_block: evaluate(X_block)[1], X)

    def _scoring_center(self):
        # Estimators pickled before float32 scoring have none: no centering.
        return getattr(self, "_input_center", None)

    def _evaluator(self, prediction=True, sensitivity=True):
        """``X -> (f(X), g(X))`` for blocks of rows, one pass each (``Model.pool_evaluator``)."""
        return self._model.pool_evaluator(
            self.params_,
            self.tangent_ if sensitivity else None,
            center=self._scoring_center(),
            prediction=prediction,
        )

    def _quadratic_form(self, X_block):
        """``v(x) = grad f(x)^T H^-1 grad f(x)`` for a block of rows in the scoring dtype.

        A float32 block (``precision="auto"``) of a linear model factorized in
        the primal is computed in float32
        (:meth:`~sklearn_curiosity._ridge.RidgeHessian.float32_quadratic_form`);
        every other block in float64, a float32 one cast exactly. (The dual's
        form is a difference of two terms that cancel for rows near the
        training rows' span: float32 would lose its digits there.)
        """
        if X_block.dtype == np.float32 and isinstance(self._laplace, RidgeHessian):
            return self._laplace.float32_quadratic_form(X_block)
        return self._laplace.inverse_quadratic_form(X_block)

    def _sensitivity(self, X):
        return self._evaluator(prediction=False)(X)[1]

    def _expected_squared_influence(self, per_regularity=False, uncertainty="noise"):
        """A function of a block of rows: its curiosity scores."""
        evaluate = self._evaluator(prediction=False)

        def scores(X):
            # v(x), in float64 whatever the block's dtype, only when asked for.
            factor = uncertainty_factor(
                uncertainty, None if uncertainty == "noise" else self._quadratic_form(X)
            )
            squared = expected_squared_influence(evaluate(X)[1], self.noise_variance_, factor)
            return total_over_regularities(squared, per_regularity)

        return scores

    def _signed_influence(self, per_regularity=False):
        """A function of a block of rows and their labels: their signed influence."""
        evaluate = self._evaluator()

        def scores(X, y):
            return total_over_regularities(signed_influence(*evaluate(X), y), per_regularity)

        return scores

    def influence_score(self, X, y=None, *, per_regularity=False, uncertainty="noise"):
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

        ``uncertainty`` says what that expectation is over (see
        :ref:`theory-epistemic`). Write the unknown label ``y = f*(x) + eps``;
        under the Laplace posterior the model's error ``f(x) - f*(x)`` has
        variance ``noise_variance_ * v(x)``, with ``v(x) = grad f(x)^T H^-1
        grad f(x)`` the quantity ``predict(return_std=True)`` adds to the
        noise (``std^2 = noise_variance_ * (1 + v)``; for a network, ``H`` is
        the Gauss-Newton Hessian). "noise" (the default, the paper's
        curiosity): over ``eps`` alone, ``noise_variance_ * g^2``. "total":
        over both, ``noise_variance_ * g^2 * (1 + v)``. "epistemic": its part
        that a label can remove, ``noise_variance_ * g^2 * v``, what the model
        does not know yet (the irreducible noise part left out).

        With several regularities each has its own sensitivity ``g_k`` and
        scores ``I_k = (f(x) - y) g_k(x)`` and ``E[I_k^2] = noise_variance_ *
        g_k(x)^2``. Their total (the default, and what the query strategies
        rank by) is ``sum_k I_k`` with labels, the influence on the total
        complexity ``sum_k complexity_[k]``, and ``sum_k E[I_k^2]`` without
        (:ref:`theory-several`): the expected squared norm of the vector of
        influences, not the expected square of their sum.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        y : array-like of shape (n_samples,), default=None
            Labels of the samples, if known.

        per_regularity : bool, default=False
            Return one column per regularity instead of their total (each
            column takes the same uncertainty factor).

        uncertainty : {"noise", "epistemic", "total"}, default="noise"
            Without labels: the expectation over the label noise
            (``noise_variance_ * g^2``), over the posterior of ``f`` alone
            (``noise_variance_ * g^2 * v``), or over both (``noise_variance_ *
            g^2 * (1 + v)``). With ``y``, only "noise" is accepted.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_regularities)
            Signed influence (with ``y``) or expected squared influence
            (without); one column per regularity with ``per_regularity=True``.

        Warns
        -----
        CuriosityWarning
            When every expected squared influence of ``X`` is zero though the
            fit is not degenerate (rows with ``g(x) = 0``, or squares that
            underflow): a ranking by them would be the order of the rows.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_curiosity import CuriousRegressor
        >>> rng = np.random.RandomState(0)
        >>> X = rng.normal(size=(30, 2))
        >>> y = X @ [1.0, -1.0] + 0.3 * rng.normal(size=30)
        >>> reg = CuriousRegressor(alpha=2.0).fit(X, y)
        >>> pool = [[0.0, 0.5], [4.0, -4.0]]
        >>> noise = reg.influence_score(pool)
        >>> total = reg.influence_score(pool, uncertainty="total")
        >>> epistemic = reg.influence_score(pool, uncertainty="epistemic")
        >>> bool(np.allclose(total, noise + epistemic))
        True
        """
        check_uncertainty(uncertainty, y)
        if y is None:
            # The other uncertainties' solves are not meant for non-finite rows.
            X = self._validate_X(X, scoring=True, sensitivity=uncertainty == "noise")
            scores = self._by_row_chunks(
                self._expected_squared_influence(per_regularity, uncertainty), X
            )
            warn_if_scores_are_zero(scores, self)
            return scores
        check_is_fitted(self)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=(np.float64, np.float32),
            y_numeric=True,
            reset=False,
            ensure_all_finite=not self._finite_from_results(sensitivity=True),  # y is checked
        )
        y = as_numeric_target(y)
        return self._by_row_chunks(self._signed_influence(per_regularity), X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _input_center(X, sample_weight, column_squares):
    """The row float32 scoring centers pools on, or None where none is needed.

    The weighted training mean, when some feature's mean is larger than its
    standard deviation: its products would otherwise cancel against the
    intercept and lose float32 digits. Centering costs a pass over each block
    (about a third of the product's time), so data already near zero, such as
    standardized data, is multiplied as it is. ``column_squares`` are the
    columns' weighted sums of squares, which the fit's overflow check has.
    """
    weight_sum = sample_weight.sum()
    if weight_sum <= 0:
        return None
    mean = np.asarray(X.T @ sample_weight).ravel() / weight_sum
    variance = np.maximum(column_squares / weight_sum - mean**2, 0.0)
    return mean if np.any(mean**2 > variance) else None


def _check_strengths(alpha, regularizer):
    """``(alpha, K)``: the strengths as the regularizer takes them, and their number.

    A float is one strength (for a regularizer with a fixed number of
    strengths, the same for each); an array gives one per regularity.
    """
    expected = 1 if regularizer is None else getattr(regularizer, "n_regularities", None)
    if np.ndim(alpha) == 0:
        return float(alpha), expected or 1
    strengths = np.asarray(alpha, dtype=np.float64)
    if strengths.ndim != 1 or strengths.size == 0 or (
        expected is not None and strengths.size != expected
    ):
        remedy = (
            "; for several penalties pass a regularizer such as "
            "regularizer=QuadraticPenalties(...)"
            if regularizer is None
            else ""
        )
        raise ValueError(
            f"alpha must be a number or hold one strength per regularity "
            f"({expected if expected is not None else 'a non-empty 1-D array'}); "
            f"got shape {strengths.shape}{remedy}."
        )
    if not np.all(np.isfinite(strengths)) or np.any(strengths < 0):
        raise ValueError(f"Every strength in alpha must be finite and >= 0; got {strengths}.")
    if regularizer is None:
        return float(strengths[0]), 1
    return strengths, strengths.size
