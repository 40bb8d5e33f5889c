"""Scoring a float32 pool: the float32 path against float64, and the exact mode.

Oracles: the same regressor scoring the same values given as float64 (float64
arithmetic throughout), and the textbook bound of a float32 dot product,
``|fl(x . w) - x . w| <= n * 2**-24 * sum_j |x_j| |w_j|``. Real data:
scikit-learn's bundled diabetes and breast cancer sets (the latter raw, its
features spanning six orders of magnitude, so that products cancel).
"""

import warnings

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import CuriousRegressor
from sklearn_curiosity.query import (
    greedy_sampling_x,
    greedy_sampling_y,
    improved_greedy_sampling,
    influence_sampling,
    variance_sampling,
)

UNIT_ROUNDOFF = 2.0**-24


def _real_data(name):
    if name == "diabetes":
        return load_diabetes(return_X_y=True)
    X, _ = load_breast_cancer(return_X_y=True)
    # Predict the mean area from the other 29 measurements.
    return np.delete(X, 3, axis=1), X[:, 3]


def _pools(X):
    pool32 = X.astype(np.float32)
    return pool32, pool32.astype(np.float64)


def _center(reg):
    """The float32 row the float32 path centers on (zero where it does not)."""
    center = reg._input_center
    return 0.0 if center is None else center.astype(np.float32).astype(np.float64)


