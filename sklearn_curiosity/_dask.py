"""Scoring pools held as dask arrays: dask arrays in, dask arrays out.

The fitted estimator is small (its parameters and tangent); the pool may not
fit on one machine. Scores are row-wise, so each block of rows is scored where
it lives by the in-memory code path, and the result is a lazy dask array with
the pool's row chunks. dask is imported only when a dask array is passed.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys

import numpy as np


def is_dask_array(X):
    """Whether ``X`` is a dask array (without importing dask)."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def map_row_blocks(score, estimator, X, y=None, n_columns=None):
    """Lazily apply ``score(estimator, X_block[, y_block])`` to each block of rows.

    Parameters
    ----------
    score : callable
        ``influence_score`` or ``regularity_sensitivity`` (module level), applied
        to numpy blocks.

    estimator : CuriousRegressor or Pipeline
        Fitted; shipped to the workers with the tasks.

    X : dask array of shape (n_samples, n_features)
        The pool. Column chunks are merged so that each block holds whole rows.

    y : array-like or dask array of shape (n_samples,), default=None
        Labels, re-chunked along ``X``'s rows.

    n_columns : int, default=None
        Columns of each block's result (one per regularity), or ``None`` for
        one score per row.

    Returns
    -------
    scores : dask array of shape (n_samples,) or (n_samples, n_columns), float64
        Row chunks as ``X``'s; call ``.compute()`` (or ``persist``) to run.
    """
    import dask.array as da

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array of shape (n_samples, n_features), got {X.ndim}D.")
    X = X.rechunk({1: -1})
    if n_columns is None:
        shape = dict(drop_axis=1, meta=np.empty((0,), dtype=np.float64))
    else:
        shape = dict(chunks=(X.chunks[0], (n_columns,)), meta=np.empty((0, 0), dtype=np.float64))
    if y is None:
        return da.map_blocks(
            lambda block: score(estimator, block), X, dtype=np.float64, **shape
        )
    y = da.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"y has shape {y.shape}; expected ({X.shape[0]},), one label per row of X."
        )
    y = y.reshape(-1, 1).rechunk((X.chunks[0], 1))
    return da.map_blocks(
        lambda block, labels: score(estimator, block, labels[:, 0]),
        X,
        y,
        dtype=np.float64,
        **shape,
    )
