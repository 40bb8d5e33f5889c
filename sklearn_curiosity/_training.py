"""Training a nonlinear model on the regularized objective (:ref:`theory-objective`).

The objective ``L(theta) = sum_i w_i/2 (f(x_i) - y_i)^2 + R(alpha, theta)`` is
minimized after division by ``sum_i w_i`` (the same minimizer), so that ``tol``
and ``learning_rate_init`` mean what they mean for sklearn's
:class:`~sklearn.neural_network.MLPRegressor`, whose ``alpha`` also equals ours.

- :func:`train_lbfgs`: scipy's L-BFGS-B on the full batch;
- :func:`train_minibatch`: mini-batch "sgd" (momentum 0.9) or "adam". With
  ``track_tangent=True`` it also carries the forward ("SGDF") tangent through
  the iterations (:ref:`theory-solvers`): the exact derivative in ``alpha`` of
  every iterate, at the cost of one mini-batch Hessian-vector product per
  step. At convergence it is the regularity tangent; at a finite step count it
  is the derivative of the trained iterate itself.
"""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import warnings

import numpy as np
from scipy import optimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from .regularizers import hessian_product

_MOMENTUM = 0.9
_BETA_1, _BETA_2, _EPSILON = 0.9, 0.999, 1e-8
_N_ITER_NO_CHANGE = 10


def largest_product_flops(model, n_rows):
    """Floating-point operations of the largest matrix product of one pass.

    For an :class:`~sklearn_curiosity.models.MLP`, its widest layer applied
    to ``n_rows`` rows; for another model, ``n_rows`` times its parameters
    (an upper bound for a model that touches each parameter once per row).
    """
    shapes = getattr(model, "shapes", None)
    if shapes:
        return 2.0 * n_rows * max(fan_in * fan_out for fan_in, fan_out in shapes)
    return 2.0 * n_rows * getattr(model, "n_params", 1)


def objective(model, regularizer, alpha, X, y, sample_weight, params):
    """``(value, gradient)`` of the regularized objective, not rescaled."""
    loss, grad = model.loss_grad(params, X, y, sample_weight)
    return (
        loss + regularizer.value(alpha, params),
        grad + regularizer.gradient(alpha, params),
    )


def train_lbfgs(model, regularizer, alpha, X, y, sample_weight, params, max_iter, tol):
    """Minimize with L-BFGS-B; returns ``(params, n_iter)``."""
    scale = 1.0 / sample_weight.sum()

    def fun(theta):
        value, grad = objective(model, regularizer, alpha, X, y, sample_weight, theta)
        return scale * value, scale * grad

    result = optimize.minimize(
        fun,
        params,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "maxfun": 15000, "gtol": tol, "ftol": 0.0},
    )
    if result.status == 1:
        warnings.warn(
            f"L-BFGS did not converge in max_iter={max_iter} iterations; "
            "raise max_iter. The tangent is computed at the last iterate.",
            ConvergenceWarning,
        )
    return result.x, int(result.nit)


def train_minibatch(
    model,
    regularizer,
    alpha,
    X,
    y,
    sample_weight,
    params,
    *,
    solver,
    batch_size,
    learning_rate_init,
    max_iter,
    tol,
    random_state,
    track_tangent=False,
    tangent=None,
):
    """Mini-batch "sgd" or "adam" for ``max_iter`` epochs (fewer if ``tol`` stops).

    Returns ``(params, tangent, n_iter)``; ``tangent`` is None unless
    ``track_tangent``. ``tol=None`` disables the early stop.
    """
    n_samples = X.shape[0]
    batch_size = min(200, n_samples) if batch_size == "auto" else min(batch_size, n_samples)
    weight_total = sample_weight.sum()
    penalized_rhs = regularizer.alpha_gradient
    start_value = objective(model, regularizer, alpha, X, y, sample_weight, params)[0]
    params = params.copy()
    velocity = np.zeros_like(params)  # sgd momentum, or adam's first moment
    second = np.zeros_like(params)
    if track_tangent:
        tangent = np.zeros_like(params) if tangent is None else tangent.copy()
        d_velocity = np.zeros_like(params)
        d_second = np.zeros_like(params)
    best_loss, no_change, step = np.inf, 0, 0
    lr = learning_rate_init
    for epoch in range(max_iter):
        order = random_state.permutation(n_samples)
        epoch_loss = 0.0
        for batch in gen_batches(n_samples, batch_size):
            idx = order[batch]
            Xb, yb, wb = X[idx], y[idx], sample_weight[idx]
            # The batch estimate of grad L / sum(w): data term from the batch,
            # the penalty scaled by the batch's share of the total weight.
            share = wb.sum() / weight_total
            scale = 1.0 / wb.sum()
            if track_tangent:
                # One fused pass: the gradient and H_B tau share the forward.
                loss, grad, loss_hvp = model.loss_grad_hvp(params, Xb, yb, wb, tangent)
            else:
                loss, grad = model.loss_grad(params, Xb, yb, wb)
            grad = scale * (grad + share * regularizer.gradient(alpha, params))
            epoch_loss += scale * (loss + share * regularizer.value(alpha, params)) * len(idx)
            if track_tangent:
                # d/dalpha of the batch gradient: H_B tau + d_alpha grad R.
                d_grad = scale * (
                    loss_hvp
                    + share
                    * (
                        regularizer.hessian_vector_product(alpha, params, tangent)
                        + penalized_rhs(params, alpha)
                    )
                )
            step += 1
            if solver == "sgd":
                velocity = _MOMENTUM * velocity - lr * grad
                params += velocity
                if track_tangent:
                    d_velocity = _MOMENTUM * d_velocity - lr * d_grad
                    tangent += d_velocity
            else:
                velocity = _BETA_1 * velocity + (1 - _BETA_1) * grad
                second = _BETA_2 * second + (1 - _BETA_2) * grad**2
                m_hat = velocity / (1 - _BETA_1**step)
                v_hat = second / (1 - _BETA_2**step)
                root = np.sqrt(v_hat)
                params -= lr * m_hat / (root + _EPSILON)
                if track_tangent:
                    # Exact derivative of the Adam step, second moment included.
                    d_velocity = _BETA_1 * d_velocity + (1 - _BETA_1) * d_grad
                    d_second = _BETA_2 * d_second + (1 - _BETA_2) * 2 * grad * d_grad
                    dm_hat = d_velocity / (1 - _BETA_1**step)
                    dv_hat = d_second / (1 - _BETA_2**step)
                    d_root = np.where(root > 0, dv_hat / (2 * np.where(root > 0, root, 1.0)), 0.0)
                    tangent -= lr * (
                        dm_hat / (root + _EPSILON) - m_hat * d_root / (root + _EPSILON) ** 2
                    )
        if not np.all(np.isfinite(params)):
            raise ValueError(
                f"Training diverged (non-finite parameters) with solver={solver!r} "
                f"and learning_rate_init={learning_rate_init}: lower learning_rate_init "
                "or scale the features."
            )
        epoch_loss /= n_samples
        if tol is not None:
            if epoch_loss > best_loss - tol:
                no_change += 1
            else:
                no_change = 0
            best_loss = min(best_loss, epoch_loss)
            if no_change >= _N_ITER_NO_CHANGE:
                n_iter, stopped = epoch + 1, True
                break
    else:
        n_iter, stopped = max_iter, False
    _check_descended(model, regularizer, alpha, X, y, sample_weight, params,
                     start_value, solver, learning_rate_init)
    if tol is not None and not stopped:
        warnings.warn(
            f"Stochastic optimizer {solver!r}: maximum iterations ({max_iter}) "
            "reached and the optimization hasn't converged yet.",
            ConvergenceWarning,
        )
    return params, (tangent if track_tangent else None), n_iter


