"""Several regularities R(s, theta) = sum_k s_k Omega_k(theta), against independent
oracles: sklearn's Ridge (equal strengths, rescaled features), an augmented
least-squares solve, dense Hessians, central finite differences of refits in each
strength and in a sample's weight, Newton refits of a network, Monte Carlo."""

import pickle

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import SplineTransformer

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity
from sklearn_curiosity.models import Model
from sklearn_curiosity.query import influence_sampling, most_influential
from sklearn_curiosity.regularizers import AutogradRegularizer, QuadraticPenalties

from _oracles import newton_tangent


def make_data(n_samples=50, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 3, n_features) + 2.0
    y = X @ rng.normal(size=n_features) + 1.0 + rng.normal(scale=0.5, size=n_samples)
    return X, y, rng.uniform(0.2, 3.0, size=n_samples)


def make_splines(n_samples=80, seed=1):
    rng = np.random.RandomState(seed)
    x = np.sort(rng.uniform(0, 10, size=(n_samples, 1)), axis=0)
    y = np.sin(x[:, 0]) + 0.3 * rng.normal(size=n_samples)
    return SplineTransformer(n_knots=10, degree=3).fit_transform(x), y


def central_difference(func, x, h):
    return (func(x + h) - func(x - h)) / (2 * h)


def design(X, fit_intercept):
    return np.column_stack([X, np.ones(len(X))]) if fit_intercept else X


def dense_hessian(X, w, penalty, fit_intercept):
    """``Z^T W Z + P`` padded for the (unpenalized) intercept, formed densely."""
    Z = design(X, fit_intercept)
    H = Z.T @ (w[:, None] * Z)
    H[: X.shape[1], : X.shape[1]] += penalty
    return H


def least_squares_oracle(X, y, w, penalty, fit_intercept):
    """Minimize as augmented least squares: [sqrt(W) Z; [R^T 0]] theta ~ [sqrt(W) y; 0]."""
    Z = design(X, fit_intercept)
    eigenvalues, vectors = np.linalg.eigh(penalty)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0, None))  # penalty = root root^T
    rows = np.zeros((X.shape[1], Z.shape[1]))
    rows[:, : X.shape[1]] = root.T
    A = np.vstack([np.sqrt(w)[:, None] * Z, rows])
    b = np.r_[np.sqrt(w) * y, np.zeros(X.shape[1])]
    return np.linalg.lstsq(A, b, rcond=None)[0]


# -- the combined fit --------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_feature_groups_equal_ridge_on_rescaled_features(fit_intercept):
    X, y, w = make_data()
    groups = np.array([0, 0, 1, 1, 1, 2])
    strengths = np.array([0.5, 4.0, 40.0])
    reg = CuriousRegressor(
        alpha=strengths,
        regularizer=QuadraticPenalties.feature_groups(groups),
        fit_intercept=fit_intercept,
    ).fit(X, y, sample_weight=w)
    # Penalty s_k c_j^2 on feature j equals Ridge(alpha=1) on x_j / sqrt(s_k).
    scale = 1 / np.sqrt(strengths[groups])
    ridge = Ridge(alpha=1.0, fit_intercept=fit_intercept, solver="cholesky")
    ridge.fit(X * scale, y, sample_weight=w)
    np.testing.assert_allclose(reg.coef_, ridge.coef_ * scale, atol=1e-9)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, atol=1e-9)
    assert reg.tangent_.shape == (X.shape[1] + fit_intercept, 3)
    assert reg.complexity_.shape == (3,)


