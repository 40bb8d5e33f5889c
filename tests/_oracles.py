"""Oracles shared by the tests, independent of the package's derivatives and solvers."""

import copy

import autograd.numpy as anp
import numpy as np
from autograd import grad, hessian


def autograd_traceable(model):
    """``model``, or a copy of a network whose forward pass is written in autograd.numpy.

    The analytic network computes with plain numpy, which autograd before 1.8
    cannot trace (``np.tanh`` on its boxes); the outputs are the same.
    """
    if getattr(model, "differentiation", None) != "analytic":
        return model
    model = copy.copy(model)
    model.differentiation = "autograd"
    return model


def newton_refit(model, alpha, X, y, params, regularizer_value):
    """Refit at ``alpha`` by Newton's method on autograd's dense Hessian.

    Independent of the package's hand-written derivatives and solvers; converged
    to a gradient of ~1e-13, so the refit error is far below the O(h^2) error
    of the central difference.
    """

    model = autograd_traceable(model)

    def objective(p):
        return 0.5 * anp.sum((model.predict(p, X) - y) ** 2) + regularizer_value(alpha, p)

    g, H = grad(objective), hessian(objective)
    for _ in range(30):
        step = np.linalg.solve(H(params), g(params))
        params = params - step
        if np.abs(step).max() < 1e-14:
            break
    assert np.abs(g(params)).max() < 1e-9
    return params


def newton_tangent(model, strengths, X, y, params, regularizer_value, h=1e-4):
    """``d theta* / d s_k`` for every strength, by central differences of Newton refits."""
    strengths = np.asarray(strengths, dtype=float)
    columns = []
    for step in np.eye(strengths.size) * h:
        plus = newton_refit(model, strengths + step, X, y, params, regularizer_value)
        minus = newton_refit(model, strengths - step, X, y, params, regularizer_value)
        columns.append((plus - minus) / (2 * h))
    return np.column_stack(columns)


def epistemic_curiosity(estimator, X):
    """``sigma^2 g^2 v`` from the noise curiosity and ``predict(return_std=True)``.

    ``v = std^2 / sigma^2 - 1`` comes from the predictive std, a code path apart
    from ``influence_score(..., uncertainty="epistemic")``, which it checks.
    """
    from sklearn.pipeline import Pipeline

    from sklearn_curiosity import influence_score

    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    _, std = estimator.predict(X, return_std=True)
    v = std**2 / final.noise_variance_ - 1.0
    return influence_score(estimator, X, uncertainty="noise") * v
