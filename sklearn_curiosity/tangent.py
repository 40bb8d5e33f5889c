"""Tangent solvers: tau = d theta*/d alpha = -H^-1 b (:ref:`theory-solvers`).

A solver only solves the tangent system ``H tau = -b`` with
``b = regularizer.alpha_gradient(theta*)``; it knows nothing of the model
beyond what the Hessian object offers.

- :func:`exact_tangent`: ``H`` is factorized (for the linear model the fit's
  own Cholesky factor; for a network :class:`NetworkHessian` with
  ``method="exact"``), one solve; with ``method="cg"`` the same call runs
  Hessian-free conjugate gradients.
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
    block and factorizes it (Cholesky); ``method="cg"``
    solves with conjugate gradients on Hessian-vector products, never forming
    ``H``.

    Damping. Every solve is with ``H + damping I``; ``damping`` is 0 unless
    ``H`` is found unfit for a solve, which a :class:`UserWarning` reports
    together with the damping used:

    - *indefinite* (smallest eigenvalue ``lambda_min < -1e-10 * lambda_max``:
      training stopped near a saddle): ``damping = -lambda_min + 1e-6 * lambda_max``, the
      tangent of the locally convexified objective;
    - *ill-conditioned* (``|lambda_min| <= 1e-10 * lambda_max``, for
      example the unpenalized bias of a dead hidden unit):
      ``damping = max(0, -lambda_min) + 1e-10 * lambda_max``, which caps the condition number near
      1e10 and barely moves the well-determined directions.

    "exact" decides from the eigenvalues of the dense ``H`` (computed only if
    the Cholesky factorization fails or has a pivot squared below ``1e-10``
    times the largest diagonal entry). "cg" decides from the curvature
    ``d^T H d / d^T d`` of its search directions: negative curvature raises
    the damping by that much plus ``1e-6`` times the largest curvature met
    (at least doubling it, and at first to the Lanczos estimate of
    ``-lambda_min``, which CG alone can miss) and restarts from the current
    iterate; at most 8
    restarts and ``cg_maxiter`` Hessian-vector products in all (default
    ``2 * n_params``), so a solve always ends; a ConvergenceWarning says when
    it ended before ``cg_tol``.

    Preconditioning. ``preconditioner``, an object whose ``solve(r)`` is
    ``M^-1 r`` with ``M`` symmetric positive definite, turns "cg" into
    preconditioned conjugate gradients: the same solution and the same
    stopping rule (the residual of ``H v = rhs`` relative to ``rhs``), in
    fewer products when ``M`` is close to ``H``. The fit passes the
    Gauss-Newton Hessian
    (:class:`~sklearn_curiosity._laplace.GaussNewtonCovariance`), which
    differs from ``H`` only by the residual-weighted second derivatives. A
    solve that meets negative curvature starts again unpreconditioned, so
    that the damping it settles on, on which the solution depends, is the
    plain recursion's.
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
        self._warned = False
        self._max_rayleigh = 0.0
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
        lowest, highest = eigvals[0], max(eigvals[-1], np.finfo(float).tiny)
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
        # else: a small pivot with a well-conditioned spectrum; no damping.
        H.flat[:: self.n_params + 1] += self.damping
        self.cholesky = linalg.cholesky(H, lower=True, check_finite=False)

    def _warn_indefinite(self, curvature, where):
        self._warned = True
        warnings.warn(
            "The Hessian of the training objective is indefinite at the fitted "
            f"parameters ({where} {curvature:.3g} < 0): the training stopped near "
            "a saddle. The tangent uses the damped Hessian "
            f"H + {self.damping:.3g} I{' (raised further if needed)' if self.method == 'cg' else ''}. "
            "Train longer, raise alpha, or use fewer hidden units.",
            UserWarning,
        )

    def matvec(self, v):
        return self.hvp(v) + self.damping * v

    def _lowest_eigenvalue(self):
        """Lanczos (ARPACK) estimate of the smallest eigenvalue of ``H``, or None."""
        from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

        if self.n_params <= 50:  # cheaper dense
            return float(np.linalg.eigvalsh(self._dense())[0])
        operator = LinearOperator((self.n_params,) * 2, matvec=self.hvp, dtype=np.float64)
        try:
            # At most 10 restarts of 20 products: bounded cost.
            return float(
                eigsh(operator, k=1, which="SA", tol=1e-4, maxiter=10,
                      return_eigenvectors=False)[0]
            )
        except ArpackNoConvergence as exc:
            return float(exc.eigenvalues[0]) if len(exc.eigenvalues) else None

    def solve(self, rhs, tol=None):
        """Solve ``(H + damping I) v = rhs``, ``rhs`` in ``theta`` layout, (p,) or (p, k).

        ``tol`` overrides ``cg_tol`` (relative residual) for this solve.
        """
        from scipy import linalg

        rhs = np.asarray(rhs, dtype=np.float64)
        if self.method == "exact":
            return linalg.cho_solve((self.cholesky, True), rhs, check_finite=False)
        if rhs.ndim == 2:
            return np.column_stack([self.solve(r, tol) for r in rhs.T])
        return self._cg(rhs, self.cg_tol if tol is None else tol)

    def _cg(self, rhs, tol):
        # Hand-written rather than scipy's cg: the curvature of each search
        # direction must be seen, to damp a non-convex H instead of diverging.
        # An object rather than its bound method: a fitted estimator is then
        # made of the package's own types only (skops' trusted_types()).
        precondition = _identity if self.preconditioner is None else self.preconditioner.solve
        max_rayleigh_at_start = self._max_rayleigh
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
            self._max_rayleigh = max(self._max_rayleigh, curvature / dd)
            if curvature < 0 and precondition is not _identity:
                # H is not positive definite: start again, unpreconditioned,
                # so that the damping found (which the tangent depends on) is
                # the plain recursion's, whatever the preconditioner.
                precondition = _identity
                self._max_rayleigh = max_rayleigh_at_start
                x = np.zeros_like(rhs)
                r = rhs.copy()
                d = r.copy()
                rr = rz = r @ r
                budget = n_hvp + per_start
                continue
            if curvature < 0 and restarts < _MAX_CG_RESTARTS:
                damping = max(
                    2 * self.damping,
                    self.damping - curvature / dd + _DAMPING_FLOOR * self._max_rayleigh,
                )
                where, value = "curvature met by CG", curvature / dd
                if restarts == 0:
                    # CG alone may miss negative directions: ask Lanczos.
                    lowest = self._lowest_eigenvalue()
                    if lowest is not None and lowest < 0:
                        damping = max(damping, -lowest + _DAMPING_FLOOR * self._max_rayleigh)
                        where, value = "smallest eigenvalue (Lanczos)", lowest
                self.damping = damping
                if not self._warned:
                    self._warn_indefinite(value, where)
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
            r -= step * Hd
            z = precondition(r)
            rz_new = r @ z
            d = z + (rz_new / rz) * d
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