def test_equal_strengths_are_ridge_and_the_tangents_add_up():
    X, y, w = make_data(seed=6)
    penalties = QuadraticPenalties.feature_groups([0, 1, 1, 2, 2, 2])
    reg = CuriousRegressor(alpha=[3.0, 3.0, 3.0], regularizer=penalties).fit(X, y, sample_weight=w)
    ridge = Ridge(alpha=3.0, solver="cholesky").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(reg.coef_, ridge.coef_, atol=1e-10)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, atol=1e-10)
    # Raising every strength together is raising the one ridge alpha.
    default = CuriousRegressor(alpha=3.0).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(reg.tangent_.sum(axis=1), default.tangent_, atol=1e-12)
    np.testing.assert_allclose(reg.complexity_.sum(), default.complexity_, rtol=1e-12)
    np.testing.assert_allclose(reg.effective_dof_, default.effective_dof_, rtol=1e-12)
    # A single number is the same strength for every penalty.
    same = CuriousRegressor(alpha=3.0, regularizer=penalties).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(same.tangent_, reg.tangent_, atol=1e-14)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_smoothness_fit_dof_and_std_equal_dense_oracles(fit_intercept, as_sparse):
    basis, y = make_splines()
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y))
    penalties = QuadraticPenalties.smoothness(basis.shape[1], order=2)
    strengths = np.array([0.01, 3.0])
    X_fit = sparse.csr_matrix(basis) if as_sparse else basis
    reg = CuriousRegressor(alpha=strengths, regularizer=penalties, fit_intercept=fit_intercept)
    reg.fit(X_fit, y, sample_weight=w)
    penalty = penalties.penalty_matrix(strengths)
    theta = least_squares_oracle(basis, y, w, penalty, fit_intercept)
    np.testing.assert_allclose(reg.params_, theta, atol=1e-8)
    # Effective dof: the trace of the dense hat matrix; the Laplace std from H^-1.
    Z = design(basis, fit_intercept)
    H = dense_hessian(basis, w, penalty, fit_intercept)
    hat = Z @ np.linalg.solve(H, Z.T * w)
    np.testing.assert_allclose(reg.effective_dof_, np.trace(hat), rtol=1e-9)
    _, std = reg.predict(X_fit[:7], return_std=True)
    quadratic = np.einsum("ij,ji->i", Z[:7], np.linalg.solve(H, Z[:7].T))
    np.testing.assert_allclose(std, np.sqrt(reg.noise_variance_ * (1 + quadratic)), rtol=1e-9)


def test_one_regularity_is_the_current_regressor_exactly():
    X, y, w = make_data(seed=5)
    default = CuriousRegressor(alpha=2.0).fit(X, y, sample_weight=w)
    for single in [
        CuriousRegressor(alpha=2.0, regularizer=QuadraticPenalties([np.eye(X.shape[1])])),
        CuriousRegressor(alpha=[2.0], regularizer=QuadraticPenalties([np.eye(X.shape[1])])),
        CuriousRegressor(alpha=[2.0]),
    ]:
        single.fit(X, y, sample_weight=w)
        assert single.tangent_.shape == default.tangent_.shape == (X.shape[1] + 1,)
        assert isinstance(single.complexity_, float)
        np.testing.assert_allclose(single.params_, default.params_, atol=1e-12)
        np.testing.assert_allclose(single.tangent_, default.tangent_, atol=1e-12)
        np.testing.assert_allclose(single.complexity_, default.complexity_, rtol=1e-12)
        np.testing.assert_allclose(single.effective_dof_, default.effective_dof_, rtol=1e-12)
        np.testing.assert_allclose(
            single.influence_score(X), default.influence_score(X), rtol=1e-10
        )
        np.testing.assert_allclose(
            single.influence_score(X, y), default.influence_score(X, y), rtol=1e-10
        )
    # per_regularity gives the one column.
    np.testing.assert_array_equal(
        default.influence_score(X, per_regularity=True), default.influence_score(X)[:, None]
    )


# -- tangents and scores against refits -------------------------------------


