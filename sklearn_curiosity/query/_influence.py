"""The influence strategies: the model's curiosity, its greedy batch, and the
labelled points that drive its complexity (:ref:`theory-curiosity`,
:ref:`theory-greedy`)."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import _safe_indexing

from ..scores import (
    _final_step,
    check_uncertainty,
    expected_squared_influence,
    total_over_regularities,
    uncertainty_factor,
)
from ._common import _check_n_instances, _scoring_estimator, _top_k, _unwrap


class _RankOneInverse:
    """Solves with a Hessian that gains rank-one terms ``w u_i u_i^T``.

    Successive Sherman-Morrison steps keep ``H_k^-1 v = H^-1 v - sum_i z_i
    z_i^T v / d_i`` with ``z_i = H_{i-1}^-1 u_i`` and ``d_i = 1/w + u_i^T
    z_i``: only ``solve``, the fitted Hessian's, is used, ``O(p^2 + k p)``
    per added point.
    """

    def __init__(self, solve, weight=1.0):
        self._solve_fitted = solve
        self._weight = weight
        self.z = []
        self.d = []

    def solve(self, v):
        z = self._solve_fitted(v)
        for z_i, d_i in zip(self.z, self.d):
            z = z - z_i * ((z_i @ v) / d_i)
        return z

    def add(self, u):
        """Add ``w u u^T``; return its ``(z, d)``."""
        z = self.solve(u)
        d = 1.0 / self._weight + u @ z
        self.z.append(z)
        self.d.append(d)
        return z, d


class _RankOneTangent:
    """The tangent of a model whose design gains points labelled by its own predictions.

    A point joining with ``y = f(x; theta*)`` has zero residual, so ``theta*``
    and ``b = d/dalpha grad R`` do not move and the Hessian gains exactly
    ``w grad f(x) grad f(x)^T`` (the residual term of the loss Hessian
    vanishes, for any model): the fitted Hessian's solves with
    Sherman-Morrison steps (:class:`_RankOneInverse`), ``O(p^2 + k p)`` per
    added point. ``inverse`` holds those steps.
    """

    def __init__(self, estimator, weight=1.0):
        self._estimator = estimator
        self.inverse = _RankOneInverse(estimator._hessian.solve, weight)
        self.tangent = np.array(estimator.tangent_, dtype=np.float64)

    def add(self, X_rows):
        """Add the rows of ``X_rows`` (validated, in the model's input space)."""
        estimator = self._estimator
        for u in estimator._model.jacobian(estimator.params_, X_rows):
            z, d = self.inverse.add(u)
            # tau' = -H'^-1 b = tau - z (u . tau) / d, since H^-1 b = -tau
            # (one column per regularity: b has one).
            self.tangent = self.tangent - np.multiply.outer(z, (u @ self.tangent) / d)
        return self


class _RankOneQuadraticForm:
    """The pool's ``v(x) = grad f(x)^T G^-1 grad f(x)`` as the design gains points.

    ``G`` is the Laplace Hessian of ``predict(return_std=True)`` (the
    Gauss-Newton one for a network; the tangent's own for the linear model).
    A point ``u = grad f(x_j)`` joining with unit weight and zero residual
    adds ``u u^T`` to ``G`` as to the exact Hessian, so ``v(x)`` drops by
    ``(grad f(x)^T z)^2 / d``, ``z = G^-1 u``, ``d = 1 + v(x_j)``: one solve
    and one pass over the pool, ``O(n_pool p)``, per pick. With
    ``tangent_inverse`` (the linear model, where ``G`` is the tangent's
    Hessian) the tangent's own steps are reused instead of solving again.
    """

    def __init__(self, estimator, X_pool, tangent_inverse=None):
        self._estimator = estimator
        self._X_pool = X_pool
        self.values = estimator._laplace.inverse_quadratic_form(X_pool)
        self._shared = tangent_inverse is not None
        self._inverse = (
            tangent_inverse if self._shared else _RankOneInverse(estimator._laplace.solve)
        )

    def add(self, X_row):
        """Add one row; with a shared inverse, after the tangent added it."""
        estimator = self._estimator
        if not self._shared:
            self._inverse.add(estimator._model.jacobian(estimator.params_, X_row)[0])
        z, d = self._inverse.z[-1], self._inverse.d[-1]
        along = estimator._model.jvp(estimator.params_, self._X_pool, z)
        self.values = self.values - along**2 / d
        return self


# What the influence strategies' curiosity averages over unless told: the
# winner of the label-efficiency benchmark (doc/benchmarks_uncertainty.rst).
STRATEGY_UNCERTAINTY = "epistemic"


def influence_sampling(
    estimator, X_pool, n_instances=1, *, batch=None, uncertainty=STRATEGY_UNCERTAINTY
):
    """Pick the pool points the model is most curious about.

    The curiosity of an unlabelled ``x`` is its expected squared influence on
    the model's complexity, ``sigma^2 g(x)^2`` over the label noise (see
    :func:`influence_score`; with several regularities, ``sigma^2 sum_k
    g_k(x)^2``). By default it is ranked by its epistemic part, that times
    ``v(x)``, the posterior variance of ``f(x)`` over ``sigma^2``: what a
    label can teach, rather than the noise it brings.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        A fitted :class:`~sklearn_curiosity.CuriousRegressor`, a fitted
        :class:`~sklearn.pipeline.Pipeline` ending in one, or a modAL
        ``ActiveLearner`` wrapping either.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates, as the estimator (or the pipeline) takes them.

    n_instances : int, default=1
        How many points to pick.

    batch : {None, "greedy"}, default=None
        ``None``: the ``n_instances`` highest scores (top-k). ``"greedy"``:
        pick one point at a time; each pick joins the design with the label
        the model predicts for it, the tangent is updated by an exact rank-one
        (Sherman-Morrison) step and the pool is rescored, so a batch does not
        pick the same direction ``n_instances`` times. Cost
        ``O(n_instances (p^2 + n_pool p))``, no refits.

    uncertainty : {"noise", "epistemic", "total"}, default="epistemic"
        What the expected squared influence averages over (see
        :func:`~sklearn_curiosity.influence_score` and
        :ref:`theory-epistemic`): the label noise, ``sigma^2 g^2`` (the
        paper's curiosity); the posterior of ``f``, ``sigma^2 g^2 v`` with
        ``v(x) = grad f(x)^T H^-1 grad f(x)`` (what the model does not know
        yet); or both, ``sigma^2 g^2 (1 + v)``. The default, "epistemic",
        needed fewer labels than "noise" in most configurations of the
        label-efficiency benchmark (see :ref:`benchmarks`), and never
        significantly more. In a greedy batch ``v`` takes the same rank-one
        step as the tangent: after a pick ``x_j`` it drops by
        ``(grad f(x)^T H^-1 grad f(x_j))^2 / (1 + v(x_j))``, ``O(n_pool p)``
        per pick.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``, in the order picked.

    scores : ndarray of shape (n_instances,)
        Expected squared influence of each pick (for ``"greedy"``: under the
        tangent updated with the earlier picks of the batch).

    Notes
    -----
    In a greedy batch the noise variance stays that of the fit: the picked
    points have zero residual, and counting them would shrink ``sigma^2``
    without any new information. Picked points join with unit sample weight.
    For a nonlinear model the rank-one term ``grad f grad f^T`` is exactly
    the added Hessian (the residual term vanishes at a zero residual); the
    update is exact for any model whose ``_hessian`` solves exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import influence_sampling
    >>> rng = np.random.RandomState(1)
    >>> X = rng.normal(size=(20, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=20)
    >>> reg = CuriousRegressor(alpha=5.0).fit(X, y)
    >>> pool = [[0, 3, 0], [0, 3, 0], [0, 3, 0], [3, 0, 0], [-2, 2, 2]]
    >>> influence_sampling(reg, pool, n_instances=3)[0]  # three copies of one point
    array([0, 1, 2])
    >>> influence_sampling(reg, pool, n_instances=3, batch="greedy")[0]
    array([0, 4, 3])
    """
    if batch not in (None, "greedy"):
        raise ValueError(f'batch must be None or "greedy"; got {batch!r}.')
    check_uncertainty(uncertainty)
    estimator, _, _ = _unwrap(estimator)
    estimator, X_pool = _scoring_estimator(estimator, X_pool)
    n_instances = _check_n_instances(n_instances, X_pool.shape[0])
    if batch is None:
        # The estimator's own method: its checks (e.g. an unknown noise variance) apply.
        return _top_k(estimator.influence_score(X_pool, uncertainty=uncertainty), n_instances)
    indices, picked_scores, _ = _greedy_influence(
        estimator, X_pool, n_instances, uncertainty=uncertainty
    )
    return indices, picked_scores


def _greedy_influence(
    estimator, X_pool, n_instances, return_utilities=False, uncertainty="noise"
):
    """Greedy batch of :func:`influence_sampling` on a validated pool.

    Returns the picks, their scores and, with ``return_utilities``, the
    (n_instances, n_pool) scores each pick was chosen from, earlier picks NaN
    (scikit-activeml's convention).
    """
    noise_variance = estimator.noise_variance_
    scores = estimator.influence_score(X_pool, uncertainty=uncertainty)
    tangent = _RankOneTangent(estimator)
    quadratic_form = None
    if uncertainty != "noise":
        # The linear model's Laplace Hessian is the tangent's: one set of solves.
        shared = tangent.inverse if estimator._laplace is estimator._hessian else None
        quadratic_form = _RankOneQuadraticForm(estimator, X_pool, tangent_inverse=shared)
    indices = np.empty(n_instances, dtype=np.intp)
    picked_scores = np.empty(n_instances)
    utilities = np.empty((n_instances, len(scores))) if return_utilities else None
    for j in range(n_instances):
        # Picked rows are excluded outright: after the update their own score
        # is not zero in general, and a batch must not label a point twice.
        scores[indices[:j]] = np.nan
        best = int(np.nanargmax(scores))
        indices[j], picked_scores[j] = best, scores[best]
        if return_utilities:
            utilities[j] = scores
        if j + 1 < n_instances:
            row = _safe_indexing(X_pool, [best])
            tangent.add(row)
            factor = None
            if quadratic_form is not None:
                factor = uncertainty_factor(uncertainty, quadratic_form.add(row).values)
            sensitivity = estimator._model.jvp(estimator.params_, X_pool, tangent.tangent)
            scores = total_over_regularities(
                expected_squared_influence(sensitivity, noise_variance, factor)
            )
    return indices, picked_scores, utilities


def most_influential(estimator, X, y, n=10):
    """Rank labelled points by the size of their influence on the complexity.

    The signed influence ``I(x, y) = (f(x) - y) g(x)`` says how fast the
    model's complexity would grow if the point weighed more: the labels with
    the largest ``|I|`` drive the model's complexity, so they are the first to
    check for errors and outliers.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        Fitted (typically on ``X, y``).

    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Labelled inputs.

    y : array-like of shape (n_samples,)
        Their labels.

    n : int, default=10
        How many points to return.

    Returns
    -------
    indices : ndarray of shape (n,)
        Rows of ``X``, largest ``|I|`` first.

    scores : ndarray of shape (n,)
        The signed influence ``I`` of each (positive: up-weighting the point
        makes the model more complex).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import most_influential
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(40, 2))
    >>> y = X @ [2.0, -1.0] + 0.1 * rng.normal(size=40)
    >>> y[7] += 10.0  # a corrupted label
    >>> reg = CuriousRegressor(alpha=1.0).fit(X, y)
    >>> int(most_influential(reg, X, y, n=1)[0][0])
    7
    """
    estimator, _, _ = _unwrap(estimator)
    final, X = _final_step(estimator, X)
    influence = final.influence_score(X, y)
    _check_n_instances(n, len(influence), name="n")
    indices, _ = _top_k(np.abs(influence), n)
    return indices, influence[indices]
