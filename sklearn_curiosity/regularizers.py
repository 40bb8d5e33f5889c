"""Regularizers: R(alpha, theta) and the derivatives the tangent needs.

A regularizer of the form ``R(alpha, theta) = alpha * Omega(theta)`` knows

- ``complexity(theta) = dR/dalpha = Omega(theta)``, the model complexity c;
- ``alpha_gradient(theta) = d/dalpha grad_theta R``, the right-hand side b of
  the tangent system ``H tau = -b`` (METHOD.md section 2);
- ``gradient(alpha, theta)`` and ``hessian_vector_product(alpha, theta, v)``,
  the derivatives in ``theta`` that iterative training and Hessian-free
  tangent solvers use;
- ``hessian_diagonal(alpha)`` where ``grad_theta^2 R`` is diagonal.

:class:`AutogradRegularizer` turns any ``R(alpha, theta)`` written with
``autograd.numpy`` into such an object.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


class L2Regularizer:
    """Ridge penalty ``R(alpha, theta) = alpha / 2 * ||theta[penalized]||^2``.

    With this scaling a linear model reproduces
    :class:`sklearn.linear_model.Ridge` with the same ``alpha``.

    Parameters
    ----------
    penalized : ndarray of bool, shape (n_params,)
        Which entries of ``theta`` are penalized (intercepts and biases are not).
    """

    def __init__(self, penalized):
        self.penalized = np.asarray(penalized, dtype=bool)

    def value(self, alpha, params):
        return alpha * self.complexity(params)

    def complexity(self, params, alpha=None):
        penalized = params[self.penalized]
        return 0.5 * float(penalized @ penalized)

    def alpha_gradient(self, params, alpha=None):
        # R is linear in alpha: its alpha-derivatives do not depend on alpha.
        return np.where(self.penalized, params, 0.0)

    def gradient(self, alpha, params):
        return alpha * self.alpha_gradient(params)

    def hessian_vector_product(self, alpha, params, vector):
        return alpha * np.where(self.penalized, vector, 0.0)

    def hessian_diagonal(self, alpha):
        return alpha * self.penalized.astype(float)


class AutogradRegularizer:
    """A user-defined regularizer ``R(alpha, theta)`` differentiated by autograd.

    Parameters
    ----------
    function : callable
        ``function(alpha, params) -> float``, written with ``autograd.numpy``,
        smooth in ``params`` and in ``alpha``. Its complexity is
        ``dR/dalpha``, its tangent right-hand side ``d/dalpha grad_theta R``.

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> from sklearn_curiosity.regularizers import AutogradRegularizer
    >>> smooth_l1 = AutogradRegularizer(
    ...     lambda alpha, theta: alpha * anp.sum(anp.sqrt(theta**2 + 1e-2)))
    >>> round(smooth_l1.complexity(anp.array([0.0, 1.0]), alpha=1.0), 4)
    1.105
    """

    def __init__(self, function):
        self.function = function

    def value(self, alpha, params):
        return float(self.function(alpha, params))

    def complexity(self, params, alpha):
        from autograd import grad

        return float(grad(self.function, 0)(float(alpha), params))

    def gradient(self, alpha, params):
        from autograd import grad

        return grad(self.function, 1)(float(alpha), params)

    def alpha_gradient(self, params, alpha):
        from autograd import grad, jacobian

        gradient = grad(self.function, 1)
        return jacobian(lambda a: gradient(a, params))(float(alpha))

    def hessian_vector_product(self, alpha, params, vector):
        from autograd import grad

        def directional(p):
            return grad(self.function, 1)(float(alpha), p) @ vector

        return grad(directional)(params)
