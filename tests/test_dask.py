"""Scores of a dask pool on a LocalCluster equal the in-memory scores."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    # Loopback only, no dashboard: runs on a fresh CI machine without network.
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture
def problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 4))
    y = X @ [1.0, -1.0, 2.0, 0.0] + rng.normal(size=50)
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=0.7)).fit(X, y)
    pool = rng.normal(size=(1003, 4))
    return pipe, pool, rng.normal(size=1003)


def test_distributed_scores_equal_in_memory(client, problem):
    pipe, pool, y_pool = problem
    # Chunked along both axes: blocks are re-assembled into whole rows.
    pool_dask = da.from_array(pool, chunks=(200, 2))
    curiosity = influence_score(pipe, pool_dask)
    assert isinstance(curiosity, da.Array) and curiosity.chunks == ((200,) * 5 + (3,),)
    np.testing.assert_array_equal(curiosity.compute(), influence_score(pipe, pool))
    signed = influence_score(pipe, pool_dask, da.from_array(y_pool, chunks=300))
    np.testing.assert_array_equal(signed.compute(), influence_score(pipe, pool, y_pool))
    sensitivity = regularity_sensitivity(pipe, pool_dask)
    np.testing.assert_array_equal(sensitivity.compute(), regularity_sensitivity(pipe, pool))
    top = da.argtopk(curiosity, 10).compute()
    np.testing.assert_array_equal(
        np.sort(top), np.sort(np.argsort(influence_score(pipe, pool))[-10:])
    )


def test_dask_labels_must_match_rows(problem):
    pipe, pool, _ = problem
    with pytest.raises(ValueError, match="one label per row"):
        influence_score(pipe, da.from_array(pool, chunks=100), np.zeros(7))


def test_joblib_dask_backend_scores_chunks_on_the_cluster(client, problem):
    from joblib import parallel_config
    from sklearn import config_context

    pipe, pool, y_pool = problem
    expected = influence_score(pipe, pool), influence_score(pipe, pool, y_pool)
    # Small chunks (about 100 rows), each a task on the cluster's workers.
    with parallel_config(backend="dask"), config_context(working_memory=100 * 64 / 2**20):
        distributed_scores = influence_score(pipe, pool), influence_score(pipe, pool, y_pool)
    for a, b in zip(expected, distributed_scores):
        np.testing.assert_array_equal(a, b)


def test_lazy_scores_are_those_of_the_model_when_the_graph_was_built(problem):
    pipe, pool, y_pool = problem
    pool_dask = da.from_array(pool, chunks=(300, 4))
    expected = (
        influence_score(pipe, pool),
        influence_score(pipe, pool, y_pool),
        regularity_sensitivity(pipe, pool),
    )
    lazy = (
        influence_score(pipe, pool_dask),
        influence_score(pipe, pool_dask, da.from_array(y_pool, chunks=300)),
        regularity_sensitivity(pipe, pool_dask),
    )
    # Refit on other data and change a parameter before computing.
    rng = np.random.RandomState(5)
    X_other = rng.normal(size=(20, 4))
    pipe.set_params(curiousregressor__alpha=50.0).fit(X_other, rng.normal(size=20))
    for before, graph in zip(expected, lazy):
        np.testing.assert_array_equal(graph.compute(), before)
    assert not np.allclose(influence_score(pipe, pool), expected[0])


def test_an_unfitted_estimator_is_refused_when_the_graph_is_built(problem):
    from sklearn.exceptions import NotFittedError

    _, pool, _ = problem
    with pytest.raises(NotFittedError):
        influence_score(CuriousRegressor(), da.from_array(pool, chunks=100))


def test_filtered_pool_with_empty_and_unknown_blocks(problem):
    pipe, pool, y_pool = problem
    pool_dask = da.from_array(pool, chunks=(100, 4))
    labels = da.from_array(y_pool, chunks=100)
    # Rows 0-299 all fail the filter: three empty blocks, of unknown size.
    keep = np.arange(len(pool)) >= 300
    keep &= pool[:, 0] > -0.5
    keep_dask = da.from_array(keep, chunks=100)
    filtered, filtered_labels = pool_dask[keep_dask], labels[keep_dask]
    assert np.isnan(filtered.shape[0])
    curiosity = influence_score(pipe, filtered)
    np.testing.assert_array_equal(curiosity.compute(), influence_score(pipe, pool[keep]))
    np.testing.assert_array_equal(
        influence_score(pipe, filtered, filtered_labels).compute(),
        influence_score(pipe, pool[keep], y_pool[keep]),
    )
    np.testing.assert_array_equal(
        regularity_sensitivity(pipe, filtered).compute(), regularity_sensitivity(pipe, pool[keep])
    )
    # Nothing left at all: an empty result, not an error.
    nothing = pool_dask[da.from_array(np.zeros(len(pool), bool), chunks=100)]
    assert influence_score(pipe, nothing).compute().shape == (0,)
    # Known sizes with empty blocks (chunk sizes computed after filtering).
    known = pool_dask[keep_dask].compute_chunk_sizes()
    assert 0 in known.chunks[0]
    np.testing.assert_array_equal(
        influence_score(pipe, known).compute(), influence_score(pipe, pool[keep])
    )


def test_unfiltered_labels_with_a_filtered_pool_are_refused(problem):
    pipe, pool, y_pool = problem
    keep = da.from_array(pool[:, 0] > 0, chunks=100)
    filtered = da.from_array(pool, chunks=100)[keep]
    with pytest.raises(ValueError, match="one label per row"):
        influence_score(pipe, filtered, da.from_array(y_pool, chunks=100)).compute()
    with pytest.raises(ValueError, match="same mask"):
        influence_score(pipe, filtered, da.from_array(y_pool, chunks=500))


def test_overflowing_rows_are_named_as_rows_of_the_pool():
    # A block numbers its rows from 0; the error used to name rows 30 and 31
    # for rows 730 and 731 of the pool.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 3))
    reg = CuriousRegressor().fit(X, X.sum(axis=1))
    pool = rng.normal(size=(1000, 3))
    pool[[730, 731]] = 1e200
    lazy = da.from_array(pool, chunks=(100, 3))
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=r"at row index 730, 731 \(of the row block 700 to 799"):
        influence_score(reg, lazy).compute(scheduler="synchronous")
    # The in-memory pool names the same rows.
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=r"at row index 730, 731:"):
        influence_score(reg, pool)
    # Blocks of unknown size: the offset is unknown, and the message says so.
    filtered = lazy[lazy[:, 0] > -np.inf]
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=r"at row index 30, 31 \(counted from the first row of row block 7"):
        influence_score(reg, filtered).compute(scheduler="synchronous")
