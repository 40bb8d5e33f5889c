"""Tangent solvers: tau = d theta*/d alpha = -H^-1 b (METHOD.md section 5).

A solver only solves the tangent system ``H tau = -b`` with
``b = regularizer.alpha_gradient(theta*)``; it knows nothing of the model
beyond what the Hessian object offers.

- :func:`exact_tangent`: ``H`` is factorized (for the linear model the fit's
  own Cholesky factor), one solve.
"""

# SPDX-License-Identifier: BSD-3-Clause


def exact_tangent(hessian, regularizer, params):
    """Solve ``H tau = -b`` with a factorized Hessian.

    Parameters
    ----------
    hessian : object with a ``solve(rhs)`` method
        The factorized Hessian of the training objective at ``params``.

    regularizer : regularizer
        Supplies ``b = alpha_gradient(params)``.

    params : ndarray of shape (n_params,)
        The fitted parameters ``theta*``.

    Returns
    -------
    tangent : ndarray of shape (n_params,)
    """
    return -hessian.solve(regularizer.alpha_gradient(params))
