"""Laplace covariance of a network's parameters from the Gauss-Newton Hessian.

The predictive variance of ``f(x)`` (METHOD.md section 4) is
``noise_variance * j(x)^T G^-1 j(x)`` with ``j(x) = grad_theta f(x; theta*)``
and ``G = J^T W J + grad^2 R`` the Gauss-Newton Hessian of the training
objective at ``theta*``. Unlike the exact Hessian (which the tangent uses), ``G``
is positive semi-definite by construction, so the variance is never negative
even where training stopped short of a minimum. For a model linear in
``theta`` the two coincide.

:class:`GaussNewtonCovariance` computes ``j(x)^T G^-1 j(x)`` for a whole pool,
row chunk by row chunk (sklearn's ``working_memory``):

- ``method="cholesky"``: ``G`` formed once from the training Jacobian (in row
  chunks) and factorized; a pool chunk costs its Jacobian and one triangular
  solve. The factor is all it keeps.
- ``method="cg"``: ``G`` never formed; each pool chunk's system ``G V = J_chunk^T``
  is solved by conjugate gradients run on all its columns at once, with
  products ``G V`` from the training Jacobian in row chunks. It keeps the
  training data.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy import linalg
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

from ._chunking import apply_by_row_chunks
from ._utils import weighted_gram
from .regularizers import hessian_product
from .tangent import _DAMPING_FLOOR, _ILL_CONDITIONED, well_conditioned_cholesky

# Up to this many parameters G is formed densely (8 MB) and factorized at fit.
GAUSS_NEWTON_DENSE_MAX_PARAMS = 1000
# Rademacher probes of the Hutchinson trace estimate above that size.
_N_TRACE_PROBES = 10


class GaussNewtonCovariance:
    """``j(x)^T G^-1 j(x)`` with ``G`` the Gauss-Newton Hessian at ``theta*``.

    Parameters
    ----------
    model : model object
        With ``jacobian(params, X)``.

    regularizer : regularizer object
        Supplies ``grad^2 R``: ``hessian_diagonal(alpha)`` when it has one,
        otherwise ``hessian_vector_product(alpha, params, v)``.

    alpha : float
        The regularity.

    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Training data.

    sample_weight : ndarray of shape (n_samples,)
        Training weights ``W``.

    params : ndarray of shape (n_params,)
        The fitted parameters ``theta*``.

    method : {"auto", "cholesky", "cg"}, default="auto"
        "auto": "cholesky" up to ``GAUSS_NEWTON_DENSE_MAX_PARAMS`` parameters,
        "cg" above.

    cg_tol : float, default=1e-8
        Relative residual at which conjugate gradients stop, per column.

    Notes
    -----
    ``G`` is singular when an unpenalized parameter leaves every prediction
    unchanged (the bias of a dead hidden unit). Such a ``G`` is damped to
    ``G + lambda I`` with ``lambda = 1e-6 * largest diagonal entry`` (a pivot
    below ``1e-10`` of it counts as singular), with a warning: the variance
    along the flat direction is then the damping's, not infinite.

    ``effective_dof`` is ``trace(G^-1 J^T W J)``, the trace of the hat matrix
    of the model linearized at ``theta*``: exact with the Cholesky factor, a
    Hutchinson estimate (10 Rademacher probes, fixed seed) with "cg".
    """

    def __init__(
        self, model, regularizer, alpha, X, sample_weight, params, method="auto", cg_tol=1e-8
    ):
        n_params = params.size
        if method == "auto":
            method = "cholesky" if n_params <= GAUSS_NEWTON_DENSE_MAX_PARAMS else "cg"
        self.model = model
        self.params = params
        self.method = method
        self.cg_tol = cg_tol
        self.damping = 0.0
        if method == "cholesky":
            self.cholesky = self._factorize(regularizer, alpha, X, sample_weight)
        else:
            self.regularizer, self.alpha = regularizer, alpha
            self.X, self.sample_weight = X, sample_weight
            self.effective_dof = self._hutchinson_effective_dof()

    # -- G, densely or as a product ----------------------------------------
    def _training_chunks(self, X, n_columns):
        """Row batches of the training set sized for a Jacobian chunk and a product."""
        row_bytes = 8 * (self.params.size + n_columns + 2)
        return gen_batches(X.shape[0], get_chunk_n_rows(row_bytes, max_n_rows=X.shape[0]))

    def _factorize(self, regularizer, alpha, X, sample_weight):
        n_params = self.params.size
        G = np.zeros((n_params, n_params))
        for rows in self._training_chunks(X, n_params):
            G += weighted_gram(self.model.jacobian(self.params, X[rows]), sample_weight[rows])
        gauss_newton = G.copy()  # J^T W J alone, for the effective dof
        G += hessian_product(regularizer, alpha, self.params, np.eye(n_params))
        G = 0.5 * (G + G.T)
        cholesky = well_conditioned_cholesky(G)
        if cholesky is None:
            self.damping = _DAMPING_FLOOR * (float(np.abs(np.diag(G)).max()) or 1.0)
            _warn_damped(self.damping)
            G.flat[:: n_params + 1] += self.damping
            cholesky = linalg.cholesky(G, lower=True, check_finite=False)
        self.effective_dof = float(
            np.trace(linalg.cho_solve((cholesky, True), gauss_newton, check_finite=False))
        )
        return cholesky

    def _hutchinson_effective_dof(self):
        """``trace(G^-1 J^T W J)`` from Rademacher probes (a fixed seed: reproducible)."""
        probes = np.random.RandomState(0).choice(
            [-1.0, 1.0], size=(self.params.size, _N_TRACE_PROBES)
        )
        solved = self._block_cg(self._data_matmat(probes))
        estimate = np.einsum("ij,ij->j", probes, solved).mean()
        # The estimate's own noise can leave the range a hat matrix's trace takes.
        return float(np.clip(estimate, 0.0, self.params.size))

    def _data_matmat(self, V):
        """``J^T W J V``, the data's part of ``G V``, in row chunks."""
        JtWJV = np.zeros_like(V)
        for rows in self._training_chunks(self.X, V.shape[1]):
            J = self.model.jacobian(self.params, self.X[rows])
            JtWJV += J.T @ (self.sample_weight[rows, None] * (J @ V))
        return JtWJV

    def _matmat(self, V):
        """``G V`` for a (n_params, k) block ``V``, never forming ``G``."""
        GV = self._data_matmat(V) + hessian_product(self.regularizer, self.alpha, self.params, V)
        return GV + self.damping * V

    # -- solves (minimal, for the greedy batch's rank-one updates of v) ------
    # The GN/Laplace branch adds its own ``solve``; the integrator keeps one.
    def solve(self, B):
        """Solve ``G V = B`` for ``B`` of shape (n_params,) or (n_params, k)."""
        B = np.asarray(B, dtype=np.float64)
        if self.method == "cholesky":
            return linalg.cho_solve((self.cholesky, True), B, check_finite=False)
        return self._block_cg(B.reshape(B.shape[0], -1)).reshape(B.shape)

    # -- the quadratic form ------------------------------------------------
    def inverse_quadratic_form(self, X):
        """``j(x)^T G^-1 j(x)`` for every row ``x`` of ``X``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            float64 or float32 (cast one chunk at a time).

        Returns
        -------
        quadratic_form : ndarray of shape (n_samples,)
        """
        # A chunk holds its Jacobian and a solve of the same size (CG: four).
        n_blocks = 2 if self.method == "cholesky" else 5
        return apply_by_row_chunks(
            self._chunk_quadratic_form, X, row_bytes=8 * n_blocks * (self.params.size + 1)
        )

    def _chunk_quadratic_form(self, X):
        X = X.astype(np.float64, copy=False)
        J = self.model.jacobian(self.params, X)
        if self.method == "cholesky":
            # ||L^-1 j(x)||^2, the whole chunk in one triangular solve.
            Z = linalg.solve_triangular(self.cholesky, J.T, lower=True, check_finite=False)
            return np.einsum("ij,ij->j", Z, Z)
        B = J.T
        return np.einsum("ij,ij->j", B, self._block_cg(B))

    def _block_cg(self, B):
        """Solve ``G V = B`` column by column, all columns in each step.

        Each column follows its own conjugate gradient recursion (its own step
        and direction coefficients); a column stops once its residual is
        below ``cg_tol`` relative to its right-hand side.
        """
        V = np.zeros_like(B)
        R = B.copy()
        D = R.copy()
        rr = np.einsum("ij,ij->j", R, R)
        stop = self.cg_tol**2 * rr
        active = rr > stop
        maxiter = 10 * self.params.size
        for _ in range(maxiter):
            if not active.any():
                return V
            cols = np.flatnonzero(active)
            Dc = D[:, cols]
            GD = self._matmat(Dc)
            curvature = np.einsum("ij,ij->j", Dc, GD)
            # G is positive semi-definite: zero curvature means the column's
            # residual lies in a flat direction; stop it there.
            flat = curvature <= _ILL_CONDITIONED * np.einsum("ij,ij->j", Dc, Dc)
            step = np.where(flat, 0.0, rr[cols] / np.where(flat, 1.0, curvature))
            V[:, cols] += step * Dc
            R[:, cols] -= step * GD
            rr_new = np.einsum("ij,ij->j", R[:, cols], R[:, cols])
            D[:, cols] = R[:, cols] + (rr_new / rr[cols]) * Dc
            rr[cols] = rr_new
            active[cols] = (rr_new > stop[cols]) & ~flat
        warnings.warn(
            f"Conjugate gradients on the Gauss-Newton Hessian did not reach "
            f"tol={self.cg_tol} in {maxiter} products; the predictive std is approximate.",
            UserWarning,
        )
        return V


def _warn_damped(damping):
    warnings.warn(
        "The Gauss-Newton Hessian is singular at the fitted parameters: an "
        "unpenalized parameter (such as the bias of a dead hidden unit) leaves "
        "every prediction unchanged. The predictive variance uses "
        f"G + {damping:.3g} I. Use fewer hidden units or another random_state.",
        UserWarning,
    )