@pytest.mark.parametrize(
    "penalties, strengths",
    [
        (QuadraticPenalties.feature_groups([0, 1, 1, 0, 2, 2]), [0.3, 5.0, 50.0]),
        (QuadraticPenalties.smoothness(6, order=1), [0.2, 2.0]),
    ],
    ids=["groups", "smoothness"],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_tangent_column_equals_finite_differences_of_refits(
    penalties, strengths, fit_intercept
):
    X, y, w = make_data(seed=3)
    strengths = np.asarray(strengths)
    reg = CuriousRegressor(alpha=strengths, regularizer=penalties, fit_intercept=fit_intercept)
    reg.fit(X, y, sample_weight=w)
    sensitivity = reg.regularity_sensitivity(X)
    assert sensitivity.shape == (len(X), len(strengths))

    for k in range(len(strengths)):

        def refit(value):
            shifted = strengths.copy()
            shifted[k] = value
            return clone(reg).set_params(alpha=shifted).fit(X, y, sample_weight=w)

        h = 1e-4 * strengths[k]
        fd = central_difference(lambda s: refit(s).params_, strengths[k], h)
        np.testing.assert_allclose(reg.tangent_[:, k], fd, atol=1e-6 * np.abs(fd).max())
        fd_prediction = central_difference(lambda s: refit(s).predict(X), strengths[k], h)
        np.testing.assert_allclose(
            sensitivity[:, k], fd_prediction, atol=1e-6 * np.abs(fd_prediction).max()
        )


def test_influence_per_regularity_equals_finite_differences_in_a_sample_weight():
    X, y, w = make_data(seed=4)
    penalties = QuadraticPenalties.smoothness(6, order=2)
    reg = CuriousRegressor(alpha=[1.0, 10.0], regularizer=penalties).fit(X, y, sample_weight=w)
    scores = reg.influence_score(X, y, per_regularity=True)
    assert scores.shape == (len(X), 2)
    for i in [0, 17, 33]:

        def complexity(weight, i=i):
            shifted = w.copy()
            shifted[i] = weight
            return clone(reg).fit(X, y, sample_weight=shifted).complexity_

        fd = central_difference(complexity, w[i], 1e-4)
        np.testing.assert_allclose(scores[i], fd, rtol=1e-6, atol=1e-9 * np.abs(fd).max())
    # The default total is the influence on the total complexity sum_k Omega_k.
    np.testing.assert_allclose(reg.influence_score(X, y), scores.sum(axis=1), rtol=1e-12)


def test_unlabelled_scores_are_expected_squares_of_the_labelled_ones():
    X, y, w = make_data(seed=7)
    penalties = QuadraticPenalties.feature_groups([0, 0, 0, 1, 1, 1])
    reg = CuriousRegressor(alpha=[1.0, 10.0], regularizer=penalties).fit(X, y, sample_weight=w)
    pool = X[:4] + 1.0
    # Monte Carlo over y ~ N(f(x), noise_variance_), scored as labelled points.
    rng = np.random.RandomState(0)
    n_draws = 20000
    mean = reg.predict(pool)
    draws = mean + np.sqrt(reg.noise_variance_) * rng.normal(size=(n_draws, len(pool)))
    labelled = reg.influence_score(
        np.tile(pool, (n_draws, 1)), draws.ravel(), per_regularity=True
    ).reshape(n_draws, len(pool), 2)
    expected = reg.influence_score(pool, per_regularity=True)
    np.testing.assert_allclose(expected, np.mean(labelled**2, axis=0), rtol=0.05)
    np.testing.assert_allclose(reg.influence_score(pool), expected.sum(axis=1), rtol=1e-12)


# -- networks through the regularizer parameter --------------------------------


class TanhFeatures(Model):
    """A small user-defined network: tanh of a linear map, plus a linear part."""

    def init_params(self, n_features, random_state):
        return 0.3 * random_state.normal(size=2 * n_features + 1)

    def predict(self, params, X):
        d = X.shape[1]
        return anp.tanh(X @ params[:d]) + X @ params[d : 2 * d] + params[-1]

    def penalized_mask(self, n_params):
        mask = np.ones(n_params, dtype=bool)
        mask[-1] = False
        return mask


def _two_blocks(s, theta):
    # s_0 on the tanh weights, s_1 on the linear weights; the intercept is free.
    return s[0] / 2 * anp.sum(theta[:2] ** 2) + s[1] / 2 * anp.sum(theta[2:4] ** 2)


@pytest.mark.parametrize(
    "regularizer",
    [
        AutogradRegularizer(_two_blocks),
        QuadraticPenalties.feature_groups([0, 0, 1, 1]),
    ],
    ids=["autograd", "quadratic"],
)
def test_network_tangent_columns_equal_finite_differences_of_newton_refits(regularizer):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] + 0.1 * rng.normal(size=60)
    strengths = np.array([0.3, 2.0])
    kw = dict(model=TanhFeatures(), alpha=strengths, regularizer=regularizer, random_state=0)
    reg = CuriousRegressor(tol=1e-12, max_iter=5000, tangent_solver="exact", **kw).fit(X, y)
    cg = CuriousRegressor(tol=1e-12, max_iter=5000, tangent_solver="cg", **kw).fit(X, y)
    # Full-batch LiSSA is deterministic; deep enough, its truncation is below 1e-5.
    lissa = CuriousRegressor(
        tol=1e-12, max_iter=5000, tangent_solver="lissa",
        tangent_options=dict(batch_size=60, depth=2000), **kw,
    ).fit(X, y)
    assert reg.tangent_.shape == cg.tangent_.shape == lissa.tangent_.shape == (5, 2)
    assert reg.complexity_ == pytest.approx(
        [0.5 * np.sum(reg.params_[:2] ** 2), 0.5 * np.sum(reg.params_[2:4] ** 2)]
    )
    fd_tangent = newton_tangent(reg._model, strengths, X, y, reg.params_, _two_blocks)
    for k in range(2):
        fd = fd_tangent[:, k]
        scale = np.abs(fd).max()
        np.testing.assert_allclose(reg.tangent_[:, k], fd, atol=1e-5 * scale)
        np.testing.assert_allclose(cg.tangent_[:, k], fd, atol=1e-5 * scale)
        np.testing.assert_allclose(lissa.tangent_[:, k], fd, atol=1e-5 * scale)
        np.testing.assert_allclose(
            reg.regularity_sensitivity(X)[:, k],
            reg._model.jvp(reg.params_, X, fd),
            atol=1e-5 * np.abs(reg._model.jvp(reg.params_, X, fd)).max(),
        )
    assert reg.influence_score(X, per_regularity=True).shape == (60, 2)


