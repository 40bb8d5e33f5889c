"""The dual (n x n) factorization of the linear model against the primal (p x p),
scikit-learn's Ridge and RidgeCV, finite differences of refits, and refits for the
greedy batch; and no p x p array on wide data."""

import pickle
import tracemalloc

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import sparse
from scipy.linalg import LinAlgWarning
from sklearn.linear_model import Ridge, RidgeCV

from sklearn_curiosity import CuriousRegressor, CuriousRegressorCV, _cv, _ridge
from sklearn_curiosity._ridge import DualRidgeHessian, RidgeHessian
from sklearn_curiosity._suggest import fit_and_rank, read_data
from sklearn_curiosity.query import influence_sampling
from sklearn_curiosity.query._influence import _RankOneTangent
from sklearn_curiosity.regularizers import QuadraticPenalties

from _oracles import newton_tangent

SHAPES = {"wide": (15, 40), "tall": (40, 10)}


def make_data(n_samples, n_features, seed=0, as_sparse=False):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 2, n_features) + 1.5
    if as_sparse:
        X[rng.uniform(size=X.shape) < 0.6] = 0.0
    y = X @ rng.normal(size=n_features) + 2.0 + rng.normal(size=n_samples)
    w = rng.uniform(0.2, 3.0, size=n_samples)
    w[2] = 0.0
    pool = rng.normal(size=(25, n_features)) + 1.0
    return X, y, w, pool


def force_solver(monkeypatch, solver):
    """Make every "auto" choice of the fit and the LOO pick ``solver``."""

    def choose(n_samples, n_features, diagonal_penalty=True):
        return solver if diagonal_penalty else "primal"

    monkeypatch.setattr(_ridge, "choose_solver", choose)
    monkeypatch.setattr(_cv, "choose_solver", choose)


def assert_close(actual, desired, rtol=1e-10):
    """Relative to the largest entry, so that entries near zero do not dominate."""
    desired = np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())


def fit_both(monkeypatch, make_estimator, X, y, **fit_params):
    fitted = {}
    for solver in ["primal", "dual"]:
        force_solver(monkeypatch, solver)
        fitted[solver] = make_estimator().fit(X, y, **fit_params)
    monkeypatch.undo()
    assert isinstance(fitted["primal"]._hessian, RidgeHessian)
    assert isinstance(fitted["dual"]._hessian, DualRidgeHessian)
    return fitted["primal"], fitted["dual"]


PENALTIES = {
    "ridge": lambda p: None,
    "one diagonal": lambda p: QuadraticPenalties([np.diag(np.linspace(0.5, 2.0, p))]),
    "feature groups": lambda p: QuadraticPenalties.feature_groups(np.arange(p) % 2),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_dual_equals_primal(monkeypatch, shape, as_sparse, fit_intercept, weighted, penalty):
    X, y, w, pool = make_data(*SHAPES[shape], as_sparse=as_sparse)
    convert = sparse.csr_matrix if as_sparse else np.asarray
    regularizer = PENALTIES[penalty](X.shape[1])
    alpha = 1.3 if penalty != "feature groups" else [0.7, 2.0]
    primal, dual = fit_both(
        monkeypatch,
        lambda: CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept, regularizer=regularizer),
        convert(X), y, sample_weight=w if weighted else None,
    )
    assert_close(dual.params_, primal.params_)
    assert_close(dual.tangent_, primal.tangent_)
    assert_close(dual.effective_dof_, primal.effective_dof_)
    assert_close(dual.noise_variance_, primal.noise_variance_)
    assert_close(dual.complexity_, primal.complexity_)
    for X_eval in [convert(X), convert(pool)]:  # training rows: near the interpolation
        labels = dual.predict(X_eval)
        assert_close(
            dual.predict(X_eval, return_std=True)[1], primal.predict(X_eval, return_std=True)[1]
        )
        assert_close(dual.influence_score(X_eval), primal.influence_score(X_eval))
        assert_close(
            dual.influence_score(X_eval, labels + 1.0, per_regularity=True),
            primal.influence_score(X_eval, labels + 1.0, per_regularity=True),
        )
    rhs = np.random.RandomState(1).normal(size=(len(dual.params_), 3))
    assert_close(dual._hessian.solve(rhs), primal._hessian.solve(rhs))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_loo_equals_primal_loo(monkeypatch, shape, as_sparse, fit_intercept):
    X, y, w, _ = make_data(*SHAPES[shape], seed=3, as_sparse=as_sparse)
    convert = sparse.csr_matrix if as_sparse else np.asarray
    # Alphas away from interpolation: the primal's 1 - h_ii is a difference.
    primal, dual = fit_both(
        monkeypatch,
        lambda: CuriousRegressorCV(
            alphas=[0.3, 3.0, 30.0], fit_intercept=fit_intercept, store_cv_results=True
        ),
        convert(X), y, sample_weight=w,
    )
    assert_close(dual.cv_results_["loo_squared_errors"], primal.cv_results_["loo_squared_errors"])
    assert dual.alpha_ == primal.alpha_
    assert_close(dual.tangent_, primal.tangent_)


