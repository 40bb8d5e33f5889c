"""Regularizers: R(alpha, theta) and the derivatives the tangent needs.

A regularizer of the form ``R(alpha, theta) = alpha * Omega(theta)`` knows

- ``complexity(theta) = dR/dalpha = Omega(theta)``, the model complexity c;
- ``alpha_gradient(theta) = d/dalpha grad_theta R``, the right-hand side b of
  the tangent system ``H tau = -b`` (:ref:`theory-tangent`);
- ``gradient(alpha, theta)`` and ``hessian_vector_product(alpha, theta, v)``,
  the derivatives in ``theta`` that iterative training and Hessian-free
  tangent solvers use;
- ``hessian_diagonal(alpha)`` where ``grad_theta^2 R`` is diagonal.

:func:`hessian_product` applies ``grad_theta^2 R`` to a block of directions
with any of them.

Several regularities ``R(s, theta) = sum_k s_k Omega_k(theta)`` (:ref:`theory-several`)
take ``alpha`` as a vector ``s`` of K strengths: ``complexity``
then returns the K values ``Omega_k`` and ``alpha_gradient`` a (n_params, K)
matrix, one tangent right-hand side per regularity. A regularizer with a fixed
number of strengths says so in ``n_regularities``.

:class:`AutogradRegularizer` turns any ``R(alpha, theta)`` written with
``autograd.numpy`` into such an object; :class:`QuadraticPenalties` is the
several-penalty regularizer a linear model fits in closed form.
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

    n_regularities = 1

    def __init__(self, penalized):
        self.penalized = np.asarray(penalized, dtype=bool)

    def value(self, alpha, params):
        return alpha * self.complexity(params)

    def complexity(self, params, alpha=None):
        penalized = params[self.penalized]
        return 0.5 * float(penalized @ penalized)

    def alpha_gradient(self, params, alpha=None):
        # R is linear in alpha: its alpha-derivatives do not depend on alpha.
        return np.where(self.penalized, params, 0.0)

    def gradient(self, alpha, params):
        return alpha * self.alpha_gradient(params)

    def hessian_vector_product(self, alpha, params, vector):
        return alpha * np.where(self.penalized, vector, 0.0)

    def hessian_diagonal(self, alpha):
        return alpha * self.penalized.astype(float)


class AutogradRegularizer:
    """A user-defined regularizer ``R(alpha, theta)`` differentiated by autograd.

    Parameters
    ----------
    function : callable
        ``function(alpha, params) -> float``, written with ``autograd.numpy``,
        smooth in ``params`` and in ``alpha``. Its complexity is
        ``dR/dalpha``, its tangent right-hand side ``d/dalpha grad_theta R``.
        ``alpha`` is what the estimator was given: a float, or an array of K
        strengths for several regularities (then the complexity has K entries
        and the right-hand side K columns).

    Examples
    --------
    >>> import autograd.numpy as anp
    >>> from sklearn_curiosity.regularizers import AutogradRegularizer
    >>> smooth_l1 = AutogradRegularizer(
    ...     lambda alpha, theta: alpha * anp.sum(anp.sqrt(theta**2 + 1e-2)))
    >>> round(smooth_l1.complexity(anp.array([0.0, 1.0]), alpha=1.0), 4)
    1.105

    Two strengths, one per layer of weights, give two regularities:

    >>> per_block = AutogradRegularizer(
    ...     lambda s, theta: s[0] / 2 * anp.sum(theta[:2] ** 2) + s[1] / 2 * theta[2] ** 2)
    >>> per_block.alpha_gradient(anp.array([1.0, 2.0, 3.0]), alpha=anp.array([0.1, 1.0]))
    array([[1., 0.],
           [2., 0.],
           [0., 3.]])
    """

    def __init__(self, function):
        self.function = function

    def value(self, alpha, params):
        return float(self.function(_strengths(alpha), params))

    def complexity(self, params, alpha):
        from autograd import grad

        complexity = grad(self.function, 0)(_strengths(alpha), params)
        return float(complexity) if np.ndim(complexity) == 0 else np.asarray(complexity)

    def gradient(self, alpha, params):
        from autograd import grad

        return grad(self.function, 1)(_strengths(alpha), params)

    def alpha_gradient(self, params, alpha):
        from autograd import grad, jacobian

        gradient = grad(self.function, 1)
        # (n_params,) for a float alpha, (n_params, K) for K strengths.
        return jacobian(lambda a: gradient(a, params))(_strengths(alpha))

    def hessian_vector_product(self, alpha, params, vector):
        from autograd import grad

        alpha = _strengths(alpha)

        def directional(p):
            return grad(self.function, 1)(alpha, p) @ vector

        return grad(directional)(params)


def hessian_product(regularizer, alpha, params, vectors):
    """``grad_theta^2 R`` times ``vectors``, (n_params,) or a block (n_params, k).

    From ``hessian_diagonal`` where the regularizer has one, otherwise from
    ``hessian_vector_product``, one column at a time (a user's regularizer
    need only take single vectors).
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if hasattr(regularizer, "hessian_diagonal"):
        diagonal = regularizer.hessian_diagonal(alpha)
        return diagonal * vectors if vectors.ndim == 1 else diagonal[:, None] * vectors
    if vectors.ndim == 1:
        return regularizer.hessian_vector_product(alpha, params, vectors)
    return np.column_stack(
        [regularizer.hessian_vector_product(alpha, params, v) for v in vectors.T]
    )


