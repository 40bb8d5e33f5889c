"""Numerical edge cases, each checked against an independent oracle where there is a number.

Oracles: sklearn's Ridge and LinearRegression for the fit, central finite
differences of refits for the tangent, dropping rows for zero weights.
"""

import re
import warnings

import numpy as np
import pytest
from scipy.linalg import LinAlgWarning
from scipy import sparse
from sklearn import config_context
from sklearn.linear_model import LinearRegression, Ridge

from sklearn_curiosity import (
    CuriosityWarning,
    CuriousRegressor,
    CuriousRegressorCV,
    HierarchicalCuriousRegressor,
)
from sklearn_curiosity.query import influence_sampling, user_influence_sampling


def _finite_difference_tangent(X, y, alpha, rel_step=1e-4, **fit_params):
    h = rel_step * alpha
    plus = CuriousRegressor(alpha=alpha + h).fit(X, y, **fit_params).params_
    minus = CuriousRegressor(alpha=alpha - h).fit(X, y, **fit_params).params_
    return (plus - minus) / (2 * h)


def _check_against_oracles(X, y, alpha, rtol=1e-6):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)  # well-posed: no warning
        reg = CuriousRegressor(alpha=alpha).fit(X, y)
    ridge = Ridge(alpha=alpha).fit(X, y)
    scale = np.abs(ridge.coef_).max() + np.abs(ridge.intercept_)
    np.testing.assert_allclose(reg.coef_, ridge.coef_, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(reg.intercept_, ridge.intercept_, rtol=rtol, atol=rtol * scale)
    fd = _finite_difference_tangent(X, y, alpha)
    # The differences carry the refits' rounding, eps * |theta| / h.
    fd_noise = 100 * np.finfo(float).eps * np.abs(reg.params_).max() / (1e-4 * alpha)
    np.testing.assert_allclose(
        reg.tangent_, fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max() + fd_noise
    )
    return reg


@pytest.fixture
def rng():
    return np.random.RandomState(0)


def test_collinear_features_with_alpha_are_well_posed(rng):
    X = rng.normal(size=(30, 3))
    X = np.column_stack([X, X[:, 0], 2 * X[:, 1] - X[:, 2]])
    y = X[:, :3] @ [1.0, 2.0, -1.0] + rng.normal(size=30)
    reg = _check_against_oracles(X, y, alpha=0.5)
    # The penalty splits a duplicated feature's weight equally.
    assert reg.coef_[0] == pytest.approx(reg.coef_[3], rel=1e-10)


def test_constant_feature_gets_zero_coef_and_zero_tangent(rng):
    X = np.column_stack([rng.normal(size=20), np.full(20, 3.0)])
    y = 2 * X[:, 0] + rng.normal(size=20)
    reg = _check_against_oracles(X, y, alpha=1.0)
    assert reg.coef_[1] == pytest.approx(0.0, abs=1e-12)
    assert reg.tangent_[1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("kind", ["collinear", "constant", "p_greater_than_n"])
def test_alpha_zero_on_a_singular_problem_names_the_remedy(rng, kind):
    X = rng.normal(size=(10, 3))
    if kind == "collinear":
        X[:, 2] = X[:, 0] - X[:, 1]
    elif kind == "constant":
        X[:, 2] = 1.0
    else:
        X = rng.normal(size=(5, 8))
    reg = CuriousRegressor(alpha=0.0)
    with pytest.raises(ValueError, match="Raise alpha above 0, or remove the redundant"):
        reg.fit(X, rng.normal(size=len(X)))
    assert not hasattr(reg, "params_")


def test_p_greater_than_n(rng):
    X = rng.normal(size=(8, 40))
    y = X[:, 0] + 0.1 * rng.normal(size=8)
    reg = _check_against_oracles(X, y, alpha=0.3)
    assert reg.effective_dof_ < 8
    assert np.all(np.isfinite(reg.influence_score(rng.normal(size=(5, 40)))))


def test_alpha_to_zero_approaches_least_squares(rng):
    X = rng.normal(size=(40, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.normal(size=40)
    reg = _check_against_oracles(X, y, alpha=1e-9)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(reg.coef_, ols.coef_, rtol=1e-8)
    assert reg.effective_dof_ == pytest.approx(5.0, rel=1e-8)


def test_huge_alpha_shrinks_to_the_mean(rng):
    X = rng.normal(size=(40, 4))
    y = X @ [1.0, -2.0, 0.5, 3.0] + 5.0 + rng.normal(size=40)
    alpha = 1e12
    reg = _check_against_oracles(X, y, alpha=alpha)
    assert np.abs(reg.coef_).max() < 1e-9
    assert reg.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ reg.coef_)
    # theta ~ Xc^T yc / alpha, so d theta / d alpha ~ -theta / alpha.
    np.testing.assert_allclose(reg.tangent_[:-1], -reg.coef_ / alpha, rtol=1e-9)
    assert reg.effective_dof_ == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.isfinite(reg.influence_score(X)))


def test_constant_y_has_no_influence(rng):
    X = rng.normal(size=(20, 3))
    y = np.full(20, 4.2)
    with pytest.warns(CuriosityWarning, match="curiosity .* is zero: the target y is constant"):
        reg = CuriousRegressor(alpha=1.0).fit(X, y)
    np.testing.assert_allclose(reg.params_, [0, 0, 0, 4.2], atol=1e-12)
    np.testing.assert_allclose(reg.tangent_, 0.0, atol=1e-12)
    assert reg.noise_variance_ == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(reg.influence_score(X), 0.0, atol=1e-20)
    np.testing.assert_allclose(reg.influence_score(X, y + 1.0), 0.0, atol=1e-12)


def test_one_sample(rng):
    X, y = rng.normal(size=(1, 3)), np.array([2.0])
    with pytest.warns(UserWarning, match="No residual degrees of freedom.*raise alpha"):
        reg = CuriousRegressor(alpha=1.0).fit(X, y)
    # One point: the centered data is zero, the intercept is the label.
    np.testing.assert_allclose(reg.params_, [0, 0, 0, 2.0], atol=1e-15)
    assert reg.influence_score(X, y) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="cannot be scored.*raise alpha"):
        reg.influence_score(X)


def test_two_samples(rng):
    X = rng.normal(size=(2, 3))
    y = np.array([1.0, -1.0])
    reg = _check_against_oracles(X, y, alpha=1.0)
    assert 1 < reg.effective_dof_ < 2
    assert np.isfinite(reg.noise_variance_) and reg.noise_variance_ > 0
    assert np.all(np.isfinite(reg.influence_score(X)))


def test_zero_weights_equal_dropping_the_rows(rng):
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=30)
    w = rng.randint(0, 3, size=30).astype(float)
    weighted = CuriousRegressor(alpha=0.4).fit(X, y, sample_weight=w)
    keep = w > 0
    dropped = CuriousRegressor(alpha=0.4).fit(
        X[keep], y[keep], sample_weight=w[keep]
    )
    np.testing.assert_allclose(weighted.tangent_, dropped.tangent_, rtol=1e-10)
    np.testing.assert_allclose(weighted.noise_variance_, dropped.noise_variance_, rtol=1e-10)


