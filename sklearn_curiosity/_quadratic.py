"""Closed-form fit of a linear model under a general quadratic penalty.

``1/2 sum_i w_i (y_i - x_i.coef - b)^2 + 1/2 coef^T P coef`` with ``P`` any
symmetric positive semi-definite matrix (``sum_k s_k Q_k`` for several
penalties). The intercept is eliminated exactly as for the ridge fit, so the
factorized Hessian is a :class:`~sklearn_curiosity._ridge.RidgeHessian` whose
Cholesky factor is that of ``Xc^T W Xc + P``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy import linalg
from scipy.linalg import LinAlgWarning

from ._ridge import _COLLINEAR_PIVOT, RidgeHessian, _centered_weighted_gram

_SINGULAR_MESSAGE = (
    "The penalized Hessian X^T W X + sum_k alpha_k Q_k is singular or "
    "numerically singular (alpha={alpha!r}: the penalties leave collinear or "
    "constant features unpenalized, or there are more features than samples). "
    "Raise the strengths, add an L2 penalty, or remove the redundant features."
)


def fit_quadratic(X, y, sample_weight, penalty, fit_intercept, alpha=None):
    """Minimize ``1/2 sum_i w_i (y_i - x_i.coef - b)^2 + 1/2 coef^T penalty coef``.

    Parameters
    ----------
    penalty : ndarray of shape (n_features, n_features)
        Symmetric positive semi-definite penalty matrix.

    alpha : object, default=None
        The strengths, only to name them in error messages.

    Returns
    -------
    params, hessian, weighted_rss, dof
        As :func:`~sklearn_curiosity._ridge.fit_ridge`; ``dof = n_params -
        trace((Xc^T W Xc + P)^-1 P)``, the trace of the hat matrix.
    """
    gram, Xy, weighted_rss, X_offset, y_offset = _centered_weighted_gram(
        X, y, sample_weight, fit_intercept
    )
    gram_diagonal = np.diag(gram).copy()
    gram += penalty
    try:
        cholesky = linalg.cholesky(gram, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha)) from None
    pivots = np.diag(cholesky) ** 2
    if np.any(pivots <= _COLLINEAR_PIVOT * (gram_diagonal + np.abs(np.diag(penalty)))):
        if not np.any(penalty):
            raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha))
        warnings.warn(
            f"The penalized Hessian is ill-conditioned at alpha={alpha!r}: the "
            "tangents and the scores may have lost most of their digits. Raise "
            "the strengths, or remove redundant features.",
            LinAlgWarning,
        )

    hessian = RidgeHessian(cholesky, X_offset, sample_weight.sum(), fit_intercept)
    coef = hessian.solve_centered(Xy)
    params = np.append(coef, y_offset - X_offset @ coef) if fit_intercept else coef
    # trace(hat) = trace((G + P)^-1 G) = p - trace((G + P)^-1 P), plus the intercept.
    dof = len(coef) - np.trace(hessian.solve_centered(penalty)) + int(fit_intercept)
    return params, hessian, weighted_rss(coef), float(dof)
