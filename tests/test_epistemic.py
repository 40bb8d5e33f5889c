"""Epistemic curiosity (``uncertainty=``) against independent oracles: the
predictive std of ``predict(return_std=True)``, Monte Carlo over the Laplace
posterior and the label noise with a Hessian formed densely here, refits with
the greedy picks added at their predicted labels, and a Gauss-Newton factor
rebuilt on the augmented design."""

import numpy as np
import pytest
from autograd import jacobian
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity
from sklearn_curiosity._laplace import GaussNewtonCovariance
from sklearn_curiosity.models import MLP
from sklearn_curiosity.query import (
    influence_sampling,
    run_active_learning,
)
from sklearn_curiosity.query._influence import (
    _greedy_influence,
    _RankOneQuadraticForm,
    _RankOneTangent,
)
from sklearn_curiosity.regularizers import L2Regularizer, QuadraticPenalties

UNCERTAINTIES = ["noise", "epistemic", "total"]


def make_problem(n_samples=30, n_features=3, n_pool=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 2, n_features) + 1.0
    y = np.sin(X[:, 0]) + X @ rng.normal(size=n_features) + 0.3 * rng.normal(size=n_samples)
    X_pool = 2.0 * rng.normal(size=(n_pool, n_features)) + 1.0
    return X, y, X_pool


def fit(model, X, y, **params):
    if model == "mlp":
        params = dict(model="mlp", hidden_layer_sizes=(4,), random_state=0, tol=1e-10,
                      max_iter=2000, **params)
    return CuriousRegressor(**params).fit(X, y)


def factor_from_std(reg, X):
    """``v = std^2 / sigma^2 - 1`` from the public predictive std."""
    _, std = reg.predict(X, return_std=True)
    return std**2 / reg.noise_variance_ - 1.0


# --- the scores ---------------------------------------------------------------


@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_scores_are_the_curiosity_times_the_predictive_variance_ratio(model):
    X, y, X_pool = make_problem()
    reg = fit(model, X, y, alpha=2.0)
    sigma2 = reg.noise_variance_
    g = regularity_sensitivity(reg, X_pool)
    v = factor_from_std(reg, X_pool)
    assert np.all(v > 0)
    expected = {
        "noise": sigma2 * g**2,
        "epistemic": sigma2 * g**2 * v,
        "total": sigma2 * g**2 * (1 + v),
    }
    for uncertainty, oracle in expected.items():
        np.testing.assert_allclose(
            reg.influence_score(X_pool, uncertainty=uncertainty), oracle, rtol=1e-10
        )
        np.testing.assert_allclose(
            influence_score(reg, X_pool, uncertainty=uncertainty), oracle, rtol=1e-10
        )
    # The default is the paper's curiosity.
    np.testing.assert_array_equal(reg.influence_score(X_pool), expected["noise"])


def test_several_regularities_scale_every_column_alike():
    X, y, X_pool = make_problem(n_features=4)
    penalties = QuadraticPenalties([np.diag([1.0, 1, 0, 0]), np.diag([0.0, 0, 1, 1])])
    reg = CuriousRegressor(alpha=[1.0, 5.0], regularizer=penalties).fit(X, y)
    g = reg.regularity_sensitivity(X_pool)
    assert g.shape == (len(X_pool), 2)
    v = factor_from_std(reg, X_pool)
    columns = reg.influence_score(X_pool, per_regularity=True, uncertainty="epistemic")
    np.testing.assert_allclose(columns, reg.noise_variance_ * g**2 * v[:, None], rtol=1e-10)
    np.testing.assert_allclose(
        reg.influence_score(X_pool, uncertainty="epistemic"), columns.sum(axis=1), rtol=1e-12
    )


def test_pipeline_scores_in_the_final_steps_space():
    X, y, X_pool = make_problem()
    pipe = make_pipeline(StandardScaler(), CuriousRegressor(alpha=1.0)).fit(X, y)
    for uncertainty in UNCERTAINTIES:
        np.testing.assert_allclose(
            influence_score(pipe, X_pool, uncertainty=uncertainty),
            pipe[-1].influence_score(pipe[0].transform(X_pool), uncertainty=uncertainty),
            rtol=1e-12,
        )


def _monte_carlo(predict, params, covariance_root, noise_variance, g, n_draws, rng):
    """Draws of ``I = (f(x; theta) + eps - f(x; theta*)) g(x)`` over the posterior and noise.

    ``theta ~ N(theta*, sigma^2 H^-1)`` through ``covariance_root`` (any ``C``
    with ``C C^T = H^-1``) and ``eps ~ N(0, sigma^2)``: the label of an
    unlabelled point ``y = f*(x) + eps`` with ``f*`` drawn from the posterior.
    Returns the squared influences of the posterior part alone and of both
    parts, as (n_draws, n_pool) arrays.
    """
    draws = params[:, None] + np.sqrt(noise_variance) * covariance_root @ rng.normal(
        size=(len(params), n_draws)
    )
    model_error = (predict(draws) - predict(params)[:, None]).T
    noise = np.sqrt(noise_variance) * rng.normal(size=model_error.shape)
    return (model_error * g) ** 2, ((model_error + noise) * g) ** 2


