"""The linear model's v(x): the predictive std and the "epistemic" and "total" scores.

What the blockwise computation of ``v(x) = (x - c)^T A^-1 (x - c) + 1 / sum(w)``
must keep, against independent oracles: the same calls on one block of the
whole pool (bit for bit), ``predict`` (bit for bit), numpy's broadcasting
(bit for bit), exact rational arithmetic (the float32 bound) and the float64
pool (overflowing float32 squares).
"""

from fractions import Fraction

import numpy as np
import pytest
from sklearn import config_context

from sklearn_curiosity import CuriousRegressor, _chunking
from sklearn_curiosity._ridge import _TILE_ROWS, _broadcast_row

UNIT_ROUNDOFF = 2.0**-24


def _fit(n_features=50, mean=0.0, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(300, n_features)) + mean
    y = (X - mean) @ rng.normal(size=n_features) + rng.normal(size=300)
    return CuriousRegressor(alpha=1.0).fit(X, y), rng


def _v_outputs(reg, pool):
    mean, std = reg.predict(pool, return_std=True)
    return [
        mean,
        std,
        reg.influence_score(pool, uncertainty="epistemic"),
        reg.influence_score(pool, uncertainty="total"),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("precision", ["auto", "float64"])
@pytest.mark.parametrize("mean", [0.0, 1e3])
def test_std_and_epistemic_scores_equal_across_blocks_chunks_and_jobs(
    dtype, precision, mean, monkeypatch
):
    # 50 features, so that the triangular product runs BLAS's full kernels,
    # and 1000 rows: the last block ends off a multiple of the tile's rows.
    reg, rng = _fit(mean=mean)
    reg.set_params(precision=precision)
    pool = (rng.normal(size=(1000, 50)) * 3 + mean).astype(dtype)
    expected = _v_outputs(reg, pool)
    monkeypatch.setattr(_chunking, "CACHE_BLOCK_BYTES", 1)  # blocks of 64 rows
    for n_jobs in [None, 2]:
        reg.set_params(n_jobs=n_jobs)
        with config_context(working_memory=0.01):  # chunks of about 300 rows
            for got, want in zip(_v_outputs(reg, pool), expected):
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mean", [0.0, 1e3])
def test_mean_returned_with_the_std_is_predict_bit_for_bit(dtype, mean):
    reg, rng = _fit(mean=mean)
    pool = (rng.normal(size=(2500, 50)) + mean).astype(dtype)
    mean_with_std, std = reg.predict(pool, return_std=True)
    np.testing.assert_array_equal(mean_with_std, reg.predict(pool))
    assert mean_with_std.flags.c_contiguous and std.flags.c_contiguous


@pytest.mark.parametrize("n_rows", [0, 1, _TILE_ROWS - 1, _TILE_ROWS, 3 * _TILE_ROWS + 5])
@pytest.mark.parametrize("ufunc", [np.subtract, np.add])
def test_broadcast_row_equals_numpy_broadcasting(n_rows, ufunc):
    rng = np.random.RandomState(0)
    row = rng.normal(size=7)
    rows = rng.normal(size=(n_rows, 7)) * 1e3
    for rows_, row_, out_dtype in [
        (rows, row, np.float64),
        (rows.astype(np.float32), row.astype(np.float32), np.float32),
        (rows.astype(np.float32), row, np.float64),  # cast exactly, then the float64 op
        (np.asfortranarray(rows), row, np.float64),  # strided rows
    ]:
        expected = ufunc(rows_, row_, dtype=out_dtype)
        got = _broadcast_row(
            ufunc, rows_, np.tile(row_, _TILE_ROWS), np.empty(rows_.shape, out_dtype)
        )
        np.testing.assert_array_equal(got, expected)
    # In place on an owned array.
    owned = rows.copy()
    _broadcast_row(ufunc, owned, np.tile(row, _TILE_ROWS), owned)
    np.testing.assert_array_equal(owned, ufunc(rows, row))


def _exact_quadratic_form(cholesky, center, x):
    """``(x - c)^T (L L^T)^-1 (x - c)`` in rational arithmetic, for the stored ``L`` and ``c``."""
    d = [Fraction(float(a)) - Fraction(float(b)) for a, b in zip(x, center)]
    z = []
    for i, d_i in enumerate(d):  # forward substitution, L z = d
        s = d_i - sum(Fraction(float(cholesky[i, j])) * z[j] for j in range(i))
        z.append(s / Fraction(float(cholesky[i, i])))
    return sum(z_i * z_i for z_i in z)


@pytest.mark.parametrize("mean", [0.0, 1e4])
def test_float32_v_is_within_its_bound_of_the_exact_value(mean):
    # Rows where the float32 v(x) cancels most: at the training mean (v = 1/n
    # only), a rounding away from it, and features 1e4 times their spread
    # away from zero (the residue L^-1 (c32 - c) is added back).
    reg, rng = _fit(n_features=6, mean=mean, seed=1)
    hessian = reg._laplace
    center = hessian.X_offset
    ulp = np.spacing(np.abs(center.astype(np.float32))).astype(np.float64)
    rows = np.vstack([center, center + ulp, center - 3 * ulp, center + 1e-3,
                      center + rng.normal(size=(4, 6)) * 5])
    pool32 = rows.astype(np.float32)
    got = reg.predict(pool32, return_std=True)[1] ** 2 / reg.noise_variance_ - 1.0
    inverse_factor = np.linalg.inv(hessian.cholesky)
    for x, v_got in zip(pool32.astype(np.float64), got):
        exact = _exact_quadratic_form(hessian.cholesky, center, x)
        v = float(exact + Fraction(1) / Fraction(float(hessian.weight_sum)))
        # The documented bound (RidgeHessian.float32_quadratic_form).
        z_norm = np.sqrt(float(exact))
        t = np.abs(x - center) + UNIT_ROUNDOFF * np.abs(center)
        spread = np.linalg.norm(np.abs(inverse_factor) @ t)
        bound = (6 + 3) * UNIT_ROUNDOFF * (2 * z_norm * spread + z_norm**2)
        # 1e-14: the float64 square and root of the std, and 1 + v's rounding.
        assert abs(v_got - v) <= bound + 1e-14 * (1 + v)


def test_float32_squares_beyond_float32_range_are_computed_in_float64():
    reg, rng = _fit(n_features=5)
    pool = rng.normal(size=(200, 5))
    pool[[3, 150]] *= 1e22  # z ~ 1e21: squares above float32's 3e38
    std32 = reg.predict(pool.astype(np.float32), return_std=True)[1]
    std64 = reg.predict(pool.astype(np.float32).astype(np.float64), return_std=True)[1]
    assert np.all(np.isfinite(std32))
    np.testing.assert_allclose(std32, std64, rtol=1e-6)
    # The epistemic score's factor v, apart from g's own float32 rounding.
    factors = [
        reg.influence_score(P, uncertainty="epistemic") / reg.influence_score(P)
        for P in (pool.astype(np.float32), pool.astype(np.float32).astype(np.float64))
    ]
    assert np.all(np.isfinite(factors[0]))
    np.testing.assert_allclose(factors[0], factors[1], rtol=1e-6)
