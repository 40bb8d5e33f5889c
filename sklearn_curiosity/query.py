"""Query strategies: which unlabelled points to label next (:ref:`theory-curiosity`).

Every strategy shares one call::

    indices, scores = strategy(estimator, X_pool, n_instances=1, **kwargs)

``indices`` are rows of ``X_pool`` (best first, never repeated) and ``scores``
the strategy's score of each picked row when it was picked. ``estimator`` is a
fitted :class:`~sklearn_curiosity.CuriousRegressor`, a fitted
:class:`~sklearn.pipeline.Pipeline` ending in one (its earlier steps transform
the pool), or a modAL ``ActiveLearner`` wrapping either (its ``.estimator`` is
used), so the strategies drop into ``ActiveLearner(query_strategy=...)``.

- :func:`influence_sampling`: the model's curiosity, top-k expected squared
  influence, or a greedy batch that rescores the pool after each pick; the
  expectation is over the label noise, the model's posterior, or both
  (``uncertainty``);
- baselines: :func:`random_sampling`, greedy sampling on inputs
  (:func:`greedy_sampling_x`), outputs (:func:`greedy_sampling_y`) and both
  (:func:`improved_greedy_sampling`) after Wu (2019), and
  :func:`variance_sampling`;
- :func:`most_influential`: the labelled points that drive the complexity;
- :func:`run_active_learning`: a pool-based loop with a learning curve.

Strategies rank by one number per point. A model with several regularities
(``alpha`` of K strengths) is ranked by its default total: the sum over the
regularities of the expected squared influences, ``sigma^2 sum_k g_k(x)^2``,
and for labelled points (:func:`most_influential`) the summed signed influence
``(f(x) - y) sum_k g_k(x)``, the influence on the total complexity.

modAL 0.4.2.1 (its latest release) calls ``check_X_y(force_all_finite=...)``
when an ``ActiveLearner`` fits or teaches, an argument scikit-learn 1.8
removed: with a current scikit-learn, build the learner around an estimator
you fitted yourself (no ``X_training``) and refit it yourself; its ``query``
works. Do not pin an old scikit-learn for it.

References
----------
D. Wu, C.-T. Lin and J. Huang, "Active learning for regression using greedy
sampling", Information Sciences 474, 2019.
"""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.base import clone
from sklearn.metrics import pairwise_distances_chunked, root_mean_squared_error
from sklearn.utils import Bunch, _safe_indexing, check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.validation import _num_samples

from ._hierarchical import user_influence_sampling
from .scores import (
    _final_step,
    check_uncertainty,
    expected_squared_influence,
    total_over_regularities,
    uncertainty_factor,
)

__all__ = [
    "influence_sampling",
    "random_sampling",
    "greedy_sampling_x",
    "greedy_sampling_y",
    "improved_greedy_sampling",
    "variance_sampling",
    "most_influential",
    "run_active_learning",
    "user_influence_sampling",
]


# ---------------------------------------------------------------------------
# Shared plumbing


def _unwrap(estimator):
    """Return ``(estimator, X_training, y_training)`` of a modAL learner, or the estimator."""
    if hasattr(estimator, "estimator") and hasattr(estimator, "query_strategy"):
        # A modAL ActiveLearner: it passes itself to its query strategy.
        return (
            estimator.estimator,
            getattr(estimator, "X_training", None),
            getattr(estimator, "y_training", None),
        )
    return estimator, None, None


def _scoring_estimator(estimator, X_pool):
    """Return the fitted regressor that scores and the validated pool it sees."""
    estimator, X_pool = _final_step(estimator, X_pool)
    X_pool = estimator._validate_X(X_pool)
    if sparse.issparse(X_pool) and X_pool.format != "csr":
        # Row slices and row picks below need a row-indexable format.
        X_pool = X_pool.tocsr()
    return estimator, X_pool


def _check_int(value, name):
    # bool is an Integral, but True as a count is a bug in the caller.
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int; got {value!r}.")
    return int(value)