def _check_monte_carlo(reg, epistemic_draws, total_draws, X_pool):
    n_draws = len(total_draws)
    for uncertainty, draws in (("epistemic", epistemic_draws), ("total", total_draws)):
        mean = draws.mean(axis=0)
        standard_error = draws.std(axis=0, ddof=1) / np.sqrt(n_draws)
        scores = reg.influence_score(X_pool, uncertainty=uncertainty)
        assert np.all(np.abs(scores - mean) <= 5 * standard_error + 1e-15), uncertainty


def test_linear_scores_equal_monte_carlo_over_the_posterior_and_the_noise():
    X, y, X_pool = make_problem(n_pool=15)
    reg = CuriousRegressor(alpha=3.0).fit(X, y)
    # The Hessian written out here: [X, 1]^T [X, 1] + alpha on the coefficients.
    design = np.column_stack([X, np.ones(len(X))])
    H = design.T @ design + np.diag([3.0] * X.shape[1] + [0.0])
    root = np.linalg.cholesky(np.linalg.inv(H))
    pool_design = np.column_stack([X_pool, np.ones(len(X_pool))])
    g = reg.regularity_sensitivity(X_pool)
    epistemic, total = _monte_carlo(
        lambda theta: pool_design @ theta, reg.params_, root, reg.noise_variance_, g,
        n_draws=40_000, rng=np.random.RandomState(0),
    )
    _check_monte_carlo(reg, epistemic, total, X_pool)


def test_network_scores_equal_monte_carlo_over_the_linearized_laplace_posterior():
    # The Laplace predictive of a network is that of the network linearized at
    # theta*, f(x; theta*) + J(x) (theta - theta*): the posterior sampled here
    # is over that, with J and the Gauss-Newton Hessian from autograd (not the
    # package's hand-written derivatives or factor). The network itself is not
    # linear over the posterior's width, so draws of the exact f differ.
    X, y, X_pool = make_problem(n_samples=60, n_pool=12, seed=3)
    reg = fit("mlp", X, y, alpha=1.0)
    model = MLP((4,), "tanh", "autograd")
    model.initialize(X.shape[1], np.random.RandomState(0))
    J = jacobian(lambda theta: model.predict(theta, X))(reg.params_)
    J_pool = jacobian(lambda theta: model.predict(theta, X_pool))(reg.params_)
    penalized = reg._model.penalized.astype(float)
    G = J.T @ J + np.diag(1.0 * penalized)
    root = np.linalg.cholesky(np.linalg.inv(G))
    g = reg.regularity_sensitivity(X_pool)
    epistemic, total = _monte_carlo(
        lambda theta: J_pool @ theta, reg.params_, root, reg.noise_variance_, g,
        n_draws=40_000, rng=np.random.RandomState(1),
    )
    _check_monte_carlo(reg, epistemic, total, X_pool)


# --- the greedy batch ---------------------------------------------------------


def _refit_scores(reg, X, y, X_pool, earlier, uncertainty, **params):
    """Scores of a from-scratch refit with the earlier picks at their predicted labels."""
    y_earlier = reg.predict(X_pool[earlier]) if len(earlier) else []
    refit = CuriousRegressor(**params).fit(
        np.vstack([X, X_pool[earlier]]), np.concatenate([y, y_earlier])
    )
    g = refit.regularity_sensitivity(X_pool)
    v = factor_from_std(refit, X_pool)
    factor = {"noise": 1.0, "epistemic": v, "total": 1.0 + v}[uncertainty]
    # The noise variance stays that of the original fit within a batch.
    return reg.noise_variance_ * g**2 * factor