def _strengths(alpha):
    """A float, or a float64 array of strengths (autograd differentiates either)."""
    return float(alpha) if np.ndim(alpha) == 0 else np.asarray(alpha, dtype=np.float64)


class QuadraticPenalties:
    """Several quadratic penalties with their own strengths (:ref:`theory-several`).

    ``R(s, theta) = sum_k s_k Omega_k(theta)`` with
    ``Omega_k(theta) = 1/2 coef^T Q_k coef``, where ``coef = theta[:n_coef]``
    are the first entries of ``theta``: for the linear model its coefficients
    (the intercept, last, is never penalized), for an
    :class:`~sklearn_curiosity.models.MLP` the weights of its first layer.
    Each strength ``s_k`` (the entries of the estimator's ``alpha``) has its
    own regularity tangent ``d theta*/d s_k``. A linear model under these
    penalties is fitted in closed form.

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

    names : list of str
        The names of the penalties, in the order of ``alpha``.

    See Also
    --------
    QuadraticPenalties.feature_groups : One L2 penalty per group of features.
    QuadraticPenalties.smoothness : An L2 penalty plus a difference penalty.

    Examples
    --------
    >>> from sklearn_curiosity.regularizers import QuadraticPenalties
    >>> penalties = QuadraticPenalties.feature_groups([0, 0, 1])
    >>> penalties.n_regularities, penalties.names
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

        Returns
        -------
        penalties : QuadraticPenalties
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

        Returns
        -------
        penalties : QuadraticPenalties
        """
        if not 0 < order < n_features:
            raise ValueError(
                f"order must be between 1 and n_features - 1 = {n_features - 1}; got {order}."
            )
        difference = np.diff(np.eye(n_features), n=order, axis=0)
        return cls([np.eye(n_features), difference.T @ difference], names=["l2", "smoothness"])

    @property
    def n_regularities(self):
        """K, the number of penalties and of strengths."""
        return len(self.matrices)

    @property
    def n_coef(self):
        """Number of leading entries of ``theta`` the penalties act on."""
        return self.matrices.shape[1]

    def penalty_matrix(self, alpha):
        """``sum_k s_k Q_k``, shape (n_coef, n_coef); a float is every ``s_k``."""
        alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (self.n_regularities,))
        return np.tensordot(alpha, self.matrices, axes=1)

    def value(self, alpha, params):
        alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (self.n_regularities,))
        return float(alpha @ self.complexity(params))

    def complexity(self, params, alpha=None):
        """``(Omega_1(theta), ..., Omega_K(theta))``, the derivatives of R in ``s``."""
        coef = np.asarray(params, dtype=np.float64)[: self.n_coef]
        return 0.5 * np.einsum("i,kij,j->k", coef, self.matrices, coef)

    def alpha_gradient(self, params, alpha=None):
        """``d/ds_k grad_theta R = Q_k coef`` (zero elsewhere), shape (n_params, K)."""
        # R is linear in s: its s-derivatives do not depend on s.
        params = np.asarray(params, dtype=np.float64)
        gradient = np.zeros((len(params), self.n_regularities))
        gradient[: self.n_coef] = (self.matrices @ params[: self.n_coef]).T
        return gradient

    def gradient(self, alpha, params):
        return self.hessian_vector_product(alpha, params, params)

    def hessian_vector_product(self, alpha, params, vector):
        """``(sum_k s_k Q_k) v`` on the penalized entries; ``vector`` (p,) or (p, m)."""
        vector = np.asarray(vector, dtype=np.float64)
        product = np.zeros_like(vector)
        product[: self.n_coef] = self.penalty_matrix(alpha) @ vector[: self.n_coef]
        return product

    def __repr__(self):
        return (
            f"QuadraticPenalties(<{self.n_regularities} penalties on {self.n_coef} "
            f"coefficients: {self.names}>)"
        )
