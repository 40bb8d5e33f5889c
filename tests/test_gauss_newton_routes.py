"""The Gauss-Newton Hessian's three routes ("cholesky", "dual", "cg") and its
weak prior on the unpenalized parameters, against oracles built here from a
dense matrix or an SVD, never from the package's own factorizations."""

import warnings

import numpy as np
import pytest

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity import _laplace
from sklearn_curiosity._laplace import GaussNewtonCovariance, gauss_newton_route
from sklearn_curiosity.models import MLP
from sklearn_curiosity.regularizers import L2Regularizer


def fitted_net(hidden_layer_sizes, n_samples, activation="relu", max_iter=200, seed=0):
    """A briefly trained net (relu: some units die, so G needs the prior)."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n_samples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unconverged or indefinite: not the point here
        reg = CuriousRegressor(
            "mlp", alpha=1.0, hidden_layer_sizes=hidden_layer_sizes, activation=activation,
            max_iter=max_iter, random_state=seed,
        ).fit(X, y)
    weights = rng.uniform(0.5, 2.0, size=n_samples)
    weights[:3] = 0.0  # zero weights must drop out, not break the square roots
    return reg, X, weights, 1.5 * rng.normal(size=(9, 3))


def covariance(reg, X, weights, method):
    model = reg._model
    return GaussNewtonCovariance(
        model, L2Regularizer(model.penalized), reg.alpha, X, weights, reg.params_, method=method
    )


def prior_diagonal(model, J, weights, alpha):
    """``grad^2 R + eps * unpenalized`` as documented, from a Jacobian ``J``."""
    data_curvature = weights @ (J * J)
    eps = _laplace.UNPENALIZED_PRIOR_PRECISION * data_curvature.max()
    return np.where(model.penalized, alpha, eps)


def dense_oracle(reg, X, weights, X_test):
    """``(dof, j^T G^-1 j, G^-1)`` from the dense ``G`` and numpy's solve."""
    model, params = reg._model, reg.params_
    J = model.jacobian(params, X)
    G = J.T @ (weights[:, None] * J) + np.diag(prior_diagonal(model, J, weights, reg.alpha))
    J_test = model.jacobian(params, X_test)
    hat_root = np.sqrt(weights)[:, None] * J
    dof = np.trace(hat_root @ np.linalg.solve(G, hat_root.T))
    return dof, np.einsum("ij,ji->i", J_test, np.linalg.solve(G, J_test.T)), G


