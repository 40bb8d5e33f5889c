"""CuriousRegressorCV against independent oracles: sklearn's RidgeCV (LOO mode),
brute-force leave-one-out refits, finite differences of the validation loss."""

import copy
from numbers import Integral

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_curiosity import (
    CuriousRegressor,
    CuriousRegressorCV,
    influence_score,
    regularity_sensitivity,
)
from sklearn_curiosity.regularizers import QuadraticPenalties

# More alphas than the LOO scores at once, so the blocks are joined.
ALPHAS = np.logspace(-3, 3, 25)


def make_data(n_samples, n_features, seed=0, offset=3.0, noise=1.0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 3, n_features)
    X += rng.normal(size=n_features) * offset
    y = X @ rng.normal(size=n_features) + offset + rng.normal(scale=noise, size=n_samples)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, y, sample_weight


def diabetes():
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.RandomState(1)
    return X, y, rng.uniform(0.2, 3.0, size=len(y))


DATASETS = {
    "tall": lambda: make_data(80, 6),
    "wide": lambda: make_data(25, 40, seed=1),
    "square": lambda: make_data(30, 30, seed=2),
    "diabetes": diabetes,
}


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("weighted", ["none", "positive", "some zero"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_equals_ridgecv(dataset, weighted, fit_intercept):
    X, y, w = DATASETS[dataset]()
    sample_weight = {"none": None, "positive": w, "some zero": np.where(w < 0.8, 0.0, w)}[weighted]
    ridge = RidgeCV(alphas=ALPHAS, fit_intercept=fit_intercept, store_cv_results=True)
    ridge.fit(X, y, sample_weight=sample_weight)
    ours = CuriousRegressorCV(alphas=ALPHAS, fit_intercept=fit_intercept, store_cv_results=True)
    ours.fit(X, y, sample_weight=sample_weight)
    assert ours.alpha_ == ridge.alpha_
    # Near interpolation (wide data, tiny alpha) 1 - h_ii is small and both
    # computations lose a few digits to the conditioning.
    np.testing.assert_allclose(ours.best_score_, ridge.best_score_, rtol=1e-9)
    np.testing.assert_allclose(
        ours.cv_results_["loo_squared_errors"], ridge.cv_results_, rtol=1e-7, atol=1e-12
    )
    np.testing.assert_allclose(ours.cv_results_["param_alpha"], ALPHAS)
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=1e-7, atol=1e-10)


def test_loo_sparse_equals_dense():
    X, y, w = make_data(60, 8)
    X[np.abs(X) < 2] = 0.0
    dense = CuriousRegressorCV(alphas=ALPHAS, store_cv_results=True)
    dense.fit(X, y, sample_weight=w)
    sparse_ = CuriousRegressorCV(alphas=ALPHAS, store_cv_results=True)
    sparse_.fit(sparse.csr_matrix(X), y, sample_weight=w)
    assert sparse_.alpha_ == dense.alpha_
    np.testing.assert_allclose(
        sparse_.cv_results_["loo_squared_errors"], dense.cv_results_["loo_squared_errors"],
        rtol=1e-8,
    )


@pytest.mark.parametrize("shape", [(30, 4), (12, 20)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_errors_equal_brute_force_refits(shape, fit_intercept):
    X, y, w = make_data(*shape, seed=3)
    alphas = [0.01, 1.0, 30.0]
    cv = CuriousRegressorCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True)
    cv.fit(X, y, sample_weight=w)
    # Oracle: refit without each sample in turn; score w_i (y_i - f_{-i}(x_i))^2.
    expected = np.empty((len(y), len(alphas)))
    for j, alpha in enumerate(alphas):
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            reg = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept)
            reg.fit(X[keep], y[keep], sample_weight=w[keep])
            expected[i, j] = w[i] * (y[i] - reg.predict(X[i : i + 1])[0]) ** 2
    np.testing.assert_allclose(cv.cv_results_["loo_squared_errors"], expected, rtol=1e-7)
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"], -expected.mean(axis=0))
    # The K-fold path with a LeaveOneOut splitter is the same brute force.
    kfold = CuriousRegressorCV(alphas=alphas, fit_intercept=fit_intercept, cv=LeaveOneOut())
    kfold.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(kfold.cv_results_["mean_test_score"], -expected.mean(axis=0))
    assert kfold.alpha_ == cv.alpha_


def test_kfold_scores_equal_manual_refits():
    X, y, w = make_data(40, 5, seed=4)
    folds = KFold(4, shuffle=True, random_state=0)
    alphas = [0.1, 10.0]
    cv = CuriousRegressorCV(alphas=alphas, cv=folds).fit(X, y, sample_weight=w)
    sse = np.zeros(len(alphas))
    for train, test in folds.split(X):
        for j, alpha in enumerate(alphas):
            reg = CuriousRegressor(alpha=alpha).fit(X[train], y[train], sample_weight=w[train])
            sse[j] += w[test] @ (reg.predict(X[test]) - y[test]) ** 2
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"], -sse / len(y))
    assert cv.cv_results_["split_test_scores"].shape == (4, 2)
    assert cv.n_fits_ == 8
    assert cv.alpha_ == alphas[int(np.argmin(sse))]
    # Deterministic: an integer cv gives the same result twice.
    a = CuriousRegressorCV(alphas=alphas, cv=3).fit(X, y)
    b = CuriousRegressorCV(alphas=alphas, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"]
    )


def test_delegates_to_the_refitted_regressor():
    X, y, w = make_data(50, 4, seed=5)
    cv = CuriousRegressorCV(alphas=ALPHAS).fit(X, y, sample_weight=w)
    ref = CuriousRegressor(alpha=cv.alpha_).fit(X, y, sample_weight=w)
    assert isinstance(cv.best_estimator_, CuriousRegressor)
    for name in ["params_", "tangent_", "coef_", "intercept_", "noise_variance_", "complexity_"]:
        np.testing.assert_allclose(getattr(cv, name), getattr(ref, name), err_msg=name)
    X_new = X[:7] + 0.3
    np.testing.assert_allclose(cv.predict(X_new), ref.predict(X_new))
    np.testing.assert_allclose(
        cv.predict(X_new, return_std=True), ref.predict(X_new, return_std=True)
    )
    np.testing.assert_allclose(cv.regularity_sensitivity(X_new), ref.regularity_sensitivity(X_new))
    np.testing.assert_allclose(cv.influence_score(X_new), ref.influence_score(X_new))
    np.testing.assert_allclose(cv.influence_score(X_new, y[:7]), ref.influence_score(X_new, y[:7]))
    np.testing.assert_allclose(influence_score(cv, X_new), ref.influence_score(X_new))
    np.testing.assert_allclose(regularity_sensitivity(cv, X_new), ref.regularity_sensitivity(X_new))


def test_rejects_bad_alphas_and_stays_unfitted():
    X, y, _ = make_data(20, 3)
    cv = CuriousRegressorCV(alphas=[1.0, -1.0])
    with pytest.raises(ValueError, match="positive"):
        cv.fit(X, y)
    assert not hasattr(cv, "alpha_") and not hasattr(cv, "n_features_in_")


@parametrize_with_checks(
    [
        CuriousRegressorCV(),
        CuriousRegressorCV(alphas=[0.5, 5.0], cv=3, fit_intercept=False),
        CuriousRegressorCV(alphas=[0.01, 100.0], alpha_search="hypergradient",
                           search_max_iter=4),
    ],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_and_grid_search_over_other_hyperparameters():
    X, y = load_diabetes(return_X_y=True)
    X = X[:, :3]
    pipe = make_pipeline(
        StandardScaler(), PolynomialFeatures(), CuriousRegressorCV(alphas=np.logspace(-2, 3, 11))
    )
    search = GridSearchCV(pipe, {"polynomialfeatures__degree": [1, 2, 3]}, cv=3).fit(X, y)
    best = search.best_estimator_
    final = best[-1]
    assert final.alpha_ in np.logspace(-2, 3, 11)
    X_pool = X[:9]
    np.testing.assert_allclose(
        influence_score(best, X_pool), final.influence_score(best[:-1].transform(X_pool))
    )
    # The pipeline's selection equals a selection on the transformed data.
    direct = CuriousRegressorCV(alphas=np.logspace(-2, 3, 11)).fit(best[:-1].transform(X), y)
    assert direct.alpha_ == final.alpha_


def validation_loss(X, y, w, folds, alpha):
    sse = 0.0
    for train, test in folds:
        reg = CuriousRegressor(alpha=alpha).fit(X[train], y[train], sample_weight=w[train])
        sse += w[test] @ (reg.predict(X[test]) - y[test]) ** 2
    return sse / len(y)


@pytest.mark.parametrize("cv", [None, 4])
@pytest.mark.parametrize("alpha", [0.05, 3.0])
@pytest.mark.parametrize("shape", [(30, 6), (12, 20)])
def test_hypergradient_equals_finite_difference(cv, alpha, shape):
    X, y, w = make_data(*shape, seed=6, noise=3.0)
    est = CuriousRegressorCV(
        alphas=[alpha], alpha=alpha, cv=cv, alpha_search="hypergradient", search_max_iter=1
    ).fit(X, y, sample_weight=w)
    # Oracle: the validation loss from refits (LOO refits for cv=None).
    folds = list((LeaveOneOut() if cv is None else KFold(cv)).split(X))
    np.testing.assert_allclose(
        -est.cv_results_["mean_test_score"][0], validation_loss(X, y, w, folds, alpha), rtol=1e-8
    )
    h = 1e-4 * alpha
    finite_difference = (
        validation_loss(X, y, w, folds, alpha + h) - validation_loss(X, y, w, folds, alpha - h)
    ) / (2 * h)
    np.testing.assert_allclose(est.cv_results_["hypergradient"][0], finite_difference, rtol=1e-5)


@pytest.mark.parametrize("cv", [None, 5])
def test_hypergradient_search_reaches_grid_optimum_in_fewer_fits(cv):
    X, y, w = make_data(60, 20, seed=8, noise=4.0)
    grid = np.logspace(-3, 4, 36)
    spacing = np.log(grid[1] / grid[0])
    by_grid = CuriousRegressorCV(alphas=grid, cv=cv).fit(X, y, sample_weight=w)
    by_gradient = CuriousRegressorCV(
        alphas=grid, cv=cv, alpha_search="hypergradient", alpha=1e3
    ).fit(X, y, sample_weight=w)
    assert 1e-3 < by_grid.alpha_ < 1e4  # an interior optimum
    assert abs(np.log(by_gradient.alpha_ / by_grid.alpha_)) <= spacing
    assert by_gradient.best_score_ >= by_grid.best_score_ - 1e-12
    assert by_gradient.n_fits_ < by_grid.n_fits_
    assert len(by_gradient.alpha_path_) == len(by_gradient.cv_results_["param_alpha"])
    assert by_gradient.alpha_path_[0] == pytest.approx(1e3)


# --- forwarding of CuriousRegressor's parameters -------------------------------------


def test_every_regressor_parameter_but_alpha_is_forwarded():
    regressor_params = set(CuriousRegressor().get_params()) - {"alpha"}
    cv_params = set(CuriousRegressorCV().get_params())
    assert regressor_params <= cv_params
    # Same defaults, and the CV estimator's own constraints are CuriousRegressor's.
    for name in regressor_params:
        assert CuriousRegressorCV().get_params()[name] == CuriousRegressor().get_params()[name]
        assert (
            CuriousRegressorCV._parameter_constraints[name]
            == CuriousRegressor._parameter_constraints[name]
        )
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        CuriousRegressorCV(not_a_parameter=1)


def test_a_parameter_added_to_curious_regressor_flows_through(monkeypatch):
    # A stand-in for a parameter another change adds to CuriousRegressor: a
    # fresh copy of the CV module, executed after the change, forwards it
    # with no edit of its own (the package's own module is left as it is).
    import importlib.util
    import inspect

    from sklearn_curiosity import _cv, _regressor

    original_init = _regressor.CuriousRegressor.__init__

    def init(self, *args, new_knob=7, **kwargs):
        original_init(self, *args, **kwargs)
        self.new_knob = new_knob

    parameters = list(inspect.signature(original_init).parameters.values())
    init.__signature__ = inspect.Signature(
        parameters + [inspect.Parameter("new_knob", inspect.Parameter.KEYWORD_ONLY, default=7)]
    )
    monkeypatch.setattr(_regressor.CuriousRegressor, "__init__", init)
    monkeypatch.setitem(
        _regressor.CuriousRegressor._parameter_constraints, "new_knob", [Integral]
    )
    spec = importlib.util.spec_from_file_location("sklearn_curiosity._cv_copy", _cv.__file__)
    copied = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copied)

    est = copied.CuriousRegressorCV(alphas=[1.0], cv=2, new_knob=3)
    assert est.get_params()["new_knob"] == 3
    assert copied.CuriousRegressorCV._parameter_constraints["new_knob"] == [Integral]
    X, y, _ = make_data(20, 3)
    est.fit(X, y)
    assert est.best_estimator_.new_knob == 3
    with pytest.raises(ValueError, match="new_knob"):
        copied.CuriousRegressorCV(new_knob="three").fit(X, y)


@pytest.fixture
def one_blas_thread():
    # L-BFGS-B on a ten-parameter network spends its time in BLAS thread
    # start-up on a loaded machine: one thread is ~40x faster here.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


MLP_PARAMS = dict(
    model="mlp",
    hidden_layer_sizes=(3,),
    solver="lbfgs",
    max_iter=3000,
    random_state=0,
    tangent_solver="exact",
)


def mlp_data(n_samples=45, noise=0.6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(n_samples, 1))
    y = 2 * np.sin(2 * X[:, 0]) + noise * rng.normal(size=n_samples)
    return X, y, rng.uniform(0.5, 2.0, n_samples)


def test_mlp_parameters_reach_every_fit(one_blas_thread):
    X, y, w = mlp_data(30)
    est = CuriousRegressorCV(alphas=[0.1, 1.0], cv=2, tol=1e-6, **MLP_PARAMS).fit(X, y, w)
    best = est.best_estimator_
    assert best.get_params() == {**CuriousRegressor(alpha=est.alpha_, tol=1e-6, **MLP_PARAMS).get_params()}
    # The refit is CuriousRegressor's own fit at alpha_, with its attributes.
    direct = CuriousRegressor(alpha=est.alpha_, tol=1e-6, **MLP_PARAMS).fit(X, y, w)
    np.testing.assert_allclose(est.params_, direct.params_)
    np.testing.assert_allclose(est.tangent_, direct.tangent_)
    assert est.tangent_solver_ == "exact" and not hasattr(est, "coef_")
    np.testing.assert_allclose(est.influence_score(X[:5]), direct.influence_score(X[:5]))
    np.testing.assert_allclose(
        est.predict(X[:5], return_std=True), direct.predict(X[:5], return_std=True)
    )


def test_cv_none_with_a_network_falls_back_to_five_folds(one_blas_thread):
    X, y, w = mlp_data(30)
    est = CuriousRegressorCV(alphas=[0.3], tol=1e-5, **MLP_PARAMS).fit(X, y, w)
    assert est.cv_results_["split_test_scores"].shape == (5, 1)


@pytest.mark.parametrize("alpha", [0.3])
def test_mlp_hypergradient_equals_finite_difference(alpha, one_blas_thread):
    # Oracle: the K-fold validation loss from refits at alpha +- h, each
    # warm-started from the fold's fit at alpha (the same local minimum),
    # all converged to a scaled gradient of 1e-10 by L-BFGS.
    X, y, w = mlp_data()
    params = dict(MLP_PARAMS, tol=1e-10)
    est = CuriousRegressorCV(
        alphas=[alpha], alpha=alpha, cv=3, alpha_search="hypergradient", search_max_iter=1,
        **params,
    ).fit(X, y, sample_weight=w)
    h = 1e-3 * alpha
    difference = 0.0
    for train, test in KFold(3).split(X):
        at_alpha = CuriousRegressor(alpha=alpha, **params).fit(X[train], y[train], w[train])
        for sign in (1, -1):
            refit = copy.deepcopy(at_alpha).set_params(alpha=alpha + sign * h, warm_start=True)
            refit.fit(X[train], y[train], w[train])
            difference += sign * w[test] @ (refit.predict(X[test]) - y[test]) ** 2
    finite_difference = difference / (2 * h) / len(y)
    # The central difference's truncation error is O((h/alpha)^2) ~ 1e-6
    # relative. The refits' optimization error enters divided by 2h: the
    # difference was measured at 5e-5 relative with this h and at 2e-3 with
    # h ten times smaller (growth like 1/h: optimization noise, not a wrong
    # derivative). rtol=1e-3 leaves 20x margin at this h, while a tangent
    # that is off by a sign, a factor or a damped Hessian fails it.
    np.testing.assert_allclose(est.cv_results_["hypergradient"][0], finite_difference, rtol=1e-3)


# The grid's largest alphas shrink hidden units to zero, whose free biases
# make the Hessian singular: the damping warning is expected there.
@pytest.mark.filterwarnings("ignore:The Hessian of the training objective:UserWarning")
def test_mlp_hypergradient_search_reaches_grid_optimum_in_fewer_fits(one_blas_thread):
    # Few noisy points: the network overfits at small alpha and flattens at
    # large alpha, so the validation loss has an interior minimum.
    X, y, w = mlp_data(20, noise=1.5, seed=4)
    grid = np.logspace(-2, 1, 13)
    spacing = np.log(grid[1] / grid[0])
    # warm_start: each fold follows one local minimum along alpha.
    params = dict(MLP_PARAMS, tol=1e-8, warm_start=True)
    by_grid = CuriousRegressorCV(alphas=grid, cv=3, **params).fit(X, y, sample_weight=w)
    by_gradient = CuriousRegressorCV(
        alphas=grid, cv=3, alpha_search="hypergradient", alpha=grid[-1], search_tol=0.1,
        **params,
    ).fit(X, y, sample_weight=w)
    assert grid[0] < by_grid.alpha_ < grid[-1]  # an interior optimum
    assert abs(np.log(by_gradient.alpha_ / by_grid.alpha_)) <= spacing
    assert by_gradient.n_fits_ < by_grid.n_fits_


def test_cv_none_with_another_penalty_is_kfold_not_ridge_loo():
    # Ridge's closed-form LOO does not score a model under another penalty:
    # cv=None falls back to 5-fold refits, as for a network.
    X, y, w = make_data(30, 4, seed=12)
    penalty = QuadraticPenalties([np.diag([1.0, 1.0, 1.0, 100.0])])
    alphas = [0.1, 1.0, 10.0]
    default = CuriousRegressorCV(alphas=alphas, regularizer=penalty).fit(X, y, sample_weight=w)
    kfold = CuriousRegressorCV(alphas=alphas, regularizer=penalty, cv=KFold(5))
    kfold.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(
        default.cv_results_["mean_test_score"], kfold.cv_results_["mean_test_score"]
    )
