"""Tangent solvers: tau = d theta*/d alpha = -H^-1 b (METHOD.md section 5).

A solver only solves the tangent system ``H tau = -b`` with
``b = regularizer.alpha_gradient(theta*)``; it knows nothing of the model
beyond what the Hessian object offers.

- :func:`exact_tangent`: ``H`` is factorized (for the linear model the fit's
  own Cholesky factor; for a network :class:`NetworkHessian` with
  ``method="exact"``), one solve; with ``method="cg"`` the same call runs
  Hessian-free conjugate gradients.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np

# Relative size of the smallest Cholesky pivot below which H is treated as
# singular, and the relative damping added then.
_SINGULAR_PIVOT = 1e-10
_DAMPING_FLOOR = 1e-6


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


class NetworkHessian:
    """Hessian of a nonlinear model's training objective, behind ``solve(rhs)``.

    ``H v = loss_hvp(v) + alpha * penalized * v`` (the default L2 penalty's
    Hessian is diagonal; a regularizer with ``hessian_vector_product`` adds
    its own). ``method="exact"`` forms ``H`` densely from ``n_params``
    Hessian-vector products and factorizes it (Cholesky); ``method="cg"``
    solves with conjugate gradients on Hessian-vector products, never forming
    ``H``.

    If the exact ``H`` is not positive definite (the training stopped near a
    saddle or a flat direction), a :class:`UserWarning` is raised and ``H`` is
    damped to ``H + lambda I`` with ``lambda = max(0, -lambda_min) + 1e-6 *
    max(1, lambda_max)``: the tangent is then that of the locally convexified
    objective. "Not positive definite" includes numerically singular: a
    Cholesky pivot below ``1e-10`` times the largest diagonal entry. CG damps
    by the curvature it meets when a search direction has non-positive
    curvature.
    """

    def __init__(self, hvp, n_params, method="exact", cg_tol=1e-10, cg_maxiter=None):
        self.hvp = hvp
        self.n_params = n_params
        self.method = method
        self.cg_tol = cg_tol
        self.cg_maxiter = cg_maxiter
        self.damping = 0.0
        self._warned = False
        self._max_rayleigh = 0.0
        if method == "exact":
            self._factorize()
            self.hvp = None  # the factor is all a solve needs; drop the data

    def _factorize(self):
        from scipy import linalg

        eye = np.eye(self.n_params)
        H = np.column_stack([self.hvp(e) for e in eye])
        H = 0.5 * (H + H.T)
        scale = max(1.0, float(np.abs(np.diag(H)).max()))
        try:
            cholesky = linalg.cholesky(H, lower=True, check_finite=False)
            if np.diag(cholesky).min() ** 2 > _SINGULAR_PIVOT * scale:
                self.cholesky = cholesky
                return
        except linalg.LinAlgError:
            pass
        # Not positive definite, or numerically singular (for example the
        # unpenalized bias of a hidden unit whose output weight is zero).
        eigvals = linalg.eigvalsh(H)
        self.damping = max(0.0, -eigvals[0]) + _DAMPING_FLOOR * max(1.0, eigvals[-1])
        warnings.warn(
            "The Hessian of the training objective is not positive definite at "
            f"the fitted parameters (smallest eigenvalue {eigvals[0]:.3g}): the "
            "training stopped near a saddle or along a flat direction (such as a "
            "dead hidden unit). The tangent uses the damped Hessian "
            f"H + {self.damping:.3g} I. Train longer, raise alpha, or use fewer "
            "hidden units.",
            UserWarning,
        )
        H.flat[:: self.n_params + 1] += self.damping
        self.cholesky = linalg.cholesky(H, lower=True, check_finite=False)

    def matvec(self, v):
        return self.hvp(v) + self.damping * v

    def solve(self, rhs):
        """Solve ``H v = rhs`` with ``rhs`` in ``theta`` layout, (p,) or (p, k)."""
        from scipy import linalg

        rhs = np.asarray(rhs, dtype=np.float64)
        if self.method == "exact":
            return linalg.cho_solve((self.cholesky, True), rhs, check_finite=False)
        if rhs.ndim == 2:
            return np.column_stack([self.solve(r) for r in rhs.T])
        return self._cg(rhs)

    def _cg(self, rhs):
        # Plain conjugate gradients, watching the curvature of each search
        # direction so that a non-convex H is damped rather than diverged on.
        x = np.zeros_like(rhs)
        r = rhs.copy()
        d = r.copy()
        rr = r @ r
        stop = (self.cg_tol * np.sqrt(rhs @ rhs)) ** 2
        maxiter = self.cg_maxiter or 10 * self.n_params
        for _ in range(maxiter):
            if rr <= stop:
                return x
            Hd = self.matvec(d)
            curvature = d @ Hd
            self._max_rayleigh = max(self._max_rayleigh, curvature / (d @ d))
            if curvature <= _SINGULAR_PIVOT * self._max_rayleigh * (d @ d):
                # Damp by the negative curvature met (plus a floor) and restart;
                # the damping stays for every later solve with this Hessian.
                self.damping += abs(curvature) / (d @ d) + _DAMPING_FLOOR * max(
                    1.0, self._max_rayleigh
                )
                if not self._warned:
                    self._warned = True
                    warnings.warn(
                        "Conjugate gradients met non-positive curvature: the "
                        "Hessian is not positive definite at the fitted "
                        "parameters. The tangent uses the damped Hessian "
                        f"H + {self.damping:.3g} I (raised further if needed). "
                        "Train longer, or raise alpha.",
                        UserWarning,
                    )
                return self._cg(rhs)
            step = rr / curvature
            x += step * d
            r -= step * Hd
            rr_new = r @ r
            d = r + (rr_new / rr) * d
            rr = rr_new
        warnings.warn(
            f"Conjugate gradients did not reach tol={self.cg_tol} in {maxiter} "
            "Hessian-vector products; the tangent is approximate.",
            UserWarning,
        )
        return x