@pytest.mark.parametrize("hidden_layer_sizes", [(30, 30), (44, 44)], ids=["1k", "2k"])
def test_routes_agree_on_one_fitted_net(hidden_layer_sizes):
    reg, X, weights, X_test = fitted_net(hidden_layer_sizes, n_samples=60)
    n_params = reg.params_.size
    assert 1000 <= n_params <= 2300
    rhs = np.random.RandomState(1).normal(size=(n_params, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the prior: no damping on any route
        routes = {
            method: covariance(reg, X, weights, method) for method in ["cholesky", "dual", "cg"]
        }
    dof, quadratic_form, G = dense_oracle(reg, X, weights, X_test)
    assert 0 < dof < np.count_nonzero(weights)
    for method, route in routes.items():
        assert route.method == method and route.damping == 0.0
        np.testing.assert_allclose(route.inverse_quadratic_form(X_test), quadratic_form, rtol=1e-6)
        # solve(B) is G^-1 B: its residual against the dense G.
        residual = G @ route.solve(rhs) - rhs
        assert np.linalg.norm(residual) <= 1e-6 * np.linalg.norm(rhs)
        np.testing.assert_allclose(route.solve(rhs[:, 0]), route.solve(rhs)[:, 0], rtol=1e-6)
    for method in ["cholesky", "dual"]:
        assert routes[method].effective_dof == pytest.approx(dof, rel=1e-6)
    # "cg" estimates the dof by Hutchinson probes of the hat matrix (variance
    # per probe at most 2 dof): within 4 standard errors.
    n_probes = _laplace._N_TRACE_PROBES
    assert abs(routes["cg"].effective_dof - dof) <= 4 * np.sqrt(2 * dof / n_probes)


def test_dual_at_20k_parameters_against_an_svd_oracle():
    reg, X, weights, X_test = fitted_net((140, 140), n_samples=50, max_iter=20)
    model, params = reg._model, reg.params_
    assert params.size > 20000
    route = covariance(reg, X, weights, "auto")
    assert route.method == "dual"
    # Oracle: G = D^1/2 (I + K^T K) D^1/2 with K = W^1/2 J D^-1/2 = Y diag(s) Z^T,
    # so G^-1 = D^-1/2 (I - Z diag(s^2 / (1 + s^2)) Z^T) D^-1/2 and the hat
    # matrix's trace is sum s^2 / (1 + s^2). The prior is in D, not split off.
    J = model.jacobian(params, X)
    root_d = np.sqrt(prior_diagonal(model, J, weights, reg.alpha))
    _, s, Zt = np.linalg.svd(np.sqrt(weights)[:, None] * J / root_d, full_matrices=False)
    assert route.effective_dof == pytest.approx(np.sum(s**2 / (1 + s**2)), rel=1e-6)
    a = (model.jacobian(params, X_test) / root_d).T
    c = Zt @ a
    expected = np.sum((a - Zt.T @ c) ** 2, axis=0) + (1 / (1 + s**2)) @ c**2
    np.testing.assert_allclose(route.inverse_quadratic_form(X_test), expected, rtol=1e-6)


def test_auto_route_choice():
    assert gauss_newton_route(500, 900, 50, True) == "cholesky"
    assert gauss_newton_route(300, 4481, 129, True) == "dual"
    assert gauss_newton_route(5000, 4481, 129, True) == "cholesky"
    assert gauss_newton_route(300, 4481, 129, False) == "cholesky"
    assert gauss_newton_route(50000, 20000, 300, True) == "cg"
    assert gauss_newton_route(100, 20000, 300, False) == "cg"


def test_prior_leaves_a_determined_fit_unchanged():
    """Every unpenalized direction well determined (curvature within 1e-2 of
    the largest): the prior moves dof and variance by less than 1e-8."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    model = MLP((4,), "tanh")
    params = model.initialize(3, rng)
    (W, b), (v, c) = model.unpack(params)
    v[:] = rng.choice([-1.0, 1.0], size=v.shape)  # every unit carries weight
    weights = np.ones(200)
    J = model.jacobian(params, X)
    curvature = weights @ (J * J)
    assert curvature[~model.penalized].min() >= 1e-2 * curvature.max()
    route = GaussNewtonCovariance(model, L2Regularizer(model.penalized), 0.5, X, weights, params)
    # Without the prior: today's G, dense.
    G = J.T @ J + np.diag(0.5 * model.penalized)
    X_test = 2 * rng.normal(size=(20, 3))
    J_test = model.jacobian(params, X_test)
    expected = np.einsum("ij,ji->i", J_test, np.linalg.solve(G, J_test.T))
    np.testing.assert_allclose(route.inverse_quadratic_form(X_test), expected, rtol=1e-8)
    assert route.effective_dof == pytest.approx(np.trace(np.linalg.solve(G, J.T @ J)), rel=1e-8)


def test_dead_relu_unit_has_a_large_finite_variance_along_it():
    """A relu unit off on every training row but on at a pool point: its bias
    is unpenalized and undetermined; the prior gives it a large, finite
    variance (the model does not know), and leaves the rest alone."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(50, 1))
    model = MLP((2,), "relu")
    params = model.initialize(1, rng)
    (W, b), (v, c) = model.unpack(params)
    W[:] = [[1.0, 1.0]]
    b[:] = [0.5, -10.0]  # unit 1 fires for x > 10 only: dead on the training rows
    v[:, 0] = [1.0, 0.5]
    # theta = [W (2), b (2), v (2), c]: the dead unit's W, b and v.
    dead = [1, 3, 5]
    weights = np.ones(50)
    J = model.jacobian(params, X)
    assert np.all(J[:, dead] == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        route = GaussNewtonCovariance(
            model, L2Regularizer(model.penalized), 1.0, X, weights, params
        )
    eps = _laplace.UNPENALIZED_PRIOR_PRECISION * (weights @ (J * J)).max()
    G = J.T @ J + np.diag(np.where(model.penalized, 1.0, eps))
    inside, beyond = np.array([[0.3]]), np.array([[12.0]])
    q_inside = route.inverse_quadratic_form(inside)[0]
    q_beyond = route.inverse_quadratic_form(beyond)[0]
    j_inside = model.jacobian(params, inside)[0]
    assert q_inside == pytest.approx(j_inside @ np.linalg.solve(G, j_inside), rel=1e-8)
    # The dead unit decouples in G: its bias has the prior's precision eps,
    # its weights the penalty's alpha = 1. At x = 12 its gradients are
    # v x = 6 (W), v = 0.5 (b) and relu(12 - 10) = 2 (v).
    j_live = model.jacobian(params, beyond)[0]
    j_live[dead] = 0.0
    expected = 0.5**2 / eps + 6.0**2 + 2.0**2 + j_live @ np.linalg.solve(G, j_live)
    assert np.isfinite(q_beyond)
    assert q_beyond == pytest.approx(expected, rel=1e-6)
    assert q_beyond > 1e6 * q_inside


def test_preconditioned_cg_tangent_equals_the_exact_tangent():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=60)
    # A converged fit whose exact Hessian is positive definite (no damping).
    kw = dict(model="mlp", alpha=0.01, hidden_layer_sizes=(10,), tol=1e-10, max_iter=3000,
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = CuriousRegressor(tangent_solver="exact", **kw).fit(X, y)
        cg = CuriousRegressor(tangent_solver="cg", **kw).fit(X, y)
    assert cg._hessian.preconditioner is not None
    np.testing.assert_array_equal(cg.params_, exact.params_)
    np.testing.assert_allclose(
        cg.tangent_, exact.tangent_, rtol=1e-8, atol=1e-8 * np.abs(exact.tangent_).max()
    )


def test_pickled_estimator_keeps_the_dual_route():
    import pickle

    reg, X, weights, X_test = fitted_net((30, 30), n_samples=60, max_iter=20)
    assert reg._laplace.method == "dual"
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(
        loaded.predict(X_test, return_std=True)[1], reg.predict(X_test, return_std=True)[1]
    )
    assert loaded.effective_dof_ == reg.effective_dof_
