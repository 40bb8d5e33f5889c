"""CuriousRegressor: a scikit-learn regressor that knows its regularity tangent."""

# SPDX-License-Identifier: BSD-3-Clause

import copy
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._chunking import apply_by_row_chunks
from ._laplace import GaussNewtonCovariance
from ._ridge import fit_ridge
from ._training import ObjectiveHessianProduct, train_lbfgs, train_minibatch
from ._utils import fitted_state_restored_on_failure
from .models import MLP, LinearModel, Model
from .regularizers import L2Regularizer, QuadraticPenalties
from .scores import (
    check_uncertainty,
    estimate_noise_variance,
    expected_squared_influence,
    signed_influence,
    total_over_regularities,
    uncertainty_factor,
)
from .tangent import NetworkHessian, check_tangent_options, exact_tangent, lissa_solve

# Above this many parameters "auto" avoids forming the dense Hessian.
_AUTO_EXACT_MAX_PARAMS = 500


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

    hidden_layer_sizes : tuple of int, default=(32,)
        Widths of the hidden layers of the MLP.

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
        "forward" tangent, its tangent) when their shape still matches.

    tangent_solver : {"auto", "exact", "cg", "forward", "lissa"}, default="auto"
        How a nonlinear model's tangent is computed (METHOD.md section 5).
        "exact": the dense Hessian (in closed form for a one-hidden-layer
        MLP, otherwise as a block of ``n_params`` Hessian-vector products),
        Cholesky. "cg": conjugate gradients on Hessian-vector products.
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
          allowed per start; a negative curvature raises the damping and
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
        processors.

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
        wherever training stopped. Exact up to 1000 parameters, a Hutchinson
        estimate (10 probes) above.

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
            HasMethods(["value", "gradient", "complexity", "alpha_gradient", "hessian_vector_product"]),
        ],
        "n_jobs": [None, Integral],
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

        alpha, n_regularities = _check_strengths(self.alpha, self.regularizer)
        if self.model == "linear":
            model = LinearModel(X.shape[1], fit_intercept=self.fit_intercept)
            if self.regularizer is None:
                regularizer, penalty = L2Regularizer(model.penalized), None
            elif isinstance(self.regularizer, QuadraticPenalties):
                regularizer = self.regularizer
                _check_penalized_size(regularizer, X.shape[1], "X has", "features")
                penalty = regularizer.penalty_matrix(alpha)
            else:
                raise ValueError(
                    "model='linear' is fitted in closed form under quadratic "
                    "penalties only; use regularizer=None or a QuadraticPenalties, "
                    "or a nonlinear model (model='mlp' or a Model instance) for "
                    "another regularizer."
                )
            params, hessian, weighted_rss, dof = fit_ridge(
                X, y, sample_weight, alpha, self.fit_intercept, penalty=penalty
            )
            tangent = exact_tangent(hessian, regularizer, params, alpha=alpha)
            self.coef_, self.intercept_ = model.split(params)
            self.intercept_ = float(self.intercept_)
            self.tangent_solver_ = "exact"
            self.n_iter_ = 1
            # Linear in theta: the exact Hessian is the Gauss-Newton one.
            self._laplace = hessian
        else:
            model, regularizer, params, hessian, tangent, weighted_rss, dof = (
                self._fit_nonlinear(X, y, sample_weight, alpha, n_regularities)
            )

        noise_variance = estimate_noise_variance(weighted_rss, sample_weight.sum(), dof)

        self._model = model
        self._hessian = hessian
        self.params_ = params
        complexity = regularizer.complexity(params, alpha=alpha)
        # One regularity keeps the single-tangent shapes: (n_params,), a float.
        if n_regularities == 1:
            self.tangent_ = np.reshape(tangent, -1)
            self.complexity_ = float(np.reshape(complexity, -1)[0])
        else:
            self.tangent_ = tangent
            self.complexity_ = np.asarray(complexity, dtype=np.float64)
        self.effective_dof_ = float(dof)
        self.noise_variance_ = float(noise_variance)

    def _fit_nonlinear(self, X, y, sample_weight, alpha, n_regularities):
        """Train a network or user model, then its tangent and its Hessian."""
        if self.model == "mlp":
            model = MLP(self.hidden_layer_sizes, self.activation, self.differentiation)
        else:
            model = copy.deepcopy(self.model)
        if hasattr(X, "toarray"):
            # autograd does not differentiate through sparse products; the MLP
            # keeps X sparse, in CSR so that mini-batches can slice rows.
            X = X.tocsr() if isinstance(model, MLP) else X.toarray()
        random_state = check_random_state(self.random_state)
        params = model.initialize(X.shape[1], random_state)
        warm = (
            self.warm_start
            and hasattr(self, "params_")
            and getattr(self, "tangent_solver_", None) is not None
            and self._model.__class__ is model.__class__
            and self.params_.shape == params.shape
        )
        if warm:
            params = self.params_.copy()
        regularizer = (
            L2Regularizer(model.penalized) if self.regularizer is None else self.regularizer
        )
        if isinstance(regularizer, QuadraticPenalties):
            _check_penalized_size(regularizer, params.size, "the model has", "parameters")

        n_params = params.size
        tangent_solver = self.tangent_solver
        if tangent_solver == "auto":
            tangent_solver = "exact" if n_params <= _AUTO_EXACT_MAX_PARAMS else "cg"
        if tangent_solver == "forward" and self.solver == "lbfgs":
            raise ValueError(
                "tangent_solver='forward' carries the tangent through mini-batch "
                "training steps: use solver='adam' or solver='sgd', or another "
                "tangent_solver with solver='lbfgs'."
            )
        if tangent_solver == "forward" and n_regularities > 1:
            raise ValueError(
                f"tangent_solver='forward' carries one tangent, but alpha has "
                f"{n_regularities} regularities: use tangent_solver='exact' or 'cg'."
            )
        options = check_tangent_options(tangent_solver, self.tangent_options)

        tangent = None
        if self.solver == "lbfgs":
            params, n_iter = train_lbfgs(
                model, regularizer, alpha, X, y, sample_weight, params, self.max_iter, self.tol
            )
        else:
            params, tangent, n_iter = train_minibatch(
                model,
                regularizer,
                alpha,
                X,
                y,
                sample_weight,
                params,
                solver=self.solver,
                batch_size=self.batch_size,
                learning_rate_init=self.learning_rate_init,
                max_iter=self.max_iter,
                tol=self.tol,
                random_state=random_state,
                track_tangent=tangent_solver == "forward",
                tangent=self.tangent_ if warm and tangent_solver == "forward" else None,
            )

        hvp = ObjectiveHessianProduct(model, regularizer, alpha, X, y, sample_weight, params)
        # "forward" and "lissa" need no solve with it; their Hessian object
        # solves with CG, so that scores and queries that need H^-1 still work.
        cg_options = options if tangent_solver == "cg" else {}
        hessian = NetworkHessian(
            hvp, n_params, "exact" if tangent_solver == "exact" else "cg",
            cg_tol=cg_options.get("tol", 1e-10), cg_maxiter=cg_options.get("maxiter"),
        )
        if tangent_solver == "lissa":
            rhs = regularizer.alpha_gradient(params, alpha=alpha)
            tangent = -lissa_solve(hvp, rhs, random_state=random_state, **options)
        if tangent is None:
            tangent = exact_tangent(hessian, regularizer, params, alpha=alpha)

        residuals = model.predict(params, X) - y
        weighted_rss = float(sample_weight @ residuals**2)
        # Factorized now, beside the fit's other O(n p^2) work: up to 1000
        # parameters a fitted (or unpickled) estimator keeps only the factor.
        self._laplace = GaussNewtonCovariance(model, regularizer, alpha, X, sample_weight, params)
        dof = self._laplace.effective_dof
        self.tangent_solver_ = tangent_solver
        self.n_iter_ = n_iter
        return model, regularizer, params, hessian, tangent, weighted_rss, dof

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

        # A float64 copy of the row, and a few float64 outputs per row and regularity.
        row_bytes = 8 * (X.shape[1] + 4 * self._n_regularities())
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

        For a nonlinear model ``H`` is the Gauss-Newton Hessian
        ``sum_i w_i grad f_i grad f_i^T + grad^2 R`` (the linearized model's
        exact Hessian, positive semi-definite by construction), not the exact
        Hessian the tangent uses. It is formed and factorized at fit up to
        1000 parameters; above, each chunk of rows is solved by conjugate
        gradients on Gauss-Newton products over the training data.

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
        quadratic_form = self._laplace.inverse_quadratic_form(X)
        std = np.sqrt(self.noise_variance_ * (1.0 + quadratic_form))
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
        X = self._validate_X(X)
        return self._by_row_chunks(self._sensitivity, X)

    def _sensitivity(self, X):
        return self._model.jvp(self.params_, X, self.tangent_)

    def _expected_squared_influence(self, X, per_regularity=False, uncertainty="noise"):
        # v(x) is computed only when the uncertainty asks for it.
        factor = uncertainty_factor(
            uncertainty,
            None if uncertainty == "noise" else self._laplace.inverse_quadratic_form(X),
        )
        scores = expected_squared_influence(self._sensitivity(X), self.noise_variance_, factor)
        return total_over_regularities(scores, per_regularity)

    def _signed_influence(self, X, y, per_regularity=False):
        prediction = self._model.predict(self.params_, X)
        scores = signed_influence(prediction, self._sensitivity(X), y)
        return total_over_regularities(scores, per_regularity)

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
        (METHOD.md section 6): the expected squared norm of the vector of
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
            return self._by_row_chunks(
                partial(
                    self._expected_squared_influence,
                    per_regularity=per_regularity,
                    uncertainty=uncertainty,
                ),
                self._validate_X(X),
            )
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
        return self._by_row_chunks(
            partial(self._signed_influence, per_regularity=per_regularity), X, y
        )

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


def _check_penalized_size(regularizer, size, owner, unit):
    if regularizer.n_coef > size or (unit == "features" and regularizer.n_coef != size):
        raise ValueError(
            f"The regularizer penalizes {regularizer.n_coef} coefficients but "
            f"{owner} {size} {unit}. Build its matrices for {size} {unit}."
        )


def _package_version():
    from . import __version__  # not at import time: __init__ imports this module

    return __version__


def _major_minor(version):
    return tuple(version.split(".")[:2])