@pytest.mark.parametrize("uncertainty", UNCERTAINTIES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_greedy_scores_are_those_of_refits_with_the_earlier_picks(uncertainty, fit_intercept):
    X, y, X_pool = make_problem(seed=1)
    params = dict(alpha=2.0, fit_intercept=fit_intercept)
    reg = CuriousRegressor(**params).fit(X, y)
    indices, picked, utilities = _greedy_influence(
        reg, X_pool, 6, return_utilities=True, uncertainty=uncertainty
    )
    np.testing.assert_array_equal(
        influence_sampling(reg, X_pool, 6, batch="greedy", uncertainty=uncertainty)[0], indices
    )
    for j, index in enumerate(indices):
        expected = _refit_scores(reg, X, y, X_pool, indices[:j], uncertainty, **params)
        expected[indices[:j]] = np.nan
        np.testing.assert_allclose(
            utilities[j], expected, rtol=1e-8, atol=1e-8 * np.nanmax(expected)
        )
        assert index == np.nanargmax(expected)
        np.testing.assert_allclose(picked[j], expected[index], rtol=1e-8)


def test_network_quadratic_form_equals_a_rebuilt_gauss_newton_factor():
    X, y, X_pool = make_problem(n_samples=40)
    reg = fit("mlp", X, y, alpha=1.0)
    tangent = _RankOneTangent(reg)
    quadratic_form = _RankOneQuadraticForm(reg, X_pool)
    picks = [3, 40, 40, 7]  # a repeated row is a legitimate rank-one step too
    for pick in picks:
        row = X_pool[[pick]]
        tangent.add(row)
        quadratic_form.add(row)
    # G of the design with the picks added (unit weight), formed from scratch.
    rebuilt = GaussNewtonCovariance(
        reg._model, L2Regularizer(reg._model.penalized), 1.0, np.vstack([X, X_pool[picks]]),
        np.ones(len(X) + len(picks)), reg.params_,
    )
    np.testing.assert_allclose(
        quadratic_form.values, rebuilt.inverse_quadratic_form(X_pool), rtol=1e-8
    )


def test_greedy_epistemic_batch_spreads_out_over_duplicates():
    X, y, _ = make_problem()
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    rng = np.random.RandomState(0)
    far = np.array([[6.0, -4.0, 5.0]])
    pool = np.vstack([np.repeat(far, 20, axis=0), 2 * rng.normal(size=(60, 3))])
    top_k, _ = influence_sampling(reg, pool, 6, uncertainty="epistemic")
    greedy, scores = influence_sampling(reg, pool, 6, batch="greedy", uncertainty="epistemic")
    assert np.all(top_k < 20)  # six copies of the same far point
    assert np.sum(greedy < 20) < 6
    assert np.all(np.diff(scores) <= 1e-12)  # adding points never raises v or g^2 here


# --- parameters and plumbing --------------------------------------------------


def test_bad_uncertainty_names_the_options():
    X, y, X_pool = make_problem()
    reg = CuriousRegressor().fit(X, y)
    calls = [
        lambda: reg.influence_score(X_pool, uncertainty="aleatoric"),
        lambda: influence_score(reg, X_pool, uncertainty="aleatoric"),
        lambda: influence_sampling(reg, X_pool, uncertainty="aleatoric"),
        lambda: influence_sampling(reg, X_pool, 2, batch="greedy", uncertainty=None),
    ]
    for call in calls:
        with pytest.raises(ValueError, match='"noise", "epistemic" or "total"'):
            call()


@pytest.mark.parametrize("uncertainty", ["epistemic", "total"])
def test_labels_accept_only_the_default(uncertainty):
    X, y, _ = make_problem()
    reg = CuriousRegressor().fit(X, y)
    with pytest.raises(ValueError, match="unlabelled points only"):
        reg.influence_score(X, y, uncertainty=uncertainty)
    with pytest.raises(ValueError, match="unlabelled points only"):
        influence_score(reg, X, y, uncertainty=uncertainty)
    np.testing.assert_array_equal(
        reg.influence_score(X, y, uncertainty="noise"), reg.influence_score(X, y)
    )


def test_run_active_learning_forwards_the_uncertainty():
    X, y, X_pool = make_problem(n_samples=60)
    y_pool = np.sin(X_pool[:, 0]) + X_pool.sum(axis=1)
    initial = np.arange(10)
    runs = {}
    for uncertainty in ("noise", "epistemic"):
        runs[uncertainty] = run_active_learning(
            CuriousRegressor(alpha=1.0), influence_sampling, X_pool, y_pool,
            n_queries=1, batch_size=3, X_test=X, y_test=y, initial_indices=initial,
            strategy_kwargs={"batch": "greedy", "uncertainty": uncertainty},
        )
        # The loop's first query is the strategy's on the initial fit.
        first = CuriousRegressor(alpha=1.0).fit(X_pool[initial], y_pool[initial])
        candidates = np.arange(10, len(X_pool))
        picks, _ = influence_sampling(
            first, X_pool[candidates], 3, batch="greedy", uncertainty=uncertainty
        )
        np.testing.assert_array_equal(runs[uncertainty].queried_indices[0], candidates[picks])
    assert not np.array_equal(runs["noise"].queried_indices, runs["epistemic"].queried_indices)


@pytest.mark.parametrize("batch", [None, "greedy"])
def test_skactiveml_influence_sampling_takes_the_uncertainty(batch):
    pytest.importorskip("skactiveml")
    from skactiveml.regressor import SklearnRegressor

    from sklearn_curiosity.skactiveml import InfluenceSampling

    X, y, X_pool = make_problem()
    X_all = np.vstack([X, X_pool])
    y_all = np.concatenate([y, np.full(len(X_pool), np.nan)])
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    expected_indices, _, expected_utilities = _greedy_influence(
        reg, X_pool, 4, return_utilities=True, uncertainty="total"
    )
    if batch is None:
        expected_indices, _ = influence_sampling(reg, X_pool, 4, uncertainty="total")
    strategy = InfluenceSampling(batch=batch, uncertainty="total", random_state=0)
    indices, utilities = strategy.query(
        X_all, y_all, SklearnRegressor(CuriousRegressor(alpha=1.0)), batch_size=4,
        return_utilities=True,
    )
    np.testing.assert_array_equal(indices, len(X) + expected_indices)
    if batch is None:
        np.testing.assert_allclose(
            utilities[0, len(X):], reg.influence_score(X_pool, uncertainty="total"), rtol=1e-12
        )
    else:
        np.testing.assert_allclose(utilities[:, len(X):], expected_utilities, rtol=1e-12)
    with pytest.raises(ValueError, match='"noise", "epistemic" or "total"'):
        InfluenceSampling(uncertainty="both").query(
            X_all, y_all, SklearnRegressor(CuriousRegressor())
        )


def test_dask_pool_gives_the_in_memory_scores():
    da = pytest.importorskip("dask.array")
    X, y, X_pool = make_problem()
    reg = CuriousRegressor(alpha=1.0).fit(X, y)
    lazy = influence_score(reg, da.from_array(X_pool, chunks=(25, 3)), uncertainty="epistemic")
    np.testing.assert_allclose(
        lazy.compute(), reg.influence_score(X_pool, uncertainty="epistemic"), rtol=1e-12
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_hierarchical_scores_use_the_dense_hessian(fit_intercept):
    from sklearn_curiosity import HierarchicalCuriousRegressor

    rng = np.random.RandomState(0)
    X = rng.normal(size=(45, 2))
    groups = np.repeat(["a", "b", "c"], 15)
    y = X @ [1.0, -1.0] + np.repeat([0.0, 1.0, -1.0], 15) + 0.3 * rng.normal(size=45)
    alpha, deviation_alpha = 2.0, 5.0
    reg = HierarchicalCuriousRegressor(alpha, deviation_alpha, fit_intercept=fit_intercept)
    reg.fit(X, y, groups=groups)
    X_pool = 2 * rng.normal(size=(20, 2))
    pool_groups = np.array(["a", "b", "c", "new"] * 5)  # "new": unseen, the shared model

    # The design in theta = [beta, delta_a, delta_b, delta_c] layout, written out.
    phi = np.column_stack([X, np.ones(45)]) if fit_intercept else X
    q = phi.shape[1]

    def design(features, labels):
        rows = np.zeros((len(features), 4 * q))
        rows[:, :q] = features
        for user, name in enumerate("abc"):
            rows[labels == name, (user + 1) * q : (user + 2) * q] = features[labels == name]
        return rows

    Z = design(phi, groups)
    penalty = np.r_[[alpha] * X.shape[1], [0.0] * (q - X.shape[1]), [deviation_alpha] * 3 * q]
    H = Z.T @ Z + np.diag(penalty)
    pool_phi = np.column_stack([X_pool, np.ones(20)]) if fit_intercept else X_pool
    J = design(pool_phi, pool_groups)
    v = np.einsum("ij,ij->i", J, np.linalg.solve(H, J.T).T)
    g = reg.regularity_sensitivity(X_pool, pool_groups)
    noise = reg.noise_variance_ * g**2
    for uncertainty, factor in (("noise", 1.0), ("epistemic", v), ("total", 1.0 + v)):
        np.testing.assert_allclose(
            reg.influence_score(X_pool, groups=pool_groups, per_regularity=True,
                                uncertainty=uncertainty),
            noise * np.reshape(factor, (-1, 1)), rtol=1e-9,
        )
    with pytest.raises(ValueError, match='"noise", "epistemic" or "total"'):
        reg.influence_score(X_pool, groups=pool_groups, uncertainty="all")


@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_sparse_pools_give_the_dense_answers(model):
    from scipy import sparse

    X, y, X_pool = make_problem()
    X_pool[np.abs(X_pool) < 1.0] = 0.0
    reg = fit(model, X, y, alpha=2.0)
    for uncertainty in ("epistemic", "total"):
        for batch in (None, "greedy"):
            dense = influence_sampling(reg, X_pool, 4, batch=batch, uncertainty=uncertainty)
            lazy = influence_sampling(
                reg, sparse.csr_matrix(X_pool), 4, batch=batch, uncertainty=uncertainty
            )
            np.testing.assert_array_equal(lazy[0], dense[0])
            np.testing.assert_allclose(lazy[1], dense[1], rtol=1e-10)