def _check_descended(model, regularizer, alpha, X, y, sample_weight, params,
                     start_value, solver, learning_rate_init):
    """Refuse a stochastic training that ended above the objective it started from.

    Steps too large for the curvature make the iterates oscillate and grow
    while staying finite: the parameters are then no minimizer, and the
    tangent and scores built on them would be meaningless numbers.
    """
    end_value = objective(model, regularizer, alpha, X, y, sample_weight, params)[0]
    if not end_value <= start_value:
        raise ValueError(
            f"Training diverged: with solver={solver!r} and learning_rate_init="
            f"{learning_rate_init}, the training objective rose from {start_value:.4g} "
            f"at the starting parameters to {end_value:.4g}. Lower learning_rate_init, "
            "scale the features, or use solver='lbfgs'."
        )


class ObjectiveHessianProduct:
    """``v -> H v`` for the regularized objective at fixed ``params`` (picklable).

    Holds the training data: Hessian-free tangent solvers and later solves
    with the Hessian need it.
    """

    def __init__(self, model, regularizer, alpha, X, y, sample_weight, params):
        self.model = model
        self.regularizer = regularizer
        self.alpha = alpha
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.params = params

    @property
    def n_samples(self):
        return self.X.shape[0]

    def __call__(self, vector):
        """``H v``; a block (n_params, k) of directions goes through the model at once."""
        forward = getattr(self, "_forward", None)
        kwargs = {} if forward is None else {"forward": forward}
        return self.model.loss_hvp(
            self.params, self.X, self.y, self.sample_weight, vector, **kwargs
        ) + hessian_product(self.regularizer, self.alpha, self.params, vector)

    @contextlib.contextmanager
    def forward_kept(self):
        """Within the block, products reuse one forward pass of the training data.

        The tangent's solver runs a hundred products or more at the same
        ``params``; what they share (the activations and the plain backward
        pass, a few times ``n_samples`` times the hidden widths) is dropped
        on exit, so that a fitted estimator does not carry it. Only for
        models whose ``loss_hvp`` takes it (the analytic MLP's ``_kept_pass``).
        """
        if getattr(self.model, "differentiation", None) == "analytic" and hasattr(
            self.model, "_kept_pass"
        ):
            self._forward = self.model._kept_pass(
                self.params, self.X, self.y, self.sample_weight
            )
        try:
            yield self
        finally:
            self._forward = None

    def dense(self):
        """The dense ``H``, from the model's ``loss_hessian``."""
        eye = np.eye(self.params.size)
        return self.model.loss_hessian(
            self.params, self.X, self.y, self.sample_weight
        ) + hessian_product(self.regularizer, self.alpha, self.params, eye)

    def batch(self, rows, vector):
        """Unbiased estimate of ``H v`` from the rows ``rows`` (mini-batch HVP).

        The batch's data term is scaled up by the total sample weight over
        the batch's; the penalty's term is exact.
        """
        weights = self.sample_weight[rows]
        batch_weight = weights.sum()
        data = 0.0
        if batch_weight > 0:
            data = (self.sample_weight.sum() / batch_weight) * self.model.loss_hvp(
                self.params, self.X[rows], self.y[rows], weights, vector
            )
        return data + hessian_product(self.regularizer, self.alpha, self.params, vector)
