"""The two ways a CuriousRegressor is fitted: in closed form, or by training.

:func:`fit_closed_form` fits the linear model under quadratic penalties with
one factorization (:mod:`._ridge`, primal or dual) that serves the tangent,
the effective dof and the predictive variance. :func:`fit_iterative` trains a
network or a user :class:`~sklearn_curiosity.models.Model`, then factorizes
its Gauss-Newton Hessian (:mod:`._laplace`) and solves for the tangent with
the chosen tangent solver (:mod:`.tangent`). Both read the estimator's
parameters, take ``theta`` as given instead of fitting it when
``fixed_params`` is set (:meth:`CuriousRegressor.from_estimator`), change
nothing on the estimator, and return a :class:`Fitted`, from which
``CuriousRegressor.fit`` sets its attributes.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._laplace import GaussNewtonCovariance
from ._ridge import fit_ridge
from ._threads import blas_threads_for
from ._training import (
    ObjectiveHessianProduct,
    largest_product_flops,
    train_lbfgs,
    train_minibatch,
)
from .models import MLP, LinearModel
from .regularizers import L2Regularizer, QuadraticPenalties
from .tangent import NetworkHessian, check_tangent_options, exact_tangent, lissa_solve

# Above this many parameters "auto" avoids forming the dense Hessian.
AUTO_EXACT_MAX_PARAMS = 500


@dataclass
class Fitted:
    """What a fit found: the model and its regularizer, ``theta*`` and its
    tangent, the Hessian the tangent solves with, the Laplace factor of the
    predictive variance, the weighted residual sum of squares, the effective
    dof, the tangent solver used and the training iterations."""

    model: object
    regularizer: object
    params: np.ndarray
    tangent: np.ndarray
    hessian: object
    laplace: object
    weighted_rss: float
    dof: float
    tangent_solver: str
    n_iter: int


def fit_closed_form(estimator, X, y, sample_weight, alpha, n_regularities, fixed_params=None):
    """The linear model, in closed form under ridge or several quadratic penalties."""
    model = LinearModel(X.shape[1], fit_intercept=estimator.fit_intercept)
    if estimator.regularizer is None:
        regularizer, penalty = L2Regularizer(model.penalized), None
    elif isinstance(estimator.regularizer, QuadraticPenalties):
        regularizer = estimator.regularizer
        check_penalized_size(regularizer, X.shape[1], "X has", "features")
        penalty = regularizer.penalty_matrix(alpha)
    else:
        raise ValueError(
            "model='linear' is fitted in closed form under quadratic "
            "penalties only; use regularizer=None or a QuadraticPenalties, "
            "or a nonlinear model (model='mlp' or a Model instance) for "
            "another regularizer."
        )
    params, hessian, weighted_rss, dof = fit_ridge(
        X, y, sample_weight, alpha, estimator.fit_intercept, penalty=penalty
    )
    if fixed_params is not None:
        # The Hessian and the dof do not depend on theta; the residuals do.
        params = checked_fixed_params(fixed_params, params.size)
        residuals = model.predict(params, X) - y
        weighted_rss = float(sample_weight @ residuals**2)
    tangent = exact_tangent(hessian, regularizer, params, alpha=alpha)
    # Linear in theta: the exact Hessian is the Gauss-Newton one.
    return Fitted(
        model, regularizer, params, tangent, hessian, hessian, weighted_rss, dof, "exact", 1
    )


def fit_iterative(estimator, X, y, sample_weight, alpha, n_regularities, fixed_params=None):
    """A network or user model: train it (unless ``fixed_params``), then its tangent and Hessian.

    A warm start reuses the estimator's fitted parameters (and the forward
    tangent) when its architecture is the same.
    """
    if estimator.model == "mlp":
        model = MLP(estimator.hidden_layer_sizes, estimator.activation, estimator.differentiation)
    else:
        model = copy.deepcopy(estimator.model)
    if hasattr(X, "toarray"):
        # autograd does not differentiate through sparse products; the MLP
        # keeps X sparse, in CSR so that mini-batches can slice rows.
        X = X.tocsr() if isinstance(model, MLP) else X.toarray()
    random_state = check_random_state(estimator.random_state)
    params = model.initialize(X.shape[1], random_state)
    warm = (
        estimator.warm_start
        and getattr(estimator, "tangent_solver_", None) is not None
        and getattr(estimator, "_architecture", None) == architecture(model, X.shape[1])
    )
    if warm:
        params = estimator.params_.copy()
    regularizer = (
        L2Regularizer(model.penalized) if estimator.regularizer is None else estimator.regularizer
    )
    if isinstance(regularizer, QuadraticPenalties):
        check_penalized_size(regularizer, params.size, "the model has", "parameters")

    n_params = params.size
    tangent_solver = estimator.tangent_solver
    if tangent_solver == "auto":
        tangent_solver = "exact" if n_params <= AUTO_EXACT_MAX_PARAMS else "cg"
    if tangent_solver == "forward" and estimator.solver == "lbfgs":
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
    options = check_tangent_options(tangent_solver, estimator.tangent_options)

    # One BLAS thread for the whole fit when even its largest product
    # (the Gauss-Newton factorization, or the exact tangent's dense
    # Hessian) is small: each limit lifted inside would wake the threads
    # again, which costs milliseconds when the other cores are busy.
    n_samples = X.shape[0]
    largest = max(
        largest_product_flops(model, n_samples),
        2.0 * n_samples * n_params * min(n_samples, n_params),
        2.0 * n_samples * n_params**2 if tangent_solver == "exact" else 0.0,
    )
    with blas_threads_for(largest):
        return _train_and_solve(
            estimator, model, regularizer, alpha, X, y, sample_weight, params,
            tangent_solver, options, random_state, warm, fixed_params,
        )


def _train_and_solve(
    estimator, model, regularizer, alpha, X, y, sample_weight, params, tangent_solver, options,
    random_state, warm, fixed_params,
):
    """Train (unless ``fixed_params``), then factorize the Gauss-Newton Hessian
    and solve for the tangent."""
    n_params = params.size
    tangent = None
    # Training's products are (rows, fan_in) x (fan_in, fan_out): below
    # SMALL_PRODUCT_FLOPS a second BLAS thread costs more than it saves.
    batch_rows = X.shape[0] if estimator.solver == "lbfgs" else min(
        X.shape[0], 200 if estimator.batch_size == "auto" else estimator.batch_size
    )
    with blas_threads_for(largest_product_flops(model, batch_rows)):
        if fixed_params is not None:
            params, n_iter = checked_fixed_params(fixed_params, n_params), 0
        elif estimator.solver == "lbfgs":
            params, n_iter = train_lbfgs(
                model, regularizer, alpha, X, y, sample_weight, params, estimator.max_iter,
                estimator.tol,
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
                solver=estimator.solver,
                batch_size=estimator.batch_size,
                learning_rate_init=estimator.learning_rate_init,
                max_iter=estimator.max_iter,
                tol=estimator.tol,
                random_state=random_state,
                track_tangent=tangent_solver == "forward",
                tangent=estimator.tangent_ if warm and tangent_solver == "forward" else None,
            )

    # One factorization of the Gauss-Newton Hessian serves the predictive
    # variance, the effective dof and, as its preconditioner, the "cg"
    # tangent (the exact Hessian differs from it by the residual term).
    laplace = GaussNewtonCovariance(model, regularizer, alpha, X, sample_weight, params)

    hvp = ObjectiveHessianProduct(model, regularizer, alpha, X, y, sample_weight, params)
    # "forward" and "lissa" need no solve with it; their Hessian object
    # solves with CG, so that scores and queries that need H^-1 still work.
    cg_options = options if tangent_solver == "cg" else {}
    exact = tangent_solver == "exact"
    # "exact" forms H by products of (n, P) blocks with (P, P); "cg" and
    # the others run one layer's product per Hessian-vector product.
    with blas_threads_for(
        2.0 * X.shape[0] * n_params**2 if exact
        else largest_product_flops(model, X.shape[0])
    ):
        hessian = NetworkHessian(
            hvp, n_params, "exact" if exact else "cg",
            cg_tol=cg_options.get("tol", 1e-10), cg_maxiter=cg_options.get("maxiter"),
            preconditioner=laplace,
        )
        if tangent_solver == "lissa":
            rhs = regularizer.alpha_gradient(params, alpha=alpha)
            tangent = -lissa_solve(hvp, rhs, random_state=random_state, **options)
        if tangent is None:
            with hvp.forward_kept():
                tangent = exact_tangent(hessian, regularizer, params, alpha=alpha)
        # G (or the training Jacobian) was kept for the tangent's shifted
        # preconditioner only, and that preconditioner for the tangent's
        # solve: a later solve with H rebuilds it (from G's factor).
        laplace.release_unfactorized()
        hessian.release_preconditioner()
        residuals = model.predict(params, X) - y
    weighted_rss = float(sample_weight @ residuals**2)
    return Fitted(
        model, regularizer, params, tangent, hessian, laplace, weighted_rss,
        laplace.effective_dof, tangent_solver, n_iter,
    )


def checked_fixed_params(params, n_params):
    """``params`` as a fresh float64 vector, or a ValueError if it cannot be ``theta``."""
    params = np.asarray(params, dtype=np.float64)
    if params.shape != (n_params,) or not np.isfinite(params).all():
        raise ValueError(
            f"The given parameters have shape {params.shape} (finite: "
            f"{bool(np.isfinite(params).all())}), but the model has {n_params} parameters."
        )
    return params.copy()


def architecture(model, n_features):
    """What a warm start must match: the model's class, input width and layers.

    Two networks can hold the same number of parameters with different
    layouts (3 features and (4,) units, 2 features and (5,) units: 21 each);
    reusing one's weights in the other would start from nonsense, so the
    layout is compared, not the size.
    """
    return (
        type(model),
        n_features,
        getattr(model, "n_params", None),
        getattr(model, "hidden_layer_sizes", None),
        getattr(model, "activation", None),
    )


def check_penalized_size(regularizer, size, owner, unit):
    """Raise if a QuadraticPenalties was built for another number of coefficients."""
    if regularizer.n_coef > size or (unit == "features" and regularizer.n_coef != size):
        raise ValueError(
            f"The regularizer penalizes {regularizer.n_coef} coefficients but "
            f"{owner} {size} {unit}. Build its matrices for {size} {unit}."
        )
