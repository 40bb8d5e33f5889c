"""What every query strategy shares: unwrapping, validation, top-k."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.utils.validation import _num_samples

from ..scores import _final_step


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