def _check_n_instances(n_instances, n_pool, name="n_instances"):
    n_instances = _check_int(n_instances, name)
    if not 1 <= n_instances <= n_pool:
        raise ValueError(
            f"{name} must be between 1 and the number of points {n_pool}; got {n_instances}."
        )
    return n_instances


def _top_k(scores, n_instances):
    """Indices of the ``n_instances`` largest scores, largest first (ties: lowest index)."""
    n_instances = _check_n_instances(n_instances, len(scores))
    if n_instances < len(scores):
        candidates = np.argpartition(-scores, n_instances - 1)[:n_instances]
    else:
        candidates = np.arange(len(scores))
    order = np.lexsort((candidates, -scores[candidates]))
    indices = candidates[order]
    return indices, scores[indices]


def _labelled_set(X_labelled, y_labelled, X_training, y_training, need_y):
    """The labelled design a greedy-sampling baseline measures distances to."""
    if X_labelled is None:
        X_labelled, y_labelled = X_training, y_training
    if X_labelled is None or (need_y and y_labelled is None):
        raise ValueError(
            "This strategy measures distances to the labelled set: pass "
            "X_labelled=..., y_labelled=... (a modAL ActiveLearner supplies its "
            "X_training and y_training)."
        )
    if _num_samples(X_labelled) == 0:
        raise ValueError("The labelled set is empty; label a few points first.")
    y = None if y_labelled is None else np.asarray(y_labelled, dtype=np.float64).ravel()
    return X_labelled, y


# ---------------------------------------------------------------------------
# Influence sampling and its greedy batch


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


# ---------------------------------------------------------------------------
# Baselines


def random_sampling(estimator, X_pool, n_instances=1, *, random_state=None):
    """Pick pool points uniformly at random, without replacement.

    Parameters
    ----------
    estimator : object
        Ignored (any estimator or None), for the shared call.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates.

    n_instances : int, default=1
        How many points to pick.

    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``.

    scores : ndarray of shape (n_instances,)
        The uniform draws that ranked them (largest first).

    Examples
    --------
    >>> from sklearn_curiosity.query import random_sampling
    >>> indices, _ = random_sampling(None, [[0.0], [1.0], [2.0]], 2, random_state=0)
    >>> sorted(indices.tolist()) in ([0, 1], [0, 2], [1, 2])
    True
    """
    rng = check_random_state(random_state)
    return _top_k(rng.uniform(size=_num_samples(X_pool)), n_instances)


def _greedy_distances(X_pool, n_instances, min_distance, distances_to):
    """Wu's greedy sampling: pick the max-min distance, then let the pick join the set.

    ``min_distance`` is the initial min distance of every pool row to the
    labelled set; ``distances_to(j)`` the distances of every pool row to the
    picked row ``j``.
    """
    n_instances = _check_n_instances(n_instances, len(min_distance))
    indices = np.empty(n_instances, dtype=np.intp)
    picked_scores = np.empty(n_instances)
    for j in range(n_instances):
        min_distance[indices[:j]] = -np.inf
        best = int(np.argmax(min_distance))
        indices[j], picked_scores[j] = best, min_distance[best]
        if j + 1 < n_instances:
            np.minimum(min_distance, distances_to(best), out=min_distance)
    return indices, picked_scores


def _min_distance_to(X_pool, X_labelled, row_weight=None):
    """``min_m ||x - x_m|| * row_weight(rows, m)`` over the labelled rows, chunked."""

    def reduce(D_chunk, start):
        if row_weight is not None:
            D_chunk = D_chunk * row_weight(slice(start, start + D_chunk.shape[0]))
        return D_chunk.min(axis=1)

    return np.concatenate(list(pairwise_distances_chunked(X_pool, X_labelled, reduce_func=reduce)))