# -- queries, persistence, model selection -------------------------------------


def test_query_strategies_rank_by_the_documented_total():
    X, y, w = make_data(seed=8)
    penalties = QuadraticPenalties.smoothness(6, order=1)
    reg = CuriousRegressor(alpha=[0.5, 5.0], regularizer=penalties).fit(X, y, sample_weight=w)
    pool = np.random.RandomState(1).normal(size=(30, 6)) * 2 + 2
    g = reg.regularity_sensitivity(pool)
    total = reg.noise_variance_ * np.sum(g**2, axis=1)
    indices, scores = influence_sampling(reg, pool, n_instances=3, uncertainty="noise")
    np.testing.assert_array_equal(indices, np.argsort(-total)[:3])
    np.testing.assert_allclose(scores, total[indices], rtol=1e-12)
    labelled = (reg.predict(X) - y) * reg.regularity_sensitivity(X).sum(axis=1)
    assert most_influential(reg, X, y, n=1)[0][0] == np.argmax(np.abs(labelled))

    # Greedy batch: the second pick's scores equal those of a refit with the first
    # pick added at its predicted label (theta* unchanged, the tangents updated).
    greedy, greedy_scores = influence_sampling(
        reg, pool, n_instances=2, batch="greedy", uncertainty="noise"
    )
    first = greedy[0]
    refit = clone(reg).fit(
        np.vstack([X, pool[first]]), np.r_[y, reg.predict(pool[[first]])], sample_weight=np.r_[w, 1]
    )
    np.testing.assert_allclose(refit.params_, reg.params_, atol=1e-10)
    rescored = reg.noise_variance_ * np.sum(refit.regularity_sensitivity(pool) ** 2, axis=1)
    rescored[first] = -np.inf
    assert greedy[1] == np.argmax(rescored)
    np.testing.assert_allclose(greedy_scores[1], rescored[greedy[1]], rtol=1e-9)


