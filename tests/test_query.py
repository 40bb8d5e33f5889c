"""Query strategies against independent oracles: refits with the picked points,
brute-force distance matrices, dense Hessian inverses, finite differences of
refits in the sample weights, and sklearn's Ridge for the loop."""

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist
from sklearn import config_context
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score
from sklearn_curiosity.query import (
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    influence_sampling,
    most_influential,
    random_sampling,
    run_active_learning,
    variance_sampling,
)
from sklearn_curiosity.query._influence import _RankOneTangent


def make_problem(n_samples=25, n_features=4, n_pool=120, seed=0, offset=2.0):
    rng = np.random.RandomState(seed)
    scale = rng.uniform(0.5, 3, n_features)
    X = rng.normal(size=(n_samples, n_features)) * scale + offset
    coef = rng.normal(size=n_features)
    y = X @ coef + 1.0 + rng.normal(scale=0.5, size=n_samples)
    X_pool = rng.normal(size=(n_pool, n_features)) * 1.5 * scale + offset
    return X, y, X_pool, rng.uniform(0.3, 3.0, n_samples)


# --- influence_sampling ------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_rank_one_tangent_equals_refit_with_predicted_labels(fit_intercept, weighted, as_sparse):
    X, y, X_pool, w = make_problem()
    sample_weight = w if weighted else None
    convert = sparse.csr_matrix if as_sparse else np.asarray
    reg = CuriousRegressor(alpha=3.0, fit_intercept=fit_intercept)
    reg.fit(convert(X), y, sample_weight=sample_weight)
    picks = [5, 17, 17, 60]  # a repeated row is a legitimate rank-one step too
    updated = _RankOneTangent(reg).add(convert(X_pool[picks])).tangent

    X_refit = np.vstack([X, X_pool[picks]])
    y_refit = np.concatenate([y, reg.predict(X_pool[picks])])
    w_refit = None if sample_weight is None else np.concatenate([w, np.ones(len(picks))])
    refit = CuriousRegressor(alpha=3.0, fit_intercept=fit_intercept)
    refit.fit(convert(X_refit), y_refit, sample_weight=w_refit)
    # theta* does not move (zero residuals), and the tangent is the refit's.
    np.testing.assert_allclose(refit.params_, reg.params_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(updated, refit.tangent_, rtol=0, atol=1e-8)


def test_greedy_scores_are_those_of_refits_with_the_earlier_picks():
    X, y, X_pool, _ = make_problem(seed=1)
    reg = CuriousRegressor(alpha=2.0).fit(X, y)
    indices, scores = influence_sampling(
        reg, X_pool, n_instances=5, batch="greedy", uncertainty="noise"
    )
    for j, index in enumerate(indices):
        earlier = indices[:j]
        y_earlier = reg.predict(X_pool[earlier]) if j else []
        refit = CuriousRegressor(alpha=2.0).fit(
            np.vstack([X, X_pool[earlier]]), np.concatenate([y, y_earlier])
        )
        # The noise variance stays that of the original fit within a batch.
        expected = reg.noise_variance_ * refit.regularity_sensitivity(X_pool) ** 2
        expected[earlier] = -np.inf
        assert index == np.argmax(expected)
        np.testing.assert_allclose(scores[j], expected[index], rtol=1e-8)


def test_top_k_is_the_largest_curiosity_first():
    X, y, X_pool, _ = make_problem(seed=2)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    indices, scores = influence_sampling(reg, X_pool, n_instances=7)
    curiosity = influence_score(reg, X_pool, uncertainty="epistemic")  # the strategy's default
    np.testing.assert_array_equal(indices, np.argsort(-curiosity, kind="stable")[:7])
    np.testing.assert_allclose(scores, curiosity[indices])
    # The whole pool: a permutation.
    everything, _ = influence_sampling(reg, X_pool, n_instances=len(X_pool))
    np.testing.assert_array_equal(np.sort(everything), np.arange(len(X_pool)))


@pytest.mark.parametrize("batch", [None, "greedy"])
def test_a_batch_never_repeats_an_index(batch):
    X, y, _, _ = make_problem(seed=3)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    same = np.tile(X[:1] + 5.0, (12, 1))
    indices, _ = influence_sampling(reg, same, n_instances=12, batch=batch)
    np.testing.assert_array_equal(np.sort(indices), np.arange(12))


def test_greedy_batch_spreads_out_over_duplicates():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(20, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=20)
    reg = CuriousRegressor(alpha=5.0).fit(X, y)
    distinct = 1.5 * rng.normal(size=(200, 3))
    favourite = distinct[np.argmax(reg.influence_score(distinct))]
    pool = np.vstack([np.tile(favourite, (50, 1)), distinct])

    top_k, _ = influence_sampling(reg, pool, n_instances=10)
    greedy, _ = influence_sampling(reg, pool, n_instances=10, batch="greedy")
    assert np.all(top_k < 50)  # top-k: ten copies of one point
    assert np.sum(greedy < 50) <= 5
    assert len(np.unique(pool[greedy], axis=0)) >= 6


def test_strategies_accept_a_pipeline_with_preprocessing():
    X, y, X_pool, _ = make_problem(seed=4)
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)).fit(X, y)
    scaler = pipe[0]
    bare = CuriousRegressor(alpha=1.0).fit(scaler.transform(X), y)
    pool_scaled = scaler.transform(X_pool)
    for strategy, kwargs in [
        (influence_sampling, {}),
        (influence_sampling, {"batch": "greedy"}),
        (variance_sampling, {}),
        (greedy_sampling_x, {"X_labelled": X}),
        (greedy_sampling_y, {"y_labelled": y}),
        (improved_greedy_sampling, {"X_labelled": X, "y_labelled": y}),
    ]:
        through_pipe = strategy(pipe, X_pool, 4, **kwargs)
        if "X_labelled" in kwargs:
            kwargs = {**kwargs, "X_labelled": scaler.transform(X)}
        direct = strategy(bare, pool_scaled, 4, **kwargs)
        np.testing.assert_array_equal(through_pipe[0], direct[0])
        np.testing.assert_allclose(through_pipe[1], direct[1], rtol=1e-9)


