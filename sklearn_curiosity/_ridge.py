"""Closed-form fit of a linear model under a quadratic penalty, with its Hessian.

The penalty is ``alpha/2 ||coef||^2`` (ridge) or any ``1/2 coef^T P coef`` with
``P`` symmetric positive semi-definite (several penalties ``P = sum_k s_k Q_k``).
With ``Xs = W^1/2 (X - 1 X_offset^T)`` (centered with the weighted means) the
only matrix to invert is ``A = Xs^T Xs + P``; the intercept is eliminated by
block substitution. One factorization serves the fit, the tangent (one more
solve), the effective degrees of freedom and, later, every solve with the
Hessian that scores, the predictive std and the greedy batch need. There are
two, behind one face (``solve``, ``solve_centered``,
``inverse_quadratic_form``, ``effective_dof``), chosen by :func:`choose_solver`
as :class:`~sklearn.linear_model.Ridge` chooses between ``X^T X`` and
``X X^T``:

- primal (:class:`RidgeHessian`): the Cholesky factor of the p x p ``A``;
  O(n p^2 + p^3) time, O(p^2) memory. Any ``P``.
- dual (:class:`DualRidgeHessian`), when ``n_samples <= n_features`` and ``P``
  is diagonal and invertible (ridge with ``alpha > 0``, feature groups): the
  Cholesky factor of the n x n ``M = I + Xs P^-1 Xs^T`` and, by Woodbury,
  ``A^-1 = P^-1 - P^-1 Xs^T M^-1 Xs P^-1``. O(n^2 p + n^3) time, O(n^2 + n p)
  memory: no p x p array is ever formed. It keeps the centered design
  (sparse ``X`` as it is) for the solves after the fit.
"""

# SPDX-License-Identifier: BSD-3-Clause

import functools
import math
import warnings

import numpy as np
from scipy import linalg, sparse
from scipy.linalg import LinAlgWarning
from sklearn.utils import gen_batches

from ._chunking import row_blocks
from ._threads import blas_threads_for

# Pivots of the Cholesky factor below this fraction of the matching diagonal
# entry mean a feature is (numerically) a combination of the earlier ones.
_COLLINEAR_PIVOT = 1e3 * np.finfo(np.float64).eps

_SINGULAR_MESSAGE = (
    "The penalized Hessian X^T W X + alpha*I is singular or numerically "
    "singular (alpha={alpha!r} with collinear or constant features, or more "
    "features than samples; with several penalties, features they leave "
    "unpenalized). Raise alpha above 0, or remove the redundant features."
)

# Rows of dense X centered and scaled at a time for the primal Gram matrix:
# a block that stays in cache (256 KB), and enough rows for an efficient syrk.
_GRAM_BLOCK_BYTES = 2**18
_GRAM_BLOCK_MIN_ROWS = 128

# Rows per tile of a row that every row of a block is centered on
# (:func:`_broadcast_row`): inner loops of 64 * p values.
_TILE_ROWS = 64
# Rows of a triangular product's copy come in multiples of this
# (:func:`_factor_norms`), so that no row falls in an incomplete group of
# OpenBLAS's trmm: groups of 12 rows measured (float64, OpenBLAS 0.3.30,
# SkylakeX); 48 covers groups of 6, 12, 24 and 48 (three times a kernel's
# column unroll of 2 to 16).
_TRMM_GROUP = 48

# A pivot this small relative to its diagonal entry means a condition number
# near its inverse, and relative errors near eps over it: about 1e-6 here.
_ILL_CONDITIONED_PIVOT = 1e-10

_ILL_CONDITIONED_MESSAGE = (
    "The penalized Hessian is ill-conditioned at alpha={alpha!r} (nearly "
    "collinear features; a pivot {ratio:.1e} of its diagonal entry): expect about "
    "{digits} correct significant digits in the fit, the tangent and the scores, "
    "not 15. Raise alpha, or remove redundant features."
)


def choose_solver(n_samples, n_features, diagonal_penalty=True):
    """``"dual"`` or ``"primal"``: which factorization the fit and the LOO use.

    The dual costs O(n^2 p) against the primal's O(n p^2 + p^3), so it wins
    when ``n_samples <= n_features`` (``RidgeCV``'s rule for its Gram mode);
    it needs an invertible diagonal penalty. (For a dense ``P`` the dual would
    need ``P^-1``, itself an O(p^3) factorization: nothing to gain.)
    """
    if diagonal_penalty and n_samples <= n_features:
        return "dual"
    return "primal"