def test_pickle_clone_and_grid_search_over_a_strength():
    X, y, _ = make_data(n_samples=60, seed=9)
    penalties = QuadraticPenalties.feature_groups([0, 0, 0, 1, 1, 1])
    reg = CuriousRegressor(alpha=[1.0, 10.0], regularizer=penalties).fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.tangent_, reg.tangent_)
    np.testing.assert_array_equal(
        loaded.influence_score(X, per_regularity=True), reg.influence_score(X, per_regularity=True)
    )
    cloned = clone(reg)
    assert not hasattr(cloned, "tangent_")
    np.testing.assert_array_equal(cloned.fit(X, y).tangent_, reg.tangent_)

    grid = [[0.1, 10.0], [1.0, 10.0], [10.0, 10.0]]
    search = GridSearchCV(CuriousRegressor(regularizer=penalties), {"alpha": grid}, cv=3)
    search.fit(X, y)
    # The fold scores and the choice, by hand over the same 3 folds.
    by_hand = [
        np.mean(
            [
                clone(reg).set_params(alpha=a).fit(X[train], y[train]).score(X[test], y[test])
                for train, test in KFold(3).split(X)
            ]
        )
        for a in grid
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-12)
    assert search.best_params_["alpha"] == grid[int(np.argmax(by_hand))]
    assert search.best_estimator_.tangent_.shape == (7, 2)


def test_module_level_scores_and_dask_give_one_column_per_regularity():
    X, y, _ = make_data(seed=10)
    penalties = QuadraticPenalties.feature_groups([0, 0, 1, 1, 2, 2])
    reg = CuriousRegressor(alpha=[1.0, 2.0, 3.0], regularizer=penalties).fit(X, y)
    expected = reg.influence_score(X, y, per_regularity=True)
    np.testing.assert_array_equal(influence_score(reg, X, y, per_regularity=True), expected)
    np.testing.assert_array_equal(regularity_sensitivity(reg, X), reg.regularity_sensitivity(X))
    da = pytest.importorskip("dask.array")
    X_dask, y_dask = da.from_array(X, chunks=(16, 6)), da.from_array(y, chunks=16)
    np.testing.assert_allclose(
        influence_score(reg, X_dask, y_dask, per_regularity=True).compute(), expected
    )
    np.testing.assert_allclose(
        regularity_sensitivity(reg, X_dask).compute(), reg.regularity_sensitivity(X)
    )
    np.testing.assert_allclose(influence_score(reg, X_dask).compute(), reg.influence_score(X))


# -- bad input -----------------------------------------------------------------


