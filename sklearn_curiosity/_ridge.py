"""Closed-form fit of a linear model under a quadratic penalty, with its Hessian.

The penalty is ``alpha/2 ||coef||^2`` (ridge) or any ``1/2 coef^T P coef`` with
``P`` symmetric positive semi-definite (several penalties ``P = sum_k s_k Q_k``).

One Cholesky factorization of the centered, weighted Gram matrix serves the
fit, the tangent (one extra triangular solve pair), the effective degrees of
freedom and, later, every solve with the Hessian that scores and queries need.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import LinAlgWarning

from ._chunking import row_blocks

# Pivots of the Cholesky factor below this fraction of the matching diagonal
# entry mean a feature is (numerically) a combination of the earlier ones.
_COLLINEAR_PIVOT = 1e3 * np.finfo(np.float64).eps

_SINGULAR_MESSAGE = (
    "The penalized Hessian X^T W X + alpha*I is singular or numerically "
    "singular (alpha={alpha!r} with collinear or constant features, or more "
    "features than samples; with several penalties, features they leave "
    "unpenalized). Raise alpha above 0, or remove the redundant features."
)


class RidgeHessian:
    """Cholesky-factorized Hessian of the ridge objective in ``theta`` layout.

    For ``theta = [coef, intercept]`` the Hessian is::

        H = [[X^T W X + P,  X^T w],
             [w^T X,        sum(w)]]

    with ``P = alpha I`` for ridge. Only the Schur complement of the
    intercept, ``Xc^T W Xc + P`` (``Xc``
    centered with the weighted means), is factorized; the intercept row is
    eliminated by block substitution, so ``H`` is never formed.

    Parameters
    ----------
    cholesky : ndarray of shape (n_features, n_features)
        Lower Cholesky factor of ``Xc^T W Xc + P``.

    X_offset : ndarray of shape (n_features,)
        Weighted feature means (zeros without an intercept).

    weight_sum : float
        Sum of the sample weights.

    fit_intercept : bool
        Whether ``theta`` ends with an intercept.
    """

    def __init__(self, cholesky, X_offset, weight_sum, fit_intercept):
        self.cholesky = cholesky
        self.X_offset = X_offset
        self.weight_sum = weight_sum
        self.fit_intercept = fit_intercept

    def solve_centered(self, rhs):
        """Solve ``(Xc^T W Xc + P) u = rhs`` (rhs of shape (p,) or (p, k))."""
        return linalg.cho_solve((self.cholesky, True), rhs, check_finite=False)

    def solve(self, rhs):
        """Solve ``H v = rhs`` with ``rhs`` in ``theta`` layout, (n_params,) or (n_params, k)."""
        rhs = np.asarray(rhs, dtype=np.float64)
        if not self.fit_intercept:
            return self.solve_centered(rhs)
        r, t = rhs[:-1], rhs[-1]
        # Block elimination of the intercept row: c = (t - s^T u) / S with
        # s = S * X_offset, whose Schur complement is the centered Gram matrix.
        u = self.solve_centered(r - np.multiply.outer(self.X_offset, t))
        c = t / self.weight_sum - self.X_offset @ u
        return np.concatenate([u, np.reshape(c, (1,) + np.shape(c))], axis=0)

    def inverse_quadratic_form(self, X):
        """``grad f(x)^T H^-1 grad f(x)`` for every row ``x`` of ``X``.

        For the linear model ``grad f(x) = [x, 1]`` and, by the same block
        elimination as :meth:`solve`, ``[x, 1]^T H^-1 [x, 1] = (x - X_offset)^T
        (Xc^T W Xc + P)^-1 (x - X_offset) + 1 / sum(w)``: one triangular
        solve with the stored factor per row chunk, ``H^-1`` never formed.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        quadratic_form : ndarray of shape (n_samples,)
        """
        n_samples, n_features = X.shape
        out = np.empty(n_samples)
        # ||L^-1 (x - X_offset)||^2 as one matrix product with the explicit
        # inverse factor per block of rows: 2 p^2 flops a row, at matrix-product
        # speed (a triangular solve does half the flops at a quarter of the
        # speed). Blocks of a few hundred kilobytes keep their centered float64
        # copy in cache; a float32 pool is cast exactly, so its result equals
        # that of the same values in float64.
        inverse_factor = self._inverse_factor()
        for rows in row_blocks(n_samples, 3 * 8 * n_features):
            block = X[rows]
            block = block.toarray() if sparse.issparse(block) else block
            centered = block.astype(np.float64)
            centered -= self.X_offset
            z = centered @ inverse_factor.T
            out[rows] = np.einsum("ij,ij->i", z, z)
        if self.fit_intercept:
            out += 1.0 / self.weight_sum
        return out

    def _inverse_factor(self):
        """``L^-1``, computed once (p^3 / 3 flops) and kept."""
        if getattr(self, "_inverse_factor_cache", None) is None:
            self._inverse_factor_cache = linalg.solve_triangular(
                self.cholesky, np.eye(len(self.cholesky)), lower=True, check_finite=False
            )
        return self._inverse_factor_cache

    def trace_inverse_centered(self):
        """``trace((Xc^T W Xc + P)^-1)``, the squared norm of ``L^-1``."""
        L_inv = linalg.solve_triangular(
            self.cholesky, np.eye(len(self.cholesky)), lower=True, check_finite=False
        )
        return float(np.sum(L_inv**2))


def weighted_offsets(X, y, sample_weight, fit_intercept):
    """Weighted means ``(X_offset, y_offset)`` (zeros without an intercept)."""
    if not fit_intercept:
        return np.zeros(X.shape[1]), 0.0
    weight_sum = sample_weight.sum()
    X_offset = np.asarray(sample_weight @ X).ravel() / weight_sum
    return X_offset, float(sample_weight @ y) / weight_sum


def _centered_weighted_gram(X, y, sample_weight, fit_intercept):
    """Return ``(Xc^T W Xc, Xc^T W yc, weighted RSS function, X_offset, y_offset)``.

    Dense ``X`` is centered and scaled by ``sqrt(w)`` in one copy, so the Gram
    product is a single symmetric matrix product. Sparse ``X`` is not centered
    (that would densify it): the rank-one correction is applied to its Gram
    matrix instead.
    """
    weight_sum = sample_weight.sum()
    X_offset, y_offset = weighted_offsets(X, y, sample_weight, fit_intercept)
    sqrt_w = np.sqrt(sample_weight)
    y_scaled = sqrt_w * (y - y_offset)

    if sparse.issparse(X):
        X_weighted = sparse.diags(sample_weight) @ X
        gram = np.asarray((X.T @ X_weighted).todense())
        gram -= weight_sum * np.outer(X_offset, X_offset)
        # Xc^T W yc = X^T W yc, since yc has weighted mean zero.
        Xy = np.asarray(X_weighted.T @ (y - y_offset)).ravel()

        def weighted_rss(coef):
            resid = y_scaled - sqrt_w * (X @ coef - X_offset @ coef)
            return float(resid @ resid)

    else:
        X_scaled = X - X_offset if fit_intercept else X.copy()
        X_scaled *= sqrt_w[:, np.newaxis]
        gram = X_scaled.T @ X_scaled
        Xy = X_scaled.T @ y_scaled

        def weighted_rss(coef):
            resid = y_scaled - X_scaled @ coef
            return float(resid @ resid)

    return gram, Xy, weighted_rss, X_offset, y_offset


def fit_ridge(X, y, sample_weight, alpha, fit_intercept, penalty=None):
    """Minimize ``1/2 sum_i w_i (y_i - x_i.coef - b)^2 + alpha/2 ||coef||^2``.

    Parameters
    ----------
    penalty : ndarray of shape (n_features, n_features), default=None
        A symmetric positive semi-definite ``P`` replacing ``alpha I``: the
        penalty is then ``1/2 coef^T P coef`` (``alpha`` only names the
        strengths in error messages).

    Returns
    -------
    params : ndarray of shape (n_params,)
        ``[coef, intercept]`` (or ``coef`` without an intercept).

    hessian : RidgeHessian
        The factorized Hessian at the solution.

    weighted_rss : float
        ``sum_i w_i r_i^2`` of the training residuals.

    dof : float
        Effective degrees of freedom, the trace of the hat matrix (the
        intercept counts one).

    Raises
    ------
    ValueError
        If the penalized Gram matrix is singular (for example ``alpha=0`` with
        collinear features).
    """
    gram, Xy, weighted_rss, X_offset, y_offset = _centered_weighted_gram(
        X, y, sample_weight, fit_intercept
    )
    n_features = gram.shape[0]
    gram_diagonal = np.diag(gram).copy()
    if penalty is None:
        gram.flat[:: n_features + 1] += alpha
        penalty_diagonal = alpha
    else:
        gram += penalty
        penalty_diagonal = np.abs(np.diag(penalty))
    try:
        cholesky = linalg.cholesky(gram, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha)) from None
    pivots = np.diag(cholesky) ** 2
    if np.any(pivots <= _COLLINEAR_PIVOT * (gram_diagonal + penalty_diagonal)):
        if not np.any(penalty_diagonal):
            raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha))
        warnings.warn(
            f"The penalized Hessian is ill-conditioned at alpha={alpha!r} "
            "(nearly collinear features): the tangent and the scores may have "
            "lost most of their digits. Raise alpha, or remove redundant features.",
            LinAlgWarning,
        )

    hessian = RidgeHessian(cholesky, X_offset, sample_weight.sum(), fit_intercept)
    coef = hessian.solve_centered(Xy)
    params = coef
    if fit_intercept:
        params = np.append(coef, y_offset - X_offset @ coef)

    # trace(hat) = trace((G + P)^-1 G) = p - trace((G + P)^-1 P); for P = alpha I
    # only the squared norm of the inverse factor is needed.
    if penalty is None:
        shrinkage = alpha * hessian.trace_inverse_centered()
    else:
        shrinkage = np.trace(hessian.solve_centered(penalty))
    dof = n_features - shrinkage + int(fit_intercept)
    return params, hessian, weighted_rss(coef), dof
