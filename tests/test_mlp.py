"""Nonlinear models: derivatives, training, and every tangent solver against refits."""

import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.models import MLP, Model
from sklearn_curiosity.regularizers import AutogradRegularizer
from sklearn_curiosity.tangent import NetworkHessian, lissa_solve

from _oracles import autograd_traceable, newton_refit


class QuadraticFeatures(Model):
    """A user-defined model: linear plus squared features, with an intercept."""

    def init_params(self, n_features, random_state):
        return 0.1 * random_state.normal(size=2 * n_features + 1)

    def predict(self, params, X):
        d = X.shape[1]
        return anp.tanh(X @ params[:d]) + (X**2) @ params[d : 2 * d] + params[-1]

    def penalized_mask(self, n_params):
        mask = np.ones(n_params, dtype=bool)
        mask[-1] = False
        return mask


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=60)
    return X, y


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu", "identity"])
def test_hand_written_derivatives_equal_autograd(activation):
    rng = np.random.RandomState(1)
    X, y, w = rng.normal(size=(25, 3)), rng.normal(size=25), rng.uniform(0.5, 2, 25)
    analytic = MLP((5, 4), activation, "analytic")
    auto = MLP((5, 4), activation, "autograd")
    params = analytic.initialize(3, np.random.RandomState(2))
    auto.initialize(3, np.random.RandomState(2))
    v = rng.normal(size=params.size)
    V = rng.normal(size=(params.size, 2))
    pairs = [
        (analytic.predict(params, X), auto.predict(params, X)),
        (analytic.jvp(params, X, v), auto.jvp(params, X, v)),
        (analytic.jvp(params, X, V), auto.jvp(params, X, V)),
        (analytic.jacobian(params, X), auto.jacobian(params, X)),
        (analytic.loss_grad(params, X, y, w)[1], auto.loss_grad(params, X, y, w)[1]),
        (analytic.loss_hvp(params, X, y, w, v), auto.loss_hvp(params, X, y, w, v)),
        (
            analytic.loss_hvp(params, X, y, w, v, gauss_newton=True),
            auto.loss_hvp(params, X, y, w, v, gauss_newton=True),
        ),
    ]
    # The fused pass of the forward tangent's training step.
    _, fused_grad, fused_hvp = analytic.loss_grad_hvp(params, X, y, w, v)
    pairs += [(fused_grad, auto.loss_grad(params, X, y, w)[1]), (fused_hvp, auto.loss_hvp(params, X, y, w, v))]
    for mine, oracle in pairs:
        np.testing.assert_allclose(mine, oracle, rtol=1e-8, atol=1e-10)
    # The exact HVP is autograd's full Hessian (an oracle independent of both).
    loss = lambda p: 0.5 * anp.sum(w * (auto.predict(p, X) - y) ** 2)  # noqa: E731
    np.testing.assert_allclose(
        analytic.loss_hvp(params, X, y, w, v), hessian(loss)(params) @ v, rtol=1e-8, atol=1e-10
    )


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu", "identity"])
@pytest.mark.parametrize("hidden", [(6,), (6, 5)], ids=["1-layer", "2-layer"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_block_products_and_dense_hessian_equal_autograd(activation, hidden, sparse):
    # A block of directions goes through the network in passes over the data,
    # as many columns per pass as working_memory allows; 1 MiB forces several.
    from autograd import jacobian
    from scipy import sparse as sp
    from sklearn import config_context

    rng = np.random.RandomState(3)
    n, d = 1000, 4
    X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.uniform(0.5, 2, n)
    X[rng.uniform(size=X.shape) < 0.3] = 0.0
    net = MLP(hidden, activation)
    params = net.initialize(d, np.random.RandomState(4))
    V = rng.normal(size=(params.size, 23))
    auto = MLP(hidden, activation, "autograd")
    auto.initialize(d, np.random.RandomState(4))
    loss = lambda p: 0.5 * anp.sum(w * (auto.predict(p, X) - y) ** 2)  # noqa: E731
    H = hessian(loss)(params)
    J = jacobian(lambda p: auto.predict(p, X))(params)
    X_in = sp.csr_matrix(X) if sparse else X
    with config_context(working_memory=1):
        exact = net.loss_hvp(params, X_in, y, w, V)
        gauss_newton = net.loss_hvp(params, X_in, y, w, V, gauss_newton=True)
    # One hidden layer has a closed form, here in 4 row chunks; deeper
    # networks use the identity block.
    with config_context(working_memory=0.25 if len(hidden) == 1 else 1):
        dense = net.loss_hessian(params, X_in, y, w)
    np.testing.assert_allclose(exact, H @ V, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(gauss_newton, J.T @ (w[:, None] * (J @ V)), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(dense, H, rtol=1e-8, atol=1e-8)


def test_analytic_and_autograd_estimators_agree(data):
    X, y = data
    kw = dict(model="mlp", hidden_layer_sizes=(4,), alpha=0.1, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = CuriousRegressor(**kw).fit(X, y)
        b = CuriousRegressor(differentiation="autograd", **kw).fit(X, y)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.tangent_, b.tangent_, rtol=1e-7, atol=1e-9)


def _l2(mask):
    return lambda alpha, p: 0.5 * alpha * anp.sum(p[mask] ** 2)


def _finite_difference_tangent(reg, X, y, h=1e-4, regularizer_value=None):
    model = reg._model
    regularizer_value = regularizer_value or _l2(model.penalized)
    plus = newton_refit(model, reg.alpha + h, X, y, reg.params_, regularizer_value)
    minus = newton_refit(model, reg.alpha - h, X, y, reg.params_, regularizer_value)
    return (plus - minus) / (2 * h)


def _tight_fit(X, y, **kw):
    reg = CuriousRegressor(alpha=0.1, tol=1e-12, max_iter=5000, random_state=0, **kw)
    return reg.fit(X, y)


@pytest.mark.parametrize(
    "model_kw",
    [dict(model="mlp", hidden_layer_sizes=(4,)), dict(model="mlp", hidden_layer_sizes=(3,), activation="logistic"), dict(model=QuadraticFeatures())],
    ids=["mlp-tanh", "mlp-logistic", "user-model"],
)
def test_exact_and_cg_tangents_equal_finite_differences_of_refits(data, model_kw):
    X, y = data
    exact = _tight_fit(X, y, tangent_solver="exact", **model_kw)
    cg = _tight_fit(X, y, tangent_solver="cg", **model_kw)
    assert (exact.tangent_solver_, cg.tangent_solver_) == ("exact", "cg")
    fd = _finite_difference_tangent(exact, X, y)
    # Central differences with h=1e-4 are accurate to O(h^2) ~ 1e-8 relative to
    # the third derivative; the fit's own gradient (~1e-10) moves tau by less.
    scale = np.abs(fd).max()
    np.testing.assert_allclose(exact.tangent_, fd, atol=1e-5 * scale)
    np.testing.assert_allclose(cg.tangent_, exact.tangent_, atol=1e-7 * scale)
    # The scores follow: g(x) = d f(x) / d alpha through the refits.
    np.testing.assert_allclose(
        exact.regularity_sensitivity(X), exact._model.jvp(exact.params_, X, fd), atol=1e-5 * scale
    )


def test_user_regularizer_tangent_equals_finite_differences(data):
    X, y = data

    def smooth_l1(alpha, theta):
        return alpha * anp.sum(anp.sqrt(theta[:-1] ** 2 + 0.1))

    reg = _tight_fit(X, y, model=QuadraticFeatures(), regularizer=AutogradRegularizer(smooth_l1))
    fd = _finite_difference_tangent(reg, X, y, regularizer_value=smooth_l1)
    np.testing.assert_allclose(reg.tangent_, fd, atol=1e-5 * np.abs(fd).max())
    assert reg.complexity_ == pytest.approx(float(anp.sum(anp.sqrt(reg.params_[:-1] ** 2 + 0.1))))


def _dense_objective_hessian(reg, X, y):
    return autograd_hessian_of_objective(reg._model, reg.alpha, X, y)(reg.params_)


def autograd_hessian_of_objective(model, alpha, X, y):
    model = autograd_traceable(model)
    mask = model.penalized
    return hessian(
        lambda p: 0.5 * anp.sum((model.predict(p, X) - y) ** 2) + 0.5 * alpha * anp.sum(p[mask] ** 2)
    )


@pytest.mark.parametrize(
    "model_kw, depth",
    [(dict(model="mlp", hidden_layer_sizes=(3,)), 12000), (dict(model=QuadraticFeatures()), 600)],
    ids=["mlp", "user-model"],
)
def test_full_batch_lissa_equals_exact_and_finite_differences(data, model_kw, depth):
    X, y = data
    kw = dict(alpha=1.0, tol=1e-12, max_iter=5000, random_state=0, **model_kw)
    exact = CuriousRegressor(tangent_solver="exact", **kw).fit(X, y)
    lissa = CuriousRegressor(
        tangent_solver="lissa", tangent_options={"batch_size": len(X), "depth": depth}, **kw
    ).fit(X, y)
    assert lissa.tangent_solver_ == "lissa"
    # Full batch, the series is deterministic; its truncation error is at most
    # (1 - lambda_min / scale)^depth relative, with scale <= 1.5 lambda_max
    # (autograd's dense Hessian, an independent oracle, gives the spectrum).
    eigvals = np.linalg.eigvalsh(_dense_objective_hessian(exact, X, y))
    assert eigvals[0] > 0
    truncation = (1 - eigvals[0] / (1.5 * eigvals[-1])) ** depth * eigvals[-1] / eigvals[0]
    assert truncation < 1e-6
    scale = np.abs(exact.tangent_).max()
    np.testing.assert_allclose(lissa.tangent_, exact.tangent_, atol=1e-6 * scale)
    fd = _finite_difference_tangent(exact, X, y)
    np.testing.assert_allclose(lissa.tangent_, fd, atol=1e-5 * scale)


def test_minibatch_lissa_is_close_to_exact_and_seeded(data):
    X, y = data
    kw = dict(model="mlp", hidden_layer_sizes=(3,), alpha=1.0, tol=1e-12, max_iter=5000, random_state=0)
    exact = CuriousRegressor(tangent_solver="exact", **kw).fit(X, y)
    options = {"batch_size": 20, "depth": 3000, "repeats": 2}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the residual check
        first = CuriousRegressor(tangent_solver="lissa", tangent_options=options, **kw).fit(X, y)
        again = CuriousRegressor(tangent_solver="lissa", tangent_options=options, **kw).fit(X, y)
    np.testing.assert_array_equal(first.tangent_, again.tangent_)  # seeded by random_state
    # Mini-batches of 20 of 60 rows add noise of a few percent of tau here
    # (measured: 1% with these settings); 10% is a loose bound on it, tight
    # enough to catch a biased estimate (wrong batch scaling gives O(1) errors).
    scale = np.abs(exact.tangent_).max()
    np.testing.assert_allclose(first.tangent_, exact.tangent_, atol=0.1 * scale)


def test_lissa_divergence_raises_and_leaves_nothing_fitted(data):
    X, y = data
    reg = CuriousRegressor(
        model="mlp", hidden_layer_sizes=(3,), alpha=1.0, random_state=0,
        tangent_solver="lissa", tangent_options={"scale": 1.0},
    )
    with pytest.raises(ValueError, match="diverged.*Raise tangent_options\\['scale'\\]"):
        reg.fit(X, y)
    assert not hasattr(reg, "params_") and not hasattr(reg, "tangent_")
    # An indefinite Hessian diverges without damping, converges with enough.
    H = np.diag([3.0, 1.0, -0.5])

    class Product:
        n_samples = 1

        def __call__(self, v):
            return H @ v

        def batch(self, rows, v):
            return H @ v

    rhs = np.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="damping"):
        lissa_solve(Product(), rhs, random_state=np.random.RandomState(0))
    solution = lissa_solve(Product(), rhs, damping=1.0, depth=400, random_state=np.random.RandomState(0))
    np.testing.assert_allclose(solution, np.linalg.solve(H + np.eye(3), rhs), rtol=1e-10)


@pytest.mark.parametrize("solver, learning_rate", [("sgd", 1.0), ("sgd", 3.0), ("adam", 3.0)])
def test_stochastic_training_that_diverges_is_refused(solver, learning_rate):
    # Steps too large for the curvature: the iterates oscillate and grow but
    # stay finite. Such a fit was returned as if trained (R^2 of -0.6 with
    # sgd at 1.0 here, worse than predicting the mean), or failed inside the
    # tangent's Cholesky with a bare LinAlgError.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, 2.0, -1.0] + 0.1 * rng.normal(size=200)
    reg = CuriousRegressor(
        model="mlp", hidden_layer_sizes=(8,), solver=solver,
        learning_rate_init=learning_rate, max_iter=50, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="Training diverged.*objective rose.*Lower learning_rate_init"):
            reg.fit(X, y)
    assert not hasattr(reg, "params_")
    # The same steps, smaller, train: the check does not refuse a working fit.
    reg.set_params(learning_rate_init=learning_rate / 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert reg.fit(X, y).score(X, y) > 0.5


def test_tangent_options_are_validated(data):
    X, y = data
    with pytest.raises(ValueError, match="not options of tangent_solver='exact'"):
        CuriousRegressor(model="mlp", tangent_solver="exact", tangent_options={"depth": 5}).fit(X, y)
    with pytest.raises(ValueError, match="depth"):
        CuriousRegressor(model="mlp", tangent_solver="lissa", tangent_options={"depth": 0}).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_forward_tangent_is_the_derivative_of_the_trained_iterate(data, solver):
    X, y = data
    kw = dict(
        model="mlp", hidden_layer_sizes=(4,), solver=solver, batch_size=16, max_iter=3,
        tol=None, random_state=0, learning_rate_init=0.01,
    )
    reg = CuriousRegressor(alpha=0.5, tangent_solver="forward", **kw).fit(X, y)
    h = 1e-5
    plus = CuriousRegressor(alpha=0.5 + h, tangent_solver="forward", **kw).fit(X, y).params_
    minus = CuriousRegressor(alpha=0.5 - h, tangent_solver="forward", **kw).fit(X, y).params_
    fd = (plus - minus) / (2 * h)
    np.testing.assert_allclose(reg.tangent_, fd, atol=1e-6 * np.abs(fd).max())


def test_forward_tangent_converges_to_the_exact_tangent(data):
    X, y = data
    kw = dict(model="mlp", hidden_layer_sizes=(3,), alpha=0.5, random_state=0, tol=None)
    start = _tight_fit(X, y, model="mlp", hidden_layer_sizes=(3,))
    # Full-batch momentum steps from the optimum: the tracked tangent is a
    # stationary iteration whose fixed point solves H tau = -b.
    reg = CuriousRegressor(
        solver="sgd", batch_size=len(X), learning_rate_init=0.2, max_iter=5000,
        tangent_solver="forward", warm_start=True, **kw,
    )
    reg.fit(X[:5], y[:5])  # any fit, to get a fitted state of the right shape
    reg.set_params(alpha=0.1)
    reg.params_ = start.params_.copy()
    reg.tangent_ = np.zeros_like(start.tangent_)
    reg.fit(X, y)
    np.testing.assert_allclose(reg.tangent_, start.tangent_, atol=1e-4 * np.abs(start.tangent_).max())


def test_unlabelled_score_uses_one_forward_pass(data, monkeypatch):
    X, y = data
    reg = _tight_fit(X, y, model="mlp", hidden_layer_sizes=(4,))
    expected = reg._model.jacobian(reg.params_, X) @ reg.tangent_

    def no_per_sample_gradients(*args, **kwargs):
        raise AssertionError("per-sample gradients were computed")

    monkeypatch.setattr(MLP, "jacobian", no_per_sample_gradients)
    monkeypatch.setattr(MLP, "loss_grad", no_per_sample_gradients)
    np.testing.assert_allclose(reg.regularity_sensitivity(X), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reg.influence_score(X), reg.noise_variance_ * expected**2, rtol=1e-9)


@pytest.mark.parametrize("method", ["exact", "cg"])
def test_indefinite_hessian_is_damped_with_a_warning(method):
    H = np.diag([3.0, 1.0, -0.5])
    rhs = np.array([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match="indefinite") as record:
        hess = NetworkHessian(lambda v: H @ v, 3, method)
        solution = hess.solve(rhs)
    assert hess.damping > 0.5
    if method == "exact":  # CG may raise the damping after warning
        assert f"H + {hess.damping:.3g} I" in str(record[0].message)
    # The damped H has condition number ~1e7 (damping floor 1e-6 x largest
    # curvature): a 1e-10 relative residual allows ~1e-3 relative error in theory.
    np.testing.assert_allclose(solution, np.linalg.solve(H + hess.damping * np.eye(3), rhs), rtol=1e-6)


def test_ill_conditioned_hessian_is_not_called_indefinite():
    # Positive definite with condition number 1e12: damped, and said so honestly.
    H = np.diag([1.0, 1e-4, 1e-12])
    with pytest.warns(UserWarning, match="ill-conditioned") as record:
        hess = NetworkHessian(lambda v: H @ v, 3, "exact")
    assert "indefinite" not in str(record[0].message)
    assert hess.damping == pytest.approx(1e-10)
    # A Hessian small overall (badly scaled data) but well conditioned: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = NetworkHessian(lambda v: 1e-12 * H[:2, :2] @ v, 2, "exact")
    assert small.damping == 0.0
    np.testing.assert_allclose(small.solve(np.ones(2)), [1e12, 1e16], rtol=1e-10)


def test_cg_always_ends_within_its_budget():
    # Strongly indefinite and ill-conditioned: the damping restarts and the
    # total number of Hessian-vector products stay bounded.
    rng = np.random.RandomState(0)
    Q, _ = np.linalg.qr(rng.normal(size=(50, 50)))
    H = Q @ np.diag(np.r_[-np.logspace(-3, 2, 10), np.logspace(-6, 3, 40)]) @ Q.T
    calls = []

    def hvp(v):
        calls.append(1)
        return H @ v

    hess = NetworkHessian(hvp, 50, "cg", cg_maxiter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solution = hess.solve(rng.normal(size=50))
    assert len(calls) <= 100 + 1 and np.all(np.isfinite(solution))
    assert hess.damping > 0


def test_effective_dof_does_not_depend_on_the_tangent_solver(data):
    X, y = data
    exact = _tight_fit(X, y, model="mlp", hidden_layer_sizes=(4,), tangent_solver="exact")
    cg = _tight_fit(X, y, model="mlp", hidden_layer_sizes=(4,), tangent_solver="cg")
    # Both take it from the Gauss-Newton factor (checked against autograd in
    # test_uncertainty_networks.py), not from the tangent's Hessian.
    np.testing.assert_allclose(cg.params_, exact.params_)
    assert 0 < exact.effective_dof_ < min(len(y), exact.params_.size)
    assert cg.effective_dof_ == pytest.approx(exact.effective_dof_, rel=1e-10)


def test_bad_combinations_raise_clear_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="solver='adam'"):
        CuriousRegressor(model="mlp", tangent_solver="forward").fit(X, y)
    with pytest.raises(ValueError, match="closed form"):
        CuriousRegressor(regularizer=AutogradRegularizer(lambda a, t: a * anp.sum(t**2))).fit(X, y)


def test_convergence_warning_when_not_converged(data):
    X, y = data
    with pytest.warns(ConvergenceWarning):
        CuriousRegressor(model="mlp", max_iter=2, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        CuriousRegressor(model="mlp", solver="adam", max_iter=2, random_state=0).fit(X, y)


@parametrize_with_checks(
    [
        CuriousRegressor(model="mlp", hidden_layer_sizes=(3,), max_iter=30, random_state=0),
        CuriousRegressor(
            model="mlp", hidden_layer_sizes=(3,), solver="adam", max_iter=100,
            learning_rate_init=0.05,
            tangent_solver="forward", activation="relu", random_state=0,
        ),
        CuriousRegressor(
            model="mlp", hidden_layer_sizes=(3,), solver="sgd", max_iter=100,
            learning_rate_init=0.05,
            tangent_solver="cg", activation="logistic", random_state=0,
        ),
        CuriousRegressor(model=QuadraticFeatures(), max_iter=30, random_state=0),
        CuriousRegressor(
            model="mlp", hidden_layer_sizes=(3,), max_iter=30, random_state=0,
            tangent_solver="lissa", tangent_options={"damping": 1.0, "depth": 100},
        ),
    ]
)
def test_sklearn_estimator_checks_nonlinear(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu", "identity"])
@pytest.mark.parametrize("hidden", [(), (5,), (5, 4)], ids=["0-layer", "1-layer", "2-layer"])
def test_pool_evaluator_equals_autograd(activation, hidden):
    # The fused forward pass that scores pools (contiguous blocks, biases
    # from tiled rows, activations in place) against autograd's f and jvp.
    from scipy import sparse

    rng = np.random.RandomState(3)
    X = rng.normal(size=(70, 3)) + [0.0, 5.0, 0.0]
    analytic = MLP(hidden, activation, "analytic")
    auto = MLP(hidden, activation, "autograd")
    params = analytic.initialize(3, np.random.RandomState(4))
    auto.initialize(3, np.random.RandomState(4))
    V = rng.normal(size=(params.size, 2))
    f, G = auto.predict(params, X), auto.jvp(params, X, V)
    for direction, expected in [(None, None), (V[:, 0], G[:, 0]), (V, G)]:
        for prediction in [True, False]:
            evaluate = analytic.pool_evaluator(params, direction, prediction=prediction)
            for pool in [X, sparse.csr_matrix(X)]:
                value, jvp = evaluate(pool)
                assert (value is None) == (not prediction)
                assert (jvp is None) == (direction is None)
                if prediction:
                    np.testing.assert_allclose(value, f, rtol=1e-12, atol=1e-12)
                if direction is not None:
                    np.testing.assert_allclose(jvp, expected, rtol=1e-12, atol=1e-12)
            # A float32 block, centered on the (far from zero) mean: float32-close.
            value, jvp = analytic.pool_evaluator(
                params, direction, center=X.mean(axis=0), prediction=prediction
            )(X.astype(np.float32))
            X32 = X.astype(np.float32).astype(np.float64)
            f32, G32 = auto.predict(params, X32), auto.jvp(params, X32, V)
            if prediction:
                assert value.dtype == np.float64
                np.testing.assert_allclose(value, f32, rtol=1e-5, atol=1e-5 * np.abs(f32).max())
            if direction is not None:
                wanted = G32 if np.ndim(direction) == 2 else G32[:, 0]
                np.testing.assert_allclose(jvp, wanted, rtol=1e-4, atol=1e-5 * np.abs(wanted).max())
