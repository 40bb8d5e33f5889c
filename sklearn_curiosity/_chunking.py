"""Row-wise computations over pools larger than memory allows at once.

Scores and predictions are row-wise: row ``i`` of the result depends on row
``i`` of the inputs only. They are computed over chunks of rows sized by
scikit-learn's ``working_memory`` configuration (as
``sklearn.metrics.pairwise_distances_chunked`` does), optionally in parallel
with joblib, so that the temporaries (a float64 copy of a float32 pool, the
model's intermediate activations) never exceed one chunk per worker.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.parallel import Parallel, delayed


def apply_by_row_chunks(func, X, *row_arrays, row_bytes, n_jobs=None, working_memory=None):
    """Return ``func(X, *row_arrays)`` computed over chunks of rows.

    Parameters
    ----------
    func : callable
        ``func(X_chunk, *row_array_chunks) -> ndarray of shape (n_chunk_rows,)``.
        Must be row-wise, so that the concatenated chunks equal the whole.

    X : ndarray or sparse matrix (CSR) of shape (n_samples, n_features)
        Rows to process; sliced, never copied whole.

    *row_arrays : ndarrays of shape (n_samples, ...)
        Further per-row inputs (labels), sliced like ``X``.

    row_bytes : int
        Working memory one row needs, in bytes.

    n_jobs : int, default=None
        Chunks processed in parallel. Threads are preferred (numpy releases
        the GIL and the pool is shared, not copied); an enclosing
        ``joblib.parallel_config(backend=...)`` overrides the preference.

    working_memory : float, default=None
        Megabytes for one chunk's temporaries; ``None`` takes
        ``sklearn.get_config()["working_memory"]``.

    Returns
    -------
    result : ndarray of shape (n_samples,)
    """
    n_samples = X.shape[0]
    chunk_n_rows = get_chunk_n_rows(
        row_bytes, max_n_rows=max(n_samples, 1), working_memory=working_memory
    )
    batches = list(gen_batches(n_samples, chunk_n_rows))
    if len(batches) <= 1:
        return func(X, *row_arrays)
    # Results arrive in order as a generator and are copied into one output,
    # so at most the output plus the chunks in flight are held at once.
    results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(func)(X[batch], *(a[batch] for a in row_arrays)) for batch in batches
    )
    out = None
    for batch, chunk in zip(batches, results):
        if out is None:
            out = np.empty((n_samples,) + chunk.shape[1:], dtype=chunk.dtype)
        out[batch] = chunk
    return out
