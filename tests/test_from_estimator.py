"""Curiosity for regressors fitted elsewhere: CuriousRegressor.from_estimator and search objects."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge, Lasso, LinearRegression, Ridge, RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity
from sklearn_curiosity.query import influence_sampling, most_influential, variance_sampling

from _oracles import autograd_traceable, newton_tangent


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    y = X @ [1.0, -2.0, 0.5, 0.0] + 0.3 * rng.normal(size=40) + 1.5
    weights = rng.uniform(0.5, 2.0, size=40)
    weights[3] = 0.0
    pool = rng.normal(size=(25, 4)) * 1.5
    return X, y, weights, pool


def _linear_cases():
    return [
        ("ridge", lambda fi: Ridge(alpha=3.0, fit_intercept=fi), lambda est: 3.0),
        ("ridge_cv", lambda fi: RidgeCV(alphas=[0.1, 1.0, 10.0], fit_intercept=fi), lambda est: est.alpha_),
        ("linear_regression", lambda fi: LinearRegression(fit_intercept=fi), lambda est: 0.0),
        (
            "bayesian_ridge",
            lambda fi: BayesianRidge(fit_intercept=fi),
            lambda est: est.lambda_ / est.alpha_,
        ),
    ]


@pytest.mark.parametrize("name, make, alpha_of", _linear_cases(), ids=[c[0] for c in _linear_cases()])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_estimators_share_our_fit(data, name, make, alpha_of, fit_intercept, weighted):
    X, y, weights, pool = data
    sample_weight = weights if weighted else None
    estimator = make(fit_intercept).fit(X, y, sample_weight=sample_weight)
    converted = CuriousRegressor.from_estimator(estimator, X, y, sample_weight=sample_weight)

    assert converted.alpha == pytest.approx(alpha_of(estimator), rel=1e-15)
    np.testing.assert_allclose(converted.predict(pool), estimator.predict(pool), rtol=0, atol=1e-10)
    # The same objective fitted by the package itself: the same tangent and scores.
    ours = CuriousRegressor(alpha=alpha_of(estimator), fit_intercept=fit_intercept).fit(
        X, y, sample_weight=sample_weight
    )
    np.testing.assert_allclose(converted.tangent_, ours.tangent_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(converted.influence_score(pool), ours.influence_score(pool), rtol=1e-7)
    np.testing.assert_allclose(
        converted.predict(pool, return_std=True)[1], ours.predict(pool, return_std=True)[1], rtol=1e-8
    )
    assert converted.effective_dof_ == pytest.approx(ours.effective_dof_, rel=1e-10)


def test_sparse_ridge(data):
    X, y, _, pool = data
    X_sparse = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    ridge = Ridge(alpha=1.0).fit(X_sparse, y)
    converted = CuriousRegressor.from_estimator(ridge, X_sparse, y)
    np.testing.assert_allclose(converted.predict(pool), ridge.predict(pool), atol=1e-10)


def test_pipeline_last_step_converted_and_original_untouched(data):
    X, y, _, pool = data
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=2.0)).fit(X, y * 10)
    scale_before = pipe[0].scale_.copy()
    converted = CuriousRegressor.from_estimator(pipe, X, y * 10)
    assert isinstance(converted, Pipeline)
    assert [name for name, _ in converted.steps] == [name for name, _ in pipe.steps]
    assert isinstance(converted[-1], CuriousRegressor)
    assert converted[0] is not pipe[0]
    np.testing.assert_allclose(converted.predict(pool), pipe.predict(pool), atol=1e-10)
    ours = make_pipeline(StandardScaler(), CuriousRegressor(alpha=2.0)).fit(X, y * 10)
    np.testing.assert_allclose(influence_score(converted, pool), influence_score(ours, pool), rtol=1e-8)
    np.testing.assert_array_equal(pipe[0].scale_, scale_before)


# Networks trained to a fixed budget may not converge: not what these tests check.
_IGNORE_CONVERGENCE = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@_IGNORE_CONVERGENCE
@pytest.mark.parametrize("activation, alpha", [("tanh", 5.0), ("logistic", 3.0)])
def test_mlp_tangent_is_the_exact_tangent_at_its_parameters(data, activation, alpha):
    X, y, _, pool = data
    y = (y - y.mean()) / y.std()
    # warm_start refits run L-BFGS again from where it stopped: nearer the minimum.
    network = MLPRegressor(
        hidden_layer_sizes=(3,), activation=activation, alpha=alpha, solver="lbfgs",
        max_iter=20000, tol=0.0, random_state=0, warm_start=True,
    )
    for _ in range(10):
        network.fit(X, y)
    converted = CuriousRegressor.from_estimator(network, X, y)
    assert converted.model == "mlp" and converted.alpha == alpha
    assert converted.hidden_layer_sizes == (3,) and converted.activation == activation
    np.testing.assert_allclose(converted.predict(pool), network.predict(pool), rtol=0, atol=1e-10)
    assert converted.n_iter_ == network.n_iter_

    model, params = converted._model, converted.params_
    mask = model.penalized_mask(params.size)

    def penalty(strength, p):
        return 0.5 * anp.sum(strength * anp.where(mask, p, 0.0) ** 2)

    traceable = autograd_traceable(model)

    def objective(p):
        return 0.5 * anp.sum((traceable.predict(p, X) - y) ** 2) + penalty(alpha, p)

    # At the network's own parameters: -H^-1 b with autograd's dense Hessian.
    at_params = -np.linalg.solve(hessian(objective)(params), np.where(mask, params, 0.0))
    np.testing.assert_allclose(converted.tangent_, at_params, rtol=1e-8, atol=1e-12)
    # And the derivative of the minimiser: central differences of Newton refits
    # started from the network's parameters. MLPRegressor's L-BFGS stops at a
    # gradient of about 1e-4, which bounds the agreement.
    refits = newton_tangent(model, [alpha], X, y, params, penalty)[:, 0]
    np.testing.assert_allclose(converted.tangent_, refits, rtol=0, atol=5e-3 * np.abs(refits).max())
    mean, std = converted.predict(pool, return_std=True)
    assert np.isfinite(std).all() and (std > np.sqrt(converted.noise_variance_)).all()


@_IGNORE_CONVERGENCE
def test_mlp_in_pipeline_with_relu(data):
    X, y, _, pool = data
    pipe = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(6, 4), activation="relu", alpha=1.0, max_iter=300, random_state=1),
    )
    pipe.fit(X, y)
    converted = CuriousRegressor.from_estimator(pipe, X, y)
    assert converted[-1].hidden_layer_sizes == (6, 4)
    np.testing.assert_allclose(converted.predict(pool), pipe.predict(pool), rtol=0, atol=1e-10)
    assert np.isfinite(influence_score(converted, pool)).all()


@pytest.mark.parametrize("search_class", [GridSearchCV, RandomizedSearchCV])
def test_search_objects_score_through_their_best_estimator(data, search_class):
    X, y, _, pool = data
    pipe = make_pipeline(StandardScaler(), CuriousRegressor())
    grid = {"curiousregressor__alpha": [0.1, 1.0, 10.0]}
    kwargs = {"n_iter": 3, "random_state": 0} if search_class is RandomizedSearchCV else {}
    search = search_class(pipe, grid, cv=KFold(3), **kwargs).fit(X, y)
    best = search.best_estimator_
    np.testing.assert_array_equal(influence_score(search, pool), influence_score(best, pool))
    np.testing.assert_array_equal(influence_score(search, X, y), influence_score(best, X, y))
    np.testing.assert_array_equal(regularity_sensitivity(search, pool), regularity_sensitivity(best, pool))
    for strategy in (influence_sampling, variance_sampling):
        picks, scores = strategy(search, pool, n_instances=3)
        expected_picks, expected_scores = strategy(best, pool, n_instances=3)
        np.testing.assert_array_equal(picks, expected_picks)
        np.testing.assert_array_equal(scores, expected_scores)
    np.testing.assert_array_equal(most_influential(search, X, y, 3)[0], most_influential(best, X, y, 3)[0])


def test_search_over_ridge_converts(data):
    X, y, _, pool = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()), {"ridge__alpha": [0.1, 1.0, 10.0]}, cv=KFold(3)
    ).fit(X, y)
    with pytest.raises(TypeError, match="from_estimator"):
        influence_score(search, pool)
    converted = CuriousRegressor.from_estimator(search, X, y)
    assert converted[-1].alpha == search.best_params_["ridge__alpha"]
    np.testing.assert_allclose(converted.predict(pool), search.predict(pool), atol=1e-10)


def test_search_without_refit_or_unfitted_is_refused(data):
    X, y, _, pool = data
    search = GridSearchCV(CuriousRegressor(), {"alpha": [0.1, 1.0]}, cv=KFold(3), refit=False)
    with pytest.raises(NotFittedError):
        influence_score(search, pool)
    search.fit(X, y)
    with pytest.raises(ValueError, match="refit=False"):
        influence_score(search, pool)
    with pytest.raises(ValueError, match="refit=False"):
        CuriousRegressor.from_estimator(search, X, y)


def test_curious_regressor_is_copied(data):
    X, y, _, pool = data
    reg = CuriousRegressor(alpha=2.0).fit(X, y)
    copy = CuriousRegressor.from_estimator(reg, X, y)
    assert copy is not reg
    np.testing.assert_array_equal(copy.influence_score(pool), reg.influence_score(pool))


@_IGNORE_CONVERGENCE
def test_bad_estimators_get_clear_errors(data):
    X, y, _, _ = data
    with pytest.raises(TypeError, match="Ridge, RidgeCV, LinearRegression, BayesianRidge, MLPRegressor"):
        CuriousRegressor.from_estimator(Lasso().fit(X, y), X, y)
    with pytest.raises(NotFittedError):
        CuriousRegressor.from_estimator(Ridge(), X, y)
    with pytest.raises(ValueError, match="positive=True"):
        CuriousRegressor.from_estimator(Ridge(positive=True).fit(X, y), X, y)
    with pytest.raises(ValueError, match="several targets"):
        CuriousRegressor.from_estimator(Ridge().fit(X, np.column_stack([y, y])), X, y)
    with pytest.raises(ValueError, match="one alpha per target"):
        CuriousRegressor.from_estimator(Ridge(alpha=np.array([1.0])).fit(X, y[:, None]), X, y)
    with pytest.raises(ValueError, match="fitted on 4"):
        CuriousRegressor.from_estimator(Ridge().fit(X, y), X[:, :3], y)
    if "loss" not in MLPRegressor().get_params():
        return  # scikit-learn < 1.7: every MLPRegressor minimises the squared error
    poisson = MLPRegressor(loss="poisson", hidden_layer_sizes=(2,), max_iter=5, random_state=0)
    poisson.fit(X, np.abs(y))
    with pytest.raises(ValueError, match="squared_error"):
        CuriousRegressor.from_estimator(poisson, X, np.abs(y))
