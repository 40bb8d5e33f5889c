"""predict(X, return_std=True) for networks and user-defined models: the
Laplace variance with the Gauss-Newton Hessian, against independent oracles:
the linear model's exact variance (for a model linear in theta), a dense
computation from autograd's Jacobian (the production code uses the MLP's
hand-written derivatives), and Monte Carlo over refits."""

import pickle
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian, jacobian
from scipy import sparse
from sklearn import config_context

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity import _laplace
from sklearn_curiosity._training import train_lbfgs
from sklearn_curiosity.models import MLP, Model
from sklearn_curiosity.regularizers import AutogradRegularizer, L2Regularizer


class LinearInTheta(Model):
    """``f(x) = x . w + b`` written as a user model (unpenalized ``b``)."""

    def init_params(self, n_features, random_state):
        return 0.1 * random_state.normal(size=n_features + 1)

    def predict(self, params, X):
        return X @ params[:-1] + params[-1]

    def penalized_mask(self, n_params):
        mask = np.ones(n_params, dtype=bool)
        mask[-1] = False
        return mask


class SoftplusUnit(Model):
    """A nonlinear user model: ``c * softplus(x . w + b) + d``."""

    def init_params(self, n_features, random_state):
        return 0.5 * random_state.normal(size=n_features + 3)

    def predict(self, params, X):
        d = X.shape[1]
        z = X @ params[:d] + params[d]
        return params[d + 1] * anp.logaddexp(0.0, z) + params[d + 2]


def make_data(n_samples=60, n_features=3, seed=0, noise=0.1):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + noise * rng.normal(size=n_samples)
    X_test = 1.5 * rng.normal(size=(30, n_features))
    return X, y, X_test


def test_model_linear_in_theta_matches_linear_regressor():
    X, y, X_test = make_data()
    w = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    linear = CuriousRegressor(alpha=2.0).fit(X, y, w)
    user = CuriousRegressor(LinearInTheta(), alpha=2.0, tol=1e-12, max_iter=2000).fit(X, y, w)
    mean_linear, std_linear = linear.predict(X_test, return_std=True)
    mean_user, std_user = user.predict(X_test, return_std=True)
    np.testing.assert_allclose(mean_user, mean_linear, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(std_user, std_linear, rtol=1e-6)
    # The linear model's dof is the trace of its hat matrix.
    assert user.effective_dof_ == pytest.approx(linear.effective_dof_, rel=1e-6)
    assert user.noise_variance_ == pytest.approx(linear.noise_variance_, rel=1e-6)


def dense_gauss_newton(reg, X, y_weights, regularizer_function=None):
    """``(jacobian_at, J^T W J, G)`` from autograd, ``G = J^T W J + grad^2 R``."""
    params = reg.params_
    model = reg._model
    if isinstance(model, MLP):
        # The same network through autograd, not the hand-written derivatives.
        model = MLP(model.hidden_layer_sizes, model.activation, "autograd")
        model.initialize(X.shape[1], np.random.RandomState(0))

    def jacobian_at(rows):
        return jacobian(lambda p: model.predict(p, rows))(params)

    J = jacobian_at(X)
    if regularizer_function is None:
        regularizer_hessian = reg.alpha * np.diag(model.penalized.astype(float))
    else:
        regularizer_hessian = hessian(lambda p: regularizer_function(reg.alpha, p))(params)
    data = J.T @ (y_weights[:, None] * J)
    # The documented weak prior on the unpenalized parameters: precision
    # UNPENALIZED_PRIOR_PRECISION times the largest diagonal entry of J^T W J.
    prior = _laplace.UNPENALIZED_PRIOR_PRECISION * np.diag(data).max()
    prior_hessian = prior * np.diag(~model.penalized)
    return jacobian_at, data, data + regularizer_hessian + prior_hessian


def dense_gauss_newton_variance(reg, X, y_weights, X_test, regularizer_function=None):
    """``noise_variance_ * j^T (J^T W J + grad^2 R)^-1 j`` from autograd."""
    jacobian_at, _, G = dense_gauss_newton(reg, X, y_weights, regularizer_function)
    J_test = jacobian_at(X_test)
    quadratic_form = np.einsum("ij,ji->i", J_test, np.linalg.solve(G, J_test.T))
    return reg.noise_variance_ * quadratic_form


def smooth_l2(alpha, theta):
    # Not diagonal in theta: exercises the regularizer-product path.
    return 0.5 * alpha * (anp.sum(theta**2) + 0.3 * anp.sum(theta[:-1] * theta[1:]))


CASES = {
    "mlp-tanh": dict(model="mlp", hidden_layer_sizes=(6,), activation="tanh"),
    "mlp-logistic-2layers": dict(model="mlp", hidden_layer_sizes=(4, 3), activation="logistic"),
    "user-model-custom-penalty": dict(
        model=SoftplusUnit(), regularizer=AutogradRegularizer(smooth_l2)
    ),
}


def fit_case(case, method, monkeypatch):
    """A fitted case of CASES whose Gauss-Newton solves use ``method``."""
    if method == "cg":
        monkeypatch.setattr(_laplace, "GAUSS_NEWTON_DENSE_MAX_PARAMS", 0)
        monkeypatch.setattr(_laplace, "GAUSS_NEWTON_PRIMAL_MAX_PARAMS", 0)
    X, y, X_test = make_data()
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y))
    reg = CuriousRegressor(alpha=0.3, random_state=0, max_iter=500, **CASES[case]).fit(X, y, w)
    return reg, X, y, w, X_test


