"""The pool-based active-learning loop and its learning curve."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect

import numpy as np
from sklearn.base import clone
from sklearn.metrics import root_mean_squared_error
from sklearn.utils import Bunch, _safe_indexing, check_random_state
from sklearn.utils.validation import _num_samples

from ._common import _check_int, _check_n_instances


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
    model a fit costs one Cholesky factorization, of the smaller of its ``p x p``
    and ``n x n`` systems); no rank-k update
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
