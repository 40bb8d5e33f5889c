"""The baselines the influence strategies are measured against: random, greedy
sampling on inputs, outputs and both (Wu 2019), and variance sampling.

References
----------
D. Wu, C.-T. Lin and J. Huang, "Active learning for regression using greedy
sampling", Information Sciences 474, 2019.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.metrics import pairwise_distances_chunked
from sklearn.utils import _safe_indexing, check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.validation import _num_samples

from ._common import _check_n_instances, _labelled_set, _scoring_estimator, _top_k, _unwrap


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
