"""The strategies inside modAL's ActiveLearner and scikit-activeml's pool loop."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score
from sklearn_curiosity.query import (
    greedy_sampling_x,
    improved_greedy_sampling,
    influence_sampling,
    variance_sampling,
)

skactiveml = pytest.importorskip("skactiveml")
modAL = pytest.importorskip("modAL")

from modAL.models import ActiveLearner  # noqa: E402
from skactiveml.regressor import SklearnRegressor  # noqa: E402

from sklearn_curiosity.skactiveml import (  # noqa: E402
    CuriousProbabilisticRegressor,
    InfluenceSampling,
)


def make_pool(n=150, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 5.0, 0.2] + 1.0
    y_true = X @ [1.0, 0.3, -2.0] + 0.2 * rng.normal(size=n)
    return X, y_true


# --- modAL ------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [None, "greedy"])
def test_modal_learner_queries_with_influence_sampling(batch):
    X, y = make_pool()
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)).fit(X[:20], y[:20])
    # modAL 0.4.2.1 cannot fit with scikit-learn >= 1.8: wrap an estimator fitted here.
    learner = ActiveLearner(estimator=pipe, query_strategy=influence_sampling)
    indices, instances = learner.query(X[20:], n_instances=4, batch=batch)
    expected, _ = influence_sampling(pipe, X[20:], n_instances=4, batch=batch)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_array_equal(instances, X[20:][expected])


def test_modal_learner_gives_its_training_set_to_the_greedy_baselines():
    X, y = make_pool(seed=1)
    reg = CuriousRegressor(alpha=1.0).fit(X[:20], y[:20])
    learner = ActiveLearner(estimator=reg, query_strategy=improved_greedy_sampling)
    with pytest.raises(ValueError, match="X_labelled"):
        learner.query(X[20:], n_instances=3)
    # What modAL's fit would have stored, set by hand (see the module's note).
    learner.X_training, learner.y_training = X[:20], y[:20]
    indices, _ = learner.query(X[20:], n_instances=3)
    expected, _ = improved_greedy_sampling(
        reg, X[20:], 3, X_labelled=X[:20], y_labelled=y[:20]
    )
    np.testing.assert_array_equal(indices, expected)
    for strategy in (greedy_sampling_x, variance_sampling):
        learner = ActiveLearner(estimator=reg, query_strategy=strategy)
        learner.X_training, learner.y_training = X[:20], y[:20]
        assert len(learner.query(X[20:], n_instances=2)[0]) == 2


# --- scikit-activeml -----------------------------------------------------------------


def test_skactiveml_pool_loop_end_to_end():
    X, y_true = make_pool(n=120, seed=2)
    y = np.full(len(X), np.nan)
    y[:8] = y_true[:8]
    reg = SklearnRegressor(
        make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)), random_state=0
    )
    qs = InfluenceSampling(batch="greedy", random_state=0)
    queried = []
    for _ in range(6):  # the pool loop of scikit-activeml's tutorials
        query_idx = qs.query(X=X, y=y, reg=reg, batch_size=3)
        assert np.all(np.isnan(y[query_idx]))
        y[query_idx] = y_true[query_idx]
        queried.extend(query_idx)
    reg.fit(X, y)
    assert len(set(queried)) == 18
    assert np.sum(~np.isnan(y)) == 26
    rmse = np.sqrt(np.mean((reg.predict(X) - y_true) ** 2))
    assert rmse < 1.0  # the noise is 0.2: the loop learned the model


@pytest.mark.parametrize("batch", [None, "greedy"])
def test_skactiveml_utilities_follow_its_conventions(batch):
    X, y_true = make_pool(n=60, seed=3)
    y = np.full(len(X), np.nan)
    y[:12] = y_true[:12]
    reg = SklearnRegressor(CuriousRegressor(alpha=1.0))
    qs = InfluenceSampling(batch=batch, random_state=0)
    indices, utilities = qs.query(X, y, reg, batch_size=3, return_utilities=True)
    assert utilities.shape == (3, len(X))
    assert np.all(np.isnan(utilities[:, :12]))  # labelled samples
    fitted = CuriousRegressor(alpha=1.0).fit(X[:12], y[:12])
    curiosity = influence_score(fitted, X, uncertainty="epistemic")  # the strategy's default
    np.testing.assert_allclose(utilities[0, 12:], curiosity[12:], rtol=1e-10)
    assert indices[0] == np.argmax(np.where(np.isnan(y), curiosity, -np.inf))
    for j in range(1, 3):  # earlier picks are NaN in later rows
        assert np.all(np.isnan(utilities[j, indices[:j]]))
    expected, _ = influence_sampling(fitted, X[12:], 3, batch=batch)
    np.testing.assert_array_equal(indices, 12 + expected)

    # candidates as indices: indices and utilities refer to X
    cand = np.arange(30, 50)
    indices, utilities = qs.query(
        X, y, reg, candidates=cand, batch_size=2, return_utilities=True
    )
    assert set(indices) <= set(cand) and utilities.shape == (2, len(X))
    assert np.all(np.isnan(utilities[0, :30])) and np.all(np.isnan(utilities[0, 50:]))
    # candidates as samples: indices and utilities refer to candidates
    indices, utilities = qs.query(
        X, y, reg, candidates=X[cand], batch_size=2, return_utilities=True
    )
    np.testing.assert_allclose(utilities[0], curiosity[cand], rtol=1e-10)
    assert utilities.shape == (2, len(cand)) and np.all(indices < len(cand))


@pytest.mark.filterwarnings("ignore:The 'estimator' could not be fitted:UserWarning")
def test_skactiveml_without_enough_labels_draws_at_random():
    X, _ = make_pool(n=30)
    y = np.full(len(X), np.nan)
    qs = InfluenceSampling(random_state=0)
    with pytest.warns(UserWarning, match="at random"):
        indices = qs.query(X, y, SklearnRegressor(CuriousRegressor()), batch_size=2)
    assert len(set(indices)) == 2


def test_skactiveml_rejects_a_model_that_cannot_score():
    from sklearn.linear_model import Ridge

    X, y_true = make_pool(n=30)
    y = np.where(np.arange(30) < 10, y_true, np.nan)
    with pytest.raises(TypeError, match="CuriousRegressor"):
        InfluenceSampling().query(X, y, SklearnRegressor(Ridge()))
    with pytest.raises(ValueError, match="batch must be"):
        InfluenceSampling(batch="all").query(X, y, SklearnRegressor(CuriousRegressor()))


WRAPPERS = {
    "SklearnRegressor": lambda estimator: SklearnRegressor(estimator),
    "CuriousProbabilisticRegressor": lambda estimator: CuriousProbabilisticRegressor(estimator),
}


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("batch", [None, "greedy"])
@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_both_wrappers_pick_what_influence_sampling_picks(wrapper, batch, model):
    # Before: CuriousProbabilisticRegressor has no is_fitted_, so the picks were random.
    X, y_true = make_pool(n=80, seed=4)
    y = np.full(len(X), np.nan)
    y[:30] = y_true[:30]
    if model == "linear":
        estimator = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0))
    else:
        estimator = CuriousRegressor("mlp", alpha=1.0, hidden_layer_sizes=(2,), random_state=0)
    qs = InfluenceSampling(batch=batch, random_state=0, fallback="raise")
    indices = qs.query(X, y, WRAPPERS[wrapper](estimator), batch_size=4)
    fitted = clone(estimator).fit(X[:30], y[:30])
    expected, _ = influence_sampling(fitted, X[30:], n_instances=4, batch=batch)
    np.testing.assert_array_equal(indices, 30 + expected)


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_random_fallback_states_its_cause_and_can_raise(wrapper):
    X, y_true = make_pool(n=30)
    reg = WRAPPERS[wrapper](CuriousRegressor())
    y = np.full(len(X), np.nan)
    # No labels: SklearnRegressor hides CuriousRegressor's error in a warning
    # of its own; CuriousProbabilisticRegressor raises it.
    cause = {
        "SklearnRegressor": "0 sample",
        "CuriousProbabilisticRegressor": "at least one labelled sample",
    }[wrapper]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The 'estimator' could not be fitted")
        with pytest.warns(UserWarning, match=f"cannot score.*{cause}.*at random.*fallback='raise'"):
            indices = InfluenceSampling(random_state=0).query(X, y, reg, batch_size=2)
        assert len(set(indices)) == 2
        with pytest.raises(ValueError, match=f"cannot score.*{cause}") as raised:
            InfluenceSampling(fallback="raise").query(X, y, reg)
    assert raised.value.__cause__ is not None and cause in str(raised.value.__cause__)

    # One label: no residual degrees of freedom.
    y[:1] = y_true[:1]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No residual degrees of freedom")
        with pytest.warns(UserWarning, match="noise variance could not be estimated.*at random"):
            InfluenceSampling(random_state=0).query(X, y, reg)
        with pytest.raises(ValueError, match="noise variance could not be estimated"):
            InfluenceSampling(fallback="raise").query(X, y, reg)
    with pytest.raises(ValueError, match="fallback must be"):
        InfluenceSampling(fallback="error").query(X, y, reg)


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("return_utilities", [False, True])
def test_every_sample_labelled_gives_an_empty_batch_and_says_why(wrapper, return_utilities):
    X, y_true = make_pool(n=30)
    reg = WRAPPERS[wrapper](CuriousRegressor())
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'batch_size=1' is larger")  # scikit-activeml's own
        with pytest.warns(UserWarning, match="Nothing to query: every sample of X is labelled"):
            result = InfluenceSampling().query(
                X, y_true, reg, return_utilities=return_utilities
            )
    indices = result[0] if return_utilities else result
    assert indices.shape == (0,)
    if return_utilities:
        assert result[1].shape == (0, len(X))
    # Labelled candidates given explicitly are scored.
    assert len(InfluenceSampling().query(X, y_true, reg, candidates=X[:5])) == 1