def test_bad_arguments_say_what_to_do():
    X, y, X_pool, _ = make_problem()
    reg = CuriousRegressor().fit(X, y)
    with pytest.raises(ValueError, match="batch must be"):
        influence_sampling(reg, X_pool, batch="topk")
    with pytest.raises(ValueError, match="between 1 and the number of points"):
        influence_sampling(reg, X_pool, n_instances=len(X_pool) + 1)
    with pytest.raises(TypeError, match="n_instances must be an int"):
        influence_sampling(reg, X_pool, n_instances=2.0)
    with pytest.raises(ValueError, match="X_labelled"):
        greedy_sampling_x(reg, X_pool)
    with pytest.raises(ValueError, match="y_labelled"):
        greedy_sampling_y(reg, X_pool)
    with pytest.raises(TypeError, match="no influence_score"):
        influence_sampling(Ridge().fit(X, y), X_pool)
    with pytest.raises(ValueError, match="n must be between"):
        most_influential(reg, X, y, n=len(X) + 1)
    with pytest.raises(ValueError, match="features"):
        influence_sampling(reg, X_pool[:, :2])


# --- baselines ---------------------------------------------------------------


def brute_force_greedy(initial, pairwise, n_instances):
    """Wu's greedy loop on full matrices: ``initial`` (N,), ``pairwise`` (N, N)."""
    distance = initial.copy()
    picked = []
    for _ in range(n_instances):
        distance[picked] = -np.inf
        best = int(np.argmax(distance))
        picked.append(best)
        distance = np.minimum(distance, pairwise[:, best])
    return np.array(picked)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_greedy_baselines_equal_brute_force(as_sparse):
    X, y, X_pool, _ = make_problem(seed=5, n_pool=300)
    convert = sparse.csr_matrix if as_sparse else np.asarray
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    f = reg.predict(X_pool)
    dx_lab, dx_pool = cdist(X_pool, X), cdist(X_pool, X_pool)
    dy_lab, dy_pool = np.abs(f[:, None] - y), np.abs(f[:, None] - f)
    cases = [
        (greedy_sampling_x, dx_lab.min(1), dx_pool),
        (greedy_sampling_y, dy_lab.min(1), dy_pool),
        (improved_greedy_sampling, (dx_lab * dy_lab).min(1), dx_pool * dy_pool),
    ]
    # A tiny working memory forces several chunks of pairwise distances.
    with config_context(working_memory=0.05):
        for strategy, initial, pairwise in cases:
            indices, scores = strategy(
                reg, convert(X_pool), 6, X_labelled=convert(X), y_labelled=y
            )
            np.testing.assert_array_equal(indices, brute_force_greedy(initial, pairwise, 6))
            np.testing.assert_allclose(scores[0], initial.max(), rtol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_variance_sampling_equals_dense_inverse(fit_intercept):
    X, y, X_pool, w = make_problem(seed=6, n_pool=500)
    reg = CuriousRegressor(alpha=0.7, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    design = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    candidates = np.column_stack([X_pool, np.ones(len(X_pool))]) if fit_intercept else X_pool
    penalty = 0.7 * np.diag(np.r_[np.ones(X.shape[1]), np.zeros(int(fit_intercept))])
    H_inv = np.linalg.inv(design.T @ (w[:, None] * design) + penalty)
    expected = np.einsum("ij,jk,ik->i", candidates, H_inv, candidates)
    with config_context(working_memory=0.01):  # ~80 rows per chunk
        indices, scores = variance_sampling(reg, X_pool, n_instances=500)
    np.testing.assert_allclose(scores, expected[indices], rtol=1e-9)
    assert np.all(np.diff(scores) <= 0)


def test_random_sampling_is_seeded_and_without_replacement():
    X_pool = np.zeros((50, 2))
    first, _ = random_sampling(None, X_pool, 50, random_state=3)
    again, _ = random_sampling(None, X_pool, 50, random_state=3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(np.sort(first), np.arange(50))
    other, _ = random_sampling(None, X_pool, 50, random_state=4)
    assert not np.array_equal(first, other)


# --- most_influential ----------------------------------------------------------


def test_most_influential_is_the_weight_derivative_of_the_complexity():
    X, y, _, _ = make_problem(seed=7, n_samples=30)
    reg = CuriousRegressor(alpha=2.0).fit(X, y)
    indices, scores = most_influential(reg, X, y, n=30)
    # Oracle: d complexity / d w_i by central differences of refits.
    h = 1e-5
    derivative = np.empty(len(X))
    for i in range(len(X)):
        w_plus, w_minus = np.ones(len(X)), np.ones(len(X))
        w_plus[i] += h
        w_minus[i] -= h
        c_plus = CuriousRegressor(alpha=2.0).fit(X, y, sample_weight=w_plus).complexity_
        c_minus = CuriousRegressor(alpha=2.0).fit(X, y, sample_weight=w_minus).complexity_
        derivative[i] = (c_plus - c_minus) / (2 * h)
    np.testing.assert_allclose(scores, derivative[indices], rtol=1e-5, atol=1e-8)
    assert np.all(np.diff(np.abs(scores)) <= 0)


def test_most_influential_finds_corrupted_labels_through_a_pipeline():
    rng = np.random.RandomState(8)
    X = rng.normal(size=(200, 5)) * [1, 10, 100, 1, 1]
    y = X @ [1.0, 0.2, 0.01, -1.0, 0.5] + 0.1 * rng.normal(size=200)
    corrupted = np.array([3, 50, 120])
    y[corrupted] += 6.0 * np.sign(rng.normal(size=3))
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=5.0)).fit(X, y)
    indices, _ = most_influential(pipe, X, y, n=10)
    assert set(corrupted) <= set(indices)


# --- run_active_learning --------------------------------------------------------


@pytest.mark.parametrize(
    "strategy, kwargs",
    [
        (influence_sampling, {"batch": "greedy"}),
        (improved_greedy_sampling, {}),
        (random_sampling, {}),
    ],
)
def test_run_active_learning_records_the_refits(strategy, kwargs):
    rng = np.random.RandomState(9)
    X = rng.normal(size=(260, 3))
    y = X @ [1.0, -1.0, 2.0] + 0.3 * rng.normal(size=260)
    X_pool, y_pool, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
    result = run_active_learning(
        CuriousRegressor(alpha=1.0), strategy, X_pool, y_pool, n_queries=4, batch_size=3,
        X_test=X_test, y_test=y_test, n_initial=6, strategy_kwargs=kwargs, random_state=0,
        progress=True,
    )
    np.testing.assert_array_equal(result.n_labelled, [6, 9, 12, 15, 18])
    chosen = np.concatenate([result.initial_indices, result.queried_indices.ravel()])
    assert len(np.unique(chosen)) == len(chosen) == 18
    # Oracle: sklearn's Ridge on the labels known at each round.
    for round_, n in enumerate(result.n_labelled):
        rows = chosen[:n]
        ridge = Ridge(alpha=1.0).fit(X_pool[rows], y_pool[rows])
        rmse = np.sqrt(np.mean((ridge.predict(X_test) - y_test) ** 2))
        np.testing.assert_allclose(result.test_error[round_], rmse, rtol=1e-8)
    np.testing.assert_allclose(result.estimator.coef_, ridge.coef_, atol=1e-8)


def test_run_active_learning_is_reproducible_and_checks_the_budget():
    rng = np.random.RandomState(10)
    X = rng.normal(size=(60, 2))
    y = X.sum(axis=1)
    args = (CuriousRegressor(), random_sampling, X, y)
    first = run_active_learning(*args, 3, 4, X, y, n_initial=5, random_state=1)
    again = run_active_learning(*args, 3, 4, X, y, n_initial=5, random_state=1)
    np.testing.assert_array_equal(first.queried_indices, again.queried_indices)
    with pytest.raises(ValueError, match="need 65 pool points"):
        run_active_learning(*args, 15, 4, X, y, n_initial=5)


def _loop_problem():
    rng = np.random.RandomState(11)
    X = rng.normal(size=(40, 2))
    return CuriousRegressor(), random_sampling, X, X.sum(axis=1)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_queries": -1}, ValueError, "n_queries must be 0 or more"),
        ({"batch_size": -2}, ValueError, "batch_size must be between 1"),
        ({"batch_size": 0}, ValueError, "batch_size must be between 1"),
        ({"n_queries": True}, TypeError, "n_queries must be an int"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be an int"),
        ({"n_initial": 0}, ValueError, "n_initial must be between 1"),
        ({"n_initial": 41}, ValueError, "n_initial must be between 1"),
        ({"initial_indices": [0, 40]}, ValueError, "between 0 and 39.*got 40"),
        ({"initial_indices": [-1, 3]}, ValueError, "between 0 and 39.*got -1"),
        ({"initial_indices": np.arange(40) < 5}, ValueError, "boolean mask"),
        ({"initial_indices": [0.0, 2.7]}, ValueError, "must hold integers"),
        ({"initial_indices": []}, ValueError, "non-empty"),
        ({"initial_indices": [[0, 1]]}, ValueError, "1D"),
        ({"initial_indices": [3, 3]}, ValueError, "repeats a row"),
    ],
)
def test_run_active_learning_refuses_bad_arguments_clearly(kwargs, error, message):
    estimator, strategy, X, y = _loop_problem()
    arguments = {"n_queries": 2, "batch_size": 3, "n_initial": 5, **kwargs}
    with pytest.raises(error, match=message):
        run_active_learning(
            estimator, strategy, X, y,
            arguments.pop("n_queries"), arguments.pop("batch_size"), X, y, **arguments,
        )