def _fit(model, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if model == "linear":
            return CuriousRegressor(alpha=1.0, **params).fit(X, y)
        return CuriousRegressor(
            "mlp", alpha=1.0, hidden_layer_sizes=model, max_iter=100, random_state=0, **params
        ).fit(X, y)


@pytest.mark.parametrize("dataset", ["diabetes", "breast_cancer"])
def test_linear_float32_products_are_within_the_float32_bound(dataset):
    X, y = _real_data(dataset)
    reg = _fit("linear", X, y)
    # Diabetes is centered already; the breast cancer set's features are not.
    assert (reg._input_center is None) == (dataset == "diabetes")
    pool32, pool64 = _pools(X)
    assert reg._scoring_dtype(pool32) == np.float32
    # The float32 path multiplies rows centered on the (float32) training
    # mean; the bound is on that product's terms.
    center = _center(reg)
    terms = np.abs(pool64 - center)
    n_terms = X.shape[1] + 3  # the sum, the rounded weights, center and result
    for w, got, exact in [
        (reg.coef_, reg.predict(pool32), reg.predict(pool64)),
        (reg.tangent_[:-1], reg.regularity_sensitivity(pool32),
         reg.regularity_sensitivity(pool64)),
    ]:
        bound = n_terms * UNIT_ROUNDOFF * (terms @ np.abs(w))
        assert got.dtype == np.float64
        assert np.all(np.abs(got - exact) <= bound)
        assert np.any(got != exact)  # it really was computed in float32
    # Scores sigma^2 g^2 and (f - y) g inherit the bound on g (and on f).
    g = reg.regularity_sensitivity(pool64)
    g_bound = n_terms * UNIT_ROUNDOFF * (terms @ np.abs(reg.tangent_[:-1]))
    score_bound = reg.noise_variance_ * g_bound * (2 * np.abs(g) + g_bound)
    np.testing.assert_array_less(
        np.abs(reg.influence_score(pool32) - reg.influence_score(pool64)), score_bound + 1e-300
    )


def test_linear_float32_scores_agree_to_1e5_relative_on_real_data():
    # Diabetes as bundled (centered, scaled): 99% of the scores within 1e-5
    # relative of float64; the rest, whose products cancel most, within the
    # bound on their terms' scale (test above).
    X, y = _real_data("diabetes")
    reg = _fit("linear", X, y)
    pool32, pool64 = _pools(X)
    for call in [
        reg.predict,
        reg.regularity_sensitivity,
        reg.influence_score,
        lambda P: reg.influence_score(P, y),
    ]:
        got, exact = call(pool32), call(pool64)
        relative = np.abs(got - exact) / np.abs(exact)
        assert np.quantile(relative, 0.99) <= 1e-5


def _centered_hessian(X, reg):
    """The dense ``A = Xc^T Xc + alpha I`` (unit weights) and the centering row ``c``."""
    center = X.mean(axis=0)
    centered = X - center
    return centered.T @ centered + reg.alpha * np.eye(X.shape[1]), center


@pytest.mark.parametrize("dataset", ["diabetes", "breast_cancer"])
def test_linear_float32_std_is_within_its_bound(dataset):
    # The predictive variance's v(x) = (x - c)^T A^-1 (x - c) + 1 / n against
    # a dense float64 solve, within the bound of a float32 triangular product
    # with the inverse Cholesky factor: (p + 3) u (2 ||z|| || |L^-1| t || +
    # ||z||^2), z = L^-1 (x - c), t = |x - c| + u |c| (c rounded to float32).
    X, y = _real_data(dataset)
    reg = _fit("linear", X, y)
    pool32, pool64 = _pools(X)
    A, center = _centered_hessian(X, reg)
    d = pool64 - center
    exact_v = np.einsum("ij,ij->i", d, np.linalg.solve(A, d.T).T) + 1.0 / len(X)
    inverse_factor = np.linalg.inv(np.linalg.cholesky(A))
    z_norm = np.linalg.norm(d @ inverse_factor.T, axis=1)
    terms = np.abs(d) + UNIT_ROUNDOFF * np.abs(center)
    spread = np.linalg.norm(terms @ np.abs(inverse_factor).T, axis=1)
    bound = (X.shape[1] + 3) * UNIT_ROUNDOFF * (2 * z_norm * spread + z_norm**2)
    _, std32 = reg.predict(pool32, return_std=True)
    v32 = std32**2 / reg.noise_variance_ - 1.0
    # 1e-12: the float64 solve's own error, and the std's square and root.
    assert np.all(np.abs(v32 - exact_v) <= bound + 1e-12 * (1 + exact_v))
    _, std64 = reg.predict(pool64, return_std=True)
    np.testing.assert_allclose(std32, std64, rtol=1e-6)
    assert np.any(std32 != std64)  # it really was computed in float32


def test_linear_float32_std_of_features_far_from_zero():
    # Means 1e4 to 1e5 times the spread: the float32 centering on the rounded
    # mean leaves L^-1 (mean32 - mean) out, which is put back (without it, v
    # was off by 3e-3 relative here).
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 10)) * 0.01 + np.linspace(100, 1000, 10)
    y = (X - X.mean(axis=0)).sum(axis=1) * 100 + rng.normal(size=200)
    reg = CuriousRegressor(alpha=1e-4).fit(X, y)
    pool32, pool64 = _pools(X)
    A, center = _centered_hessian(X, reg)
    d = pool64 - center
    exact_v = np.einsum("ij,ij->i", d, np.linalg.solve(A, d.T).T) + 1.0 / len(X)
    _, std32 = reg.predict(pool32, return_std=True)
    np.testing.assert_allclose(std32**2 / reg.noise_variance_ - 1.0, exact_v, rtol=1e-5)


