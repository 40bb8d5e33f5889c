"""CuriousRegressor (linear): the fit, the tangent and the scores against
independent oracles: sklearn's Ridge, finite differences of refits, dense
solves and Monte Carlo."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import Ridge

from sklearn_curiosity import CuriousRegressor


def make_data(n_samples=60, n_features=5, seed=0, offset=3.0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 3, n_features)
    X += rng.normal(size=n_features) * offset
    coef = rng.normal(size=n_features)
    y = X @ coef + offset + rng.normal(scale=0.5, size=n_samples)
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, y, sample_weight


def central_difference(func, x, h):
    return (func(x + h) - func(x - h)) / (2 * h)


def relative_error(actual, expected):
    return np.max(np.abs(actual - expected)) / np.max(np.abs(expected))


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_coefficients_equal_ridge(fit_intercept, weighted, as_sparse):
    X, y, w = make_data()
    sample_weight = w if weighted else None
    X_fit = sparse.csr_matrix(X) if as_sparse else X
    ours = CuriousRegressor(alpha=2.5, fit_intercept=fit_intercept).fit(
        X_fit, y, sample_weight=sample_weight
    )
    # sklearn's dense cholesky solver is the reference for sparse input too.
    ridge = Ridge(alpha=2.5, fit_intercept=fit_intercept, solver="cholesky").fit(
        X, y, sample_weight=sample_weight
    )
    np.testing.assert_allclose(ours.coef_, ridge.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ridge.intercept_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X_fit), ridge.predict(X), atol=1e-8)
    expected_params = np.append(ridge.coef_, ridge.intercept_) if fit_intercept else ridge.coef_
    np.testing.assert_allclose(ours.params_, expected_params, atol=1e-8)
    np.testing.assert_allclose(ours.complexity_, 0.5 * ridge.coef_ @ ridge.coef_, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("as_sparse", [False, True])
@pytest.mark.parametrize("alpha", [0.05, 3.0, 300.0])
def test_tangent_equals_finite_differences_of_refits(fit_intercept, weighted, as_sparse, alpha):
    X, y, w = make_data(seed=1)
    sample_weight = w if weighted else None
    X_fit = sparse.csc_matrix(X) if as_sparse else X

    def params_at(a):
        reg = CuriousRegressor(alpha=a, fit_intercept=fit_intercept)
        return reg.fit(X_fit, y, sample_weight=sample_weight).params_

    reg = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(
        X_fit, y, sample_weight=sample_weight
    )
    assert reg.tangent_.shape == reg.params_.shape
    finite_difference = central_difference(params_at, alpha, 1e-4 * alpha)
    assert relative_error(reg.tangent_, finite_difference) < 1e-6


@pytest.mark.parametrize("weighted", [False, True])
def test_labelled_influence_equals_weight_finite_difference(weighted):
    """I(z) is the derivative of complexity_ in the point's sample weight."""
    X, y, w = make_data(seed=2)
    base_weight = w if weighted else np.ones(len(y))
    reg = CuriousRegressor(alpha=1.5).fit(X, y, sample_weight=base_weight)
    scores = reg.influence_score(X, y)

    eps = 1e-4
    for i in [0, 7, 31, 59]:
        def complexity_at(weight_i):
            weights = base_weight.copy()
            weights[i] = weight_i
            return CuriousRegressor(alpha=1.5).fit(X, y, sample_weight=weights).complexity_

        finite_difference = central_difference(complexity_at, base_weight[i], eps)
        assert abs(scores[i] - finite_difference) / abs(finite_difference) < 1e-5


def test_influence_of_a_new_point_equals_finite_difference_of_adding_it():
    """A point outside the training set: add it with a tiny weight eps."""
    X, y, _ = make_data(seed=3)
    reg = CuriousRegressor(alpha=0.7).fit(X, y)
    x_new = np.array([[4.0, -2.0, 1.0, 0.5, 3.0]])
    y_new = np.array([10.0])
    score = reg.influence_score(x_new, y_new)[0]

    def complexity_with(eps):
        weights = np.append(np.ones(len(y)), eps)
        return CuriousRegressor(alpha=0.7).fit(
            np.vstack([X, x_new]), np.append(y, y_new), sample_weight=weights
        ).complexity_

    # Weights cannot go negative: a central difference around weight eps,
    # whose derivative differs from the one at 0 by O(eps).
    eps = 1e-5
    finite_difference = (complexity_with(2 * eps) - complexity_with(0.0)) / (2 * eps)
    assert abs(score - finite_difference) / abs(finite_difference) < 1e-4


