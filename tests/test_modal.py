"""modAL's max_std_sampling on a CuriousRegressor, through predict(return_std=True)."""

import numpy as np
import pytest

pytest.importorskip("modAL")

from modAL.disagreement import max_std_sampling  # noqa: E402
from modAL.models import ActiveLearner  # noqa: E402

from sklearn_curiosity import CuriousRegressor  # noqa: E402


def make_problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(25, 3))
    y = X @ [1.0, 0.5, -1.0] + 0.2 * rng.normal(size=25)
    X_pool = rng.normal(size=(200, 3)) * rng.uniform(0.5, 4.0, size=(200, 1))
    return X, y, X_pool


def test_max_std_sampling_picks_the_largest_predictive_std():
    X, y, X_pool = make_problem()
    reg = CuriousRegressor(alpha=0.5).fit(X, y)
    query_idx, query_std = max_std_sampling(reg, X_pool, n_instances=5)
    _, std = reg.predict(X_pool, return_std=True)
    np.testing.assert_array_equal(np.sort(query_idx), np.sort(np.argsort(std)[-5:]))
    np.testing.assert_allclose(np.sort(query_std), np.sort(std)[-5:])


def test_active_learner_queries_with_a_prefitted_estimator():
    # modAL's fit/teach call check_X_y(force_all_finite=...), which
    # scikit-learn >= 1.8 removed: fit the estimator ourselves and only query.
    X, y, X_pool = make_problem()
    reg = CuriousRegressor(alpha=0.5).fit(X, y)
    learner = ActiveLearner(estimator=reg, query_strategy=max_std_sampling)
    query_idx, query_instance = learner.query(X_pool)
    _, std = reg.predict(X_pool, return_std=True)
    assert int(np.ravel(query_idx)[0]) == int(np.argmax(std))
    np.testing.assert_array_equal(np.atleast_2d(query_instance), X_pool[[np.argmax(std)]])


def test_max_std_sampling_with_a_network():
    # The MLP's std is the Laplace (Gauss-Newton) one: max_std_sampling reads it.
    X, y, X_pool = make_problem()
    reg = CuriousRegressor("mlp", alpha=0.5, hidden_layer_sizes=(4,), random_state=0).fit(X, y)
    query_idx, query_std = max_std_sampling(reg, X_pool, n_instances=3)
    _, std = reg.predict(X_pool, return_std=True)
    assert np.all(std > np.sqrt(reg.noise_variance_))
    np.testing.assert_array_equal(np.sort(query_idx), np.sort(np.argsort(std)[-3:]))
    np.testing.assert_allclose(np.sort(query_std), np.sort(std)[-3:])
