"""Tangent solvers: tau = d theta*/d alpha = -H^-1 b (:ref:`theory-solvers`).

A solver only solves the tangent system ``H tau = -b`` with
``b = regularizer.alpha_gradient(theta*)``; it knows nothing of the model
beyond what the Hessian object offers.

- :func:`exact_tangent`: ``H`` is factorized (for the linear model the fit's
  own Cholesky factor; for a network :class:`NetworkHessian` with
  ``method="exact"``), one solve; with ``method="cg"`` the same call runs
  Hessian-free conjugate gradients, preconditioned by the shifted
  Gauss-Newton factor, once eigenvalue estimates have decided the damping.
- :func:`lissa_solve`: the stochastic Neumann series (LiSSA) on mini-batch
  Hessian-vector products, for very large ``n``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_parameter_constraints

# H counts as ill-conditioned when its smallest eigenvalue (or a Cholesky
# pivot squared, which bounds it from above) is at most this fraction of its
# largest; the damping then restores that condition number.
_ILL_CONDITIONED = 1e-10
# Relative damping added beyond the negative curvature of an indefinite H.
_DAMPING_FLOOR = 1e-6
# Conjugate gradients raise the damping and restart at most this many times.
_MAX_CG_RESTARTS = 8
# "cg" takes the extreme eigenvalues of H densely up to this many parameters.
_DENSE_EIGENVALUES_MAX = 50
# Residual, relative to lambda_max, at which the eigenvalue estimates stop:
# the eigenvalue errors are about its square, far below the 1e-6 * lambda_max
# damping floor on which the tangent's sensitivity to them depends.
_EIGENVALUE_TOL = 1e-10
_LANCZOS_MAXITER = 50
# Lanczos vectors per ARPACK restart: the largest eigenvalue, well separated
# after training, converges in 9 to 13 products with 8, where ARPACK's
# default (20) spends 21 before its first convergence test.
_LANCZOS_VECTORS = 8
# LOBPCG iterations for the rough lambda_min that decides the shift, then at most.
_ROUGH_LOBPCG_ITERATIONS = 15
_LOBPCG_ROUND = 30
_LOBPCG_MAXITER = 315
# A shifted preconditioner serves a damping within this factor of its shift.
_RESHIFT_RATIO = 4.0
# The first shift of the preconditioner, relative to lambda_max: LOBPCG and
# CG take fewest products with a shift within 10x of -lambda_min, which was
# 5e-5 to 2e-4 lambda_max on the benchmark's networks after 200 L-BFGS steps;
# from the middle of that range one factorization serves both, where 1e-5
# needed a second (each a P^3 / 3 Cholesky on the "cholesky" route).
_FIRST_SHIFT = 1e-4
# Above this many parameters the shifted preconditioner is single precision.
_SINGLE_PRECISION_MIN_PARAMS = 1000
# A first estimate of lambda_min whose residual leaves it above this
# fraction of lambda_max settles the damping (none) without refinement.
_CLEARLY_DEFINITE = 1e-8


def exact_tangent(hessian, regularizer, params, alpha=None):
    """Solve ``H tau = -b`` with a factorized Hessian.

    Parameters
    ----------
    hessian : object with a ``solve(rhs)`` method
        The factorized Hessian of the training objective at ``params``.

    regularizer : regularizer
        Supplies ``b = alpha_gradient(params)``.

    params : ndarray of shape (n_params,)
        The fitted parameters ``theta*``.

    alpha : float, default=None
        The regularity, for regularizers whose ``b`` depends on it.

    Returns
    -------
    tangent : ndarray of shape (n_params,)
    """
    return -hessian.solve(regularizer.alpha_gradient(params, alpha=alpha))


def well_conditioned_cholesky(H, threshold=_ILL_CONDITIONED):
    """Lower Cholesky factor of the symmetric ``H``, or None if ``H`` is not
    safely positive definite (a pivot squared below ``threshold``, by default
    ``_ILL_CONDITIONED``, times the largest diagonal entry).

    The test is relative only: a matrix that is small overall (badly scaled
    data or targets) is not singular for that.
    """
    from scipy import linalg

    scale = float(np.abs(np.diag(H)).max())
    try:
        cholesky = linalg.cholesky(H, lower=True, check_finite=False)
    except linalg.LinAlgError:
        return None
    return cholesky if np.diag(cholesky).min() ** 2 > threshold * scale else None


class NetworkHessian:
    """Hessian of a nonlinear model's training objective, behind ``solve(rhs)``.

    ``H v = loss_hvp(v) + alpha * penalized * v`` (the default L2 penalty's
    Hessian is diagonal; a regularizer with ``hessian_vector_product`` adds
    its own); ``hvp`` also takes a block (n_params, k) of directions.
    ``method="exact"`` forms ``H`` densely as the product with the identity
    block and factorizes it (Cholesky); ``method="cg"`` solves with
    preconditioned conjugate gradients on Hessian-vector products, never
    forming ``H``.

    Damping. Every solve is with ``H + damping I``. Both methods decide
    ``damping`` by one rule from the extreme eigenvalues ``lambda_min`` and
    ``lambda_max`` of ``H``, once, before any solve; it is 0 unless ``H`` is
    unfit for a solve, which a :class:`UserWarning` reports together with the
    damping used:

    - *indefinite* (``lambda_min < -1e-10 * lambda_max``: training stopped
      near a saddle): ``damping = -lambda_min + 1e-6 * lambda_max``, the
      tangent of the locally convexified objective;
    - *ill-conditioned* (``|lambda_min| <= 1e-10 * lambda_max``, for
      example the unpenalized bias of a dead hidden unit):
      ``damping = max(0, -lambda_min) + 1e-10 * lambda_max``, which caps the
      condition number near 1e10 and barely moves the well-determined
      directions.

    "exact" takes the eigenvalues of the dense ``H`` (computed only if the
    Cholesky factorization fails or has a pivot squared below ``1e-10`` times
    the largest diagonal entry). "cg" (with more than 50 parameters; densely
    below) estimates them iteratively, at the first solve, so that the
    damping, on which the tangent depends, is the exact method's and not an
    artefact of the solver's path: ``lambda_max`` by Lanczos (ARPACK) and
    ``lambda_min`` by LOBPCG preconditioned by the shifted Gauss-Newton
    factor ``(G + s I)^-1``, both to a residual of ``1e-10 * lambda_max``, or
    until ``lambda_min`` is clearly above ``1e-8 * lambda_max`` (no damping,
    whatever its exact value); a ConvergenceWarning says when LOBPCG ends
    otherwise, after 315 iterations (a cluster of eigenvalues narrower than
    the residual at the bottom of the spectrum: the damping is then only
    within that residual).
    ``H`` and ``G`` differ by the residual-weighted second derivatives, whose
    size is that of a negative ``lambda_min``; ``G`` alone is a poor
    preconditioner for ``H``, since its weak prior on the biases (``eps``)
    makes its inverse huge along them. The shift ``s`` starts at
    ``1e-4 * lambda_max``; when 15 LOBPCG iterations already show
    ``lambda_min < 0`` and ``-lambda_min`` more than 4 times away from ``s``
    (either way), it moves to about ``-lambda_min``; the conjugate
    gradients keep it, unless the damping is more than 4 times away from it,
    which refactorizes with ``s = damping``. Each new shift is one
    factorization: on the "cholesky" route of ``G + s I``, in single
    precision above 1000 parameters (a preconditioner needs no more;
    float64 should float32 fail); on the "dual" route under the L2 penalty
    only the small Schur complement of the biases, the fit's SVD serving
    every shift (otherwise the (n, n) matrix ``I + A A^T`` of the Woodbury
    identity). One in all on the benchmark's networks, at most three.

    Preconditioning. ``preconditioner`` is an object whose ``solve(r)`` is
    ``M^-1 r`` with ``M`` symmetric positive definite; if it also has
    ``shifted(s, dtype)`` (the fit's
    :class:`~sklearn_curiosity._laplace.GaussNewtonCovariance`), the shifted
    factor serves both LOBPCG and the conjugate gradients on the damped
    system. :meth:`release_preconditioner` drops it after the fit (a (P, P)
    matrix on the "cholesky" route), and a later solve rebuilds it once, at
    the same shift. The conjugate gradients (flexible: Polak-Ribiere's
    ``beta``, which a single-precision preconditioner's rounding does not
    derail) stop at a residual of ``H v = rhs`` below
    ``cg_tol`` relative to ``rhs``, after at most ``cg_maxiter``
    Hessian-vector products (default ``2 * n_params``); a
    ConvergenceWarning says when they ended before. Should they still meet
    negative curvature (an eigenvalue estimate not converged), they raise the
    damping by that curvature plus ``1e-6 * lambda_max`` and restart from the
    current iterate, at most 8 times.

    ``n_hvp`` counts the Hessian-vector products spent by "cg" (eigenvalue
    estimates included).
    """

    def __init__(
        self, hvp, n_params, method="exact", cg_tol=1e-10, cg_maxiter=None, preconditioner=None
    ):
        self.hvp = hvp
        self.n_params = n_params
        self.method = method
        self.cg_tol = cg_tol
        self.cg_maxiter = cg_maxiter
        self.preconditioner = preconditioner
        self.damping = 0.0
        self.n_hvp = 0
        self._warned = False
        # Decided at the first "cg" solve: "forward" and "lissa" fits keep a
        # Hessian for later solves that may never come.
        self._highest = None
        self._preconditioner_used = None
        self._preconditioner_shift = None
        self._decided = False
        if method == "exact":
            self._factorize()
            self.hvp = None  # the factor is all a solve needs; drop the data

    def _dense(self):
        """The symmetrized dense ``H`` (without damping)."""
        # The model's dense Hessian where it has one; else all n_params unit
        # directions as one block, in a few large passes, not n_params small ones.
        H = self.hvp.dense() if hasattr(self.hvp, "dense") else self.hvp(np.eye(self.n_params))
        return 0.5 * (H + H.T)

    def _factorize(self):
        from scipy import linalg

        H = self._dense()
        self.cholesky = well_conditioned_cholesky(H)
        if self.cholesky is not None:
            return
        eigvals = linalg.eigvalsh(H)
        self._set_damping(eigvals[0], eigvals[-1])
        H.flat[:: self.n_params + 1] += self.damping
        self.cholesky = linalg.cholesky(H, lower=True, check_finite=False)

    def _set_damping(self, lowest, highest):
        """The damping rule of the class docstring, with its warning."""
        highest = max(highest, np.finfo(float).tiny)
        # A negative eigenvalue within rounding of zero is a flat direction.
        if lowest < -_ILL_CONDITIONED * highest:
            self.damping = -lowest + _DAMPING_FLOOR * highest
            self._warn_indefinite(lowest, "smallest eigenvalue")
        elif lowest <= _ILL_CONDITIONED * highest:
            self.damping = max(0.0, -lowest) + _ILL_CONDITIONED * highest
            warnings.warn(
                "The Hessian of the training objective is ill-conditioned at the "
                f"fitted parameters (eigenvalues from {lowest:.3g} to {highest:.3g}, "
                f"condition number above {1 / _ILL_CONDITIONED:.0e}): some direction "
                "is (nearly) flat, such as a dead hidden unit or an unpenalized "
                f"parameter the data do not determine. The tangent uses the damped "
                f"Hessian H + {self.damping:.3g} I. Raise alpha, use fewer hidden "
                "units, or scale the features.",
                UserWarning,
            )
        # else: well-conditioned; no damping.

    def _warn_indefinite(self, curvature, where):
        self._warned = True
        warnings.warn(
            "The Hessian of the training objective is indefinite at the fitted "
            f"parameters ({where} {curvature:.3g} < 0): the training stopped near "
            "a saddle. The tangent uses the damped Hessian "
            f"H + {self.damping:.3g} I. "
            "Train longer, raise alpha, or use fewer hidden units.",
            UserWarning,
        )

    def matvec(self, v):
        self.n_hvp += 1 if np.ndim(v) == 1 else np.shape(v)[1]
        return self.hvp(v) + self.damping * v

    # -- "cg": the damping from eigenvalue estimates ---------------------------
    def _operator(self, func):
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator((self.n_params,) * 2, matvec=func, matmat=func, dtype=np.float64)

    def _preconditioner_for(self, shift):
        """``(G + shift I)^-1`` where the preconditioner can shift, else itself.

        An object with ``solve``, not its bound method: a fitted estimator is
        then made of the package's own types only (skops' trusted_types()).
        """
        shifted = getattr(self.preconditioner, "shifted", None)
        self._preconditioner_shift = shift
        # Single precision above 1000 parameters: a preconditioner needs no
        # more (the conjugate gradients' residuals stay float64), at half the
        # factorization's time and half the memory traffic of each solve.
        # Its rounding costs about a tenth more products, which the P^3 / 6
        # flops saved outweigh only for large P.
        dtype = np.float32 if self.n_params > _SINGLE_PRECISION_MIN_PARAMS else np.float64
        factor = shifted(shift, dtype=dtype) if shifted is not None and shift > 0 else None
        return self.preconditioner if factor is None else factor

    def release_preconditioner(self):
        """Drop the shifted factor (a (P, P) matrix on the "cholesky" route).

        A fitted estimator does not carry it (nor do its pickles); a later
        solve rebuilds it, once, with the same shift.
        """
        if self._decided:
            self._preconditioner_used = None

    def _decide_damping(self):
        """Set ``damping`` by the rule, from Lanczos and preconditioned LOBPCG."""
        if self.n_params <= _DENSE_EIGENVALUES_MAX:  # cheaper dense
            eigvals = np.linalg.eigvalsh(self._dense())
            self.n_hvp += self.n_params
            self._highest = max(float(eigvals[-1]), np.finfo(float).tiny)
            self._set_damping(float(eigvals[0]), self._highest)
            self._preconditioner_used = self._preconditioner_for(
                self.damping if self.damping >= _DAMPING_FLOOR * self._highest else 0.0
            )
            self._decided = True
            return
        self._highest = highest = self._largest_eigenvalue()
        shift = _FIRST_SHIFT * highest
        precondition = self._preconditioner_for(shift)
        # A few LOBPCG steps tell the sign and size of lambda_min; when H is
        # indefinite the preconditioner is shifted by about -lambda_min, which
        # bounds the spectrum of the preconditioned damped Hessian.
        lowest, vector, residual = self._smallest_eigenpair(
            precondition, None, _ROUGH_LOBPCG_ITERATIONS
        )
        # Either way: a shift far above a small -lambda_min serves LOBPCG
        # poorly too (1.4x the products on a (32, 32) net whose -lambda_min
        # was 4e-6 lambda_max).
        indefinite = lowest < -_ILL_CONDITIONED * highest
        if indefinite and not shift / _RESHIFT_RATIO <= -lowest <= _RESHIFT_RATIO * shift:
            shift = -lowest + _DAMPING_FLOOR * highest
            precondition = self._preconditioner_for(shift)
        n_iterations = _ROUGH_LOBPCG_ITERATIONS
        # Refined in rounds, each from the last eigenvector, until converged
        # or clearly definite: an eigenvalue lies within the residual of the
        # estimate, so H is then positive definite and well conditioned, and
        # the rule damps nothing whatever the exact lambda_min.
        while (
            residual > _EIGENVALUE_TOL * highest
            and lowest - residual <= _CLEARLY_DEFINITE * highest
            and n_iterations < _LOBPCG_MAXITER
        ):
            lowest, vector, residual = self._smallest_eigenpair(
                precondition, vector, _LOBPCG_ROUND
            )
            n_iterations += _LOBPCG_ROUND
        converged = residual <= _EIGENVALUE_TOL * highest
        if not converged and lowest - residual <= _CLEARLY_DEFINITE * highest:
            # The estimate is within the residual of an eigenvalue, not
            # necessarily of lambda_min (a cluster of eigenvalues near it);
            # the tangent moves by up to residual / damping relative.
            warnings.warn(
                f"The smallest eigenvalue of the Hessian, {lowest:.6g}, is estimated "
                f"with residual {residual:.2g} (largest eigenvalue {highest:.6g}) after "
                f"{n_iterations} LOBPCG iterations: the damping, and with it the "
                "tangent, are approximate. Use tangent_solver='exact', or train longer.",
                ConvergenceWarning,
            )
        self._set_damping(lowest, highest)
        # The damped system's preconditioner: G shifted by about the damping
        # (refactorized if it is more than 4 times away from the shift in
        # use); with no damping, or a tiny one, the shift in use.
        if self.damping >= _DAMPING_FLOOR * highest and not (
            shift / _RESHIFT_RATIO <= self.damping <= _RESHIFT_RATIO * shift
        ):
            precondition = self._preconditioner_for(self.damping)
        self._preconditioner_used = precondition
        self._decided = True

    def _largest_eigenvalue(self):
        from scipy.sparse.linalg import ArpackNoConvergence, eigsh

        start = np.random.RandomState(0).normal(size=self.n_params)
        try:
            value = eigsh(
                self._operator(self.matvec), k=1, which="LA", tol=_EIGENVALUE_TOL, v0=start,
                ncv=_LANCZOS_VECTORS, maxiter=_LANCZOS_MAXITER, return_eigenvectors=False,
            )[0]
        except ArpackNoConvergence as exc:
            value = exc.eigenvalues[0] if len(exc.eigenvalues) else np.abs(self.matvec(start)).max()
        return max(float(value), np.finfo(float).tiny)

    def _smallest_eigenpair(self, precondition, start, maxiter):
        """LOBPCG estimate of ``(lambda_min, its eigenvector, residual norm)`` of ``H``."""
        from scipy.sparse.linalg import lobpcg

        if start is None:
            start = np.random.RandomState(1).normal(size=(self.n_params, 1))
        tol = _EIGENVALUE_TOL * self._highest
        with warnings.catch_warnings():
            # scipy warns when maxiter ends it; the residual is checked below.
            warnings.simplefilter("ignore", UserWarning)
            values, vectors, residuals = lobpcg(
                self._operator(self.matvec), start,
                M=None if precondition is None else self._operator(precondition.solve),
                tol=tol, maxiter=maxiter, largest=False, retResidualNormsHistory=True,
            )
        residual = float(np.min(residuals[-1])) if len(residuals) else np.inf
        return float(values[0]), vectors, residual

    def solve(self, rhs, tol=None):
        """Solve ``(H + damping I) v = rhs``, ``rhs`` in ``theta`` layout, (p,) or (p, k).

        ``tol`` overrides ``cg_tol`` (relative residual) for this solve.
        """
        from scipy import linalg

        rhs = np.asarray(rhs, dtype=np.float64)
        if self.method == "exact":
            return linalg.cho_solve((self.cholesky, True), rhs, check_finite=False)
        if not self._decided:
            self._decide_damping()
        elif self._preconditioner_used is None and self._preconditioner_shift is not None:
            self._preconditioner_used = self._preconditioner_for(self._preconditioner_shift)
        if rhs.ndim == 2:
            return np.column_stack([self.solve(r, tol) for r in rhs.T])
        return self._cg(rhs, self.cg_tol if tol is None else tol)

    def _cg(self, rhs, tol):
        # Hand-written rather than scipy's cg: the curvature of each search
        # direction must be seen, to damp further rather than diverge should
        # the eigenvalue estimate have missed some negative curvature.
        factor = self._preconditioner_used
        precondition = _identity if factor is None else factor.solve
        x = np.zeros_like(rhs)
        stop = (tol * np.linalg.norm(rhs)) ** 2
        per_start = self.cg_maxiter or 2 * self.n_params
        budget = per_start
        n_hvp, restarts = 0, 0
        r = rhs.copy()
        z = precondition(r)
        d = z.copy()
        rr, rz = r @ r, r @ z
        while n_hvp < budget:
            if rr <= stop:
                return x
            Hd = self.matvec(d)
            n_hvp += 1
            dd = d @ d
            curvature = d @ Hd
            if curvature <= 0 and restarts < _MAX_CG_RESTARTS:
                self.damping = max(
                    2 * self.damping,
                    self.damping - curvature / dd + _DAMPING_FLOOR * self._highest,
                )
                if not self._warned:
                    self._warn_indefinite(curvature / dd, "curvature met by CG")
                # Restart from the current iterate with the new damping and a
                # fresh budget: at most _MAX_CG_RESTARTS + 1 budgets in all.
                restarts += 1
                r = rhs - self.matvec(x)
                n_hvp += 1
                budget = n_hvp + per_start
                z = precondition(r)
                d = z.copy()
                rr, rz = r @ r, r @ z
                continue
            if curvature <= 0:
                break  # no damping left to try; return the iterate so far
            step = rz / curvature
            x += step * d
            r_old = r.copy()
            r -= step * Hd
            z = precondition(r)
            rz_new = r @ z
            # Polak-Ribiere's beta (flexible CG): the same as Fletcher-Reeves'
            # for an exact symmetric preconditioner, and robust to the
            # rounding of a single-precision one, which is not quite linear.
            d = z + ((rz_new - z @ r_old) / rz) * d
            rr, rz = r @ r, rz_new
        if rr <= stop:
            return x
        warnings.warn(
            f"Conjugate gradients stopped at relative residual "
            f"{np.sqrt(rr) / np.linalg.norm(rhs):.2g} > tol={tol:g} after {n_hvp} "
            f"Hessian-vector products ({restarts} damping restarts); the solution "
            "is approximate. Raise tangent_options['maxiter'], or use "
            "tangent_solver='exact'.",
            ConvergenceWarning,
        )
        return x


def _identity(r):
    return r


# Power iterations estimating the largest eigenvalue for LiSSA's automatic
# scale, and the margin over that estimate (power iteration underestimates it,
# and a mini-batch Hessian can exceed the full one).
_POWER_ITERATIONS = 20
_LISSA_SCALE_MARGIN = 1.5
# Relative residual of the LiSSA solution above which it warns.
_LISSA_RESIDUAL_WARN = 1e-2


def largest_eigenvalue(hvp, n_params, random_state, n_iter=_POWER_ITERATIONS):
    """Power-iteration estimate of the largest ``|eigenvalue|`` of ``H``."""
    v = random_state.normal(size=n_params)
    estimate = 0.0
    for _ in range(n_iter):
        v /= np.linalg.norm(v)
        Hv = hvp(v)
        estimate = abs(float(v @ Hv))
        if not np.any(Hv):
            break
        v = Hv
    return estimate


def lissa_solve(
    hvp, rhs, *, scale="auto", damping=0.0, depth=1000, batch_size="auto", repeats=1,
    random_state,
):
    """Solve ``(H + damping I) x = rhs`` by the stochastic Neumann series (LiSSA).

    ``v_0 = rhs``, ``v_j = rhs + (I - (H_B + damping I) / scale) v_{j-1}`` with
    ``H_B`` an unbiased mini-batch estimate of ``H`` (rows drawn with
    replacement; the full data when ``batch_size >= n_samples``), and
    ``x = v_depth / scale``, averaged over ``repeats`` independent runs
    (:ref:`theory-solvers`). The series converges when every eigenvalue of
    ``(H_B + damping I) / scale`` lies in ``(0, 2)``; its truncation error
    then decays like ``(1 - lambda_min / scale)^depth``.

    Parameters
    ----------
    hvp : callable with ``batch(rows, v)`` and ``n_samples``
        Full and mini-batch Hessian-vector products
        (:class:`~sklearn_curiosity._training.ObjectiveHessianProduct`).

    rhs : ndarray of shape (n_params,) or (n_params, k)
        One series per column (a tangent per regularity).

    scale : float or "auto"
        ``"auto"``: 1.5 times the power-iteration estimate of the largest
        eigenvalue of ``H + damping I``.

    damping, depth, batch_size, repeats :
        See ``tangent_options`` in :class:`~sklearn_curiosity.CuriousRegressor`.

    random_state : RandomState
        Draws the mini-batches (and the power iteration's start).

    Returns
    -------
    solution : ndarray of the shape of ``rhs``

    Raises
    ------
    ValueError
        If the series diverges: some ``||v_j||`` exceeds ``(j + 1) ||rhs||``,
        the bound a convergent series obeys at every step, or is not finite.
    """
    options = dict(
        scale=scale, damping=damping, depth=depth, batch_size=batch_size,
        repeats=repeats, random_state=random_state,
    )
    if np.ndim(rhs) == 2:
        return np.column_stack([lissa_solve(hvp, column, **options) for column in rhs.T])
    rhs = np.asarray(rhs, dtype=np.float64)
    n_samples = hvp.n_samples
    batch_size = min(200, n_samples) if batch_size == "auto" else min(batch_size, n_samples)
    if scale == "auto":
        scale = _LISSA_SCALE_MARGIN * (
            largest_eigenvalue(hvp, rhs.size, random_state) + damping
        )
    rhs_norm = float(np.linalg.norm(rhs))
    if rhs_norm == 0.0 or scale == 0.0:
        return np.zeros_like(rhs)
    total = np.zeros_like(rhs)
    for _ in range(repeats):
        v = rhs.copy()
        for j in range(1, depth + 1):
            rows = (
                slice(None) if batch_size == n_samples
                else random_state.randint(n_samples, size=batch_size)
            )
            v = rhs + v - (hvp.batch(rows, v) + damping * v) / scale
            norm = float(np.linalg.norm(v))
            # With ||I - (H_B + damping I) / scale|| <= 1 for every batch,
            # ||v_j|| <= (j + 1) ||rhs||; beyond it the series is diverging.
            if not np.isfinite(norm) or norm > (j + 1) * rhs_norm * (1 + 1e-9):
                raise ValueError(
                    f"The LiSSA series diverged at term {j} of {depth} (scale={scale:.3g}, "
                    f"damping={damping:.3g}): (H_B + damping I) / scale has an eigenvalue "
                    "outside (0, 2). Raise tangent_options['scale'] if mini-batch "
                    "curvature exceeds it (or raise 'batch_size'), raise "
                    "tangent_options['damping'] if the Hessian is not positive definite "
                    "(training stopped near a saddle), or use tangent_solver='exact' "
                    "or 'cg'."
                )
        total += v
    solution = total / (repeats * scale)
    residual = np.linalg.norm(hvp(solution) + damping * solution - rhs) / rhs_norm
    if residual > _LISSA_RESIDUAL_WARN:
        warnings.warn(
            f"The LiSSA tangent has relative residual {residual:.2g} after {depth} terms "
            f"(scale={scale:.3g}): the series is truncated before it converged, or the "
            "mini-batch noise dominates. Raise tangent_options['depth'], 'batch_size' "
            "or 'repeats', or use tangent_solver='exact' or 'cg'.",
            ConvergenceWarning,
        )
    return solution


# ``tangent_options`` each solver accepts, their constraints and defaults.
_TANGENT_OPTIONS = {
    "lissa": {
        "scale": ([StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")], "auto"),
        "damping": ([Interval(Real, 0, None, closed="left")], 0.0),
        "depth": ([Interval(Integral, 1, None, closed="left")], 1000),
        "batch_size": ([StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")], "auto"),
        "repeats": ([Interval(Integral, 1, None, closed="left")], 1),
    },
    "cg": {
        "tol": ([Interval(Real, 0, None, closed="neither")], 1e-10),
        "maxiter": ([None, Interval(Integral, 1, None, closed="left")], None),
    },
}


def check_tangent_options(solver, options):
    """Validate ``tangent_options`` for ``solver``; return them with defaults."""
    accepted = _TANGENT_OPTIONS.get(solver, {})
    options = {} if options is None else dict(options)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"tangent_options {unknown} are not options of tangent_solver={solver!r}, "
            f"which accepts {sorted(accepted) or 'none'}. Set tangent_solver explicitly "
            "to the solver the options belong to."
        )
    validate_parameter_constraints(
        {key: constraint for key, (constraint, _) in accepted.items()},
        options,
        caller_name=f"tangent_options of tangent_solver={solver!r}",
    )
    return {key: options.get(key, default) for key, (_, default) in accepted.items()}