def test_regularity_sensitivity_equals_finite_difference_of_predict():
    X, y, _ = make_data(seed=4)
    X_new = np.random.RandomState(5).normal(size=(30, 5)) * 4
    alpha = 2.0
    reg = CuriousRegressor(alpha=alpha).fit(X, y)

    def predict_at(a):
        return CuriousRegressor(alpha=a).fit(X, y).predict(X_new)

    finite_difference = central_difference(predict_at, alpha, 1e-4)
    assert relative_error(reg.regularity_sensitivity(X_new), finite_difference) < 1e-6


def test_unlabelled_score_equals_monte_carlo_mean_of_squared_influence():
    X, y, _ = make_data(seed=6)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    X_pool = np.random.RandomState(7).normal(size=(4, 5)) * 3
    expected = reg.influence_score(X_pool)

    n_draws = 200_000
    rng = np.random.RandomState(8)
    prediction = reg.predict(X_pool)
    y_draws = prediction + rng.normal(scale=np.sqrt(reg.noise_variance_), size=(n_draws, 4))
    X_repeated = np.repeat(X_pool[np.newaxis], n_draws, axis=0).reshape(-1, 5)
    squared = reg.influence_score(X_repeated, y_draws.ravel()).reshape(n_draws, 4) ** 2
    monte_carlo = squared.mean(axis=0)
    # I^2 / E[I^2] is chi-square(1): standard error sqrt(2 / n_draws) = 0.3%.
    np.testing.assert_allclose(monte_carlo, expected, rtol=5 * np.sqrt(2 / n_draws))
    assert np.all(expected >= 0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_noise_variance_uses_the_dense_hat_matrix_trace(fit_intercept, weighted):
    X, y, w = make_data(seed=9)
    w = w if weighted else np.ones(len(y))
    alpha = 4.0
    reg = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)

    design = np.column_stack([X, np.ones(len(y))]) if fit_intercept else X
    penalty = np.eye(design.shape[1]) * alpha
    if fit_intercept:
        penalty[-1, -1] = 0.0
    hat = design @ np.linalg.solve(design.T @ (w[:, None] * design) + penalty, design.T * w)
    residuals = y - hat @ y
    dof = np.trace(hat)
    np.testing.assert_allclose(reg.effective_dof_, dof, rtol=1e-10)
    np.testing.assert_allclose(
        reg.noise_variance_, np.sum(w * residuals**2) / (w.sum() - dof), rtol=1e-10
    )


def test_noise_variance_is_unbiased_for_least_squares():
    """At alpha=0 it is the classical RSS / (n - p - 1); check by simulation."""
    rng = np.random.RandomState(10)
    X = rng.normal(size=(12, 4))
    estimates = []
    for _ in range(3000):
        y = X @ [1.0, 0.0, -1.0, 2.0] + rng.normal(scale=2.0, size=12)
        estimates.append(CuriousRegressor(alpha=0.0).fit(X, y).noise_variance_)
    # sigma^2 = 4; the estimator's sd is 4 * sqrt(2 / 7), its mean's sd 0.039.
    assert abs(np.mean(estimates) - 4.0) < 0.16


def test_hessian_solve_equals_dense_solve():
    X, y, w = make_data(seed=11)
    alpha = 0.9
    reg = CuriousRegressor(alpha=alpha).fit(X, y, sample_weight=w)
    design = np.column_stack([X, np.ones(len(y))])
    hessian = design.T @ (w[:, None] * design) + np.diag([alpha] * 5 + [0.0])
    rhs = np.random.RandomState(12).normal(size=(6, 3))
    np.testing.assert_allclose(reg._hessian.solve(rhs), np.linalg.solve(hessian, rhs), rtol=1e-9)
    np.testing.assert_allclose(
        reg.tangent_, -np.linalg.solve(hessian, np.append(reg.coef_, 0.0)), rtol=1e-9
    )


def test_dataframe_input_records_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, _ = make_data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    reg = CuriousRegressor().fit(frame, y)
    np.testing.assert_array_equal(reg.feature_names_in_, frame.columns)
    on_arrays = CuriousRegressor().fit(X, y)
    np.testing.assert_allclose(reg.influence_score(frame), on_arrays.influence_score(X), rtol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(frame[frame.columns[::-1]])


def test_model_derivatives_equal_finite_differences_in_theta():
    X, y, _ = make_data(seed=13, n_samples=8)
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    model, theta = reg._model, reg.params_
    direction = np.random.RandomState(14).normal(size=theta.shape)
    finite_difference = central_difference(lambda t: model.predict(theta + t * direction, X), 0.0, 1e-3)
    np.testing.assert_allclose(model.jvp(theta, X, direction), finite_difference, rtol=1e-9)
    jacobian_fd = np.column_stack([
        central_difference(lambda t: model.predict(theta + t * e, X), 0.0, 1e-3)
        for e in np.eye(len(theta))
    ])
    np.testing.assert_allclose(model.jacobian(theta, X), jacobian_fd, rtol=1e-9, atol=1e-12)