@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_wide_fit_is_dual_and_equals_ridge(as_sparse, fit_intercept):
    X, y, w, _ = make_data(12, 300, seed=4, as_sparse=as_sparse)
    w = 3 * w  # enough total weight to leave residual degrees of freedom
    reg = CuriousRegressor(alpha=2.0, fit_intercept=fit_intercept)
    reg.fit(sparse.csr_matrix(X) if as_sparse else X, y, sample_weight=w)
    assert isinstance(reg._hessian, DualRidgeHessian)
    # Ridge's dense cholesky solver (its kernel form here) is the reference.
    ridge = Ridge(alpha=2.0, fit_intercept=fit_intercept, solver="cholesky")
    ridge.fit(X, y, sample_weight=w)
    assert_close(reg.coef_, ridge.coef_, rtol=1e-9)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_wide_loo_equals_ridgecv(as_sparse):
    X, y, w, _ = make_data(20, 200, seed=5, as_sparse=as_sparse)
    alphas = np.logspace(-1, 3, 9)
    ridge = RidgeCV(alphas=alphas, store_cv_results=True).fit(X, y, sample_weight=w)
    ours = CuriousRegressorCV(alphas=alphas, store_cv_results=True)
    ours.fit(sparse.csr_matrix(X) if as_sparse else X, y, sample_weight=w)
    assert isinstance(ours._hessian, DualRidgeHessian)
    assert ours.alpha_ == ridge.alpha_
    assert_close(ours.cv_results_["loo_squared_errors"], ridge.cv_results_, rtol=1e-8)
    assert_close(ours.coef_, ridge.coef_, rtol=1e-8)


@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_wide_tangent_equals_finite_differences_of_ridge_refits(as_sparse, fit_intercept):
    X, y, w, _ = make_data(10, 60, seed=6, as_sparse=as_sparse)
    alpha, h = 0.8, 1e-4
    reg = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept)
    reg.fit(sparse.csr_matrix(X) if as_sparse else X, y, sample_weight=w)
    assert isinstance(reg._hessian, DualRidgeHessian)

    def ridge_params(a):
        ridge = Ridge(alpha=a, fit_intercept=fit_intercept, solver="cholesky")
        ridge.fit(X, y, sample_weight=w)
        return np.append(ridge.coef_, ridge.intercept_) if fit_intercept else ridge.coef_

    finite_difference = (ridge_params(alpha + h) - ridge_params(alpha - h)) / (2 * h)
    assert_close(reg.tangent_, finite_difference, rtol=1e-6)


def test_wide_tangents_of_feature_groups_equal_finite_differences_of_newton_refits():
    X, y, _, _ = make_data(10, 40, seed=12)
    groups = np.arange(40) % 2
    strengths = [0.7, 2.0]
    reg = CuriousRegressor(alpha=strengths, regularizer=QuadraticPenalties.feature_groups(groups))
    reg.fit(X, y)
    assert isinstance(reg._hessian, DualRidgeHessian)
    masks = np.stack([groups == 0, groups == 1]).astype(float)

    def penalty(s, params):  # sum_k s_k / 2 ||coef[group k]||^2, for autograd
        return 0.5 * anp.sum(anp.dot(s, masks) * params[:-1] ** 2)

    finite_difference = newton_tangent(reg._model, strengths, X, y, reg.params_, penalty)
    assert_close(reg.tangent_, finite_difference, rtol=1e-7)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_wide_rank_one_tangent_equals_refit_with_predicted_labels(as_sparse):
    X, y, w, pool = make_data(12, 50, seed=7, as_sparse=as_sparse)
    convert = sparse.csr_matrix if as_sparse else np.asarray
    reg = CuriousRegressor(alpha=3.0).fit(convert(X), y, sample_weight=w)
    assert isinstance(reg._hessian, DualRidgeHessian)
    picks = [5, 17, 17]
    updated = _RankOneTangent(reg).add(convert(pool[picks])).tangent
    refit = CuriousRegressor(alpha=3.0).fit(
        convert(np.vstack([X, pool[picks]])),
        np.concatenate([y, reg.predict(pool[picks])]),
        sample_weight=np.concatenate([w, np.ones(len(picks))]),
    )
    assert_close(refit.params_, reg.params_, rtol=1e-9)
    assert_close(updated, refit.tangent_, rtol=1e-9)