def test_linear_float32_uncertainty_scores_with_several_regularities_and_sparse_pools():
    from scipy import sparse

    from sklearn_curiosity.regularizers import QuadraticPenalties

    X, y = _real_data("diabetes")
    X = StandardScaler().fit_transform(X)
    groups = np.arange(X.shape[1]) >= 5  # two groups of features
    reg = CuriousRegressor(
        alpha=[1.0, 3.0], regularizer=QuadraticPenalties.feature_groups(groups)
    ).fit(X, y)
    pool32, pool64 = _pools(X)
    noise32, noise64 = (reg.influence_score(P, per_regularity=True) for P in (pool32, pool64))
    for uncertainty in ["epistemic", "total"]:
        got, exact = (
            reg.influence_score(P, uncertainty=uncertainty, per_regularity=True)
            for P in (pool32, pool64)
        )
        assert got.shape == (len(X), 2)
        # The factor v (or 1 + v) of each column is float32-accurate; g's own
        # rounding is the noise scores' (tests above).
        factor32, factor64 = got / noise32, exact / noise64
        np.testing.assert_allclose(factor32, factor64, rtol=1e-6)
        # v itself was computed in float32 (more than a division's rounding).
        assert np.max(np.abs(factor32 / factor64 - 1)) > 1e-12
        # A sparse float32 pool is computed in float64 (a sparse product
        # sums in another order: not bit for bit).
        np.testing.assert_allclose(
            reg.influence_score(sparse.csr_matrix(pool32), uncertainty=uncertainty,
                                per_regularity=True),
            exact, rtol=1e-10, atol=1e-12 * np.abs(exact).max(),
        )
    _, std32 = reg.predict(pool32, return_std=True)
    np.testing.assert_allclose(std32, reg.predict(pool64, return_std=True)[1], rtol=1e-6)


@pytest.mark.parametrize("hidden", [(16,), (8, 8)])
@pytest.mark.parametrize("dataset", ["diabetes", "breast_cancer"])
def test_network_float32_scores_agree_with_float64(dataset, hidden):
    X, y = _real_data(dataset)
    X = StandardScaler().fit_transform(X)
    reg = _fit(hidden, X, (y - y.mean()) / y.std())
    pool32, pool64 = _pools(X)
    for method, rtol in [
        ("predict", 1e-5),
        # g's response to float32 rounding (the first layer's sums, then the
        # activations and slopes) is the network's own conditioning: measured
        # at most 1.3e-5 of |g| + rms(g) on these sets over four fits each
        # (1e-4 to 4e-4 relative at the 99th percentile, where g is small).
        ("regularity_sensitivity", 1e-4),
        ("influence_score", 1e-4),
    ]:
        got, exact = getattr(reg, method)(pool32), getattr(reg, method)(pool64)
        scale = np.sqrt(np.mean(exact**2))
        assert np.all(np.abs(got - exact) <= rtol * (np.abs(exact) + scale)), method
        assert np.median(np.abs(got - exact) / (np.abs(exact) + scale)) < 1e-5
        assert np.any(got != exact)


@pytest.mark.parametrize("model", ["linear", (16,), (8, 8)])
def test_float64_precision_equals_float64_input_bit_for_bit(model):
    X, y = _real_data("diabetes")
    X = StandardScaler().fit_transform(X)
    reg = _fit(model, X, y, precision="float64")
    pool32, pool64 = _pools(X)
    y32 = y.astype(np.float32)
    for call in [
        lambda P: reg.predict(P),
        lambda P: reg.predict(P, return_std=True)[1],
        lambda P: reg.regularity_sensitivity(P),
        lambda P: reg.influence_score(P),
        lambda P: reg.influence_score(P, y32),
    ]:
        np.testing.assert_array_equal(call(pool32), call(pool64))
    with config_context(working_memory=0.01):  # many chunks, and blocks
        np.testing.assert_array_equal(reg.influence_score(pool32), reg.influence_score(pool64))


def _ranking_agrees(got, exact, tolerance):
    """Every pair ordered differently is within ``tolerance`` of a tie."""
    order = np.argsort(got, kind="stable")
    sorted_exact = exact[order]
    # A later (larger by got) score may be smaller by exact only by a near-tie.
    running_max = np.maximum.accumulate(sorted_exact)
    return np.all(running_max - sorted_exact <= tolerance[order] + np.maximum.accumulate(
        tolerance[order]))