def test_near_singular_hessian_warns_with_the_remedy(rng):
    X = rng.normal(size=(30, 2))
    X = np.column_stack([X, X[:, 0] + 1e-9 * rng.normal(size=30)])
    y = X[:, :2].sum(axis=1) + rng.normal(size=30)
    with pytest.warns(LinAlgWarning, match="Raise alpha, or remove redundant features"):
        CuriousRegressor(alpha=1e-14).fit(X, y)
    # A sensible threshold: the same data with a moderate alpha, or well
    # conditioned data with a tiny alpha, fit without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        CuriousRegressor(alpha=1e-3).fit(X, y)
        CuriousRegressor(alpha=1e-14).fit(rng.normal(size=(30, 3)), y)


def _exact_ridge(X, y, alpha):
    """Ridge without intercept in exact rational arithmetic (the floats as given)."""
    from fractions import Fraction

    Xf = [[Fraction(v) for v in row] for row in X]
    p = len(Xf[0])
    A = [[sum(r[i] * r[j] for r in Xf) + (Fraction(alpha) if i == j else 0) for j in range(p)]
         for i in range(p)]
    b = [sum(r[i] * Fraction(t) for r, t in zip(Xf, y)) for i in range(p)]
    for k in range(p):  # Gaussian elimination, exact
        for i in range(k + 1, p):
            f = A[i][k] / A[k][k]
            A[i] = [a - f * c for a, c in zip(A[i], A[k])]
            b[i] -= f * b[k]
    x = [Fraction(0)] * p
    for i in reversed(range(p)):
        x[i] = (b[i] - sum(A[i][j] * x[j] for j in range(i + 1, p))) / A[i][i]
    return np.array([float(v) for v in x])