def _diagonal_penalty_inverse(alpha, penalty):
    """``P^-1`` as a scalar (ridge) or a vector (diagonal ``P``), or None.

    None when ``P`` is singular or not diagonal: the dual then does not apply.
    """
    if penalty is None:
        return 1.0 / alpha if alpha > 0 else None
    diagonal = np.diag(penalty)
    if np.any(diagonal <= 0) or np.count_nonzero(penalty) != np.count_nonzero(diagonal):
        return None
    return 1.0 / diagonal


def _scale_rows(scale, rhs):
    """``diag(scale) rhs`` for a scalar or (p,) ``scale`` and a (p,) or (p, k) ``rhs``."""
    if np.ndim(scale) == 0 or rhs.ndim == 1:
        return scale * rhs
    return scale[:, np.newaxis] * rhs


class _InterceptElimination:
    """What both factorizations share: ``H`` in ``theta`` layout from ``A^-1``.

    For ``theta = [coef, intercept]`` the Hessian is::

        H = [[X^T W X + P,  X^T w],
             [w^T X,        sum(w)]]

    whose Schur complement of the intercept is ``A = Xc^T W Xc + P`` (``Xc``
    centered with the weighted means ``X_offset``). A subclass supplies
    ``solve_centered`` (``A^-1`` times a block) and ``_centered_quadratic_form``
    (``v^T A^-1 v`` for the rows of a centered block), or
    ``_rows_quadratic_form`` for the rows of a block as given; ``H`` is never
    formed.
    """

    def __init__(self, cholesky, X_offset, weight_sum, fit_intercept, effective_dof=None):
        self.cholesky = cholesky
        self.X_offset = X_offset
        self.weight_sum = weight_sum
        self.fit_intercept = fit_intercept
        self.effective_dof = effective_dof

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
        A^-1 (x - X_offset) + 1 / sum(w)``, row chunk by row chunk, ``H^-1``
        never formed.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        quadratic_form : ndarray of shape (n_samples,)
        """
        n_samples, n_features = X.shape
        out = np.empty(n_samples)
        # Blocks of a few hundred kilobytes keep their centered float64 copy
        # in cache; a float32 pool is cast exactly (centering it in float32
        # would cost the std its digits), so its result equals that of the
        # same values in float64.
        for rows in row_blocks(n_samples, self._row_bytes(n_features)):
            block = X[rows]
            block = block.toarray() if sparse.issparse(block) else block
            out[rows] = self._rows_quadratic_form(block)
        if self.fit_intercept:
            out += 1.0 / self.weight_sum
        return out

    def _rows_quadratic_form(self, block):
        """``(x - X_offset)^T A^-1 (x - X_offset)`` for each row of a dense block, float64."""
        # One pass: cast (exactly) and center into a new array.
        centered = _broadcast_row(
            np.subtract, block, self._center_tile(), np.empty(block.shape, dtype=np.float64)
        )
        return self._centered_quadratic_form(centered)

    def _center_tile(self):
        """``X_offset`` repeated for :func:`_broadcast_row`, kept."""
        if getattr(self, "_center_tile_cache", None) is None:
            self._center_tile_cache = np.tile(self.X_offset, _TILE_ROWS)
        return self._center_tile_cache


class RidgeHessian(_InterceptElimination):
    """The primal factorization: Cholesky of the p x p ``A = Xc^T W Xc + P``.

    Parameters
    ----------
    cholesky : ndarray of shape (n_features, n_features)
        Lower Cholesky factor of ``A``.

    X_offset : ndarray of shape (n_features,)
        Weighted feature means (zeros without an intercept).

    weight_sum : float
        Sum of the sample weights.

    fit_intercept : bool
        Whether ``theta`` ends with an intercept.

    effective_dof : float, default=None
        The trace of the hat matrix, set by :func:`fit_ridge`.
    """

    def solve_centered(self, rhs):
        """Solve ``A u = rhs`` (rhs of shape (p,) or (p, k))."""
        return linalg.cho_solve((self.cholesky, True), rhs, check_finite=False)

    def _row_bytes(self, n_features):
        return 3 * 8 * n_features

    def _rows_quadratic_form(self, block):
        # ||L^-1 (x - X_offset)||^2 as one triangular product with the
        # explicit inverse factor: p^2 flops a row at matrix-product speed (a
        # triangular solve does as many at a quarter of the speed; a full
        # product twice as many).
        return _factor_norms(block, self._center_tile(), self._inverse_factor())

    def float32_quadratic_form(self, X):
        """:meth:`inverse_quadratic_form` of a dense float32 ``X``, computed in float32.

        What ``precision="auto"`` scores a float32 pool with: each block of
        rows is centered in float32 on ``X_offset`` rounded to float32 and
        multiplied by the inverse factor rounded to float32; where the means
        are far from zero the constant ``L^-1 (X_offset32 - X_offset)`` is
        added in float32; the squares are summed in float32 (they are
        non-negative: no cancellation). With
        ``z = L^-1 (x - X_offset)``, ``u = 2**-24`` and ``t = |x - X_offset| +
        u |X_offset|``, the result is within ``(p + 3) u (2 ||z|| || |L^-1| t
        || + ||z||^2)`` of the exact ``v = ||z||^2`` (:ref:`theory-precision`):
        a relative error of ``1 + v`` (what the predictive variance
        multiplies) of at most ``(p + 3) u (|| |L^-1| t || + 1)``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features), float32

        Returns
        -------
        quadratic_form : ndarray of shape (n_samples,), float64
        """
        inverse32, center32, residue32 = self._float32_factors()
        out = np.empty(X.shape[0])
        for rows in row_blocks(X.shape[0], 2 * 4 * X.shape[1]):
            block = X[rows]
            squares = _factor_norms(block, center32, inverse32, residue32)
            # The largest is NaN or infinite if any of them is: one look.
            if not math.isfinite(squares.max(initial=0.0)):
                # Squares beyond float32's range (or a non-finite row, which
                # stays non-finite): those rows again in float64.
                far = np.flatnonzero(~np.isfinite(squares))
                squares = squares.astype(np.float64)
                squares[far] = self._rows_quadratic_form(block[far])
            out[rows] = squares
        if self.fit_intercept:
            out += 1.0 / self.weight_sum
        return out

    def _inverse_factor(self):
        """``L^-1``, computed once (p^3 / 3 flops) and kept."""
        if getattr(self, "_inverse_factor_cache", None) is None:
            # Column-major, as BLAS's triangular product takes it.
            self._inverse_factor_cache = np.asfortranarray(linalg.solve_triangular(
                self.cholesky, np.eye(len(self.cholesky)), lower=True, check_finite=False
            ))
        return self._inverse_factor_cache

    def _float32_factors(self):
        """``L^-1``, ``X_offset`` and the residue rounded to float32, kept.

        The residue ``L^-1 (X_offset32 - X_offset)`` is what centering on the
        rounded mean leaves out. It is within the rounding of the product
        (``u |L^-1| |X_offset|`` against ``u |L^-1| |x - X_offset|``) unless
        some feature's mean exceeds its spread (the weighted standard
        deviation, from the diagonal of ``A``): None then, and a pass over
        each block saved. The two rows come repeated for
        :func:`_broadcast_row` (kept under a name of their own: a pickle
        from before holds the rows once, as ``_float32_factors_cache``).
        """
        if getattr(self, "_float32_tiles_cache", None) is None:
            inverse = self._inverse_factor()
            center32 = self.X_offset.astype(np.float32)
            variance = np.einsum("ij,ij->i", self.cholesky, self.cholesky) / self.weight_sum
            residue = None
            if np.any(self.X_offset**2 > variance):
                residue = inverse @ (center32.astype(np.float64) - self.X_offset)
                residue = np.tile(residue.astype(np.float32), _TILE_ROWS)
            self._float32_tiles_cache = (
                inverse.astype(np.float32, order="F"), np.tile(center32, _TILE_ROWS), residue
            )
        return self._float32_tiles_cache

    def trace_inverse_centered(self):
        """``trace(A^-1)``, the squared norm of ``L^-1``."""
        return float(np.sum(self._inverse_factor() ** 2))


def _factor_norms(rows, center_tile, inverse, residue_tile=None):
    """``||inverse @ (x - center) + residue||^2`` for each row ``x``, in ``inverse``'s dtype.

    ``rows`` are cast (exactly, if ``inverse`` is the wider) and centered
    into a new array that the triangular product overwrites; ``center_tile``
    and ``residue_tile`` are rows repeated for :func:`_broadcast_row`.

    The copy is padded with zero rows to a multiple of ``_TRMM_GROUP``.
    OpenBLAS's triangular product takes the rows (its columns) in groups and
    rounds those of a last, incomplete group differently (float64, p = 50:
    the last 4 rows of a block of 64): padded, every row is in a complete
    group, and a row's result does not depend on the block it is in.
    """
    n_rows, n_features = rows.shape
    padded = -(-n_rows // _TRMM_GROUP) * _TRMM_GROUP
    centered = np.empty((padded, n_features), dtype=inverse.dtype)
    if padded > n_rows:
        centered[n_rows:] = 0.0
        _broadcast_row(np.subtract, rows, center_tile, centered[:n_rows])
    else:
        _broadcast_row(np.subtract, rows, center_tile, centered)
    z = _lower_times_rows(inverse, centered)
    if residue_tile is not None:
        _broadcast_row(np.add, z, residue_tile, z)
    squares = _squared_row_norms(z)
    return squares[:n_rows] if padded > n_rows else squares


def _lower_times_rows(lower, rows):
    """``rows @ lower.T`` for a lower triangular ``lower``, in place on ``rows``.

    ``rows`` is a C-contiguous (n, p) array, owned by the caller, whose
    memory BLAS sees as the column-major (p, n) ``rows.T``: ``trmm``
    overwrites it with ``lower @ rows.T``.
    """
    trmm = linalg.blas.strmm if rows.dtype == np.float32 else linalg.blas.dtrmm
    product = trmm(1.0, lower, rows.T, lower=1, overwrite_b=1)
    return product.T


def _squared_row_norms(rows):
    """``sum_j rows[i, j]**2`` for each row, in the rows' dtype; may overwrite ``rows``.

    float64 rows through ``np.vecdot`` (a BLAS dot product per row; numpy
    2). float32 rows, whose dot products numpy does not hand to BLAS: the
    squares in one pass over the block, then their sums as one
    matrix-vector product (``np.einsum("ij,ij->i")`` costs as much).
    """
    if rows.dtype == np.float64 and hasattr(np, "vecdot"):
        return np.vecdot(rows, rows)
    np.square(rows, out=rows)
    return rows @ _ones(rows.shape[1], rows.dtype)


@functools.lru_cache(maxsize=8)
def _ones(n, dtype):
    # A block's row sums take it: made once, not for each block.
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _broadcast_row(ufunc, rows, row_tile, out):
    """``ufunc(rows, row)`` into ``out`` for each row, ``row_tile`` being ``row`` repeated.

    The same as ``ufunc(rows, row, out=out)``, value for value, faster:
    numpy's broadcasting runs its inner loop over one row's p values, about
    three times as slow at p = 50 (a block in cache: 25 against 8 ms per
    million float32 rows, against 45 ms for the triangular product). Viewed
    as rows of ``_TILE_ROWS`` of them, against ``row_tile``, the loop is
    long.
    ``out`` is a new or owned C-contiguous array of ``rows``' shape (it may
    be ``rows``).
    """
    n_rows, n_features = rows.shape
    whole = n_rows - n_rows % _TILE_ROWS
    if whole and out.flags.c_contiguous:
        width = _TILE_ROWS * n_features
        # A view of out (contiguous); rows' is a copy if rows is strided.
        ufunc(rows[:whole].reshape(-1, width), row_tile, out=out[:whole].reshape(-1, width))
    else:
        whole = 0
    if whole < n_rows:
        ufunc(rows[whole:], row_tile[:n_features], out=out[whole:])
    return out


class _CenteredDesign:
    """``Xs = W^1/2 (X - 1 X_offset^T)`` as an operator, for the dual.

    Dense ``X`` is centered and scaled in one copy. Sparse ``X`` is copied as
    it is (CSR) and the centering applied as a rank-one correction of each
    product, so a p-wide row is never densified. Copies, so that changing the
    caller's ``X`` after the fit cannot change later solves.
    """

    def __init__(self, X, X_offset, sqrt_w):
        self.X_offset = X_offset
        self.sqrt_w = sqrt_w
        if sparse.issparse(X):
            self.X, self.dense = X.tocsr(copy=True), None
        else:
            self.X, self.dense = None, X - X_offset
            if not np.all(sqrt_w == 1.0):  # unit weights: no pass over the copy
                self.dense *= sqrt_w[:, np.newaxis]

    @property
    def shape(self):
        return (self.dense if self.X is None else self.X).shape

    def matmat(self, V):
        """``Xs V`` for ``V`` of shape (p,) or (p, k)."""
        if self.X is None:
            return self.dense @ V
        product = self.X @ V - self.X_offset @ V
        return _scale_rows(self.sqrt_w, product)

    def rmatmat(self, U):
        """``Xs^T U`` for ``U`` of shape (n,) or (n, k)."""
        if self.X is None:
            return self.dense.T @ U
        scaled = _scale_rows(self.sqrt_w, U)
        return self.X.T @ scaled - np.multiply.outer(self.X_offset, scaled.sum(axis=0))

    def kernel(self, scale):
        """The n x n ``Xs diag(scale) Xs^T`` (``scale`` a scalar or a (p,) vector)."""
        if self.X is None:
            root = np.sqrt(scale)
            scaled = self.dense * root if np.ndim(scale) else self.dense
            kernel = scaled @ scaled.T  # numpy calls BLAS syrk for A @ A.T
            return kernel if np.ndim(scale) else scale * kernel
        X_scaled = self.X.multiply(scale).tocsr() if np.ndim(scale) else self.X * scale
        kernel = np.asarray((X_scaled @ self.X.T).todense())
        # (x_i - m)^T D (x_j - m) = x_i^T D x_j - u_i - u_j + m^T D m, u = X D m.
        u = X_scaled @ self.X_offset
        kernel -= u[:, np.newaxis]
        kernel -= u[np.newaxis, :]
        kernel += self.X_offset @ (scale * self.X_offset)
        kernel *= np.multiply.outer(self.sqrt_w, self.sqrt_w)
        return kernel


class DualRidgeHessian(_InterceptElimination):
    """The dual factorization: Cholesky of the n x n ``M = I + Xs P^-1 Xs^T``.

    By Woodbury, ``A^-1 = P^-1 - P^-1 Xs^T M^-1 Xs P^-1``: a solve with ``A``
    costs two products with ``Xs`` and one with the factor of ``M``, O(n p).

    Parameters
    ----------
    design : _CenteredDesign
        The operator ``Xs`` (n_samples, n_features).

    penalty_inverse : float or ndarray of shape (n_features,)
        ``P^-1``: ``1 / alpha`` for ridge, the inverse diagonal otherwise.

    cholesky : ndarray of shape (n_samples, n_samples)
        Lower Cholesky factor of ``M``.

    X_offset, weight_sum, fit_intercept, effective_dof
        As in :class:`RidgeHessian`.
    """

    def __init__(
        self, design, penalty_inverse, cholesky, X_offset, weight_sum, fit_intercept,
        effective_dof=None,
    ):
        super().__init__(cholesky, X_offset, weight_sum, fit_intercept, effective_dof)
        self.design = design
        self.penalty_inverse = penalty_inverse

    def solve_centered(self, rhs):
        """Solve ``A u = rhs`` (rhs of shape (p,) or (p, k)) through ``M``."""
        rhs = np.asarray(rhs, dtype=np.float64)
        scaled = _scale_rows(self.penalty_inverse, rhs)
        dual = linalg.cho_solve(
            (self.cholesky, True), self.design.matmat(scaled), check_finite=False
        )
        return scaled - _scale_rows(self.penalty_inverse, self.design.rmatmat(dual))

    def _row_bytes(self, n_features):
        # The centered chunk and its P^-1 scaling, and the (n, rows) solve.
        return 2 * 8 * n_features + 2 * 8 * self.design.shape[0]

    def _centered_quadratic_form(self, block):
        # v^T A^-1 v = v^T P^-1 v - ||L^-1 Xs P^-1 v||^2, by Woodbury. For a
        # row in the span of the training rows at a tiny alpha the two terms
        # nearly cancel: about eps ||v||^2 / alpha lost, 1e-10 relative at
        # alpha = 1e-4 on unit-scale data (the primal loses as much on rows
        # outside that span).
        scaled = block * self.penalty_inverse
        z = linalg.solve_triangular(
            self.cholesky, self.design.matmat(scaled.T), lower=True, check_finite=False
        )
        return np.einsum("ij,ij->i", block, scaled) - np.einsum("ij,ij->j", z, z)


def weighted_offsets(X, y, sample_weight, fit_intercept):
    """Weighted means ``(X_offset, y_offset)`` (zeros without an intercept)."""
    if not fit_intercept:
        return np.zeros(X.shape[1]), 0.0
    weight_sum = sample_weight.sum()
    X_offset = np.asarray(sample_weight @ X).ravel() / weight_sum
    return X_offset, float(sample_weight @ y) / weight_sum


def _centered_weighted_gram(X, y, sample_weight, fit_intercept):
    """Return ``(Xc^T W Xc, Xc^T W yc, weighted RSS function, X_offset, y_offset)``.

    Dense ``X`` is centered and scaled by ``sqrt(w)`` one cache-sized block of
    rows at a time, each block adding its symmetric product to the Gram
    matrix: on tall data the passes over ``X``, not the flops, are the cost,
    and this reads ``X`` once without an n x p copy (measured 1.3x faster than
    centering a whole copy at n=100,000, p=20). Sparse ``X`` is not centered
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
    else:
        n_samples, n_features = X.shape
        gram = np.zeros((n_features, n_features))
        Xy = np.zeros(n_features)
        unit_weights = bool(np.all(sample_weight == 1.0))
        block_rows = max(_GRAM_BLOCK_MIN_ROWS, _GRAM_BLOCK_BYTES // (8 * n_features))
        for rows in gen_batches(n_samples, block_rows):
            block = X[rows] - X_offset
            if not unit_weights:
                block *= sqrt_w[rows, np.newaxis]
            gram += block.T @ block  # numpy calls BLAS syrk for A.T @ A
            Xy += block.T @ y_scaled[rows]

    def weighted_rss(coef):
        resid = y_scaled - sqrt_w * (X @ coef - X_offset @ coef)
        return float(resid @ resid)

    return gram, Xy, weighted_rss, X_offset, y_offset


def _check_pivots(pivots, diagonal, alpha, penalized):
    """Raise if the factor's pivots say singular (nothing penalized); warn if ill-conditioned."""
    if not penalized and np.any(pivots <= _COLLINEAR_PIVOT * diagonal):
        raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha))
    if np.any(pivots <= _ILL_CONDITIONED_PIVOT * diagonal):
        ratio = float(np.min(pivots[diagonal > 0] / diagonal[diagonal > 0], initial=1.0))
        digits = max(0, int(np.log10(max(ratio, 1e-300) / np.finfo(np.float64).eps)))
        warnings.warn(
            _ILL_CONDITIONED_MESSAGE.format(alpha=alpha, ratio=ratio, digits=digits),
            LinAlgWarning,
        )


