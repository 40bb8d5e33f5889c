"""Models: what f(x; theta) is, and its derivative products.

A model knows the layout of its flat parameter vector ``theta``, which entries
a default regularizer penalizes (``penalized``), and three evaluations:

- ``predict(theta, X)``: ``f(X; theta)``, one value per row;
- ``jvp(theta, X, v)``: the forward-mode directional derivative
  ``grad_theta f(X) . v`` for a whole batch at once (``v`` may be a matrix of
  directions, one per column);
- ``jacobian(theta, X)``: the per-row gradients ``grad_theta f(x_i)`` as an
  (n_samples, n_params) matrix, for the few rows that need them (rank-one
  updates of a batch query), never for a whole pool.

Estimators, scores and query strategies use nothing else.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot


class LinearModel:
    """Affine model ``f(x; theta) = x @ coef + intercept``.

    The flat parameter vector is ``theta = [coef, intercept]``, or just
    ``coef`` when ``fit_intercept=False``. The intercept is never penalized.

    Parameters
    ----------
    n_features : int
        Number of input features.

    fit_intercept : bool, default=True
        Whether ``theta`` carries an intercept as its last entry.
    """

    def __init__(self, n_features, fit_intercept=True):
        self.n_features = n_features
        self.fit_intercept = fit_intercept

    @property
    def n_params(self):
        return self.n_features + int(self.fit_intercept)

    @property
    def penalized(self):
        """Boolean mask of the entries of ``theta`` a default L2 penalty acts on."""
        mask = np.ones(self.n_params, dtype=bool)
        if self.fit_intercept:
            mask[-1] = False
        return mask

    def split(self, params):
        """Return ``(coef, intercept)`` from the flat ``params``."""
        coef = params[: self.n_features]
        intercept = params[-1] if self.fit_intercept else 0.0
        return coef, intercept

    def predict(self, params, X):
        """Evaluate ``f(X; params)`` for every row of ``X``."""
        coef, intercept = self.split(params)
        return safe_sparse_dot(X, coef) + intercept

    def jacobian(self, params, X):
        """Per-row gradients ``grad_theta f(x_i)``, shape (n_samples, n_params)."""
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        if self.fit_intercept:
            return np.column_stack([X, np.ones(X.shape[0])])
        return X.copy()

    def jvp(self, params, X, direction):
        """Directional derivative ``grad_theta f(X; params) . direction``.

        ``direction`` has the layout of ``params``, or is a matrix whose
        columns do (the result then has one column per direction).
        """
        # f is linear in theta, so its derivative along v is f evaluated at v.
        return self.predict(np.asarray(direction), X)
