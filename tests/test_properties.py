"""Property-based tests: hostile but valid inputs give finite results or a clear ValueError.

Fixed example budget and derandomized: the same examples run on every machine.
"""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import config_context

from sklearn_curiosity import CuriousRegressor

PROPERTY_SETTINGS = settings(max_examples=150, derandomize=True, deadline=None)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 25))
    p = draw(st.integers(1, 8))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    x_scale = 10.0 ** draw(st.integers(-8, 8))
    y_scale = 10.0 ** draw(st.integers(-8, 8))
    X = rng.normal(size=(n, p)) * x_scale
    structure = draw(st.sampled_from(["none", "constant", "duplicate", "zero"]))
    if structure == "constant":
        X[:, 0] = x_scale
    elif structure == "duplicate" and p > 1:
        X[:, 1] = X[:, 0]
    elif structure == "zero":
        X[:, -1] = 0.0
    dtype = draw(st.sampled_from(["float64", "float32", "int"]))
    if dtype == "int":
        X = np.round(X / x_scale * 10).astype(np.int64)
    else:
        X = X.astype(dtype)
    y = rng.normal(size=n) * y_scale
    if draw(st.booleans()):
        y[:] = y_scale  # constant target
    weights = draw(st.sampled_from(["none", "with_zeros", "tiny", "huge"]))
    sample_weight = {
        "none": None,
        "with_zeros": rng.randint(0, 3, size=n).astype(float),
        "tiny": np.full(n, 1e-8),
        "huge": np.full(n, 1e8),
    }[weights]
    alpha = draw(st.sampled_from([0.0, 1e-12, 1e-6, 1.0, 1e6, 1e12]))
    container = draw(st.sampled_from(["array", "dataframe", "sparse"]))
    return X, y, sample_weight, alpha, container


def _as_container(X, container):
    if container == "dataframe":
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    if container == "sparse":
        return sparse.csr_matrix(X)
    return X


def _clear(error):
    # A clear message names the problem and what to do: not a bare numpy error.
    message = str(error)
    assert len(message) > 30, message
    assert "LinAlgError" not in type(error).__name__


@PROPERTY_SETTINGS
@given(problems())
def test_every_call_is_finite_or_a_clear_value_error(problem):
    X, y, sample_weight, alpha, container = problem
    X_in = _as_container(X, container)
    reg = CuriousRegressor(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ill-conditioning warnings are expected here
        try:
            reg.fit(X_in, y, sample_weight=sample_weight)
        except ValueError as error:
            _clear(error)
            assert not hasattr(reg, "params_")
            return
        for name in ["params_", "tangent_", "complexity_", "effective_dof_"]:
            assert np.all(np.isfinite(getattr(reg, name))), name
        outputs = [
            reg.predict(X_in),
            reg.regularity_sensitivity(X_in),
            reg.influence_score(X_in, y),
        ]
        try:
            outputs.append(reg.influence_score(X_in))
        except ValueError as error:
            assert not np.isfinite(reg.noise_variance_)
            _clear(error)
        # Chunks of about 3 rows give exactly the same numbers.
        with config_context(working_memory=3 * 8 * (X.shape[1] + 4) / 2**20):
            chunked = [
                reg.predict(X_in),
                reg.regularity_sensitivity(X_in),
                reg.influence_score(X_in, y),
            ]
        for one_shot, by_chunks in zip(outputs, chunked):
            np.testing.assert_array_equal(one_shot, by_chunks)
    for out in outputs:
        assert out.shape == (X.shape[0],)
        assert out.dtype == np.float64
        assert np.all(np.isfinite(out))


@PROPERTY_SETTINGS
@given(problems())
def test_float32_input_fits_as_its_float64_values(problem):
    # float32 (and int) input is fitted in float64, and with
    # precision="float64" scored in float64: the fit and the scores are
    # exactly those of the same values given as float64.
    X, y, sample_weight, alpha, _ = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reg = CuriousRegressor(alpha=alpha, precision="float64").fit(
                X, y, sample_weight=sample_weight
            )
        except ValueError:
            return
        reg64 = CuriousRegressor(alpha=alpha).fit(
            X.astype(np.float64), y, sample_weight=sample_weight
        )
        np.testing.assert_array_equal(reg.tangent_, reg64.tangent_)
        np.testing.assert_array_equal(
            reg.influence_score(X, y), reg64.influence_score(X.astype(np.float64), y)
        )
