"""Regularizers: R(alpha, theta) and the derivatives the tangent needs.

A regularizer of the form ``R(alpha, theta) = alpha * Omega(theta)`` knows

- ``complexity(theta) = dR/dalpha = Omega(theta)``, the model complexity c;
- ``alpha_gradient(theta) = d/dalpha grad_theta R``, the right-hand side b of
  the tangent system ``H tau = -b`` (METHOD.md section 2);
- ``hessian_diagonal(alpha)`` where ``grad_theta^2 R`` is diagonal.
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

    def complexity(self, params):
        penalized = params[self.penalized]
        return 0.5 * float(penalized @ penalized)

    def alpha_gradient(self, params):
        return np.where(self.penalized, params, 0.0)

    def hessian_diagonal(self, alpha):
        return alpha * self.penalized.astype(float)


class QuadraticPenalties:
    """Several quadratic penalties with their own strengths (METHOD.md section 6).

    ``R(s, theta) = sum_k s_k Omega_k(theta)`` with
    ``Omega_k(theta) = 1/2 coef^T Q_k coef``, where ``coef = theta[:n_coef]``
    are the first entries of ``theta`` (for the linear model, its
    coefficients: the intercept, last, is never penalized). Each strength
    ``s_k`` has its own regularity tangent ``d theta*/d s_k``.

    Parameters
    ----------
    matrices : sequence of K array-likes of shape (n_coef, n_coef)
        Symmetric positive semi-definite matrices ``Q_k``.

    names : sequence of K str, default=None
        Names of the penalties (for reports); ``"penalty_0"``, ... by default.

    Attributes
    ----------
    matrices : ndarray of shape (K, n_coef, n_coef)
        The validated ``Q_k``.

    See Also
    --------
    QuadraticPenalties.feature_groups : One L2 penalty per group of features.
    QuadraticPenalties.smoothness : An L2 penalty plus a difference penalty.

    Examples
    --------
    >>> from sklearn_curiosity.regularizers import QuadraticPenalties
    >>> penalties = QuadraticPenalties.feature_groups([0, 0, 1])
    >>> penalties.n_penalties, penalties.names
    (2, ['group_0', 'group_1'])
    >>> penalties.complexity([1.0, 2.0, 3.0, 0.5])
    array([2.5, 4.5])
    """

    def __init__(self, matrices, names=None):
        matrices = np.asarray(matrices, dtype=np.float64)
        if matrices.ndim != 3 or matrices.shape[1] != matrices.shape[2] or len(matrices) == 0:
            raise ValueError(
                "matrices must be a non-empty sequence of square matrices of one "
                f"size (shape (K, n_coef, n_coef)); got shape {matrices.shape}."
            )
        if not np.allclose(matrices, np.swapaxes(matrices, 1, 2)):
            raise ValueError("Every penalty matrix must be symmetric.")
        lowest = np.linalg.eigvalsh(matrices).min(axis=1)
        scale = np.abs(matrices).max(axis=(1, 2))
        if np.any(lowest < -1e-10 * np.maximum(scale, 1e-300)):
            raise ValueError(
                "Every penalty matrix must be positive semi-definite (a penalty "
                f"that can be negative has no minimum); smallest eigenvalues {lowest}."
            )
        if names is None:
            names = [f"penalty_{k}" for k in range(len(matrices))]
        if len(names) != len(matrices):
            raise ValueError(f"Got {len(names)} names for {len(matrices)} penalties.")
        self.matrices = matrices
        self.names = list(names)

    @classmethod
    def feature_groups(cls, feature_group):
        """One L2 penalty per group of features, ``Omega_k = 1/2 ||coef[group k]||^2``.

        Parameters
        ----------
        feature_group : array-like of shape (n_features,)
            The group label of each feature; one penalty per distinct label,
            in sorted order of the labels.
        """
        feature_group = np.asarray(feature_group)
        labels = np.unique(feature_group)
        matrices = [np.diag((feature_group == label).astype(float)) for label in labels]
        return cls(matrices, names=[f"group_{label}" for label in labels])

    @classmethod
    def smoothness(cls, n_features, order=2):
        """An L2 penalty and a smoothness penalty on neighbouring coefficients.

        ``Omega_0 = 1/2 ||coef||^2`` and ``Omega_1 = 1/2 ||D coef||^2`` with
        ``D`` the ``order``-th finite difference operator: the P-spline
        penalty of a basis expansion such as
        :class:`~sklearn.preprocessing.SplineTransformer` (Eilers and Marx,
        1996), whose neighbouring coefficients should vary slowly.

        Parameters
        ----------
        n_features : int
            Number of (basis) features, in their natural order.

        order : int, default=2
            Order of the differences (1: level, 2: slope changes).
        """
        if not 0 < order < n_features:
            raise ValueError(
                f"order must be between 1 and n_features - 1 = {n_features - 1}; got {order}."
            )
        difference = np.diff(np.eye(n_features), n=order, axis=0)
        return cls([np.eye(n_features), difference.T @ difference], names=["l2", "smoothness"])

    @property
    def n_penalties(self):
        return len(self.matrices)

    @property
    def n_coef(self):
        return self.matrices.shape[1]

    def penalty_matrix(self, alpha):
        """``sum_k s_k Q_k``, shape (n_coef, n_coef)."""
        return np.tensordot(np.asarray(alpha, dtype=np.float64), self.matrices, axes=1)

    def value(self, alpha, params):
        return float(np.asarray(alpha) @ self.complexity(params))

    def complexity(self, params):
        """``(Omega_1(theta), ..., Omega_K(theta))``, the derivatives of R in ``s``."""
        coef = np.asarray(params, dtype=np.float64)[: self.n_coef]
        return 0.5 * np.einsum("i,kij,j->k", coef, self.matrices, coef)

    def alpha_gradient(self, params):
        """``d/ds_k grad_theta R = Q_k coef`` (zero on the intercept), shape (n_params, K)."""
        params = np.asarray(params, dtype=np.float64)
        gradient = np.zeros((len(params), self.n_penalties))
        gradient[: self.n_coef] = (self.matrices @ params[: self.n_coef]).T
        return gradient

    def hessian(self, alpha, n_params):
        """``grad_theta^2 R = sum_k s_k Q_k`` padded with zeros, shape (n_params, n_params)."""
        hessian = np.zeros((n_params, n_params))
        hessian[: self.n_coef, : self.n_coef] = self.penalty_matrix(alpha)
        return hessian

    def __repr__(self):
        return (
            f"QuadraticPenalties(<{self.n_penalties} penalties on {self.n_coef} "
            f"coefficients: {self.names}>)"
        )