@pytest.mark.parametrize("dataset", ["diabetes", "breast_cancer"])
def test_float32_rankings_agree_with_float64_except_near_ties(dataset):
    X, y = _real_data(dataset)
    reg = _fit("linear", X, y)
    pool32, pool64 = _pools(X)
    got, exact = reg.influence_score(pool32), reg.influence_score(pool64)
    terms = np.abs(pool64 - _center(reg)) @ np.abs(reg.tangent_[:-1])
    g_bound = (X.shape[1] + 3) * UNIT_ROUNDOFF * terms
    g = np.sqrt(exact / reg.noise_variance_)
    tolerance = reg.noise_variance_ * g_bound * (2 * g + g_bound)
    assert _ranking_agrees(got, exact, tolerance)
    # The queries' top picks are the same points.
    for n in [1, 10, 50]:
        picked32, _ = influence_sampling(reg, pool32, n)
        picked64, _ = influence_sampling(reg, pool64, n)
        np.testing.assert_array_equal(np.sort(picked32), np.sort(picked64))


@pytest.mark.parametrize("hidden", [(16,), (8, 8)])
@pytest.mark.parametrize("dataset", ["diabetes", "breast_cancer"])
def test_network_float32_rankings_agree_with_float64_except_near_ties(dataset, hidden):
    X, y = _real_data(dataset)
    X = StandardScaler().fit_transform(X)
    reg = _fit(hidden, X, (y - y.mean()) / y.std())
    pool32, pool64 = _pools(X)
    got, exact = reg.influence_score(pool32), reg.influence_score(pool64)
    # The tolerance of test_network_float32_scores_agree_with_float64.
    tolerance = 1e-4 * (exact + np.sqrt(np.mean(exact**2)))
    assert _ranking_agrees(got, exact, tolerance)
    # The queries' top picks are the same points, unless the n-th and the
    # next score are within the tolerance of a tie.
    descending = np.sort(exact)[::-1]
    for n in [1, 10, 50]:
        if descending[n - 1] - descending[n] <= 2 * tolerance.max():
            continue
        picked32, _ = influence_sampling(reg, pool32, n)
        picked64, _ = influence_sampling(reg, pool64, n)
        np.testing.assert_array_equal(np.sort(picked32), np.sort(picked64))


@pytest.mark.parametrize("precision", ["auto", "float64"])
@pytest.mark.parametrize("model", ["linear", (8,)])
def test_queries_work_with_float32_pools(model, precision):
    X, y = _real_data("diabetes")
    X = StandardScaler().fit_transform(X)
    labelled = np.arange(0, 442, 4)
    pool = np.setdiff1d(np.arange(442), labelled)
    reg = _fit(model, X[labelled], y[labelled], precision=precision)
    pool32, pool64 = _pools(X[pool])
    for strategy, kwargs in [
        (influence_sampling, {}),
        (influence_sampling, {"batch": "greedy"}),
        (variance_sampling, {}),
        (greedy_sampling_x, {"X_labelled": X[labelled]}),
        (greedy_sampling_y, {"y_labelled": y[labelled]}),
        (improved_greedy_sampling, {"X_labelled": X[labelled], "y_labelled": y[labelled]}),
    ]:
        picked32, scores32 = strategy(reg, pool32, 5, **kwargs)
        picked64, scores64 = strategy(reg, pool64, 5, **kwargs)
        np.testing.assert_array_equal(picked32, picked64, err_msg=strategy.__name__)
        np.testing.assert_allclose(scores32, scores64, rtol=1e-4, err_msg=strategy.__name__)


def test_precision_is_checked_and_forwarded_by_the_search():
    from sklearn_curiosity import CuriousRegressorCV

    X, y = _real_data("diabetes")
    with pytest.raises(ValueError, match="precision"):
        CuriousRegressor(precision="float16").fit(X, y)
    search = CuriousRegressorCV(alphas=[0.1, 1.0], precision="float64").fit(X, y)
    assert search.get_params()["precision"] == "float64"
    pool32, pool64 = _pools(X)
    np.testing.assert_array_equal(search.influence_score(pool32), search.influence_score(pool64))
