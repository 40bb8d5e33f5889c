"""Models: what f(x; theta) is, and its derivative products.

A model knows the layout of its flat parameter vector ``theta``, which entries
a default regularizer penalizes, its prediction ``f(X; theta)`` and the
forward-mode directional derivative ``jvp(theta, X, v) = grad_theta f(X) . v``
for a whole batch at once. Estimators and scores use nothing else.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot


class LinearModel:
    """Affine model ``f(x; theta) = x . coef + intercept``.

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

    def jvp(self, params, X, direction):
        """Directional derivative ``grad_theta f(X; params) . direction``.

        ``direction`` has the layout of ``params``, or is a matrix whose
        columns do (the result then has one column per direction).
        """
        # f is linear in theta, so its derivative along v is f evaluated at v.
        return self.predict(np.asarray(direction), X)