def greedy_sampling_x(estimator, X_pool, n_instances=1, *, X_labelled=None, y_labelled=None):
    """Greedy sampling on the inputs (GSx, Wu 2019): the point farthest from the labelled set.

    The distance of a candidate is its Euclidean distance to the nearest
    labelled point, in the space the final regressor sees (after a
    Pipeline's preprocessing). In a batch, each pick joins the labelled set
    before the next one.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        Fitted; a Pipeline's earlier steps transform both sets.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates.

    n_instances : int, default=1
        How many points to pick.

    X_labelled : {array-like, sparse matrix} of shape (n_labelled, n_features), default=None
        The labelled inputs. Required unless ``estimator`` is a modAL
        ``ActiveLearner`` with ``X_training``.

    y_labelled : array-like of shape (n_labelled,), default=None
        Ignored; accepted so that every greedy baseline takes the same call.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``, in the order picked.

    scores : ndarray of shape (n_instances,)
        Distance of each pick to the labelled set (with the earlier picks).

    Examples
    --------
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import greedy_sampling_x
    >>> X = [[0.0], [1.0], [2.0]]
    >>> reg = CuriousRegressor().fit(X, [0.0, 1.0, 2.0])
    >>> greedy_sampling_x(reg, [[1.5], [5.0], [4.5]], 2, X_labelled=X)
    (array([1, 0]), array([3. , 0.5]))
    """
    estimator, X_training, y_training = _unwrap(estimator)
    X_labelled, _ = _labelled_set(
        X_labelled, y_labelled, X_training, y_training, need_y=False
    )
    final, X_pool = _scoring_estimator(estimator, X_pool)
    _, X_labelled = _scoring_estimator(estimator, X_labelled)
    _check_n_instances(n_instances, X_pool.shape[0])
    min_distance = _min_distance_to(X_pool, X_labelled)

    def distances_to(j):
        return _min_distance_to(X_pool, _safe_indexing(X_pool, [j]))

    return _greedy_distances(X_pool, n_instances, min_distance, distances_to)


def greedy_sampling_y(estimator, X_pool, n_instances=1, *, X_labelled=None, y_labelled=None):
    """Greedy sampling on the outputs (GSy, Wu 2019): the prediction farthest from the labels.

    The distance of a candidate is ``min_m |f(x) - y_m|`` over the labelled
    outputs. In a batch, each pick joins the labelled set with its predicted
    label before the next one.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        Fitted.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates.

    n_instances : int, default=1
        How many points to pick.

    X_labelled : array-like, default=None
        Ignored; accepted so that every greedy baseline takes the same call.

    y_labelled : array-like of shape (n_labelled,), default=None
        The labels. Required unless ``estimator`` is a modAL ``ActiveLearner``
        with ``y_training``.

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``, in the order picked.

    scores : ndarray of shape (n_instances,)
        Output distance of each pick (with the earlier picks).

    Examples
    --------
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import greedy_sampling_y
    >>> X, y = [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
    >>> reg = CuriousRegressor(alpha=0.0).fit(X, y)
    >>> greedy_sampling_y(reg, [[1.5], [5.0], [4.8]], 2, y_labelled=y)[0]
    array([1, 0])
    """
    estimator, X_training, y_training = _unwrap(estimator)
    if y_labelled is None:
        y_labelled = y_training
    if y_labelled is None or len(y_labelled) == 0:
        raise ValueError(
            "greedy_sampling_y measures distances to the labels: pass "
            "y_labelled=... (a modAL ActiveLearner supplies its y_training)."
        )
    y_labelled = np.asarray(y_labelled, dtype=np.float64).ravel()
    final, X_pool = _scoring_estimator(estimator, X_pool)
    _check_n_instances(n_instances, X_pool.shape[0])
    prediction = final._model.predict(final.params_, X_pool)
    # Sorted labels: the nearest label of each prediction by binary search, O(N log n).
    labels = np.sort(y_labelled)
    position = np.clip(np.searchsorted(labels, prediction), 1, len(labels)) - 1
    upper = np.minimum(position + 1, len(labels) - 1)
    min_distance = np.minimum(
        np.abs(prediction - labels[position]), np.abs(prediction - labels[upper])
    )

    def distances_to(j):
        return np.abs(prediction - prediction[j])

    return _greedy_distances(X_pool, n_instances, min_distance, distances_to)


