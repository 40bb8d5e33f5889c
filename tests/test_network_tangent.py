"""The "cg" tangent of a network on its iterative path (more than 50
parameters: the damping from Lanczos and LOBPCG, conjugate gradients
preconditioned by the shifted Gauss-Newton factor), against the dense
"exact" method, finite differences of refits, and dense solves built here."""

import warnings

import autograd.numpy as anp
import numpy as np
import pytest

from sklearn_curiosity import CuriousRegressor, tangent
from sklearn_curiosity._laplace import GaussNewtonCovariance
from sklearn_curiosity.regularizers import L2Regularizer

from _oracles import newton_refit


def make_data(n_samples=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=n_samples)
    return X, y


def fit(X, y, tangent_solver, **kw):
    params = dict(model="mlp", hidden_layer_sizes=(24,), random_state=0) | kw
    reg = CuriousRegressor(tangent_solver=tangent_solver, **params)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reg.fit(X, y)
    return reg, [str(w.message) for w in record]


@pytest.mark.parametrize("single_precision", [False, True])
def test_indefinite_cg_tangent_equals_the_exact_one(single_precision, monkeypatch):
    # 30 L-BFGS iterations stop near a saddle: H is indefinite.
    if single_precision:
        # The float32 preconditioner of networks above 1000 parameters, here.
        monkeypatch.setattr(tangent, "_SINGLE_PRECISION_MIN_PARAMS", 0)
    X, y = make_data()
    exact, exact_warnings = fit(X, y, "exact", alpha=1e-2, max_iter=30)
    cg, cg_warnings = fit(X, y, "cg", alpha=1e-2, max_iter=30)
    assert cg.params_.size > 50  # the iterative eigenvalue estimates, not the dense ones
    np.testing.assert_array_equal(cg.params_, exact.params_)
    assert any("indefinite" in message for message in exact_warnings)
    assert any("indefinite" in message for message in cg_warnings)
    # The exact method's rule, -lambda_min + 1e-6 lambda_max, from estimates.
    assert exact._hessian.damping > 0
    assert cg._hessian.damping == pytest.approx(exact._hessian.damping, rel=1e-10)
    error = np.linalg.norm(cg.tangent_ - exact.tangent_) / np.linalg.norm(exact.tangent_)
    assert error <= 1e-7
    # Reported, not a timing: the products the tangent took, estimates included.
    print(f"indefinite: {cg._hessian.n_hvp} Hessian-vector products, error {error:.1e}")
    assert 0 < cg._hessian.n_hvp <= 2 * cg.params_.size + 600
    # (A new preconditioner, after the checks: it resets the shift a later solve uses.)
    factor = cg._hessian._preconditioner_for(1.0).cholesky
    assert (factor.dtype == np.float32) == single_precision


def test_definite_cg_tangent_equals_exact_and_finite_differences_of_refits():
    X, y = make_data()
    alpha, step = 0.1, 1e-4
    kw = dict(model="mlp", alpha=alpha, max_iter=5000, tol=1e-13, hidden_layer_sizes=(8, 4))
    trained, _ = fit(X, y, "exact", **{k: v for k, v in kw.items() if k != "model"})
    model = trained._model

    def l2(alpha, p):
        return 0.5 * alpha * anp.sum(p[model.penalized] ** 2)

    # theta* polished by Newton's method on autograd's dense Hessian, and the
    # central differences of refits from it: L-BFGS stops at a gradient whose
    # effect on the tangent (~1e-3 here) would swamp the comparison.
    optimum = newton_refit(model, alpha, X, y, trained.params_, l2)
    plus = newton_refit(model, alpha + step, X, y, optimum, l2)
    minus = newton_refit(model, alpha - step, X, y, optimum, l2)
    finite_difference = (plus - minus) / (2 * step)
    fitted = {}
    for solver in ["exact", "cg"]:
        reg = CuriousRegressor(tangent_solver=solver, random_state=0, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # H positive definite: no damping
            fitted[solver] = reg._fit_at(X, y, None, optimum)
    exact, cg = fitted["exact"], fitted["cg"]
    assert cg.params_.size > 50
    assert exact._hessian.damping == 0.0 and cg._hessian.damping == 0.0
    scale = np.abs(exact.tangent_).max()
    np.testing.assert_allclose(cg.tangent_, exact.tangent_, rtol=1e-8, atol=1e-8 * scale)
    # O(h^2) truncation, relative to the third derivative: ~5e-6 here.
    np.testing.assert_allclose(cg.tangent_, finite_difference, atol=1e-5 * scale)
    print(f"definite: {cg._hessian.n_hvp} Hessian-vector products")


@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("method", ["cholesky", "dual"])
def test_shifted_gauss_newton_factor_solves_the_shifted_dense_system(method, uniform):
    X, y = make_data(n_samples=60)
    reg, _ = fit(X, y, "exact", alpha=1e-2, max_iter=30)
    model, params = reg._model, reg.params_
    weights = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y))
    # Not uniform: a QuadraticPenalties-like diagonal that differs per weight.
    penalty = np.where(model.penalized, reg.alpha, 0.0)
    if not uniform:
        penalty[model.penalized] *= np.random.RandomState(3).uniform(
            0.5, 2.0, size=model.penalized.sum()
        )

    class DiagonalPenalty(L2Regularizer):
        def hessian_diagonal(self, alpha):
            return penalty

    covariance = GaussNewtonCovariance(
        model, DiagonalPenalty(model.penalized), reg.alpha, X, weights, params, method=method
    )
    J = model.jacobian(params, X)
    G = J.T @ (weights[:, None] * J) + np.diag(penalty + covariance.prior_precision)
    shift = 0.37
    rhs = np.random.RandomState(2).normal(size=(params.size, 3))
    shifted_G = G + shift * np.eye(params.size)
    expected = np.linalg.solve(shifted_G, rhs)

    def check(shifted):
        np.testing.assert_allclose(shifted.solve(rhs), expected, rtol=1e-8,
                                   atol=1e-10 * np.abs(expected).max())
        np.testing.assert_allclose(
            shifted.solve(rhs[:, 0]), shifted.solve(rhs)[:, 0], rtol=1e-9
        )

    unshifted = covariance.solve(rhs)
    check(covariance.shifted(shift))
    # A shift leaves the fit's own factor as it was.
    np.testing.assert_array_equal(covariance.solve(rhs), unshifted)
    covariance.release_unfactorized()
    if method == "dual" and not uniform:
        # The Woodbury factor needs the weighted Jacobian, now dropped.
        assert covariance.shifted(shift) is None
    else:
        # Rebuilt from L L^T ("cholesky") or the fit's SVD ("dual").
        check(covariance.shifted(shift))
    if method == "cholesky":
        # Single precision: a preconditioner, exact to float32's backward error.
        single = covariance.shifted(shift, dtype=np.float32)
        assert single.cholesky.dtype == np.float32
        residual = shifted_G @ single.solve(rhs) - rhs
        assert np.linalg.norm(residual) <= 1e-4 * np.linalg.norm(rhs)
        # G's condition number (its prior: ~1e10) is beyond float32's
        # Cholesky: a negligible shift falls back to float64, still exact.
        tiny = covariance.shifted(1e-300, dtype=np.float32)
        assert tiny.cholesky.dtype == np.float64
        np.testing.assert_allclose(G @ tiny.solve(rhs), rhs, rtol=1e-6,
                                   atol=1e-6 * np.abs(rhs).max())