def test_bad_strengths_and_penalties_are_rejected_with_a_clear_message():
    X, y, _ = make_data()
    penalties = QuadraticPenalties.feature_groups([0, 0, 0, 1, 1, 1])
    reg = CuriousRegressor(alpha=[1.0, 2.0, 3.0], regularizer=penalties)
    with pytest.raises(ValueError, match=r"one strength per regularity \(2\); got shape \(3,\)"):
        reg.fit(X, y)
    assert not hasattr(reg, "n_features_in_")  # nothing half-fitted
    with pytest.raises(ValueError, match=">= 0"):
        CuriousRegressor(alpha=[1.0, -2.0], regularizer=penalties).fit(X, y)
    with pytest.raises(ValueError, match="finite"):
        CuriousRegressor(alpha=[1.0, np.nan], regularizer=penalties).fit(X, y)
    with pytest.raises(ValueError, match="regularizer=QuadraticPenalties"):
        CuriousRegressor(alpha=[1.0, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="4 coefficients but X has 6 features"):
        CuriousRegressor(regularizer=QuadraticPenalties.smoothness(4)).fit(X, y)
    with pytest.raises(ValueError, match="one tangent"):
        CuriousRegressor(
            model="mlp",
            solver="adam",
            tangent_solver="forward",
            alpha=[1.0, 2.0],
            regularizer=AutogradRegularizer(_two_blocks),
        ).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="symmetric"):
        QuadraticPenalties([[[1.0, 1.0], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="positive semi-definite"):
        QuadraticPenalties([np.diag([1.0, -1.0])])
    with pytest.raises(ValueError, match="order must be between"):
        QuadraticPenalties.smoothness(3, order=3)
    # Zero strengths leave collinear features unpenalized.
    collinear = np.column_stack([X[:, :3], X[:, :3]])
    with pytest.raises(ValueError, match="singular"):
        CuriousRegressor(alpha=[0.0, 0.0], regularizer=penalties).fit(collinear, y)
    # A fitted estimator that fails a refit keeps its previous fit.
    fitted = CuriousRegressor(alpha=[1.0, 2.0], regularizer=penalties).fit(X, y)
    tangent = fitted.tangent_.copy()
    with pytest.raises(ValueError):
        fitted.set_params(alpha=[1.0, 2.0, 3.0]).fit(X, y)
    np.testing.assert_array_equal(fitted.tangent_, tangent)


# -- the multi-user model as two regularities of one user-defined model --------


class PerUserModel(Model):
    """``f(x, u) = phi(x) . (beta + delta_u)``, the user index in the last column of X.

    ``phi(x) = [x, 1]`` (the hierarchical linear model), or with ``n_hidden``
    ``phi(x) = [tanh(x V), 1]`` with the network weights ``V`` shared by all
    users. Layout ``theta = [beta, delta_0, ..., delta_{U-1}, V]``.
    """

    def __init__(self, n_users, n_hidden=None):
        self.n_users = n_users
        self.n_hidden = n_hidden

    def _sizes(self, n_inputs):
        q = (self.n_hidden or n_inputs) + 1
        return q, q * (self.n_users + 1)

    def init_params(self, n_features, random_state):
        n_inputs = n_features - 1
        q, n_linear = self._sizes(n_inputs)
        n_network = n_inputs * self.n_hidden if self.n_hidden else 0
        return np.r_[np.zeros(n_linear), 0.5 * random_state.normal(size=n_network)]

    def predict(self, params, X):
        n_inputs = X.shape[1] - 1
        q, n_linear = self._sizes(n_inputs)
        inputs, users = X[:, :-1], X[:, -1].astype(int)
        if self.n_hidden:
            inputs = anp.tanh(inputs @ anp.reshape(params[n_linear:], (n_inputs, self.n_hidden)))
        phi = anp.concatenate([inputs, anp.ones((X.shape[0], 1))], axis=1)
        blocks = anp.reshape(params[:n_linear], (self.n_users + 1, q))
        return anp.sum(phi * (blocks[0] + blocks[1:][users]), axis=1)


def _hierarchical_penalty(q, n_linear):
    def penalty(s, theta):
        # s_0 on beta (not its intercept), s_1 on every deviation; V is unpenalized.
        return s[0] / 2 * anp.sum(theta[: q - 1] ** 2) + s[1] / 2 * anp.sum(theta[q:n_linear] ** 2)

    return penalty


def _grouped_data(n_users=3, seed=11):
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_users), 15)
    X = rng.normal(size=(len(groups), 2))
    y = np.sin(X[:, 0]) + (1 + 0.3 * groups) * X[:, 1] + 0.1 * rng.normal(size=len(groups))
    return X, y, groups