def improved_greedy_sampling(
    estimator, X_pool, n_instances=1, *, X_labelled=None, y_labelled=None
):
    """Improved greedy sampling (iGS, Wu 2019): inputs and outputs together.

    The distance of a candidate is ``min_m ||x - x_m|| |f(x) - y_m|`` over the
    labelled points (input distances in the space the final regressor sees).
    In a batch, each pick joins the labelled set with its predicted label.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        Fitted.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates.

    n_instances : int, default=1
        How many points to pick.

    X_labelled : {array-like, sparse matrix} of shape (n_labelled, n_features), default=None
        The labelled inputs (or a modAL learner's ``X_training``).

    y_labelled : array-like of shape (n_labelled,), default=None
        Their labels (or a modAL learner's ``y_training``).

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``, in the order picked.

    scores : ndarray of shape (n_instances,)
        Joint distance of each pick (with the earlier picks).

    Examples
    --------
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import improved_greedy_sampling
    >>> X, y = [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
    >>> reg = CuriousRegressor(alpha=0.0).fit(X, y)
    >>> improved_greedy_sampling(reg, [[1.5], [5.0]], 1, X_labelled=X, y_labelled=y)[0]
    array([1])
    """
    estimator, X_training, y_training = _unwrap(estimator)
    X_labelled, y_labelled = _labelled_set(
        X_labelled, y_labelled, X_training, y_training, need_y=True
    )
    final, X_pool = _scoring_estimator(estimator, X_pool)
    _, X_labelled = _scoring_estimator(estimator, X_labelled)
    _check_n_instances(n_instances, X_pool.shape[0])
    prediction = final._model.predict(final.params_, X_pool)

    def output_distance(rows):
        return np.abs(prediction[rows, np.newaxis] - y_labelled)

    min_distance = _min_distance_to(X_pool, X_labelled, output_distance)

    def distances_to(j):
        def to_pick(rows):
            return np.abs(prediction[rows, np.newaxis] - prediction[j])

        return _min_distance_to(X_pool, _safe_indexing(X_pool, [j]), to_pick)

    return _greedy_distances(X_pool, n_instances, min_distance, distances_to)


def variance_sampling(estimator, X_pool, n_instances=1):
    """Pick the points whose prediction is most uncertain, ``grad f(x)^T H^-1 grad f(x)``.

    ``H`` is the Hessian of the training objective; multiplied by the noise
    variance this is the variance of the fitted prediction at ``x`` under the
    Laplace approximation. The pool is processed in chunks of rows sized by
    scikit-learn's ``working_memory``, so no (n_pool, n_params) Jacobian is
    ever formed.

    Parameters
    ----------
    estimator : CuriousRegressor, Pipeline or modAL ActiveLearner
        Fitted.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        Unlabelled candidates.

    n_instances : int, default=1
        How many points to pick (the top-k).

    Returns
    -------
    indices : ndarray of shape (n_instances,)
        Rows of ``X_pool``, largest variance first.

    scores : ndarray of shape (n_instances,)
        ``grad f(x)^T H^-1 grad f(x)`` of each pick.

    Examples
    --------
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import variance_sampling
    >>> reg = CuriousRegressor().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    >>> variance_sampling(reg, [[1.0], [9.0], [-3.0]], 1)[0]
    array([1])
    """
    estimator, _, _ = _unwrap(estimator)
    estimator, X_pool = _scoring_estimator(estimator, X_pool)
    n_pool = X_pool.shape[0]
    _check_n_instances(n_instances, n_pool)
    n_params = len(estimator.params_)
    variance = np.empty(n_pool)
    # A chunk holds its Jacobian, the solve's result and the solve's two
    # temporaries: about four (rows, p) float64 arrays.
    chunk_n_rows = get_chunk_n_rows(row_bytes=4 * 8 * n_params, max_n_rows=n_pool)
    for rows in gen_batches(n_pool, chunk_n_rows):
        jacobian = estimator._model.jacobian(estimator.params_, X_pool[rows])
        solved = estimator._hessian.solve(jacobian.T)
        variance[rows] = np.einsum("ij,ji->i", jacobian, solved)
    return _top_k(variance, n_instances)


