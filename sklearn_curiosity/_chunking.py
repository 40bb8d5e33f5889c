"""Row-wise computations over pools larger than memory allows at once.

Scores and predictions are row-wise: row ``i`` of the result depends on row
``i`` of the inputs only. Two sizes of row slices serve two purposes:

- **chunks**, sized by scikit-learn's ``working_memory`` configuration (as
  ``sklearn.metrics.pairwise_distances_chunked`` does), bound the memory a
  job holds and are the units of work that ``n_jobs`` threads share;
- **blocks**, a few hundred kilobytes of the pool (``CACHE_BLOCK_BYTES``),
  are what each product and element-wise step of a chunk runs on. A block's
  temporaries (a centered or cast copy of its rows, a network's activations)
  stay in the core's cache, so the pool is read from memory once, whatever
  the chunk size: a large ``working_memory`` then costs nothing in speed.
"""

# SPDX-License-Identifier: BSD-3-Clause

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from joblib import effective_n_jobs
from joblib.parallel import get_active_backend
from sklearn import config_context, get_config
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.parallel import Parallel, delayed

from ._threads import blas_threads_for

# Bytes of pool rows per block: with its temporaries, a block fits in the
# L2 cache of one core (1 to 2 MiB on current x86 servers). Measured by
# benchmarks/bench_floor.py (--blocks): 128 KiB to 1 MiB are within a few
# percent of each other; 8 MiB and above fall back to memory speed.
CACHE_BLOCK_BYTES = 2**20
# With several jobs, blocks this many times larger. Each block costs a few
# dozen numpy calls whose Python part holds the GIL: with 1 MiB blocks two
# threads spent much of their time waiting for it (MLP (32,), 2M x 50 float32
# pool, 2 cores: n_jobs=2 ran 0.9x to 1.6x as fast as n_jobs=1 with 1 MiB
# blocks, 1.4x to 1.9x with 4 MiB; benchmarks/bench_floor.py --only jobs).
_PARALLEL_BLOCK_FACTOR = 4
# Each job gets several chunks, so that workers finishing early find work:
# four for processes (each chunk is sent to them), sixteen for threads (a
# chunk costs them next to nothing; the last one to finish runs alone).
_CHUNKS_PER_JOB = 4
_CHUNKS_PER_THREAD = 16
# Chunks and blocks start at multiples of this many rows. BLAS kernels treat
# the last few rows of a product (beyond a multiple of 4, 8 or 16) with other
# instructions, which may round differently: aligned slices put every row in
# the same place of its kernel as one product over the whole pool would, so
# chunked results equal one-shot results bit for bit.
ROW_ALIGNMENT = 64