def test_hierarchical_linear_model_is_two_regularities_of_a_user_model():
    from sklearn_curiosity import HierarchicalCuriousRegressor

    X, y, groups = _grouped_data()
    strengths = np.array([0.5, 2.0])
    reference = HierarchicalCuriousRegressor(alpha=strengths[0], deviation_alpha=strengths[1])
    reference.fit(X, y, groups)
    q, n_linear = 3, 3 * 4
    reg = CuriousRegressor(
        model=PerUserModel(n_users=3),
        alpha=strengths,
        regularizer=AutogradRegularizer(_hierarchical_penalty(q, n_linear)),
        tangent_solver="exact",
        tol=1e-13,
        max_iter=5000,
        random_state=0,
    ).fit(np.column_stack([X, groups]), y)
    # The generic path (L-BFGS, dense autograd Hessian) against the Schur solve.
    np.testing.assert_allclose(reg.params_, reference.params_, atol=1e-7)
    np.testing.assert_allclose(reg.tangent_, reference.tangent_, atol=1e-6)
    np.testing.assert_allclose(reg.complexity_, reference.complexity_, rtol=1e-7)
    np.testing.assert_allclose(reg.effective_dof_, reference.effective_dof_, rtol=1e-7)
    np.testing.assert_allclose(
        reg.influence_score(np.column_stack([X, groups]), per_regularity=True),
        reference.influence_score(X, groups=groups, per_regularity=True),
        rtol=1e-5,
    )


def test_hierarchical_network_tangents_equal_finite_differences_of_newton_refits():
    X, y, groups = _grouped_data(seed=12)
    Xu = np.column_stack([X, groups])
    model = PerUserModel(n_users=3, n_hidden=3)
    q, n_linear = 4, 4 * 4
    penalty = _hierarchical_penalty(q, n_linear)
    strengths = np.array([0.5, 2.0])
    reg = CuriousRegressor(
        model=model,
        alpha=strengths,
        regularizer=AutogradRegularizer(penalty),
        tangent_solver="cg",
        tol=1e-12,
        max_iter=5000,
        random_state=0,
    ).fit(Xu, y)
    assert reg.tangent_.shape == (n_linear + 6, 2)
    fd_tangent = newton_tangent(reg._model, strengths, Xu, y, reg.params_, penalty)
    for k in range(2):
        fd = fd_tangent[:, k]
        np.testing.assert_allclose(reg.tangent_[:, k], fd, atol=1e-5 * np.abs(fd).max())


@pytest.mark.parametrize("which", ["l2", "quadratic", "autograd"])
def test_hessian_product_of_a_block_equals_autograd_hessian(which):
    # The block entry point of every regularizer, against autograd's Hessian
    # of R itself (the diagonal route, the native one and the column loop).
    from autograd import hessian

    from sklearn_curiosity.regularizers import L2Regularizer, hessian_product

    rng = np.random.RandomState(0)
    n_params = 7
    mask = np.arange(n_params) < 5
    params, V = rng.normal(size=n_params), rng.normal(size=(n_params, 4))
    if which == "l2":
        regularizer, alpha = L2Regularizer(mask), 0.7

        def R(p):
            return 0.5 * alpha * anp.sum(p[:5] ** 2)
    elif which == "quadratic":
        regularizer, alpha = QuadraticPenalties.smoothness(5), np.array([0.7, 2.0])
        difference = np.diff(np.eye(5), n=2, axis=0)

        def R(p):
            return 0.5 * (alpha[0] * anp.sum(p[:5] ** 2)
                          + alpha[1] * anp.sum(anp.dot(difference, p[:5]) ** 2))
    else:
        def R_of(a, p):
            return a[0] * anp.sum(anp.cosh(p[:5])) + a[1] * anp.sum(p[:5] ** 4)

        regularizer, alpha = AutogradRegularizer(R_of), np.array([0.7, 2.0])

        def R(p):
            return R_of(alpha, p)
    H = hessian(R)(params)
    np.testing.assert_allclose(hessian_product(regularizer, alpha, params, V), H @ V,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hessian_product(regularizer, alpha, params, V[:, 0]), H @ V[:, 0],
                               rtol=1e-10, atol=1e-12)