# ---------------------------------------------------------------------------
# Labelled data


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


# ---------------------------------------------------------------------------
# The loop


def _progress_bar(progress, total):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:
        raise ImportError(
            "progress=True needs tqdm: pip install tqdm (or the 'progress' extra, "
            "pip install 'sklearn-curiosity[progress]'), or pass progress=False."
        ) from exc
    return tqdm(total=total, desc="active learning", unit="query")


def _check_initial_indices(initial_indices, n_pool):
    """``initial_indices`` as distinct row numbers of the pool, or a ValueError saying why not."""
    indices = np.asarray(initial_indices)
    if indices.ndim != 1 or indices.size == 0:
        raise ValueError(
            "initial_indices must be a non-empty 1D array of row numbers of X_pool; "
            f"got shape {indices.shape}."
        )
    if indices.dtype.kind == "b":
        # A mask cast to integers would label rows 0 and 1 only.
        raise ValueError(
            "initial_indices holds booleans: pass row numbers, e.g. "
            "np.flatnonzero(mask), not a boolean mask."
        )
    if indices.dtype.kind not in "iu":
        # Casting would truncate 2.7 to row 2 without a word.
        raise ValueError(
            f"initial_indices must hold integers; got dtype {indices.dtype} "
            f"(e.g. {indices[0]!r})."
        )
    outside = (indices < 0) | (indices >= n_pool)
    if np.any(outside):
        raise ValueError(
            f"initial_indices must be between 0 and {n_pool - 1} (rows of X_pool); "
            f"got {indices[outside][0]}."
        )
    if len(np.unique(indices)) != len(indices):
        raise ValueError("initial_indices repeats a row; each row can be labelled once.")
    return indices.astype(np.intp)