@pytest.mark.parametrize("uncertainty", ["noise", "epistemic", "total"])
def test_wide_greedy_scores_are_those_of_refits_with_the_earlier_picks(uncertainty):
    X, y, _, pool = make_data(10, 40, seed=8)
    reg = CuriousRegressor(alpha=2.0).fit(X, y)
    indices, scores = influence_sampling(
        reg, pool, n_instances=4, batch="greedy", uncertainty=uncertainty
    )
    for j, index in enumerate(indices):
        earlier = indices[:j]
        y_earlier = reg.predict(pool[earlier]) if j else []
        refit = CuriousRegressor(alpha=2.0).fit(
            np.vstack([X, pool[earlier]]), np.concatenate([y, y_earlier])
        )
        assert isinstance(refit._hessian, DualRidgeHessian)
        # The picks join at their predicted labels: the noise variance of the
        # batch is the first fit's; the refit gives g and v.
        v = refit._laplace.inverse_quadratic_form(pool)
        factor = {"noise": 1.0, "epistemic": v, "total": 1.0 + v}[uncertainty]
        expected = reg.noise_variance_ * refit.regularity_sensitivity(pool) ** 2 * factor
        expected[earlier] = -np.inf
        assert index == np.argmax(expected)
        np.testing.assert_allclose(scores[j], expected[index], rtol=1e-8)


def test_dense_penalty_stays_primal_and_tall_data_is_primal():
    X, y, _, _ = make_data(15, 40)
    smooth = CuriousRegressor(alpha=[1.0, 2.0], regularizer=QuadraticPenalties.smoothness(40))
    assert isinstance(smooth.fit(X, y)._hessian, RidgeHessian)
    X, y, _, _ = make_data(40, 10)
    assert isinstance(CuriousRegressor().fit(X, y)._hessian, RidgeHessian)


def test_alpha_zero_on_wide_data_is_a_clear_error_before_any_allocation():
    rng = np.random.RandomState(9)
    X, y = rng.normal(size=(10, 20_000)), rng.normal(size=10)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="singular.*Raise alpha above 0"):
            CuriousRegressor(alpha=0.0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50e6


@pytest.mark.filterwarnings("ignore:No residual degrees of freedom")
def test_tiny_alpha_on_wide_data_warns_like_the_primal():
    X, y, _, _ = make_data(15, 40)
    with pytest.warns(LinAlgWarning, match="ill-conditioned"):
        reg = CuriousRegressor(alpha=1e-14).fit(X, y)
    assert isinstance(reg._hessian, DualRidgeHessian)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_no_p_by_p_array_at_n10_p20000(as_sparse):
    n_features = 20_000
    rng = np.random.RandomState(10)
    X = rng.normal(size=(10, n_features))
    pool = rng.normal(size=(30, n_features))
    if as_sparse:
        X[np.abs(X) < 1.5] = 0.0
        X, pool = sparse.csr_matrix(X), sparse.csr_matrix(pool)
    y = rng.normal(size=10)
    tracemalloc.start()
    try:
        reg = CuriousRegressor(alpha=1.0).fit(X, y)
        reg.influence_score(pool)
        reg.predict(pool, return_std=True)
        influence_sampling(reg, pool, n_instances=3, batch="greedy")
        CuriousRegressorCV(alphas=[0.1, 1.0, 10.0]).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A p x p float64 array is 3.2 GB; the dual needs O(n p) (1.6 MB of X).
    assert peak < 100e6, peak


def test_degree_8_polynomial_on_ten_columns_fits_in_memory(tmp_path):
    # 43,757 polynomial terms: the p x p Hessian would be 14 GiB.
    rng = np.random.RandomState(11)
    X, X_pool = rng.uniform(-1, 1, size=(20, 10)), rng.uniform(-1, 1, size=(15, 10))
    y = X[:, 0] - X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=20)
    header = ",".join(f"x{j}" for j in range(10))
    np.savetxt(tmp_path / "lab.csv", np.column_stack([X, y]), delimiter=",",
               header=header + ",t", comments="")
    np.savetxt(tmp_path / "cand.csv", X_pool, delimiter=",", header=header, comments="")
    data = read_data(tmp_path / "lab.csv", tmp_path / "cand.csv", "t")
    tracemalloc.start()
    try:
        # A strong alpha: leave-one-out interpolates 20 rows with 43,757 terms.
        ranking = fit_and_rank(data, alpha=1e4, degree=8)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert ranking.how == "given"
    assert ranking.pipeline[-1].n_features_in_ == 43_757
    assert isinstance(ranking.pipeline[-1]._hessian, DualRidgeHessian)
    assert ranking.curiosity.shape == (15,) and np.all(np.isfinite(ranking.curiosity))
    assert peak < 500e6, peak


