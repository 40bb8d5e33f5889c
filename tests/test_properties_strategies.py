"""Property-based tests of the strategies' arguments: a valid result or a clear ValueError/TypeError.

Hostile arguments (counts of every type, batches, pools of odd shapes and
contents, the loop's budget and initial rows) never give anything else: no
IndexError, no numpy error, no silent truncation. Fixed example budget and
derandomized, as in test_properties.py.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from sklearn_curiosity import CuriousRegressor, HierarchicalCuriousRegressor
from sklearn_curiosity.query import (
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    influence_sampling,
    most_influential,
    random_sampling,
    run_active_learning,
    user_influence_sampling,
    variance_sampling,
)

PROPERTY_SETTINGS = settings(max_examples=60, derandomize=True, deadline=None)

_RNG = np.random.RandomState(0)
X_FIT = _RNG.normal(size=(30, 3))
Y_FIT = X_FIT @ [1.0, -1.0, 0.5] + 0.3 * _RNG.normal(size=30)
FITTED = CuriousRegressor(alpha=1.0).fit(X_FIT, Y_FIT)
GROUPS = np.repeat([0, 1, 2], 10)
HIERARCHICAL = HierarchicalCuriousRegressor().fit(X_FIT, Y_FIT, GROUPS)

STRATEGIES = {
    "influence": lambda pool, n, batch: influence_sampling(FITTED, pool, n, batch=batch),
    "random": lambda pool, n, batch: random_sampling(FITTED, pool, n, random_state=0),
    "greedy_x": lambda pool, n, batch: greedy_sampling_x(FITTED, pool, n, X_labelled=X_FIT),
    "greedy_y": lambda pool, n, batch: greedy_sampling_y(FITTED, pool, n, y_labelled=Y_FIT),
    "igs": lambda pool, n, batch: improved_greedy_sampling(
        FITTED, pool, n, X_labelled=X_FIT, y_labelled=Y_FIT
    ),
    "variance": lambda pool, n, batch: variance_sampling(FITTED, pool, n),
}

# Valid counts drawn as often as hostile ones, so that both outcomes are met.
hostile_counts = st.one_of(
    st.integers(-3, 45),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([np.int64(2), np.uint8(1), np.float64(2.0), "2", None, [2]]),
)
counts = st.one_of(st.integers(1, 4), hostile_counts)


@st.composite
def pools(draw):
    """Pools of odd shapes, containers and contents; half of them valid."""
    valid = draw(st.booleans())
    n = draw(st.integers(1, 12) if valid else st.integers(0, 12))
    p = 3 if valid else draw(st.sampled_from([3, 2, 4]))
    pool = np.random.RandomState(draw(st.integers(0, 1000))).normal(size=(n, p))
    pool *= 10.0 ** draw(st.integers(-6, 6))
    contents = ["plain", "duplicates", "int"] + ([] if valid else ["nan", "inf"])
    content = draw(st.sampled_from(contents))
    if content == "nan" and n:
        pool[draw(st.integers(0, n - 1)), 0] = np.nan
    elif content == "inf" and n:
        pool[0, -1] = np.inf
    elif content == "duplicates" and n:
        pool[:] = pool[0]
    elif content == "int":
        pool = np.round(pool).astype(np.int64)
    shapes = ["2d", "list", "sparse"] + ([] if valid else ["1d", "3d"])
    shape = draw(st.sampled_from(shapes))
    if shape == "1d":
        pool = pool.ravel()
    elif shape == "3d":
        pool = pool[:, :, np.newaxis]
    elif shape == "list":
        pool = pool.tolist()
    elif shape == "sparse":
        pool = sparse.csr_matrix(pool)
    return pool


def _clear(error):
    message = str(error)
    assert len(message) > 20, message


def _n_rows(pool):
    return pool.shape[0] if hasattr(pool, "shape") else len(pool)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    pool=pools(),
    n_instances=counts,
    batch=st.sampled_from([None, "greedy", None, "greedy", "topk", 0, True]),
)
def test_strategies_give_a_valid_pick_or_a_clear_error(name, pool, n_instances, batch):
    if name != "influence" and batch is not None:
        batch = None  # only influence_sampling takes a batch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            indices, scores = STRATEGIES[name](pool, n_instances, batch)
        except (ValueError, TypeError) as error:
            _clear(error)
            return
    # A result: exactly n_instances distinct rows of the pool, in range.
    assert isinstance(n_instances, (int, np.integer)) and not isinstance(n_instances, bool)
    assert indices.shape == scores.shape == (n_instances,)
    assert len(np.unique(indices)) == n_instances
    assert np.all((0 <= indices) & (indices < _n_rows(pool)))
    assert np.all(np.isfinite(scores))


@PROPERTY_SETTINGS
@given(pool=pools(), n=counts, users=st.sampled_from([None, [0, 1], None, [0, 5, 9], []]))
def test_user_influence_sampling_and_most_influential(pool, n, users):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            pairs, scores = user_influence_sampling(HIERARCHICAL, pool, users, n_instances=n)
        except (ValueError, TypeError) as error:
            _clear(error)
        else:
            n_users = 3 if users is None else len(users)
            assert pairs.shape == (n, 2) and scores.shape == (n,)
            assert len({tuple(pair) for pair in pairs}) == n
            assert np.all(pairs[:, 0] < _n_rows(pool)) and np.all(pairs[:, 1] < n_users)
        try:
            indices, influence = most_influential(FITTED, X_FIT, Y_FIT, n=n)
        except (ValueError, TypeError) as error:
            _clear(error)
        else:
            assert indices.shape == influence.shape == (n,)
            assert len(np.unique(indices)) == n


initial_rows = st.one_of(
    st.none(),
    st.lists(st.integers(0, 15), min_size=1, max_size=5, unique=True),
    st.lists(st.integers(-3, 20), min_size=0, max_size=6),
    st.lists(st.floats(-1, 20, allow_nan=False), min_size=1, max_size=4),
    st.lists(st.booleans(), min_size=16, max_size=16),
    st.sampled_from([np.array([[0, 1]]), np.array([2, 3], dtype=np.uint8), "0,1"]),
)


@PROPERTY_SETTINGS
@given(
    n_queries=st.one_of(st.integers(0, 3), hostile_counts),
    batch_size=counts,
    n_initial=st.one_of(st.integers(2, 6), hostile_counts),
    initial_indices=initial_rows,
    strategy=st.sampled_from([random_sampling, influence_sampling]),
)
def test_run_active_learning_arguments(n_queries, batch_size, n_initial, initial_indices, strategy):
    X_pool, y_pool = X_FIT[:16], Y_FIT[:16]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = run_active_learning(
                CuriousRegressor(alpha=1.0), strategy, X_pool, y_pool, n_queries, batch_size,
                X_FIT[16:], Y_FIT[16:], n_initial=n_initial, initial_indices=initial_indices,
                random_state=0,
            )
        except (ValueError, TypeError) as error:
            _clear(error)
            return
    # A result: the budget was valid and every labelled row is distinct.
    chosen = np.concatenate([result.initial_indices, result.queried_indices.ravel()])
    assert len(np.unique(chosen)) == len(chosen) <= len(X_pool)
    assert np.all((0 <= chosen) & (chosen < len(X_pool)))
    assert result.queried_indices.shape == (n_queries, batch_size)
    np.testing.assert_array_equal(
        result.n_labelled, len(result.initial_indices) + batch_size * np.arange(n_queries + 1)
    )
    assert np.all(np.isfinite(result.test_error))
    if initial_indices is not None:
        np.testing.assert_array_equal(result.initial_indices, initial_indices)


@pytest.mark.parametrize("batch_size", [0, 1, 3, 40])
def test_skactiveml_batch_sizes_and_candidates(batch_size):
    pytest.importorskip("skactiveml")
    from skactiveml.regressor import SklearnRegressor

    from sklearn_curiosity.skactiveml import InfluenceSampling

    y = Y_FIT.copy()
    y[10:] = np.nan
    qs = InfluenceSampling(random_state=0, fallback="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            indices = qs.query(X_FIT, y, SklearnRegressor(CuriousRegressor()), batch_size=batch_size)
        except (ValueError, TypeError) as error:
            _clear(error)
            return
    assert len(indices) == min(batch_size, 20)
    assert np.all(np.isnan(y[indices]))