def run_active_learning(
    estimator,
    strategy,
    X_pool,
    y_pool,
    n_queries,
    batch_size,
    X_test,
    y_test,
    *,
    n_initial=10,
    initial_indices=None,
    metric=root_mean_squared_error,
    strategy_kwargs=None,
    random_state=None,
    progress=False,
):
    """Run a pool-based active-learning session and record its learning curve.

    Starting from a few labelled pool points, each round fits a clone of
    ``estimator`` on the labelled points, records its error on the test set,
    asks ``strategy`` for ``batch_size`` points of the rest of the pool and
    reveals their labels from ``y_pool``. A last fit after the final query
    closes the curve.

    Parameters
    ----------
    estimator : estimator
        An unfitted CuriousRegressor or Pipeline ending in one (it is cloned);
        for :func:`random_sampling` and the greedy baselines any regressor.

    strategy : callable
        ``strategy(fitted_estimator, X_candidates, n_instances, **kwargs) ->
        (indices, scores)``, such as :func:`influence_sampling`. If its
        signature names them, it also receives ``X_labelled``, ``y_labelled``
        and ``random_state``.

    X_pool : {array-like, sparse matrix} of shape (n_pool, n_features)
        The pool, labelled points included.

    y_pool : array-like of shape (n_pool,)
        The labels an oracle would give; only those of queried points are read.

    n_queries : int
        Number of rounds of querying, 0 or more.

    batch_size : int
        Points queried per round, at least 1.

    X_test, y_test : array-like
        Held-out data for the learning curve.

    n_initial : int, default=10
        Size of the random initial labelled set (ignored with ``initial_indices``).

    initial_indices : array-like of int, default=None
        Distinct rows of ``X_pool`` labelled at the start (integers, not a
        boolean mask: pass ``np.flatnonzero(mask)``).

    metric : callable, default=root_mean_squared_error
        ``metric(y_true, y_pred)``, recorded after each fit.

    strategy_kwargs : dict, default=None
        Extra keyword arguments of ``strategy`` (for example ``batch="greedy"``).

    random_state : int, RandomState instance or None, default=None
        Seeds the initial set and, if the strategy takes one, the strategy.

    progress : bool, default=False
        Show a tqdm progress bar (needs tqdm installed).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        - ``n_labelled``: ndarray of shape (n_queries + 1,), labelled points at each fit;
        - ``test_error``: ndarray of shape (n_queries + 1,), ``metric`` on the test set;
        - ``initial_indices``: ndarray, the initial labelled rows of ``X_pool``;
        - ``queried_indices``: ndarray of shape (n_queries, batch_size), rows of
          ``X_pool`` queried in each round;
        - ``estimator``: the last fitted clone.

    Notes
    -----
    Each round refits from scratch on all the labels so far (for the linear
    model a fit costs one ``p x p`` Cholesky factorization); no rank-k update
    of the fit is attempted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressor
    >>> from sklearn_curiosity.query import influence_sampling, run_active_learning
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X @ [1.0, 2.0, -1.0] + 0.1 * rng.normal(size=200)
    >>> result = run_active_learning(
    ...     CuriousRegressor(alpha=1.0), influence_sampling, X[:150], y[:150],
    ...     n_queries=3, batch_size=5, X_test=X[150:], y_test=y[150:], random_state=0)
    >>> result.n_labelled
    array([10, 15, 20, 25])
    >>> result.queried_indices.shape
    (3, 5)
    """
    rng = check_random_state(random_state)
    y_pool = np.asarray(y_pool)
    n_pool = _num_samples(X_pool)
    if len(y_pool) != n_pool:
        raise ValueError(f"X_pool has {n_pool} rows but y_pool has {len(y_pool)} labels.")
    n_queries = _check_int(n_queries, "n_queries")
    if n_queries < 0:
        raise ValueError(f"n_queries must be 0 or more; got {n_queries}.")
    batch_size = _check_n_instances(batch_size, n_pool, name="batch_size")
    if initial_indices is None:
        n_initial = _check_n_instances(n_initial, n_pool, name="n_initial")
        initial_indices = rng.choice(n_pool, size=n_initial, replace=False)
    initial_indices = _check_initial_indices(initial_indices, n_pool)
    n_needed = len(initial_indices) + n_queries * batch_size
    if n_needed > n_pool:
        raise ValueError(
            f"{len(initial_indices)} initial points and {n_queries} queries of "
            f"{batch_size} need {n_needed} pool points; the pool has {n_pool}."
        )
    strategy_kwargs = dict(strategy_kwargs or {})
    accepted = inspect.signature(strategy).parameters

    labelled = np.zeros(n_pool, dtype=bool)
    labelled[initial_indices] = True
    queried = np.empty((n_queries, batch_size), dtype=np.intp)
    n_labelled, test_error = [], []
    bar = _progress_bar(progress, n_queries)
    try:
        for round_ in range(n_queries + 1):
            rows = np.flatnonzero(labelled)
            X_labelled = _safe_indexing(X_pool, rows)
            fitted = clone(estimator).fit(X_labelled, y_pool[rows])
            n_labelled.append(len(rows))
            test_error.append(metric(y_test, fitted.predict(X_test)))
            if round_ == n_queries:
                break
            candidates = np.flatnonzero(~labelled)
            kwargs = dict(strategy_kwargs)
            offered = {
                "X_labelled": X_labelled,
                "y_labelled": y_pool[rows],
                "random_state": rng,
            }
            kwargs.update({k: v for k, v in offered.items() if k in accepted and k not in kwargs})
            picks, _ = strategy(fitted, _safe_indexing(X_pool, candidates), batch_size, **kwargs)
            queried[round_] = candidates[np.asarray(picks)]
            labelled[queried[round_]] = True
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return Bunch(
        n_labelled=np.asarray(n_labelled),
        test_error=np.asarray(test_error),
        initial_indices=initial_indices,
        queried_indices=queried,
        estimator=fitted,
    )
