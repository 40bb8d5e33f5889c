"""Chunked (working_memory) and parallel (n_jobs) scoring equals the one-shot path."""

import time

import numpy as np
import pytest
from scipy import sparse
from joblib import parallel_config
from sklearn import config_context
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity
from sklearn_curiosity import _chunking
from sklearn_curiosity._chunking import apply_by_row_chunks

# 8 * (3 + 4) bytes per row: this budget makes chunks of 5 rows (of
# apply_by_row_chunks here, and of the regressor's 8 * 2 * 2 bytes a row).
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
@pytest.mark.parametrize("pool_kind", ["dense", "sparse", "float32"])
@pytest.mark.parametrize("precision", ["auto", "float64"])
def test_chunked_scores_equal_unchunked(fitted, n_jobs, pool_kind, precision, monkeypatch):
    reg, pool, y_pool = fitted
    reg.set_params(precision=precision)
    if pool_kind == "sparse":
        pool = sparse.csr_matrix(pool)
    elif pool_kind == "float32":
        pool = pool.astype(np.float32)
    expected = _all_outputs(reg, pool, y_pool)
    reg.set_params(n_jobs=n_jobs)
    # Chunks and blocks of 64 rows (the fewest they hold: aligned, see
    # _chunking.ROW_ALIGNMENT), so 103 rows make two of each.
    monkeypatch.setattr(_chunking, "CACHE_BLOCK_BYTES", 1)
    with config_context(working_memory=FIVE_ROWS_MB):
        chunked = _all_outputs(reg, pool, y_pool)
    for a, b in zip(expected, chunked):
        assert a.shape == (103,)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("hidden", [(4,), (3, 5)])
def test_network_blocks_equal_one_shot(hidden, monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.tanh(X @ [1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=60)
    reg = CuriousRegressor("mlp", hidden_layer_sizes=hidden, random_state=0, n_jobs=2).fit(X, y)
    for pool in [rng.normal(size=(103, 3)), rng.normal(size=(103, 3)).astype(np.float32)]:
        expected = _all_outputs(reg, pool, y[:1].repeat(103))
        monkeypatch.setattr(_chunking, "CACHE_BLOCK_BYTES", 1)
        with config_context(working_memory=FIVE_ROWS_MB):
            chunked = _all_outputs(reg, pool, y[:1].repeat(103))
        monkeypatch.undo()
        for a, b in zip(expected, chunked):
            if pool.dtype == np.float64:
                np.testing.assert_array_equal(a, b)
            else:
                # float32 kernels (a matrix-vector product's last rows) may
                # round the last bit of a block's edge rows differently.
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6 * np.abs(a).max())


def test_several_jobs_cut_the_pool_into_several_chunks_each():
    seen = []

    def record(X_chunk):
        seen.append(X_chunk.shape[0])
        return X_chunk.sum(axis=1)

    X = np.ones((1000, 2))
    # Threads: sixteen chunks each.
    apply_by_row_chunks(record, X, row_bytes=8, n_jobs=2)
    assert len(seen) == 32 and sum(seen) == 1000
    seen.clear()
    # With blocks, chunks hold multiples of 64 rows.
    apply_by_row_chunks(record, X, row_bytes=8, n_jobs=2, block_row_bytes=8)
    assert sorted(seen) == [40] + [64] * 15


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
    reg.set_params(precision="float64")
    with config_context(working_memory=FIVE_ROWS_MB):
        scores32 = reg.influence_score(pool32)
    # Blocks are cast to float64: exactly the scores of the float64 copy.
    np.testing.assert_array_equal(scores32, reg.influence_score(pool32.astype(np.float64)))
    assert scores32.dtype == np.float64
    # Computed in float32 (the default), still float64 results, float32-close.
    reg.set_params(precision="auto")
    scores = reg.influence_score(pool32)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, scores32, rtol=1e-4)


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


def test_chunks_sent_to_processes_equal_threads_and_one_pass(fitted, monkeypatch):
    # A backend of processes gets copies of the chunks and returns their
    # results; threads write in place. Both equal one pass, bit for bit.
    reg, pool, y_pool = fitted
    expected = _all_outputs(reg, pool, y_pool)
    monkeypatch.setattr(_chunking, "CACHE_BLOCK_BYTES", 1)
    reg.set_params(n_jobs=2)
    with config_context(working_memory=FIVE_ROWS_MB):
        in_threads = _all_outputs(reg, pool, y_pool)
        with parallel_config(backend="loky"):
            in_processes = _all_outputs(reg, pool, y_pool)
    for a, b, c in zip(expected, in_threads, in_processes):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_an_error_in_a_thread_reaches_the_caller():
    def fail_on_the_last_rows(X_chunk):
        if X_chunk[-1, 0] == 999:
            raise ValueError("row 999")
        return X_chunk[:, 0]

    X = np.arange(2000.0).reshape(1000, 2)
    X[:, 0] = np.arange(1000)
    with pytest.raises(ValueError, match="row 999"):
        apply_by_row_chunks(fail_on_the_last_rows, X, row_bytes=8, n_jobs=2)


def test_threads_stop_taking_chunks_after_an_error():
    seen = []

    def fail_on_the_first_chunk(X_chunk):
        seen.append(X_chunk[0, 0])
        if X_chunk[0, 0] == 0:
            raise ValueError("first chunk")
        # Long enough that the failing thread, even descheduled on a loaded
        # machine, raises while the other one still holds its chunk.
        time.sleep(0.05)
        return X_chunk[:, 0]

    X = np.arange(1000.0).reshape(1000, 1)
    with pytest.raises(ValueError, match="first chunk"):
        apply_by_row_chunks(fail_on_the_first_chunk, X, row_bytes=8, n_jobs=2)
    # 32 chunks; the other thread finishes the one it holds (50 ms) and
    # takes no other.
    assert len(seen) <= 3
