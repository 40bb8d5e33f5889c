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