def _aligned(n_rows):
    return max(ROW_ALIGNMENT, -(-int(n_rows) // ROW_ALIGNMENT) * ROW_ALIGNMENT)


def block_n_rows(row_bytes, block_bytes=None):
    """Rows of a block: about ``block_bytes`` (default ``CACHE_BLOCK_BYTES``), a multiple of 64."""
    block_bytes = CACHE_BLOCK_BYTES if block_bytes is None else block_bytes
    return max(ROW_ALIGNMENT, block_bytes // max(int(row_bytes), 1)
               // ROW_ALIGNMENT * ROW_ALIGNMENT)


def row_blocks(n_rows, row_bytes, block_bytes=None):
    """Slices of a block's rows (:func:`block_n_rows`) covering ``n_rows``."""
    # Not gen_batches: its parameter validation costs more than a block's
    # product when called for each block of a pool.
    step = block_n_rows(row_bytes, block_bytes)
    return [slice(start, min(start + step, n_rows)) for start in range(0, n_rows, step)]


def apply_by_row_chunks(
    func,
    X,
    *row_arrays,
    row_bytes,
    n_jobs=None,
    working_memory=None,
    block_row_bytes=None,
    product_flops=None,
):
    """Return ``func(X, *row_arrays)`` computed over chunks of rows.

    Parameters
    ----------
    func : callable
        ``func(X_chunk, *row_array_chunks) -> ndarray of shape (n_chunk_rows, ...)``.
        Must be row-wise, so that the concatenated chunks equal the whole.

    X : ndarray or sparse matrix (CSR) of shape (n_samples, n_features)
        Rows to process; sliced, never copied whole.

    *row_arrays : ndarrays of shape (n_samples, ...)
        Further per-row inputs (labels), sliced like ``X``.

    row_bytes : int
        Working memory one row of a chunk holds, in bytes.

    n_jobs : int, default=None
        Chunks processed in parallel. Threads are preferred (numpy releases
        the GIL and the pool is shared, not copied); an enclosing
        ``joblib.parallel_config(backend=...)`` overrides the preference.
        With several jobs the pool is cut into sixteen chunks per thread
        (four per process), taken in turn by whichever is free.

    working_memory : float, default=None
        Megabytes for one chunk's temporaries; ``None`` takes
        ``sklearn.get_config()["working_memory"]``.

    block_row_bytes : int, default=None
        Bytes one row of a block touches (its pool row and its temporaries).
        When given, ``func`` is called block by block (see
        :func:`row_blocks`), each chunk's result is assembled from its
        blocks, and chunks and blocks hold multiples of ``ROW_ALIGNMENT``
        rows (so results equal those of one pass bit for bit); ``None`` calls
        ``func`` on whole chunks.

    product_flops : float, default=None
        Floating-point operations of the largest matrix product ``func``
        runs: below ``_threads.SMALL_PRODUCT_FLOPS`` BLAS runs on one thread
        for the whole call, so ``n_jobs`` threads do not each wake a team of
        BLAS threads (set once here, since threadpoolctl's limit is
        process-wide). ``None`` leaves BLAS as it is.

    Returns
    -------
    result : ndarray of shape (n_samples, ...)
    """
    n_samples = X.shape[0]
    n_workers = effective_n_jobs(n_jobs)
    in_threads = n_workers > 1 and _backend_uses_threads()
    chunk_n_rows = get_chunk_n_rows(
        row_bytes, max_n_rows=max(n_samples, 1), working_memory=working_memory
    )
    if n_workers > 1:
        chunks_per_job = _CHUNKS_PER_THREAD if in_threads else _CHUNKS_PER_JOB
        chunk_n_rows = min(chunk_n_rows, -(-n_samples // (chunks_per_job * n_workers)))
    if block_row_bytes is not None:
        chunk_n_rows = _aligned(chunk_n_rows)
    batches = list(gen_batches(n_samples, max(chunk_n_rows, 1)))
    parallel = n_workers > 1 and len(batches) > 1
    block_bytes = CACHE_BLOCK_BYTES * (_PARALLEL_BLOCK_FACTOR if parallel else 1)
    on_chunk = (
        _whole(func) if block_row_bytes is None else _blockwise(func, block_row_bytes, block_bytes)
    )
    if not parallel:
        run = _run_chunks_in_turn
    elif in_threads:
        run = partial(_run_chunks_in_threads, n_workers=n_workers)
    else:
        run = partial(_run_chunks_in_jobs, n_jobs=n_jobs)
    one_product = len(batches) <= 1 and (
        block_row_bytes is None or n_samples <= block_n_rows(block_row_bytes, block_bytes)
    )
    if product_flops is None or one_product:
        # One product: threadpoolctl's limit would cost more than it saves.
        return run(on_chunk, X, row_arrays, batches)
    with blas_threads_for(product_flops):
        return run(on_chunk, X, row_arrays, batches)


def _backend_uses_threads():
    # joblib's choice for prefer="threads": threads unless an enclosing
    # parallel_config names another backend.
    backend, _ = get_active_backend(prefer="threads")
    return bool(getattr(backend, "uses_threads", False))


def _blockwise(func, block_row_bytes, block_bytes):
    def on_chunk(X_chunk, *chunks, write=None):
        blocks = row_blocks(X_chunk.shape[0], block_row_bytes, block_bytes)
        if len(blocks) <= 1 and write is None:
            return func(X_chunk, *chunks)
        out = _Output(X_chunk.shape[0]) if write is None else None
        for block in blocks:
            (write or out.write)(block, func(X_chunk[block], *(a[block] for a in chunks)))
        return None if out is None else out.array

    return on_chunk


def _whole(func):
    def on_chunk(X_chunk, *chunks, write=None):
        if write is None:
            return func(X_chunk, *chunks)
        write(slice(0, X_chunk.shape[0]), func(X_chunk, *chunks))

    return on_chunk


class _Output:
    """Rows of results, allocated when the first arrives (it fixes shape and dtype).

    Threads may write into it at once: each writes rows of its own.
    """

    def __init__(self, n_rows):
        self.n_rows = n_rows
        self.array = None
        self._lock = threading.Lock()

    def write(self, rows, result):
        if self.array is None:
            with self._lock:
                if self.array is None:
                    self.array = np.empty(
                        (self.n_rows,) + result.shape[1:], dtype=result.dtype
                    )
        self.array[rows] = result

    def writer(self, offset):
        """``write`` for the rows of a chunk that starts at row ``offset``."""
        def write(rows, result):
            self.write(slice(offset + rows.start, offset + rows.stop), result)

        return write


def _run_chunks_in_turn(on_chunk, X, row_arrays, batches):
    if len(batches) <= 1:
        return on_chunk(X, *row_arrays)
    out = _Output(X.shape[0])
    for batch in batches:
        on_chunk(X[batch], *(a[batch] for a in row_arrays), write=out.writer(batch.start))
    return out.array


def _run_chunks_in_jobs(on_chunk, X, row_arrays, batches, n_jobs):
    """Chunks through joblib's backend (processes, a cluster): they come back in order.

    Each is copied into one output, so at most the output plus the chunks
    in flight are held at once.
    """
    results = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(on_chunk)(X[batch], *(a[batch] for a in row_arrays)) for batch in batches
    )
    out = _Output(X.shape[0])
    for batch, chunk in zip(batches, results):
        out.write(batch, chunk)
    return out.array


def _run_chunks_in_threads(on_chunk, X, row_arrays, batches, n_workers):
    """Chunks on ``n_workers`` threads that take the next chunk as they finish one.

    Each writes its rows into the output in place. Not joblib's
    ``Parallel``: its main thread polls for results every 10 ms and copies
    each chunk into the output, serial work that held two threads on two
    cores to 1.2x the speed of one on the linear model's scores (joblib 1.6;
    8 tasks of 7 ms took 44 ms through ``Parallel``, 31 ms through a pool of
    threads).
    """
    out = _Output(X.shape[0])
    config = get_config()
    pending = iter(batches)
    lock = threading.Lock()
    failed = threading.Event()

    def work():
        # Threads do not inherit the caller's scikit-learn configuration.
        with config_context(**config):
            while not failed.is_set():
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                try:
                    on_chunk(
                        X[batch], *(a[batch] for a in row_arrays), write=out.writer(batch.start)
                    )
                except BaseException:
                    failed.set()  # the other threads stop after their chunk
                    raise

    with ThreadPoolExecutor(n_workers) as executor:
        for done in [executor.submit(work) for _ in range(n_workers)]:
            done.result()  # re-raises a chunk's error
    return out.array
