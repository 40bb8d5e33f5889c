"""Chunked (working_memory) and parallel (n_jobs) scoring equals the one-shot path."""

import numpy as np
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity
from sklearn_curiosity._chunking import apply_by_row_chunks

# 8 * (3 + 4) bytes per row: this budget makes chunks of 5 rows.
FIVE_ROWS_MB = 5 * 8 * 7 / 2**20


@pytest.fixture
def fitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=40)
    pool = rng.normal(size=(103, 3))
    return CuriousRegressor(alpha=0.5).fit(X, y), pool, rng.normal(size=103)


def _all_outputs(reg, pool, y_pool):
    return [
        reg.predict(pool),
        reg.regularity_sensitivity(pool),
        reg.influence_score(pool),
        reg.influence_score(pool, y_pool),
    ]


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_chunked_scores_equal_unchunked(fitted, n_jobs, as_sparse):
    reg, pool, y_pool = fitted
    pool = sparse.csr_matrix(pool) if as_sparse else pool
    expected = _all_outputs(reg, pool, y_pool)
    reg.set_params(n_jobs=n_jobs)
    with config_context(working_memory=FIVE_ROWS_MB):
        chunked = _all_outputs(reg, pool, y_pool)
    for a, b in zip(expected, chunked):
        assert a.shape == (103,)
        np.testing.assert_array_equal(a, b)


def test_chunks_really_are_bounded():
    seen = []

    def record(X_chunk):
        seen.append(X_chunk.shape[0])
        return X_chunk.sum(axis=1)

    X = np.arange(103 * 3, dtype=float).reshape(103, 3)
    out = apply_by_row_chunks(record, X, row_bytes=56, working_memory=FIVE_ROWS_MB)
    np.testing.assert_array_equal(out, X.sum(axis=1))
    assert seen == [5] * 20 + [3]


def test_float32_pool_is_not_copied_whole_and_scores_like_float64(fitted):
    reg, pool, _ = fitted
    pool32 = pool.astype(np.float32)
    with config_context(working_memory=FIVE_ROWS_MB):
        scores32 = reg.influence_score(pool32)
    # Chunks are cast to float64: exactly the scores of the float64 copy.
    np.testing.assert_array_equal(scores32, reg.influence_score(pool32.astype(np.float64)))
    assert scores32.dtype == np.float64


def test_module_functions_and_pipelines_chunk_too(fitted):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1) + rng.normal(size=30)
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(n_jobs=2)).fit(X, y)
    pool = rng.normal(size=(50, 3))
    expected = influence_score(pipe, pool), regularity_sensitivity(pipe, pool)
    with config_context(working_memory=FIVE_ROWS_MB):
        chunked = influence_score(pipe, pool), regularity_sensitivity(pipe, pool)
    for a, b in zip(expected, chunked):
        np.testing.assert_array_equal(a, b)