def test_ill_conditioning_that_costs_digits_is_reported(rng):
    # Two features equal to 1e-7 and alpha = 1e-10: the condition number is
    # about 1e12 and the coefficients came out wrong in the 3rd digit, without
    # a warning (the old threshold only caught pivots below 2e-13).
    X = rng.normal(size=(40, 3))
    X[:, 1] = X[:, 0] + 1e-7 * rng.normal(size=40)
    y = X @ [1.0, 2.0, -1.0] + 0.1 * rng.normal(size=40)
    with pytest.warns(LinAlgWarning, match=r"expect about (\d+) correct significant digits") as record:
        reg = CuriousRegressor(alpha=1e-10, fit_intercept=False).fit(X, y)
    exact = _exact_ridge(X, y, 1e-10)
    error = np.abs(reg.coef_ - exact).max() / np.abs(exact).max()
    assert error > 1e-8  # the warning is deserved
    promised = int(re.search(r"expect about (\d+) correct", str(record[0].message)).group(1))
    assert error < 10.0 ** (2 - promised)  # and it does not promise more than holds
    # Well inside the threshold, the same data fit without a warning, to 1e-9.
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinAlgWarning)
        reg = CuriousRegressor(alpha=1e-2, fit_intercept=False).fit(X, y)
    exact = _exact_ridge(X, y, 1e-2)
    np.testing.assert_allclose(reg.coef_, exact, rtol=1e-9)


def test_huge_n_tiny_p(rng):
    X = rng.normal(size=(200_000, 1))
    y = 3 * X[:, 0] + rng.normal(size=200_000)
    reg = _check_against_oracles(X, y, alpha=10.0)
    assert reg.influence_score(X).shape == (200_000,)


def test_tiny_n_huge_p(rng):
    X = rng.normal(size=(5, 1500))
    y = rng.normal(size=5)
    reg = _check_against_oracles(X, y, alpha=1.0, rtol=1e-5)
    assert reg.effective_dof_ < 5


@pytest.mark.parametrize(
    "first, second",
    [
        # The same 21 parameters in another layout: 3*4+4+4+1 and 2*5+5+5+1.
        (dict(n_features=3, hidden_layer_sizes=(4,)), dict(n_features=2, hidden_layer_sizes=(5,))),
        # The same layout with another activation.
        (dict(n_features=3, activation="tanh"), dict(n_features=3, activation="relu")),
    ],
)
def test_warm_start_reuses_weights_only_for_the_same_architecture(rng, first, second):
    # Oracle: a cold fit from the same seed. Before, equal parameter counts
    # were enough to start from the other network's weights.
    def make(n_features, **params):
        X = rng.normal(size=(30, n_features))
        y = np.tanh(X[:, 0]) + 0.1 * rng.normal(size=30)
        settings = dict(model="mlp", hidden_layer_sizes=(4,), max_iter=30, random_state=0)
        return X, y, {**settings, **params}

    X1, y1, params1 = make(**first)
    X2, y2, params2 = make(**second)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short trainings do not converge
        reg = CuriousRegressor(warm_start=True, **params1).fit(X1, y1)
        reg.set_params(**params2).fit(X2, y2)
        cold = CuriousRegressor(**params2).fit(X2, y2)
        np.testing.assert_array_equal(reg.params_, cold.params_)
        # The same architecture does start from the previous weights.
        again = CuriousRegressor(warm_start=True, **params2).fit(X2, y2)
        start = again.params_.copy()
        again.set_params(max_iter=1).fit(X2, y2)
        fresh = CuriousRegressor(**{**params2, "max_iter": 1}).fit(X2, y2)
    assert np.abs(again.params_ - start).max() < np.abs(fresh.params_ - start).max()


