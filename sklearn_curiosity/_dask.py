"""Scoring pools held as dask arrays: dask arrays in, dask arrays out.

The fitted estimator is small (its parameters and tangent); the pool may not
fit on one machine. Scores are row-wise, so each block of rows is scored where
it lives by the in-memory code path, and the result is a lazy dask array with
the pool's row chunks. dask is imported only when a dask array is passed.

The graph holds a deep copy of the fitted estimator taken when it is built:
a lazy score is the score of the model as it was then, whatever happens to
the estimator (a refit, ``set_params``) before ``compute``.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import math
import sys

import numpy as np
from sklearn.utils.validation import check_is_fitted


def is_dask_array(X):
    """Whether ``X`` is a dask array (without importing dask)."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def _known(chunks):
    return not any(math.isnan(size) for size in chunks)


def _rows_of_labels(y, X):
    """``y`` as a dask column whose row blocks are ``X``'s, or a ValueError saying why not."""
    import dask.array as da

    y = da.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1D, one label per row of X; got shape {y.shape}.")
    if _known(X.chunks[0]) and _known(y.chunks[0]):
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"y has shape {y.shape}; expected ({X.shape[0]},), one label per row of X."
            )
        return y.rechunk((X.chunks[0],))[:, np.newaxis]
    # Unknown block sizes (after boolean filtering): blocks are paired in
    # order and each pair's lengths are checked when it is computed.
    if y.numblocks[0] != X.numblocks[0]:
        raise ValueError(
            f"X has {X.numblocks[0]} row blocks of unknown size and y has "
            f"{y.numblocks[0]}: filter y with the same mask as X, or call "
            "X.compute_chunk_sizes() and y.compute_chunk_sizes() first."
        )
    return y[:, np.newaxis]


def map_row_blocks(score, estimator, X, y=None, n_columns=None):
    """Lazily apply ``score(estimator, X_block[, y_block])`` to each block of rows.

    Parameters
    ----------
    score : callable
        ``influence_score`` or ``regularity_sensitivity`` (module level), applied
        to numpy blocks.

    estimator : CuriousRegressor or Pipeline
        Fitted. A deep copy taken now is shipped to the workers with the
        tasks, so refitting ``estimator`` later does not change the result.

    X : dask array of shape (n_samples, n_features)
        The pool. Column chunks are merged so that each block holds whole
        rows; row blocks may be empty or of unknown size (after boolean
        filtering).

    y : array-like or dask array of shape (n_samples,), default=None
        Labels, re-chunked along ``X``'s rows (or, with blocks of unknown
        size, paired with them block by block).

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
        raise ValueError(
            f"Expected a 2D dask array of shape (n_samples, n_features), got {X.ndim}D."
        )
    check_is_fitted(estimator)
    snapshot = copy.deepcopy(estimator)
    X = X.rechunk({1: -1})
    empty = np.empty((0,) if n_columns is None else (0, n_columns), dtype=np.float64)
    if n_columns is None:
        shape = dict(drop_axis=1, meta=np.empty((0,), dtype=np.float64))
    else:
        shape = dict(chunks=(X.chunks[0], (n_columns,)), meta=np.empty((0, 0), dtype=np.float64))

    from .scores import NonFiniteRowsError  # scores imports this module

    def score_block(X_block, labels=None, block_info=None):
        # The estimators refuse an empty array, as scikit-learn's do; an empty
        # block of a filtered pool has simply no scores.
        if labels is not None and labels.shape[0] != X_block.shape[0]:
            raise ValueError(
                f"A block of X has {X_block.shape[0]} rows but its block of y has "
                f"{labels.shape[0]} labels: y must give one label per row of X."
            )
        if X_block.shape[0] == 0:
            return empty
        try:
            if labels is None:
                return score(snapshot, X_block)
            return score(snapshot, X_block, labels[:, 0])
        except NonFiniteRowsError as exc:
            # The block numbers its rows from 0: name them as rows of the pool.
            start, stop = block_info[0]["array-location"][0] if block_info else (None, None)
            if start is None or math.isnan(start):
                block = block_info[0]["chunk-location"][0] if block_info else "?"
                first_row, where = 0, (
                    f"counted from the first row of row block {block} of the dask array, "
                    "whose offset is unknown: blocks of unknown size"
                )
            else:
                first_row, where = int(start), (
                    f"of the row block {int(start)} to {int(stop) - 1} of the dask array; "
                    "other blocks may hold more"
                )
            raise NonFiniteRowsError(exc.rows, first_row, f" ({where})") from None

    if y is None:
        return da.map_blocks(score_block, X, dtype=np.float64, **shape)
    return da.map_blocks(score_block, X, _rows_of_labels(y, X), dtype=np.float64, **shape)