def test_run_active_learning_with_no_queries_fits_the_initial_set_once():
    estimator, strategy, X, y = _loop_problem()
    result = run_active_learning(
        estimator, strategy, X, y, 0, 3, X, y, initial_indices=np.array([4, 9, 2], np.uint8)
    )
    np.testing.assert_array_equal(result.n_labelled, [3])
    np.testing.assert_array_equal(result.initial_indices, [4, 9, 2])
    assert result.queried_indices.shape == (0, 3)


def test_user_influence_sampling_checks_n_instances_as_the_other_strategies():
    from sklearn_curiosity import HierarchicalCuriousRegressor
    from sklearn_curiosity.query import user_influence_sampling

    rng = np.random.RandomState(12)
    X = rng.normal(size=(30, 2))
    groups = np.repeat([0, 1, 2], 10)
    reg = HierarchicalCuriousRegressor().fit(X, X.sum(axis=1) + rng.normal(size=30), groups)
    pool = X[:4]
    # 4 candidates x 3 users = 12 pairs.
    assert len(user_influence_sampling(reg, pool, n_instances=12)[0]) == 12
    with pytest.raises(ValueError, match="between 1 and the number of points 12; got 13"):
        user_influence_sampling(reg, pool, n_instances=13)
    for bad in (True, 2.0, "3"):
        with pytest.raises(TypeError, match="n_instances must be an int"):
            user_influence_sampling(reg, pool, n_instances=bad)
    # The same messages as influence_sampling's.
    with pytest.raises(TypeError, match="n_instances must be an int"):
        influence_sampling(CuriousRegressor().fit(X, X[:, 0]), pool, n_instances=True)


def test_progress_bar_without_tqdm_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X = np.random.RandomState(0).normal(size=(30, 2))
    with pytest.raises(ImportError, match="pip install tqdm"):
        run_active_learning(
            CuriousRegressor(), random_sampling, X, X[:, 0], 1, 1, X, X[:, 0], progress=True
        )


@pytest.mark.parametrize("format", ["csr", "coo"])
def test_sparse_pools_give_the_dense_answers(format):
    X, y, X_pool, _ = make_problem(seed=11)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    pool = sparse.random(80, 4, density=0.5, format=format, random_state=0) * 5
    for strategy, kwargs in [
        (influence_sampling, {}),
        (influence_sampling, {"batch": "greedy"}),
        (variance_sampling, {}),
        (greedy_sampling_x, {"X_labelled": X}),
        (improved_greedy_sampling, {"X_labelled": X, "y_labelled": y}),
    ]:
        from_sparse = strategy(reg, pool, 5, **kwargs)
        from_dense = strategy(reg, pool.toarray(), 5, **kwargs)
        np.testing.assert_array_equal(from_sparse[0], from_dense[0])
        np.testing.assert_allclose(from_sparse[1], from_dense[1], rtol=1e-9)