def test_wide_tangent_keeps_its_digits_at_small_alpha():
    # Features over three decades and alpha = 1e-6: the p x p Gram matrix
    # plus alpha has condition number ~1e7 and the primal's tangent keeps
    # about 3 digits here; the dual's n x n system keeps 8.
    rng = np.random.RandomState(13)
    X = rng.normal(size=(30, 200)) * np.logspace(0, -3, 200)
    y = rng.normal(size=30)
    alpha = 1e-6
    reg = CuriousRegressor(alpha=alpha).fit(X, y)
    assert isinstance(reg._hessian, DualRidgeHessian)
    # Oracle: the SVD of the centered design, coef = V S / (S^2 + alpha) U^T yc,
    # differentiated in alpha.
    U, S, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    tangent = -(Vt.T * (S / (S**2 + alpha) ** 2)) @ (U.T @ (y - y.mean()))
    assert_close(reg.tangent_[:-1], tangent, rtol=1e-7)


@pytest.mark.parametrize("shape", SHAPES)
def test_float32_pool_std_against_float64(shape):
    X, y, w, pool = make_data(*SHAPES[shape], seed=14)
    reg = CuriousRegressor(alpha=1.0).fit(X, y, sample_weight=w)
    pool32 = pool.astype(np.float32)
    exact = reg.predict(pool32.astype(np.float64), return_std=True)[1]
    got = reg.predict(pool32, return_std=True)[1]
    if shape == "wide":
        # The dual's form cancels: a float32 pool is cast, never computed in.
        assert_close(got, exact, rtol=1e-12)
    else:
        # The primal's is computed in float32 (test_precision has its bound).
        assert_close(got, exact, rtol=1e-6)
        assert np.any(got != exact)
    # The exact mode: the same values given as float64, bit for bit.
    reg.set_params(precision="float64")
    np.testing.assert_array_equal(reg.predict(pool32, return_std=True)[1], exact)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_a_pickled_dual_fit_scores_as_the_original(as_sparse):
    X, y, w, pool = make_data(12, 50, seed=15, as_sparse=as_sparse)
    convert = sparse.csr_matrix if as_sparse else np.asarray
    reg = CuriousRegressor(alpha=1.0).fit(convert(X), y, sample_weight=w)
    loaded = pickle.loads(pickle.dumps(reg))
    assert isinstance(loaded._hessian, DualRidgeHessian)
    np.testing.assert_array_equal(
        loaded.predict(pool, return_std=True)[1], reg.predict(pool, return_std=True)[1]
    )
    np.testing.assert_array_equal(
        influence_sampling(loaded, pool, 3, batch="greedy")[0],
        influence_sampling(reg, pool, 3, batch="greedy")[0],
    )


def test_changing_the_training_matrix_after_the_fit_changes_nothing():
    X, y, w, pool = make_data(12, 50, seed=16, as_sparse=True)
    X_sparse = sparse.csr_matrix(X)
    reg = CuriousRegressor(alpha=1.0).fit(X_sparse, y, sample_weight=w)
    std = reg.predict(pool, return_std=True)[1]
    X_sparse.data *= 3.0
    np.testing.assert_array_equal(reg.predict(pool, return_std=True)[1], std)