def test_fitted_estimator_keeps_no_unfactorized_gauss_newton_matrix():
    X, y = make_data()
    reg, _ = fit(X, y, "cg", alpha=1e-2, max_iter=30)
    assert reg._laplace._unfactorized is None


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu"])
def test_kept_pass_products_equal_autograd_hessian_and_gauss_newton(activation):
    # The tangent's products share one kept pass (forward, deltas, phi''
    # terms); each must still be the exact Hessian (or J^T W J) times v.
    from autograd import hessian, jacobian

    from sklearn_curiosity.models import MLP

    from _oracles import autograd_traceable

    X, y = make_data(n_samples=40, seed=3)
    weights = np.random.RandomState(4).uniform(0.5, 2.0, size=len(y))
    net = MLP((5, 4), activation)
    params = net.initialize(X.shape[1], np.random.RandomState(0))
    traced = autograd_traceable(net)

    def loss(p):
        residual = traced.predict(p, X) - y
        return 0.5 * anp.sum(weights * residual**2)

    dense_hessian = hessian(loss)(params)
    J = jacobian(lambda p: traced.predict(p, X))(params)
    gauss_newton = J.T @ (weights[:, None] * J)
    V = np.random.RandomState(5).normal(size=(params.size, 3))
    kept = net._kept_pass(params, X, y, weights)
    for _ in range(2):  # the kept pass is reused unchanged
        for gn, dense in [(False, dense_hessian), (True, gauss_newton)]:
            block = net.loss_hvp(params, X, y, weights, V, gauss_newton=gn, forward=kept)
            single = net.loss_hvp(params, X, y, weights, V[:, 1], gauss_newton=gn, forward=kept)
            scale = np.abs(dense @ V).max()
            np.testing.assert_allclose(block, dense @ V, rtol=1e-9, atol=1e-11 * scale)
            np.testing.assert_allclose(single, dense @ V[:, 1], rtol=1e-9, atol=1e-11 * scale)


def test_pickled_network_carries_one_factor_and_solves_after_unpickling():
    # The shifted Gauss-Newton factor preconditions the tangent's solve and
    # is dropped after fit: a fitted network (and its pickle) holds G's
    # factor only, and a later solve rebuilds the preconditioner.
    import pickle

    X, y = make_data()
    reg, _ = fit(X, y, "cg", alpha=1e-2, max_iter=30)  # indefinite: damped
    n_params = reg.params_.size
    assert reg._laplace.method == "cholesky" and reg._hessian.damping > 0

    def square_matrices(obj, seen):
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            return int(obj.shape == (n_params, n_params))
        if isinstance(obj, (list, tuple)):
            return sum(square_matrices(item, seen) for item in obj)
        if isinstance(obj, dict):
            return sum(square_matrices(item, seen) for item in obj.values())
        if hasattr(obj, "__dict__") and type(obj).__module__.startswith("sklearn_curiosity"):
            return square_matrices(vars(obj), seen)
        return 0

    restored = pickle.loads(pickle.dumps(reg))
    for estimator in (reg, restored):
        assert square_matrices(estimator, set()) == 1  # the Laplace factor of G
        assert estimator._hessian._preconditioner_used is None
    # A later solve, against the dense damped Hessian (autograd-free products
    # of the identity block, symmetrized).
    hessian = restored._hessian
    dense = hessian._dense() + hessian.damping * np.eye(n_params)
    rhs = np.random.RandomState(6).normal(size=n_params)
    expected = np.linalg.solve(dense, rhs)
    np.testing.assert_allclose(hessian.solve(rhs), expected, rtol=1e-6,
                               atol=1e-8 * np.abs(expected).max())
    assert hessian._preconditioner_used is not None