def _fit_primal(X, y, sample_weight, alpha, fit_intercept, penalty):
    """``(params, RidgeHessian, weighted_rss)`` from the p x p factorization."""
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
    _check_pivots(
        np.diag(cholesky) ** 2, gram_diagonal + penalty_diagonal, alpha, np.any(penalty_diagonal)
    )

    hessian = RidgeHessian(cholesky, X_offset, sample_weight.sum(), fit_intercept)
    coef = hessian.solve_centered(Xy)
    params = np.append(coef, y_offset - X_offset @ coef) if fit_intercept else coef

    # trace(hat) = trace(A^-1 (A - P)) = p - trace(A^-1 P); for P = alpha I
    # only the squared norm of the inverse factor is needed.
    if penalty is None:
        shrinkage = alpha * hessian.trace_inverse_centered()
    else:
        shrinkage = np.trace(hessian.solve_centered(penalty))
    hessian.effective_dof = n_features - shrinkage + int(fit_intercept)
    return params, hessian, weighted_rss(coef)


def _fit_dual(X, y, sample_weight, alpha, fit_intercept, penalty_inverse):
    """``(params, DualRidgeHessian, weighted_rss)`` from the n x n factorization."""
    n_samples = X.shape[0]
    X_offset, y_offset = weighted_offsets(X, y, sample_weight, fit_intercept)
    sqrt_w = np.sqrt(sample_weight)
    design = _CenteredDesign(X, X_offset, sqrt_w)
    M = design.kernel(penalty_inverse)
    M.flat[:: n_samples + 1] += 1.0
    # M >= I is positive definite for any data; a tiny pivot relative to its
    # diagonal entry means A = Xs^T Xs + P is nearly singular (alpha tiny).
    # With alpha tiny enough the I is lost to rounding in M, and the
    # factorization fails as the primal's does on the same data.
    try:
        cholesky = linalg.cholesky(M, lower=True, check_finite=False)
    except linalg.LinAlgError:
        raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha)) from None
    _check_pivots(np.diag(cholesky) ** 2, np.diag(M), alpha, penalized=True)

    # coef = A^-1 Xs^T ys = P^-1 Xs^T M^-1 ys (push-through identity).
    dual_coef = linalg.cho_solve((cholesky, True), sqrt_w * (y - y_offset), check_finite=False)
    coef = _scale_rows(penalty_inverse, design.rmatmat(dual_coef))
    params = np.append(coef, y_offset - X_offset @ coef) if fit_intercept else coef

    # trace(hat) = trace(Xs A^-1 Xs^T) = trace(K (I + K)^-1) = n - trace(M^-1)
    # with K = Xs P^-1 Xs^T; the intercept adds one.
    L_inv = linalg.solve_triangular(cholesky, np.eye(n_samples), lower=True, check_finite=False)
    dof = n_samples - float(np.sum(L_inv**2)) + int(fit_intercept)
    hessian = DualRidgeHessian(
        design, penalty_inverse, cholesky, X_offset, sample_weight.sum(), fit_intercept, dof
    )
    # The scaled residuals ys - Xs coef = ys - K M^-1 ys = M^-1 ys are the
    # dual coefficients themselves: no cancellation near interpolation.
    return params, hessian, float(dual_coef @ dual_coef)