@pytest.mark.parametrize("method", ["cholesky", "cg"])
@pytest.mark.parametrize("case", list(CASES))
def test_gauss_newton_variance_equals_dense_autograd(case, method, monkeypatch):
    reg, X, y, w, X_test = fit_case(case, method, monkeypatch)
    assert reg._laplace.method == method
    # A small working memory: several chunks of pool rows, and of training
    # rows inside each conjugate-gradient product.
    with config_context(working_memory=0.002):
        mean, std = reg.predict(X_test, return_std=True)
    np.testing.assert_array_equal(mean, reg.predict(X_test))
    function = smooth_l2 if "regularizer" in CASES[case] else None
    expected = dense_gauss_newton_variance(reg, X, w, X_test, function)
    np.testing.assert_allclose(std**2 - reg.noise_variance_, expected, rtol=1e-6)


def test_sparse_and_float32_pools_match_dense():
    X, y, X_test = make_data()
    reg = CuriousRegressor("mlp", alpha=0.3, hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    _, std = reg.predict(X_test, return_std=True)
    _, std_sparse = reg.predict(sparse.csr_matrix(X_test), return_std=True)
    np.testing.assert_allclose(std_sparse, std, rtol=1e-12)
    _, std_32 = reg.predict(X_test.astype(np.float32), return_std=True)
    _, std_64 = reg.predict(X_test.astype(np.float32).astype(np.float64), return_std=True)
    np.testing.assert_allclose(std_32, std_64, rtol=1e-12)


def test_pickle_keeps_the_predictive_std():
    X, y, X_test = make_data()
    reg = CuriousRegressor("mlp", alpha=0.3, hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(
        loaded.predict(X_test, return_std=True)[1], reg.predict(X_test, return_std=True)[1]
    )


class DeadParameter(Model):
    """A linear model with an unpenalized parameter no prediction depends on."""

    def init_params(self, n_features, random_state):
        return 0.1 * random_state.normal(size=n_features + 1)

    def predict(self, params, X):
        return X @ params[:-1] + 0.0 * params[-1]

    def penalized_mask(self, n_params):
        mask = np.ones(n_params, dtype=bool)
        mask[-1] = False
        return mask


def test_dead_unpenalized_parameter_gets_the_weak_prior_without_a_warning():
    X, y, X_test = make_data()
    # The exact Hessian the tangent uses is singular along the dead parameter
    # and says so; the Gauss-Newton Hessian has the weak prior there, and no
    # warning of its own.
    with pytest.warns(UserWarning, match="ill-conditioned") as caught:
        reg = CuriousRegressor(DeadParameter(), alpha=1.0).fit(X, y)
    assert not [w for w in caught if "Gauss-Newton" in str(w.message)]
    assert reg._laplace.damping == 0.0
    _, std = reg.predict(X_test, return_std=True)
    # The dead direction is invisible to j(x) (zero gradient): the std is the
    # linear model's without an intercept.
    linear = CuriousRegressor(alpha=1.0, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(std, linear.predict(X_test, return_std=True)[1], rtol=1e-5)


class DeadPenalizedParameter(DeadParameter):
    def penalized_mask(self, n_params):
        return np.ones(n_params, dtype=bool)


def test_still_singular_gauss_newton_is_damped_with_a_warning_naming_alpha():
    # alpha=0 leaves a penalized parameter that no prediction depends on
    # without any curvature: the prior does not cover it (it is penalized).
    X, y, X_test = make_data()
    with pytest.warns(UserWarning, match=r"Gauss-Newton Hessian is singular.*alpha > 0"):
        reg = CuriousRegressor(DeadPenalizedParameter(), alpha=0.0).fit(X, y)
    assert reg._laplace.damping > 0
    _, std = reg.predict(X_test, return_std=True)
    assert np.all(np.isfinite(std))


class ShiftedL2(L2Regularizer):
    """``alpha/2 ||theta_pen - center||^2``: the prior centred at ``center``."""

    def __init__(self, penalized, center):
        super().__init__(penalized)
        self.center = center

    def complexity(self, params, alpha=None):
        d = self.alpha_gradient(params)
        return 0.5 * float(d @ d)

    def alpha_gradient(self, params, alpha=None):
        return np.where(self.penalized, params - self.center, 0.0)


def test_laplace_variance_matches_randomize_then_optimize_monte_carlo():
    """Monte Carlo over refits (randomize-then-optimize) on simulated labels
    y ~ N(f(x; theta*), sigma^2), with the prior's centre drawn from
    N(theta*, sigma^2 / alpha) on the penalized parameters. For a model linear
    in theta the refits are exact samples of the posterior N(theta*, sigma^2
    G^-1); here theta* is the noiseless minimizer with zero residuals, so as
    sigma -> 0 (the linearization regime) the refits' curvature is the
    Gauss-Newton Hessian and their spread of f(x_test) is the Laplace
    variance sigma^2 j^T G^-1 j that predict(return_std=True) uses."""
    rng = np.random.RandomState(0)
    n, sigma, alpha = 100, 0.01, 0.3
    X = rng.normal(size=(n, 2))
    X_test = 1.5 * rng.normal(size=(6, 2))
    # Two distinct tanh units: a well-determined two-unit network.
    y = 1.5 * np.tanh(X[:, 0] + 0.5) - np.tanh(1.5 * X[:, 1] - 0.5) + 0.1 * rng.normal(size=n)
    reg = CuriousRegressor(
        "mlp", alpha=alpha, hidden_layer_sizes=(2,), tol=1e-12, max_iter=5000, random_state=0
    ).fit(X, y)
    _, std = reg.predict(X_test, return_std=True)
    predicted = sigma**2 * (std**2 - reg.noise_variance_) / reg.noise_variance_

    model, theta, f_train = reg._model, reg.params_, reg.predict(X)
    penalized, weights = model.penalized, np.ones(n)
    n_draws = 400
    refits = np.empty((n_draws, len(X_test)))
    for k in range(n_draws):
        prior_draw = rng.normal(scale=sigma / np.sqrt(alpha), size=theta.size)
        center = np.where(penalized, theta + prior_draw, 0.0)
        y_draw = f_train + sigma * rng.normal(size=n)
        # Refit from theta* (the same basin) with the package's own trainer.
        prior = ShiftedL2(penalized, center)
        refit, _ = train_lbfgs(model, prior, alpha, X, y_draw, weights, theta.copy(), 3000, 1e-10)
        refits[k] = model.predict(refit, X_test)
    empirical = refits.var(axis=0)
    # Sampling error of a Gaussian variance estimate: sqrt(2 / n_draws).
    np.testing.assert_array_less(np.abs(empirical / predicted - 1), 4 * np.sqrt(2.0 / n_draws))


@pytest.mark.parametrize("method", ["cholesky", "cg"])
@pytest.mark.parametrize("case", list(CASES))
def test_effective_dof_is_the_trace_of_the_linearized_hat_matrix(case, method, monkeypatch):
    reg, X, y, w, _ = fit_case(case, method, monkeypatch)
    function = smooth_l2 if "regularizer" in CASES[case] else None
    _, data, G = dense_gauss_newton(reg, X, w, function)
    A = np.linalg.solve(G, data)
    residuals = y - reg.predict(X)
    if method == "cholesky":
        assert reg.effective_dof_ == pytest.approx(np.trace(A), rel=1e-8)
    else:
        # Hutchinson with Rademacher probes of the (symmetric) hat matrix
        # W^1/2 J G^-1 J^T W^1/2: within 4 of its standard errors.
        jacobian_at = dense_gauss_newton(reg, X, w, function)[0]
        root_J = np.sqrt(w)[:, None] * jacobian_at(X)
        hat = root_J @ np.linalg.solve(G, root_J.T)
        assert np.trace(hat) == pytest.approx(np.trace(A), rel=1e-8)
        probe_variance = 2 * (np.sum(hat**2) - np.sum(np.diag(hat) ** 2))
        n_probes = _laplace._N_TRACE_PROBES
        assert abs(reg.effective_dof_ - np.trace(A)) <= 4 * np.sqrt(probe_variance / n_probes)
    expected_variance = (w @ residuals**2) / (w.sum() - reg.effective_dof_)
    assert reg.noise_variance_ == pytest.approx(expected_variance, rel=1e-10)


@pytest.mark.parametrize("seed", range(4))
def test_small_networks_leave_residual_dof_for_the_noise(seed):
    # Few labels and an unconverged, non-convex fit: the exact Hessian's
    # trace(H^-1 J^T W J) could exceed n here; the linearized hat matrix cannot.
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(12, 2))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=12)
    reg = CuriousRegressor(
        model="mlp", hidden_layer_sizes=(8,), alpha=1e-3, max_iter=50, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    assert 0 < reg.effective_dof_ < len(y)
    assert np.isfinite(reg.noise_variance_) and reg.noise_variance_ > 0
    assert np.all(np.isfinite(reg.influence_score(X)))
