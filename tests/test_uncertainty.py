"""predict(X, return_std=True) against independent oracles: sklearn's
BayesianRidge, a dense solve with the explicit Hessian, and Monte Carlo over
the prior and the labels."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.linear_model import BayesianRidge

from sklearn_curiosity import CuriousRegressor


def make_data(n_samples=40, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 2, n_features) + 1.5
    y = X @ rng.normal(size=n_features) + 2.0 + rng.normal(scale=0.7, size=n_samples)
    return X, y, rng.normal(size=(25, n_features)) * 2


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_predictive_std_equals_bayesian_ridge(fit_intercept):
    X, y, X_test = make_data()
    alpha = 3.0
    ours = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    sigma2 = ours.noise_variance_

    # BayesianRidge at noise precision 1/sigma2 and prior precision
    # alpha/sigma2, with its hyperparameters fixed (no evidence updates).
    reference = BayesianRidge(
        max_iter=1, fit_intercept=fit_intercept, compute_score=False
    ).fit(X, y)
    reference.alpha_ = 1.0 / sigma2
    reference.lambda_ = alpha / sigma2
    X_offset = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    Xc = X - X_offset
    reference.sigma_ = np.linalg.inv(reference.lambda_ * np.eye(X.shape[1]) + Xc.T @ Xc / sigma2)
    reference.coef_ = reference.sigma_ @ Xc.T @ (y - (y.mean() if fit_intercept else 0)) / sigma2
    reference.intercept_ = (y.mean() - X_offset @ reference.coef_) if fit_intercept else 0.0
    ref_mean = reference.predict(X_test)
    # scikit-learn < 1.7 forgets to centre X in the std (its sigma_ is that of
    # the centred problem): centre here, and zero X_offset_ so that newer
    # releases do not centre twice.
    reference.X_offset_ = np.zeros(X.shape[1])
    _, ref_std = reference.predict(X_test - X_offset, return_std=True)

    mean, std = ours.predict(X_test, return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-10)
    # BayesianRidge treats the centering as exact; ours adds the intercept's
    # posterior variance sigma2 / n.
    intercept_variance = sigma2 / len(y) if fit_intercept else 0.0
    np.testing.assert_allclose(std**2, ref_std**2 + intercept_variance, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_parameter_variance_equals_dense_solve(fit_intercept, as_sparse):
    X, y, X_test = make_data()
    rng = np.random.RandomState(1)
    w = rng.uniform(0.2, 3.0, size=len(y))
    alpha = 0.7
    X_fit = sparse.coo_matrix(X) if as_sparse else X
    X_pred = sparse.coo_matrix(X_test) if as_sparse else X_test
    reg = CuriousRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(X_fit, y, w)
    mean, std = reg.predict(X_pred, return_std=True)
    np.testing.assert_array_equal(mean, reg.predict(X_pred))

    # Explicit theta-layout Hessian and a dense solve per test row.
    ones = np.ones((len(X), 1))
    J = np.hstack([X, ones]) if fit_intercept else X
    J_test = np.hstack([X_test, np.ones((len(X_test), 1))]) if fit_intercept else X_test
    penalty = np.ones(J.shape[1])
    if fit_intercept:
        penalty[-1] = 0.0
    H = J.T @ (w[:, None] * J) + alpha * np.diag(penalty)
    quadratic_form = np.einsum("ij,ji->i", J_test, np.linalg.solve(H, J_test.T))
    np.testing.assert_allclose(
        std**2 - reg.noise_variance_, reg.noise_variance_ * quadratic_form, rtol=1e-9
    )


def test_chunked_rows_match_single_block():
    from sklearn import config_context

    X, y, _ = make_data()
    X_test = np.random.RandomState(3).normal(size=(3000, X.shape[1]))
    reg = CuriousRegressor(alpha=0.5).fit(X, y)
    _, std = reg.predict(X_test, return_std=True)
    # A tiny working memory forces many chunks.
    with config_context(working_memory=0.01):
        _, std_chunked = reg.predict(X_test, return_std=True)
    np.testing.assert_allclose(std_chunked, std, rtol=1e-12)


def test_posterior_variance_is_calibrated_monte_carlo():
    """Bayesian calibration: beta ~ N(0, sigma^2/alpha I), y ~ N(X beta + b,
    sigma^2). Over draws, f_hat(x) - f_true(x) has variance Var[f(x)] (the
    intercept's flat prior makes the error independent of b)."""
    rng = np.random.RandomState(0)
    n, p, sigma, alpha, intercept = 30, 4, 0.8, 2.0, 1.5
    X = rng.normal(size=(n, p)) + 0.5
    X_test = rng.normal(size=(6, p)) * 1.5
    n_draws = 2000
    errors = np.empty((n_draws, len(X_test)))
    variance_factor = np.empty((n_draws, len(X_test)))
    reg = CuriousRegressor(alpha=alpha)
    for k in range(n_draws):
        beta = rng.normal(scale=sigma / np.sqrt(alpha), size=p)
        y = X @ beta + intercept + rng.normal(scale=sigma, size=n)
        mean, std = reg.fit(X, y).predict(X_test, return_std=True)
        errors[k] = mean - (X_test @ beta + intercept)
        # Var[f] / noise_variance_ does not depend on y: rescale to known sigma.
        variance_factor[k] = (std**2 - reg.noise_variance_) / reg.noise_variance_
    np.testing.assert_allclose(variance_factor, variance_factor[0:1].repeat(n_draws, 0), rtol=1e-8)
    predicted = sigma**2 * variance_factor[0]
    empirical = errors.var(axis=0)
    # Sampling error of a Gaussian variance estimate: sqrt(2 / n_draws).
    tolerance = 4 * np.sqrt(2.0 / n_draws)
    np.testing.assert_array_less(np.abs(empirical / predicted - 1), tolerance)
    # The errors are centred: the posterior mean is unbiased under the prior.
    np.testing.assert_array_less(
        np.abs(errors.mean(axis=0)), 4 * np.sqrt(predicted / n_draws)
    )


def test_std_is_nan_without_residual_dof():
    X = np.random.RandomState(0).normal(size=(3, 5))
    with pytest.warns(UserWarning, match="No residual degrees"):
        reg = CuriousRegressor(alpha=0.0 + 1e-12).fit(X, [1.0, 2.0, 3.0])
    mean, std = reg.predict(X, return_std=True)
    assert np.all(np.isnan(std)) and np.all(np.isfinite(mean))