# -- overflow: no inf or NaN without an error naming the cause ---------------


def _fit_linear(X, y):
    return CuriousRegressor().fit(X, y)


def _fit_hierarchical(X, y):
    return HierarchicalCuriousRegressor().fit(X, y, groups=np.arange(len(y)) % 3)


FITS = {"CuriousRegressor": _fit_linear, "HierarchicalCuriousRegressor": _fit_hierarchical}


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
def test_overflowing_target_is_refused_at_fit(rng, fit):
    # Before: noise_variance_ = inf, and scoring then blamed the degrees of freedom.
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1) + rng.normal(size=30)
    with pytest.raises(ValueError, match="target overflows.*rescale"):
        fit(X, y * 1e160)
    # The largest magnitudes that do not overflow fit to the scaled answer.
    scaled = fit(X, y * 1e150)
    np.testing.assert_allclose(scaled.coef_, 1e150 * fit(X, y).coef_, rtol=1e-10)


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
@pytest.mark.parametrize("container", [np.asarray, sparse.csr_matrix])
def test_overflowing_features_are_refused_at_fit(rng, fit, container):
    # Before: all-zero coefficients behind a collinearity warning.
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1) + rng.normal(size=30)
    X_big = X.copy()
    X_big[:, 1] *= 1e160
    if fit is _fit_hierarchical and container is sparse.csr_matrix:
        pytest.skip("the hierarchical model takes dense X")
    with pytest.raises(ValueError, match="features overflow.*column 1 of X.*StandardScaler"):
        fit(container(X_big), y)


def test_sample_weights_that_overflow_are_refused(rng):
    X = rng.normal(size=(30, 3))
    with pytest.raises(ValueError, match="overflow.*total sample weight"):
        CuriousRegressor().fit(X, X.sum(axis=1), sample_weight=np.full(30, 1e307))


@pytest.mark.parametrize("fit", FITS.values(), ids=FITS.keys())
def test_a_pool_row_that_overflows_is_named(rng, fit):
    # Before: a row of 1e300 scored inf, first in every ranking.
    X = rng.normal(size=(30, 3))
    reg = fit(X, X.sum(axis=1) + rng.normal(size=30))
    pool = rng.normal(size=(6, 3))
    pool[4] = 1e300
    # Its prediction and sensitivity (about 1e300) are finite; its scores, squares, are not.
    for scores in (
        lambda P: reg.influence_score(P),
        lambda P: reg.influence_score(P, np.zeros(len(P))),
    ):
        overflow = r"1 row\(s\) are not finite \(overflow\), at row index 4:"
        with pytest.raises(ValueError, match=overflow):
            scores(pool)
        # The other rows score as they did.
        assert np.all(np.isfinite(scores(np.delete(pool, 4, axis=0))))
    if fit is _fit_hierarchical:
        with pytest.raises(ValueError, match="at row index 4:"):
            user_influence_sampling(reg, pool, users=[0, 1, 5])


def test_a_pool_row_that_overflows_is_named_through_chunks(rng):
    X = rng.normal(size=(30, 3))
    reg = CuriousRegressor().fit(X, X.sum(axis=1))
    pool = rng.normal(size=(50, 3))
    pool[[7, 41]] = -1e300
    with config_context(working_memory=3 * 8 * 7 / 2**20):  # chunks of about 3 rows
        with pytest.raises(ValueError, match="2 row.*at row index 7, 41:"):
            reg.influence_score(pool)


def test_a_fit_whose_quantities_overflow_is_refused(rng):
    # Each input is finite and so are its squares, but the tangent, about
    # -theta / alpha at alpha=1e-300, is not.
    X = rng.normal(size=(30, 1)) * 1e-160
    y = rng.normal(size=30) * 1e-5
    with pytest.raises(ValueError, match="fit overflowed: tangent_ came out .* rescale X and y"):
        CuriousRegressor(alpha=1e-300).fit(X, y)


# -- scores that carry no information are said to --------------------------


