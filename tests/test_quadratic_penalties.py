"""CuriousRegressor with several quadratic penalties (QuadraticPenalties), against
independent oracles: Ridge on rescaled features, an augmented least-squares
solve, finite differences of refits in each strength and in a sample's weight."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.preprocessing import SplineTransformer

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.regularizers import QuadraticPenalties


def make_data(n_samples=50, n_features=6, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 3, n_features) + 2.0
    y = X @ rng.normal(size=n_features) + 1.0 + rng.normal(scale=0.5, size=n_samples)
    return X, y, rng.uniform(0.2, 3.0, size=n_samples)


def make_splines(n_samples=80, seed=1):
    rng = np.random.RandomState(seed)
    x = np.sort(rng.uniform(0, 10, size=(n_samples, 1)), axis=0)
    y = np.sin(x[:, 0]) + 0.3 * rng.normal(size=n_samples)
    basis = SplineTransformer(n_knots=10, degree=3).fit_transform(x)
    return basis, y


def central_difference(func, x, h):
    return (func(x + h) - func(x - h)) / (2 * h)


def relative_error(actual, expected):
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


def least_squares_oracle(X, y, w, penalty, fit_intercept):
    """Minimize as augmented least squares: [sqrt(W) Z; [L^T 0]] theta ~ [sqrt(W) y; 0]."""
    Z = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    eigenvalues, vectors = np.linalg.eigh(penalty)
    root = vectors * np.sqrt(np.clip(eigenvalues, 0, None))  # penalty = root root^T
    rows = np.zeros((X.shape[1], Z.shape[1]))
    rows[:, : X.shape[1]] = root.T
    A = np.vstack([np.sqrt(w)[:, None] * Z, rows])
    b = np.r_[np.sqrt(w) * y, np.zeros(X.shape[1])]
    return np.linalg.lstsq(A, b, rcond=None)[0], Z


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


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_smoothness_fit_and_dof_equal_the_least_squares_oracle(fit_intercept, as_sparse):
    basis, y = make_splines()
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y))
    penalties = QuadraticPenalties.smoothness(basis.shape[1], order=2)
    strengths = np.array([0.01, 3.0])
    X_fit = sparse.csr_matrix(basis) if as_sparse else basis
    reg = CuriousRegressor(alpha=strengths, regularizer=penalties, fit_intercept=fit_intercept)
    reg.fit(X_fit, y, sample_weight=w)
    theta, Z = least_squares_oracle(basis, y, w, penalties.penalty_matrix(strengths), fit_intercept)
    np.testing.assert_allclose(reg.params_, theta, atol=1e-8)
    # Effective dof: the trace of the dense hat matrix.
    H = Z.T @ (w[:, None] * Z) + penalties.hessian(strengths, Z.shape[1])
    hat = Z @ np.linalg.solve(H, Z.T * w)
    np.testing.assert_allclose(reg.effective_dof_, np.trace(hat), rtol=1e-9)


@pytest.mark.parametrize(
    "penalties, strengths",
    [
        (QuadraticPenalties.feature_groups([0, 1, 1, 0, 2, 2]), [0.3, 5.0, 50.0]),
        (QuadraticPenalties.smoothness(6, order=1), [0.2, 2.0]),
    ],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_tangents_equal_finite_differences_of_refits(penalties, strengths, fit_intercept):
    X, y, w = make_data(seed=3)
    strengths = np.asarray(strengths)
    reg = CuriousRegressor(alpha=strengths, regularizer=penalties, fit_intercept=fit_intercept)
    reg.fit(X, y, sample_weight=w)

    for k in range(penalties.n_penalties):

        def refit(value):
            shifted = strengths.copy()
            shifted[k] = value
            return clone(reg).set_params(alpha=shifted).fit(X, y, sample_weight=w)

        h = 1e-4 * strengths[k]
        fd = central_difference(lambda s: refit(s).params_, strengths[k], h)
        assert relative_error(reg.tangent_[:, k], fd) < 1e-6
        fd_prediction = central_difference(lambda s: refit(s).predict(X), strengths[k], h)
        np.testing.assert_allclose(
            reg.regularity_sensitivity(X)[:, k],
            fd_prediction,
            atol=1e-6 * np.abs(fd_prediction).max(),
        )


def test_labelled_influence_equals_finite_differences_of_weight_refits():
    X, y, w = make_data(seed=4)
    penalties = QuadraticPenalties.feature_groups([0, 0, 0, 1, 1, 1])
    reg = CuriousRegressor(alpha=[1.0, 10.0], regularizer=penalties).fit(X, y, sample_weight=w)
    x_new, y_new = X[:1] + 0.5, np.array([y[0] - 3.0])
    scores = reg.influence_score(x_new, y_new, per_regularity=True)
    eps = 1e-6
    bigger = clone(reg).fit(np.vstack([X, x_new]), np.r_[y, y_new], sample_weight=np.r_[w, eps])
    fd = (bigger.complexity_ - reg.complexity_) / eps
    np.testing.assert_allclose(scores[0], fd, rtol=1e-4)
    np.testing.assert_allclose(reg.influence_score(x_new, y_new), scores.sum(axis=1))
    # Unlabelled: sigma^2 g_k^2 per penalty, their sum by default.
    g = reg.regularity_sensitivity(X[:5])
    np.testing.assert_allclose(
        reg.influence_score(X[:5], per_regularity=True), reg.noise_variance_ * g**2
    )
    np.testing.assert_allclose(
        reg.influence_score(X[:5]), reg.noise_variance_ * np.sum(g**2, axis=1)
    )


def test_one_identity_penalty_is_the_default_ridge():
    X, y, w = make_data(seed=5)
    default = CuriousRegressor(alpha=2.0).fit(X, y, sample_weight=w)
    single = CuriousRegressor(
        alpha=[2.0], regularizer=QuadraticPenalties([np.eye(X.shape[1])])
    ).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(single.params_, default.params_, atol=1e-12)
    np.testing.assert_allclose(single.tangent_[:, 0], default.tangent_, atol=1e-12)
    np.testing.assert_allclose(single.effective_dof_, default.effective_dof_, rtol=1e-12)
    np.testing.assert_allclose(single.influence_score(X), default.influence_score(X), rtol=1e-10)
    np.testing.assert_allclose(
        single.influence_score(X, y), default.influence_score(X, y), rtol=1e-10
    )
    np.testing.assert_allclose(
        default.influence_score(X, per_regularity=True)[:, 0], default.influence_score(X)
    )
    # A single number is the same strength for every penalty.
    groups = QuadraticPenalties.feature_groups(np.arange(X.shape[1]) % 2)
    same = CuriousRegressor(alpha=2.0, regularizer=groups).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(same.params_, default.params_, atol=1e-12)
    np.testing.assert_allclose(same.tangent_.sum(axis=1), default.tangent_, atol=1e-12)


def test_bad_penalties_are_rejected_with_a_clear_message():
    X, y, _ = make_data()
    penalties = QuadraticPenalties.feature_groups([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="one strength per penalty"):
        CuriousRegressor(alpha=[1.0, 2.0, 3.0], regularizer=penalties).fit(X, y)
    with pytest.raises(ValueError, match=">= 0"):
        CuriousRegressor(alpha=[1.0, -2.0], regularizer=penalties).fit(X, y)
    with pytest.raises(ValueError, match="regularizer=QuadraticPenalties"):
        CuriousRegressor(alpha=[1.0, 2.0]).fit(X, y)
    reg = CuriousRegressor(regularizer=QuadraticPenalties.smoothness(4))
    with pytest.raises(ValueError, match="4 coefficients but X has 6 features"):
        reg.fit(X, y)
    assert not hasattr(reg, "n_features_in_")
    with pytest.raises(ValueError, match="symmetric"):
        QuadraticPenalties([[[1.0, 1.0], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="positive semi-definite"):
        QuadraticPenalties([np.diag([1.0, -1.0])])
    # Strength zero on a group leaves collinear features unpenalized.
    collinear = np.column_stack([X[:, :3], X[:, :3]])
    with pytest.raises(ValueError, match="singular"):
        CuriousRegressor(alpha=[0.0, 0.0], regularizer=penalties).fit(collinear, y)