def largest_product_flops(n_samples, n_features, solver):
    """Flops of the largest single BLAS call of a fit or LOO through ``solver``.

    The primal builds its Gram matrix from cache-sized blocks of rows, so its
    products are a block's and the p x p factorization's; the dual's are the
    n x n kernel and its factorization. :func:`~sklearn_curiosity._threads.blas_threads_for`
    keeps the user's BLAS threads for large ones only: on small ones a second
    thread costs more than it saves (measured: a 100,000 x 20 fit took 1.4x as
    long with two threads as with one; a 10 x 20,000 fit 2x).
    """
    if solver == "dual":
        return 2.0 * max(n_samples**2 * n_features, n_samples**3 / 3)
    block_rows = max(_GRAM_BLOCK_MIN_ROWS, _GRAM_BLOCK_BYTES // (8 * n_features))
    return 2.0 * max(min(n_samples, block_rows) * n_features**2, n_features**3 / 3)


def fit_ridge(X, y, sample_weight, alpha, fit_intercept, penalty=None):
    """Minimize ``1/2 sum_i w_i (y_i - x_i.coef - b)^2 + alpha/2 ||coef||^2``.

    Through the dual (n x n) or the primal (p x p) factorization, as
    :func:`choose_solver` says.

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

    hessian : RidgeHessian or DualRidgeHessian
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
        collinear features, or with fewer samples than features).
    """
    n_samples, n_features = X.shape
    if penalty is None and alpha == 0 and n_samples - int(fit_intercept) < n_features:
        # Rank-deficient for certain: said before any p x p matrix is formed.
        raise ValueError(_SINGULAR_MESSAGE.format(alpha=alpha))
    penalty_inverse = _diagonal_penalty_inverse(alpha, penalty)
    solver = choose_solver(n_samples, n_features, penalty_inverse is not None)
    with blas_threads_for(largest_product_flops(n_samples, n_features, solver)):
        if solver == "dual":
            params, hessian, weighted_rss = _fit_dual(
                X, y, sample_weight, alpha, fit_intercept, penalty_inverse
            )
        else:
            params, hessian, weighted_rss = _fit_primal(
                X, y, sample_weight, alpha, fit_intercept, penalty
            )
    return params, hessian, weighted_rss, hessian.effective_dof