def test_constant_features_warn_that_every_curiosity_is_zero(rng):
    X = np.tile(rng.normal(size=3), (20, 1))
    y = rng.normal(size=20)
    with pytest.warns(CuriosityWarning, match="every feature of X is constant"):
        reg = CuriousRegressor().fit(X, y)
    np.testing.assert_allclose(reg.influence_score(rng.normal(size=(5, 3))), 0, atol=1e-40)
    # Rows with zero weight do not count: constant where it matters.
    X_varied = np.vstack([X, rng.normal(size=(2, 3))])
    with pytest.warns(CuriosityWarning, match="every feature of X is constant"):
        CuriousRegressor().fit(X_varied, np.r_[y, 0, 0], sample_weight=np.r_[np.ones(20), 0, 0])


def test_an_all_zero_ranking_is_never_silent(rng):
    # alpha so large that the tangent underflows to zero: scores of exactly 0
    # ranked the pool in row order, without a word.
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=30)
    with pytest.warns(CuriosityWarning, match="tangent tangent_ is zero.*lower alpha"):
        reg = CuriousRegressor(alpha=1e200).fit(X, y)
    assert not np.any(reg.tangent_)
    # A tangent that is not zero, but whose squared products underflow: the
    # fit cannot tell, the scores can.
    reg = CuriousRegressor(alpha=1e150).fit(X, y)
    assert np.any(reg.tangent_)
    assert np.all(reg.influence_score(X) == 0)
    with pytest.warns(CuriosityWarning, match="Every curiosity of these 5 points is zero"):
        influence_sampling(reg, X[:5], n_instances=2)
    # Rows the tangent does not see (no intercept, all-zero rows).
    reg = CuriousRegressor(fit_intercept=False).fit(X, y)
    with pytest.warns(CuriosityWarning, match="g\\(x\\) = 0 at each of them"):
        reg.influence_score(np.zeros((4, 3)))
    # One point of curiosity is enough to rank by: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CuriosityWarning)
        reg.influence_score(np.vstack([np.zeros((3, 3)), X[:1]]))


def test_informative_fits_do_not_warn(rng):
    X = rng.normal(size=(20, 3))
    y = X[:, 0] + rng.normal(size=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CuriosityWarning)
        reg = CuriousRegressor().fit(X, y)
        HierarchicalCuriousRegressor().fit(X, y, groups=np.arange(20) % 2)
        # One constant column among varied ones is no reason to warn.
        CuriousRegressor().fit(np.column_stack([X, np.ones(20)]), y)
    assert np.all(reg.influence_score(X) > 0)


def test_constant_target_warns_for_the_hierarchical_model(rng):
    X = rng.normal(size=(20, 3))
    with pytest.warns(CuriosityWarning, match="target y is constant"):
        reg = HierarchicalCuriousRegressor().fit(X, np.full(20, 2.0), groups=np.arange(20) % 2)
    np.testing.assert_allclose(reg.influence_score(X, groups=np.arange(20) % 2), 0, atol=1e-25)


@pytest.mark.parametrize("alphas, edge", [([1e-8, 1e-7], "largest"), ([1e6, 1e7], "smallest")])
@pytest.mark.parametrize("alpha_search", ["grid", "hypergradient"])
def test_cv_warns_when_alpha_is_chosen_at_an_edge(rng, alphas, edge, alpha_search):
    # Noisy data: the best alpha is of order one, beyond both grids.
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + 3.0 * rng.normal(size=40)
    with pytest.warns(CuriosityWarning, match=f"is the {edge} value of alphas.*Widen alphas"):
        reg = CuriousRegressorCV(alphas=alphas, alpha_search=alpha_search).fit(X, y)
    assert reg.alpha_ == pytest.approx(min(alphas) if edge == "smallest" else max(alphas))
    # A grid around the optimum: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", CuriosityWarning)
        CuriousRegressorCV(alphas=np.logspace(-4, 3, 15), alpha_search=alpha_search).fit(X, y)


def test_residual_dof_that_is_rounding_error_counts_as_none(rng):
    # 4 samples, 3 features and an intercept at alpha=1e-13: the residual dof
    # is about 1e-13, and rss / 1e-13 was returned as a noise variance.
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    with pytest.warns(CuriosityWarning, match="No residual degrees of freedom"):
        reg = CuriousRegressor(alpha=1e-13).fit(X, y)
    assert np.isnan(reg.noise_variance_)
    with pytest.raises(ValueError, match="effective_dof_, use up the total sample weight"):
        reg.influence_score(X)
