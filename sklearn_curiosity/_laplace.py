"""Laplace covariance of a network's parameters from the Gauss-Newton Hessian.

The predictive variance of ``f(x)`` (:ref:`theory-laplace`) is
``noise_variance * j(x)^T G^-1 j(x)`` with ``j(x) = grad_theta f(x; theta*)``
and ``G = J^T W J + D`` the Gauss-Newton Hessian of the training objective at
``theta*``, where ``D = grad^2 R + eps * diag(unpenalized)``. Unlike the exact
Hessian (which the tangent uses), ``G`` is positive semi-definite by
construction, so the variance is never negative even where training stopped
short of a minimum. For a model linear in ``theta`` the two coincide.

The weak prior ``eps`` on the parameters the regularizer leaves free (the
biases) is decided in one place, :func:`unpenalized_prior_precision`
(:ref:`theory-singular-directions`): an unpenalized parameter that no
training prediction depends on (the bias of a dead hidden unit) would make
``G`` singular. With it, ``G`` is positive definite for any ``alpha > 0``; a
direction the data determine moves by about ``eps / curvature``, below 1e-10
relative for any direction whose curvature is above 1e-2 of the largest.

:class:`GaussNewtonCovariance` factorizes ``G`` once at fit, in one of three
ways (:func:`gauss_newton_route` decides), and serves ``j^T G^-1 j`` for a
pool (row chunk by row chunk, sklearn's ``working_memory``), ``G^-1 B`` for a
block, and the effective degrees of freedom ``trace(G^-1 J^T W J)``, exactly
on every route but "cg":

- ``"cholesky"`` (few parameters): ``G`` formed from the training Jacobian in
  row chunks and factorized; it keeps the (P, P) factor.
- ``"dual"`` (fewer training rows than parameters, a diagonal ``grad^2 R``):
  ``G`` is never formed. With ``A = W^1/2 J_pen D_pen^-1/2`` (n, P_pen) and its
  thin SVD ``A = V diag(s) U^T``, the penalized block inverts in closed form,
  ``(I + A^T A)^-1 = I - U diag(s^2 / (1 + s^2)) U^T``, and the free block
  (the biases, ``B = W^1/2 J_free``) through its (m, m) Schur complement
  ``S = D_free + B^T (I + A A^T)^-1 B``. It keeps ``U`` (P_pen, n): O(n P)
  memory and O(n^2 P) work, where the primal needs O(P^2) and O(n P^2).
- ``"cg"`` (many rows and parameters, or a regularizer whose Hessian is not
  diagonal): ``G`` never formed; each pool chunk's system is solved by
  conjugate gradients on products with the training Jacobian, preconditioned
  by the dual of a fixed sample of rows, and the effective dof is a Hutchinson
  estimate in sample space. It keeps the training data.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import warnings

import numpy as np
from scipy import linalg
from scipy.linalg import blas
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

from ._chunking import apply_by_row_chunks
from ._threads import blas_threads_for
from .regularizers import hessian_product
from .tangent import _DAMPING_FLOOR, well_conditioned_cholesky

# Precision of the prior on the unpenalized parameters, relative to the
# largest diagonal entry of J^T W J (the data's largest curvature along one
# parameter). Small enough that every determined direction moves by less than
# 1e-8 relative; large enough that G's condition number stays near 1e10 or
# below, which float64 factorizations resolve.
UNPENALIZED_PRIOR_PRECISION = 1e-10
# Up to this many parameters G is formed densely and factorized at fit.
GAUSS_NEWTON_DENSE_MAX_PARAMS = 1000
# With at least as many rows as parameters, the dense primal stays exact up
# to this many parameters (a (P, P) matrix of 8 P^2 bytes: 200 MB at 5000).
GAUSS_NEWTON_PRIMAL_MAX_PARAMS = 5000
# A single-precision shifted factor whose smallest pivot squared falls below
# this fraction of the largest diagonal entry is redone in float64.
_SINGLE_PRECISION_PIVOT = 1e-5
# Rows of the sampled dual that preconditions the "cg" route.
_PRECONDITIONER_ROWS = 1000
# Rademacher probes of the Hutchinson trace estimate of the "cg" route.
_N_TRACE_PROBES = 30
# A Cholesky pivot squared below this fraction of G's largest diagonal entry
# (a hundredth of the prior's relative precision) marks G as still singular.
_STILL_SINGULAR = 1e-2 * UNPENALIZED_PRIOR_PRECISION


def unpenalized_prior_precision(data_curvature, unpenalized):
    """The diagonal ``eps * unpenalized`` added to ``G`` (the weak prior).

    Parameters
    ----------
    data_curvature : ndarray of shape (n_params,)
        The diagonal of ``J^T W J``.

    unpenalized : ndarray of bool, shape (n_params,)
        The parameters the model's default penalty leaves free (its biases).

    Returns
    -------
    prior : ndarray of shape (n_params,)
        ``UNPENALIZED_PRIOR_PRECISION * max(data_curvature)`` on the
        unpenalized parameters, 0 elsewhere.
    """
    scale = float(np.max(data_curvature, initial=0.0))
    # No curvature at all (every prediction constant in theta): any positive
    # scale makes G invertible; the variance is then the prior's.
    scale = scale if scale > 0 else 1.0
    return UNPENALIZED_PRIOR_PRECISION * scale * np.asarray(unpenalized, dtype=float)


def gauss_newton_route(n_samples, n_params, n_free, diagonal_regularizer):
    """The factorization of ``G`` that serves variance, solves and dof.

    Parameters
    ----------
    n_samples : int
        Training rows (with a non-zero weight).

    n_params : int
        Parameters ``P``.

    n_free : int
        Parameters with no curvature from the regularizer (the biases).

    diagonal_regularizer : bool
        Whether ``grad^2 R`` is diagonal (the default L2 penalty).

    Returns
    -------
    route : {"cholesky", "dual", "cg"}
    """
    if n_params <= GAUSS_NEWTON_DENSE_MAX_PARAMS:
        return "cholesky"
    if diagonal_regularizer and n_samples <= n_params - n_free:
        return "dual"
    if n_params <= GAUSS_NEWTON_PRIMAL_MAX_PARAMS:
        return "cholesky"
    return "cg"


class GaussNewtonCovariance:
    """``j(x)^T G^-1 j(x)``, ``G^-1 B`` and ``trace(G^-1 J^T W J)`` at ``theta*``.

    ``G = J^T W J + grad^2 R + eps * diag(unpenalized)`` is the Gauss-Newton
    Hessian with the weak prior of :func:`unpenalized_prior_precision` on the
    model's unpenalized parameters.

    Parameters
    ----------
    model : model object
        With ``jacobian(params, X)`` and ``penalized``.

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

    method : {"auto", "cholesky", "dual", "cg"}, default="auto"
        "auto": :func:`gauss_newton_route`. "dual" needs a diagonal
        ``grad^2 R`` that is positive on every parameter but the free ones,
        and fewer rows than penalized parameters.

    cg_tol : float, default=1e-10
        Relative residual at which conjugate gradients stop, per column.

    Attributes
    ----------
    method : str
        The route taken.

    prior_precision : ndarray of shape (n_params,)
        The prior's diagonal ``eps * unpenalized``.

    damping : float
        ``lambda`` of ``G + lambda I``: 0 unless ``G`` is still singular (an
        ``alpha = 0`` fit leaves penalized directions free), then with a
        warning.

    effective_dof : float
        ``trace(G^-1 J^T W J)``; a Hutchinson estimate on the "cg" route.
    """

    def __init__(
        self, model, regularizer, alpha, X, sample_weight, params, method="auto", cg_tol=1e-10
    ):
        self.model = model
        self.params = params
        self.cg_tol = cg_tol
        self.damping = 0.0
        n_params = params.size
        n_samples = X.shape[0]
        # The largest product of any route, for the BLAS threads it deserves
        # (the whole construction: small products outside it would wake
        # threads too).
        with blas_threads_for(2.0 * n_samples * n_params * min(n_samples, n_params)):
            self._factorize(model, regularizer, alpha, X, sample_weight, method)

    def _factorize(self, model, regularizer, alpha, X, sample_weight, method):
        n_params = self.params.size
        unpenalized = ~np.asarray(model.penalized, dtype=bool)
        regularizer_diagonal = (
            np.asarray(regularizer.hessian_diagonal(alpha), dtype=float) * np.ones(n_params)
            if hasattr(regularizer, "hessian_diagonal")
            else None
        )
        if method == "auto":
            n_free = (
                int(np.sum(regularizer_diagonal <= 0)) if regularizer_diagonal is not None else 0
            )
            method = gauss_newton_route(
                int(np.count_nonzero(sample_weight)), n_params, n_free,
                regularizer_diagonal is not None,
            )
        self.method = method
        # The prior needs the diagonal of J^T W J: the "cholesky" and "dual"
        # routes read it from the Jacobian products they form anyway.
        if method == "cholesky":
            self._factorize_primal(regularizer, alpha, X, sample_weight, unpenalized)
        elif method == "dual":
            self._factorize_dual(regularizer_diagonal, X, sample_weight, unpenalized)
        else:
            data_curvature = self._data_curvature(X, sample_weight)
            self.prior_precision = unpenalized_prior_precision(data_curvature, unpenalized)
            self.regularizer, self.alpha = regularizer, alpha
            self.X, self.sample_weight = X, sample_weight
            self._preconditioner = self._sampled_dual(data_curvature, X, sample_weight)
            self.effective_dof = self._hutchinson_effective_dof()

    # -- shared pieces -------------------------------------------------------
    def _training_chunks(self, X, n_columns):
        """Row batches of the training set sized for a Jacobian chunk and a product."""
        row_bytes = 8 * (self.params.size + n_columns + 2)
        return gen_batches(X.shape[0], get_chunk_n_rows(row_bytes, max_n_rows=X.shape[0]))

    def _data_curvature(self, X, sample_weight):
        """The diagonal of ``J^T W J``, from the Jacobian in row chunks."""
        diagonal = np.zeros(self.params.size)
        for rows in self._training_chunks(X, 0):
            J = self.model.jacobian(self.params, X[rows])
            diagonal += sample_weight[rows] @ (J * J)
        return diagonal

    def _regularizer_diagonal(self, n_params):
        if hasattr(self.regularizer, "hessian_diagonal"):
            return np.asarray(self.regularizer.hessian_diagonal(self.alpha)) * np.ones(n_params)
        # The diagonal of a general grad^2 R, one unit direction at a time
        # in blocks (preconditioning needs only its rough size).
        diagonal = np.empty(n_params)
        for cols in gen_batches(n_params, 256):
            eye = np.zeros((n_params, cols.stop - cols.start))
            eye[np.arange(cols.start, cols.stop), np.arange(eye.shape[1])] = 1.0
            block = hessian_product(self.regularizer, self.alpha, self.params, eye)
            diagonal[cols] = block[np.arange(cols.start, cols.stop), np.arange(eye.shape[1])]
        return np.maximum(diagonal, 0.0)

    def _jacobian(self, X):
        return self.model.jacobian(self.params, X.astype(np.float64, copy=False))

    # -- "cholesky": G formed densely ---------------------------------------
    def _factorize_primal(self, regularizer, alpha, X, sample_weight, unpenalized):
        n_params = self.params.size
        # The lower triangle only, accumulated by BLAS syrk chunk by chunk in
        # place (half the work of a general product, no (P, P) temporaries):
        # the Cholesky factorizations read nothing else.
        G = np.zeros((n_params, n_params), order="F")
        for rows in self._training_chunks(X, n_params):
            J = self.model.jacobian(self.params, X[rows])
            J *= np.sqrt(sample_weight[rows])[:, None]
            # J.T is Fortran-ordered: syrk reads it without a copy.
            G = blas.dsyrk(1.0, J.T, beta=1.0, c=G, trans=0, lower=1, overwrite_c=1)
        self.prior_precision = unpenalized_prior_precision(np.diag(G).copy(), unpenalized)
        if hasattr(regularizer, "hessian_diagonal"):
            penalty = np.asarray(regularizer.hessian_diagonal(alpha), dtype=float) * np.ones(
                n_params
            )
            G.flat[:: n_params + 1] += penalty
        else:
            penalty = hessian_product(regularizer, alpha, self.params, np.eye(n_params))
            penalty = 0.5 * (penalty + penalty.T)
            G += np.tril(penalty)
        G.flat[:: n_params + 1] += self.prior_precision
        # A pivot far below the prior's precision: a direction neither the
        # data, the penalty nor the prior determines.
        cholesky = well_conditioned_cholesky(G, _STILL_SINGULAR)
        if cholesky is None:
            self.damping = _DAMPING_FLOOR * (float(np.abs(np.diag(G)).max()) or 1.0)
            _warn_damped(self.damping)
            G.flat[:: n_params + 1] += self.damping
            cholesky = linalg.cholesky(G, lower=True, check_finite=False)
        self.cholesky = cholesky
        # Kept until the tangent has its shifted preconditioner (shifted()).
        self._unfactorized = G
        self.effective_dof = self._primal_effective_dof(penalty, X, sample_weight)

    def _primal_effective_dof(self, penalty, X, sample_weight):
        """``trace(G^-1 J^T W J)`` from the Cholesky factor ``L`` of ``G``.

        Fewer rows than parameters: ``||L^-1 J^T W^1/2||_F^2``, in row chunks
        (O(n P^2)); a dead unit's zero columns stay exactly zero. Otherwise
        ``P - trace(G^-1 (grad^2 R + prior + damping))`` with ``L^-1`` (P^3 / 3
        flops, a fifth of a solve with the (P, P) right-hand side ``J^T W J``).
        """
        n_params = self.params.size
        if X.shape[0] < n_params:
            dof = 0.0
            for rows in self._training_chunks(X, n_params):
                J = self.model.jacobian(self.params, X[rows])
                J *= np.sqrt(sample_weight[rows])[:, None]
                Z = linalg.solve_triangular(self.cholesky, J.T, lower=True, check_finite=False)
                dof += float(np.einsum("ij,ij->", Z, Z))
            return dof
        inverse, _ = linalg.lapack.dtrtri(self.cholesky, lower=1)
        if penalty.ndim == 1:
            # diag(G^-1) = the column norms of L^-1 squared.
            prior = penalty + self.prior_precision + self.damping
            return float(n_params - prior @ np.einsum("ij,ij->j", inverse, inverse))
        prior = penalty + np.diag(self.prior_precision + self.damping)
        return float(n_params - np.einsum("ij,ij->", inverse @ prior, inverse))

    # -- "dual": n x n systems -----------------------------------------------
    def _factorize_dual(self, regularizer_diagonal, X, sample_weight, unpenalized):
        J = self.model.jacobian(self.params, X)
        J *= np.sqrt(sample_weight)[:, None]
        self.prior_precision = unpenalized_prior_precision(
            np.einsum("ij,ij->j", J, J), unpenalized
        )
        diagonal = regularizer_diagonal + self.prior_precision
        free = regularizer_diagonal <= 0
        self._dual = _DualFactor(J, diagonal, free)
        # Under a uniform penalty the SVD serves every shift (shifted());
        # otherwise the weighted Jacobian is kept until the tangent has its
        # shifted preconditioner.
        self._unfactorized = None if self._dual.uniform_penalty else (J, diagonal, free)
        self.effective_dof = self._dual.trace_hat()

    # -- "cg": products only -----------------------------------------------
    def _hutchinson_effective_dof(self):
        """``trace(W^1/2 J G^-1 J^T W^1/2)``, the hat matrix's trace, from probes.

        Rademacher probes in sample space (a fixed seed: reproducible). The
        hat matrix is symmetric with eigenvalues in [0, 1], so each probe's
        variance is at most twice the dof; the parameter-space form
        ``trace(G^-1 J^T W J)`` is not symmetric, and its variance can be
        huge where ``G`` has nearly flat directions.
        """
        probes = np.random.RandomState(0).choice(
            [-1.0, 1.0], size=(self.X.shape[0], _N_TRACE_PROBES)
        )
        root_weight = np.sqrt(self.sample_weight)[:, None]
        solved = self._block_cg(self._jacobian_transpose_matmat(root_weight * probes))
        estimate = np.einsum("ij,ij->j", root_weight * probes, self._jacobian_matmat(solved))
        n_rows = int(np.count_nonzero(self.sample_weight))
        # The estimate's own noise can leave the range a hat matrix's trace takes.
        return float(np.clip(estimate.mean(), 0.0, min(n_rows, self.params.size)))

    def _jacobian_transpose_matmat(self, Z):
        """``J^T Z`` for a (n_samples, k) block, in row chunks."""
        JtZ = np.zeros((self.params.size, Z.shape[1]))
        for rows in self._training_chunks(self.X, Z.shape[1]):
            JtZ += self.model.jacobian(self.params, self.X[rows]).T @ Z[rows]
        return JtZ

    def _jacobian_matmat(self, V):
        """``J V`` for a (n_params, k) block, in row chunks."""
        JV = np.empty((self.X.shape[0], V.shape[1]))
        for rows in self._training_chunks(self.X, V.shape[1]):
            JV[rows] = self.model.jacobian(self.params, self.X[rows]) @ V
        return JV

    def _sampled_dual(self, data_curvature, X, sample_weight):
        """The dual factor of ``G`` from a fixed sample of rows: a preconditioner.

        ``J_k^T W_k J_k`` of ``k`` rows, scaled to the whole weight, captures
        the data's largest curvatures, which make ``G`` ill-conditioned;
        ``grad^2 R`` enters by its diagonal. Returns None (Jacobi instead) when
        too few parameters are penalized for a dual.
        """
        n_params = self.params.size
        regularizer_diagonal = self._regularizer_diagonal(n_params)
        free = regularizer_diagonal <= 0
        diagonal = regularizer_diagonal + self.prior_precision
        # A free parameter the prior does not cover (alpha=0): any positive
        # entry keeps the preconditioner positive definite.
        diagonal[diagonal <= 0] = UNPENALIZED_PRIOR_PRECISION * (data_curvature.max() or 1.0)
        rows = np.flatnonzero(sample_weight)
        n_rows = min(rows.size, int(np.sum(~free)) - 1, _PRECONDITIONER_ROWS)
        self._jacobi = data_curvature + diagonal
        if n_rows < 1:
            return None
        rows = np.sort(np.random.RandomState(0).choice(rows, n_rows, replace=False))
        weights = sample_weight[rows] * (sample_weight.sum() / sample_weight[rows].sum())
        J = self.model.jacobian(self.params, X[rows])
        J *= np.sqrt(weights)[:, None]
        return _DualFactor(J, diagonal, free)

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
        return GV + (self.prior_precision[:, None] + self.damping) * V

    def _block_cg(self, B):
        """Solve ``G V = B`` column by column, all columns in each step.

        Preconditioned by the dual of a sample of rows (Jacobi when there is
        none): each column follows its own preconditioned conjugate gradient
        recursion and stops once its residual is below ``cg_tol`` relative to
        its right-hand side.
        """
        if self._preconditioner is not None:
            precondition = self._preconditioner.solve
        else:
            inverse_diagonal = 1.0 / self._jacobi[:, None]

            def precondition(R):
                return inverse_diagonal * R

        V = np.zeros_like(B)
        R = B.copy()
        Z = precondition(R)
        D = Z.copy()
        rz = np.einsum("ij,ij->j", R, Z)
        stop = self.cg_tol**2 * np.einsum("ij,ij->j", B, B)
        active = np.einsum("ij,ij->j", R, R) > stop
        maxiter = 10 * self.params.size
        for _ in range(maxiter):
            if not active.any():
                return V
            cols = np.flatnonzero(active)
            Dc = D[:, cols]
            GD = self._matmat(Dc)
            # G is positive definite (the prior), so the curvature is positive.
            step = rz[cols] / np.einsum("ij,ij->j", Dc, GD)
            V[:, cols] += step * Dc
            R[:, cols] -= step * GD
            Zc = precondition(R[:, cols])
            rz_new = np.einsum("ij,ij->j", R[:, cols], Zc)
            D[:, cols] = Zc + (rz_new / rz[cols]) * Dc
            rz[cols] = rz_new
            active[cols] = np.einsum("ij,ij->j", R[:, cols], R[:, cols]) > stop[cols]
        warnings.warn(
            f"Conjugate gradients on the Gauss-Newton Hessian did not reach "
            f"tol={self.cg_tol} in {maxiter} products; the predictive std is approximate.",
            UserWarning,
        )
        return V

    # -- the shifted factor that preconditions the exact tangent -------------
    def shifted(self, shift, dtype=np.float64):
        """A solver of ``(G + shift I) v = r``, or None on the "cg" route.

        The exact Hessian ``H`` differs from ``G`` by the residual-weighted
        second derivatives, whose negative eigenvalues make ``H`` indefinite;
        shifted by about their size, ``G`` preconditions the damped ``H``
        (:class:`~sklearn_curiosity.tangent.NetworkHessian`).

        - "cholesky": one new factorization of ``G + shift I``, from ``G`` as
          the fit formed it or, once :meth:`release_unfactorized` has dropped
          it, from ``L L^T`` (a product of P^3 flops, three times the
          factorization).
        - "dual": no factorization of size ``P`` when ``grad^2 R`` is the same
          on every penalized parameter (the L2 penalty): the fit's SVD serves
          every shift, and only the small Schur complement of the free
          parameters is refactorized. Otherwise a Woodbury factor of the
          weighted Jacobian, which the fit keeps until released.

        Parameters
        ----------
        shift : float
            ``s > 0``.

        dtype : {np.float64, np.float32}, default=np.float64
            float32 factors and solves the "cholesky" route in single
            precision, at half the time and memory: a preconditioner, exact
            to about ``1e-7 * ||G|| / shift`` relative (float64 if the
            single-precision factorization fails, or has a pivot squared
            below ``1e-5`` of the largest diagonal entry). The "dual" route
            is always float64.

        Returns
        -------
        solver : object with ``solve(B)``, or None
        """
        if self.method == "dual" and self._dual.uniform_penalty:
            return _ShiftedFactor(dual=self._dual.shifted(shift))
        unfactorized = getattr(self, "_unfactorized", None)
        if self.method == "cholesky":
            with blas_threads_for(self.params.size**3 / 3):
                return _ShiftedFactor(cholesky=self._shifted_cholesky(unfactorized, shift, dtype))
        if unfactorized is None:
            return None
        J, diagonal, free = unfactorized
        return _ShiftedFactor(dual=_WoodburyFactor(J, diagonal + shift, free))

    def _shifted_cholesky(self, G, shift, dtype):
        """Lower Cholesky factor of ``G + shift I`` in ``dtype`` (float64 as a fallback)."""
        n_params = self.params.size
        if G is None:
            # L L^T = G (with its damping), the lower triangle only.
            G = blas.dsyrk(1.0, self.cholesky, lower=1)
        for precision in dict.fromkeys([dtype, np.float64]):
            shifted = np.array(G, dtype=precision, order="F")
            shifted.flat[:: n_params + 1] += shift
            scale = float(np.abs(np.diag(shifted)).max())
            try:
                factor = linalg.cholesky(
                    shifted, lower=True, overwrite_a=True, check_finite=False
                )
            except linalg.LinAlgError:
                if precision == np.float64:
                    raise
                continue
            # float32's rounding (~1e-7 of the scale) must stay well below the
            # smallest pivot, or the factor preconditions the wrong matrix.
            if precision == np.float64 or np.diag(factor).min() ** 2 > (
                _SINGLE_PRECISION_PIVOT * scale
            ):
                return factor

    def release_unfactorized(self):
        """Drop what :meth:`shifted` would factorize from (``G`` or the training Jacobian).

        Later shifts are then rebuilt from the factor (the "cholesky" route)
        or from the fit's SVD (the "dual" route under a uniform penalty).
        """
        self._unfactorized = None

    # -- the public face -----------------------------------------------------
    def solve(self, B):
        """``G^-1 B`` for ``B`` of shape (n_params,) or (n_params, k).

        Parameters
        ----------
        B : ndarray of shape (n_params,) or (n_params, k)

        Returns
        -------
        solution : ndarray of the shape of ``B``
        """
        B = np.asarray(B, dtype=np.float64)
        block = B[:, None] if B.ndim == 1 else B
        if self.method == "cholesky":
            solution = cholesky_solve(self.cholesky, block)
        elif self.method == "dual":
            solution = self._dual.solve(block)
        else:
            solution = self._block_cg(block)
        return solution[:, 0] if B.ndim == 1 else solution

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
        # A chunk holds its Jacobian and a solve of the same size (CG: five).
        n_blocks = {"cholesky": 2, "dual": 3}.get(self.method, 5)
        return apply_by_row_chunks(
            self._chunk_quadratic_form, X, row_bytes=8 * n_blocks * (self.params.size + 1)
        )

    def _chunk_quadratic_form(self, X):
        J = self._jacobian(X)
        if self.method == "cholesky":
            # ||L^-1 j(x)||^2, the whole chunk in one triangular solve.
            Z = linalg.solve_triangular(self.cholesky, J.T, lower=True, check_finite=False)
            return np.einsum("ij,ij->j", Z, Z)
        if self.method == "dual":
            return self._dual.quadratic_form(J)
        B = J.T
        return np.einsum("ij,ij->j", B, self._block_cg(B))



class _ShiftedFactor:
    """``(G + shift I)^-1``: a Cholesky factor (float64 or float32), a shifted
    :class:`_DualFactor` or a :class:`_WoodburyFactor`."""

    def __init__(self, cholesky=None, dual=None):
        self.cholesky = cholesky
        self.dual = dual

    def solve(self, B):
        """``(G + shift I)^-1 B`` for ``B`` of shape (n_params,) or (n_params, k)."""
        if self.cholesky is not None:
            return cholesky_solve(self.cholesky, B)
        block = B[:, None] if B.ndim == 1 else B
        solution = self.dual.solve(block)
        return solution[:, 0] if B.ndim == 1 else solution


def cholesky_solve(cholesky, B):
    """``(L L^T)^-1 B`` for the lower factor ``L`` (float64 or float32), ``B`` float64.

    One right-hand side by two triangular matrix-vector solves (BLAS level 2):
    OpenBLAS's ``potrs`` runs a single column through its blocked matrix
    routine at half their speed (24 ms against 12 ms at P = 4481, where the
    factor's 160 MB are read twice either way). A float32 factor solves in
    float32 (``cho_solve`` would cast the factor itself to float64).
    """
    dtype = cholesky.dtype
    trsv = blas.dtrsv if dtype == np.float64 else blas.strsv
    if B.ndim == 1 or B.shape[1] == 1:
        column = B.reshape(-1).astype(dtype)
        solution = trsv(cholesky, trsv(cholesky, column, lower=1), lower=1, trans=1)
        return solution.astype(np.float64, copy=False).reshape(B.shape)
    potrs = linalg.lapack.dpotrs if dtype == np.float64 else linalg.lapack.spotrs
    solution, _ = potrs(cholesky, B.astype(dtype), lower=1)
    return solution.astype(np.float64, copy=False)


class _WoodburyFactor:
    """``G^-1 = (Jw^T Jw + diag(d))^-1`` by Woodbury, from a Cholesky factor of
    ``I + A A^T`` (n x n): a preconditioner's factor.

    The same blocks as :class:`_DualFactor` (``A = Jw_pen diag(d_pen)^-1/2``,
    ``B = Jw_free``, ``N = (I + A A^T)^-1``): the free block solves with
    ``S = diag(d_free) + B^T N B``, then ``u = (I - A^T N A)(rho - A^T B x_free)``.
    Exact, but without the SVD that keeps the variance's small terms
    accurate (``I + A A^T`` is well conditioned); its Gram matrix and Cholesky
    factor cost a tenth of that SVD.
    """

    def __init__(self, weighted_jacobian, diagonal, free):
        self.free = np.asarray(free, dtype=bool)
        self.scale = np.sqrt(diagonal[~self.free])
        self.A = weighted_jacobian[:, ~self.free] / self.scale
        self.B = weighted_jacobian[:, self.free]
        self.gram = self.A @ self.A.T
        shifted_gram = self.gram.copy()
        shifted_gram.flat[:: shifted_gram.shape[0] + 1] += 1.0
        self.cholesky = linalg.cholesky(shifted_gram, lower=True, check_finite=False)
        schur = np.diag(diagonal[self.free]) + self.B.T @ self._inverse(self.B)
        self.schur_cholesky = linalg.cholesky(
            0.5 * (schur + schur.T), lower=True, check_finite=False
        )

    def _inverse(self, Z):
        return linalg.cho_solve((self.cholesky, True), Z, check_finite=False)

    def solve(self, rhs):
        """``G^-1 rhs`` for a (P, k) block."""
        rho = rhs[~self.free] / self.scale[:, None]
        A_rho = self.A @ rho
        x_free = linalg.cho_solve(
            (self.schur_cholesky, True),
            rhs[self.free] - self.B.T @ self._inverse(A_rho),
            check_finite=False,
        )
        # u = rho - A^T (B x_free + N A (rho - A^T B x_free)), with
        # A A^T = gram: two passes over A in all, not four.
        B_x = self.B @ x_free
        u = rho - self.A.T @ (B_x + self._inverse(A_rho - self.gram @ B_x))
        x = np.empty_like(rhs)
        x[~self.free] = u / self.scale[:, None]
        x[self.free] = x_free
        return x


class _DualFactor:
    """``G = Jw^T Jw + diag(d)`` through n x n systems (``Jw = W^1/2 J``, n rows).

    The parameters split into the penalized ones and the ``free`` ones (no
    curvature from the regularizer: the biases, whose ``d`` is the prior's). With
    ``A = Jw_pen diag(d_pen)^-1/2 = V diag(s) U^T`` (thin SVD, ``V`` square),
    ``(I + A^T A)^-1 = I - U diag(s^2 / (1 + s^2)) U^T`` and the free block
    ``B = Jw_free`` enters through its Schur complement
    ``S = diag(d_free) + B^T (I + A A^T)^-1 B`` (m x m). Keeping the free block
    apart keeps the tiny ``eps`` out of the SVD: both factorizations stay
    well conditioned, and each small entry of ``S`` keeps its relative
    accuracy.

    Shifted (:meth:`shifted`). When ``d_pen`` is one value ``d`` (the L2
    penalty), ``G + sigma I`` has the same SVD with the ridge
    ``c = 1 + sigma / d`` in place of 1: ``(c I + A^T A)^-1 = (I - U U^T) / c +
    U diag(1 / (c + s^2)) U^T``, and the Schur complement becomes
    ``S = diag(d_free + sigma) + c B^T (c I + A A^T)^-1 B``. Only ``S`` (m x m)
    is refactorized; ``U`` is shared.
    """

    def __init__(self, weighted_jacobian, diagonal, free):
        diagonal = np.asarray(diagonal, dtype=float)
        if np.any(diagonal <= 0):
            raise ValueError(
                "method='dual' needs a positive penalty or prior on every parameter "
                "(alpha > 0); use method='cholesky' or 'cg'."
            )
        self.free = np.asarray(free, dtype=bool)
        self.scale = np.sqrt(diagonal[~self.free])
        n_samples = weighted_jacobian.shape[0]
        # LAPACK's divide and conquer SVD on two BLAS threads was 3x to 28x
        # slower than on one at every size measured (benchmarks/
        # bench_threads.py): one thread whatever the size.
        with blas_threads_for(0):
            V, s, Ut = linalg.svd(
                weighted_jacobian[:, ~self.free] / self.scale, full_matrices=False,
                check_finite=False, lapack_driver="gesdd",
            )
        if s.size < n_samples:
            raise ValueError(
                "method='dual' needs fewer training rows than penalized parameters; "
                "use method='cholesky' or 'cg'."
            )
        self.U = np.ascontiguousarray(Ut.T)
        self.s = s
        # B in V's basis: (c I + A A^T)^-1 = V diag(shrink) V^T, V square.
        self.B_V = V.T @ weighted_jacobian[:, self.free]
        penalties = diagonal[~self.free]
        self.uniform_penalty = penalties.size > 0 and bool(np.all(penalties == penalties[0]))
        self._set_ridge(1.0, diagonal[self.free])

    def _set_ridge(self, ridge, free_diagonal):
        """``c`` and the free block's diagonal: the shrinkage and the Schur factor."""
        self.ridge = ridge
        self.shrink = 1.0 / (ridge + self.s**2)
        schur = np.diag(free_diagonal) + ridge * (
            self.B_V.T @ (self.shrink[:, None] * self.B_V)
        )
        self.schur_cholesky = linalg.cholesky(
            0.5 * (schur + schur.T), lower=True, check_finite=False
        )
        self._free_diagonal = free_diagonal

    def shifted(self, shift):
        """The factor of ``G + shift I``, sharing ``U`` (needs ``uniform_penalty``)."""
        factor = copy.copy(self)
        penalty = self.scale[0] ** 2 * self.ridge
        factor._set_ridge(self.ridge * (1.0 + shift / penalty), self._free_diagonal + shift)
        return factor

    def trace_hat(self):
        """``trace(G^-1 Jw^T Jw)``, the trace of ``I - N + N B S^-1 B^T N`` (unshifted).

        ``N = (I + A A^T)^-1``; ``trace(I - N) = sum s^2 / (1 + s^2)``, summed
        without cancellation.
        """
        NB = self.shrink[:, None] * self.B_V
        free_share = linalg.solve_triangular(
            self.schur_cholesky, NB.T, lower=True, check_finite=False
        )
        return float(np.sum(self.s**2 * self.shrink) + np.sum(free_share**2))

    def _parts(self, rhs):
        """``(rho, c, w, x_free)`` for the columns of ``rhs`` (P, k).

        ``rho = D_pen^-1/2 rhs_pen``, ``c = U^T rho``, ``w = rhs_free - B^T N A
        rho`` and ``x_free = S^-1 w``, the free block of ``G^-1 rhs`` by block
        elimination.
        """
        rho = rhs[~self.free] / self.scale[:, None]
        c = self.U.T @ rho
        # N A = V diag(s / (1 + s^2)) U^T.
        w = rhs[self.free] - self.B_V.T @ ((self.s * self.shrink)[:, None] * c)
        x_free = linalg.cho_solve((self.schur_cholesky, True), w, check_finite=False)
        return rho, c, w, x_free

    def solve(self, rhs):
        """``G^-1 rhs`` for a (P, k) block."""
        rho, c, _, x_free = self._parts(rhs)
        s, shrink, ridge = self.s, self.shrink, self.ridge
        # x_pen = (c I + A^T A)^-1 (rho - A^T B x_free), both terms in U's basis.
        back = (s**2 * shrink / ridge)[:, None] * c + (s * shrink)[:, None] * (self.B_V @ x_free)
        x = np.empty_like(rhs)
        x[~self.free] = (rho / ridge - self.U @ back) / self.scale[:, None]
        x[self.free] = x_free
        return x

    def quadratic_form(self, J):
        """``j^T G^-1 j`` for every row ``j`` of ``J`` (k, P) (unshifted)."""
        rho, c, w, x_free = self._parts(J.T)
        # (I + A^T A)^-1 = (I - U U^T) + U diag(shrink) U^T; the orthogonal part
        # formed explicitly, not as ||rho||^2 - ||c||^2, which would cancel.
        orthogonal = rho - self.U @ c
        penalized = np.einsum("ij,ij->j", orthogonal, orthogonal) + self.shrink @ (c * c)
        return penalized + np.einsum("ij,ij->j", w, x_free)


def _warn_damped(damping):
    warnings.warn(
        "The Gauss-Newton Hessian is singular at the fitted parameters: a "
        "penalized parameter that no training prediction depends on has no "
        "curvature when alpha=0 (or under a regularizer that leaves it free). "
        f"The predictive variance uses G + {damping:.3g} I. Use alpha > 0.",
        UserWarning,
    )
