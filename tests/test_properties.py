"""Property-based tests: hostile but valid inputs give finite results or a clear ValueError.

Fixed example budget and derandomized: the same examples run on every machine.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn import config_context

from sklearn_curiosity import CuriousRegressor, CuriousRegressorCV, HierarchicalCuriousRegressor

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
        # Chunks of about 3 rows give the same numbers, to rounding: BLAS may
        # sum a product of 3 rows in another order than one of 4 (seen with a
        # Fortran-ordered DataFrame: 1 ulp), but a misplaced row is far off.
        with config_context(working_memory=3 * 8 * (X.shape[1] + 4) / 2**20):
            chunked = [
                reg.predict(X_in),
                reg.regularity_sensitivity(X_in),
                reg.influence_score(X_in, y),
            ]
        # Rounding is relative to the terms summed, |x| . |theta|, not to the sum.
        abs_X = np.abs(X.astype(np.float64))
        prediction_scale = abs_X @ np.abs(reg.coef_) + abs(reg.intercept_)
        sensitivity_scale = abs_X @ np.abs(reg.tangent_[: X.shape[1]]) + np.abs(
            reg.tangent_[X.shape[1] :]
        ).sum()
        scales = [
            prediction_scale,
            sensitivity_scale,
            (prediction_scale + np.abs(y)) * sensitivity_scale,
        ]
        for one_shot, by_chunks, scale in zip(outputs, chunked, scales):
            assert np.all(np.abs(by_chunks - one_shot) <= 1e-13 * scale), (by_chunks, one_shot)
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


# -- the estimators' inputs: a result or a clear ValueError/TypeError ---------

INPUT_SETTINGS = settings(max_examples=60, derandomize=True, deadline=None)


# What a hostile call may change; each example changes at most two of them,
# so that every kind of input also meets otherwise ordinary data.
ASPECTS = ("n", "x_scale", "y_scale", "constant_x", "constant_y", "non_finite",
           "x_dtype", "y_dtype", "weights", "groups")


@st.composite
def hostile_inputs(draw):
    """X, y, sample_weight and groups of every shape, dtype and magnitude a user may pass."""
    twisted = draw(st.sets(st.sampled_from(ASPECTS), max_size=2))

    def choose(aspect, ordinary, hostile):
        return draw(st.sampled_from(hostile)) if aspect in twisted else ordinary

    n = choose("n", 12, [0, 1, 2, 3])
    p = draw(st.sampled_from([1, 2, 4]))
    rng = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    X = rng.normal(size=(n, p)) * 10.0 ** choose("x_scale", 0, [-300, -160, -8, 8, 150, 160])
    y = X.sum(axis=1) + rng.normal(size=n)
    y *= 10.0 ** choose("y_scale", 0, [-300, -8, 8, 160])
    if n and choose("constant_x", False, [True]):
        X[:] = X[0]
    if n and choose("constant_y", False, [True]):
        y[:] = y[0]
    bad = choose("non_finite", None, ["x_nan", "x_inf", "y_nan", "y_inf"])
    if n and bad:
        array = X if bad.startswith("x") else y
        array.flat[rng.randint(array.size)] = np.nan if bad.endswith("nan") else -np.inf
    x_dtype = choose("x_dtype", "float64", ["float32", "int", "bool", "object", "str"])
    y_dtype = choose("y_dtype", "float64", ["int", "bool", "str", "letters", "object"])
    with np.errstate(over="ignore", invalid="ignore"):  # casts of inf and 1e160 to int
        X = {"float64": X, "float32": X.astype(np.float32), "int": np.round(X).astype(np.int64),
             "bool": X > 0, "object": X.astype(object), "str": X.astype(str)}[x_dtype]
        y = {"float64": y, "int": np.round(y).astype(np.int64), "bool": y > 0,
             "str": y.astype(str), "letters": np.array(["a", "b"])[np.arange(n) % 2],
             "object": y.astype(object)}[y_dtype]
    weights = choose("weights", "none", ["zeros", "all_zero", "negative", "nan", "huge", "tiny"])
    sample_weight = {
        "none": None,
        "zeros": (np.arange(n) % 2).astype(float),
        "all_zero": np.zeros(n),
        "negative": -np.ones(n),
        "nan": np.where(np.arange(n) == 0, np.nan, 1.0),
        "huge": np.full(n, 1e300),
        "tiny": np.full(n, 1e-300),
    }[weights]
    labels = np.arange(n) % 3
    groups = {
        "int": labels,
        "str": labels.astype(str),
        "float": labels + 0.5,
        "mixed": np.array([label if label % 2 else str(label) for label in labels], dtype=object),
        "nan": np.where(labels == 0, np.nan, labels),
        "none": np.array([None if label == 0 else label for label in labels], dtype=object),
    }[choose("groups", "int", ["str", "float", "mixed", "nan", "none"])]
    return X, y, sample_weight, groups


# Errors that come from deep inside NumPy or Python and say nothing of the input.
OBSCURE = ("ufunc", "not supported between", "is not iterable", "negative dimensions",
           "index", "division by zero", "LinAlgError", "singular matrix")


def _names_the_problem(error):
    # scikit-learn's own input errors ("Input y contains NaN.") are short and clear.
    message = str(error)
    assert len(message) > 15, message
    assert not any(fragment in message for fragment in OBSCURE), message


def _fit_curious(X, y, sample_weight, groups):
    return CuriousRegressor(alpha=1.0).fit(X, y, sample_weight=sample_weight), None


def _fit_cv(X, y, sample_weight, groups):
    reg = CuriousRegressorCV(alphas=[0.1, 1.0, 10.0])
    return reg.fit(X, y, sample_weight=sample_weight), None


def _fit_hierarchical(X, y, sample_weight, groups):
    reg = HierarchicalCuriousRegressor(alpha=1.0)
    return reg.fit(X, y, groups=groups, sample_weight=sample_weight), groups


def _outputs(reg, groups, X, y):
    by_groups = {} if groups is None else {"groups": groups}
    yield lambda: reg.predict(X, **by_groups)
    yield lambda: reg.regularity_sensitivity(X, **by_groups)
    yield lambda: reg.influence_score(X, y, **by_groups)
    yield lambda: reg.influence_score(X, **by_groups)


@INPUT_SETTINGS
@given(hostile_inputs(), st.sampled_from([_fit_curious, _fit_cv, _fit_hierarchical]))
def test_estimator_inputs_give_a_result_or_a_clear_error(inputs, fit):
    X, y, sample_weight, groups = inputs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ill-conditioning and curiosity warnings are expected
        try:
            reg, groups = fit(X, y, sample_weight, groups)
        except (ValueError, TypeError) as error:
            _names_the_problem(error)
            return
        for name in ["params_", "tangent_", "complexity_", "effective_dof_"]:
            assert np.all(np.isfinite(getattr(reg, name))), name
        assert np.isfinite(reg.noise_variance_) or np.isnan(reg.noise_variance_)
        for output in _outputs(reg, groups, X, y):
            try:
                values = output()
            except (ValueError, TypeError) as error:
                _names_the_problem(error)
                continue
            assert values.shape[0] == len(y)
            assert np.all(np.isfinite(values))


LAYER_WIDTHS = st.one_of(
    st.integers(-2, 4), st.floats(-1, 4, allow_nan=False), st.booleans(),
    st.integers(1, 4).map(np.int64),
)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(st.one_of(LAYER_WIDTHS, st.lists(LAYER_WIDTHS, max_size=3), st.tuples(LAYER_WIDTHS)))
def test_hidden_layer_sizes_fit_as_integers_or_are_refused(sizes):
    # Valid exactly when every width is an integer >= 1 (not a bool), as in
    # MLPRegressor; anything else is a ValueError and leaves nothing fitted.
    widths = sizes if isinstance(sizes, (list, tuple)) else [sizes]
    valid = all(
        isinstance(width, (int, np.integer)) and not isinstance(width, bool) and width >= 1
        for width in widths
    )
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(8, 2)), rng.normal(size=8)
    reg = CuriousRegressor(model="mlp", hidden_layer_sizes=sizes, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two iterations do not converge
        if not valid:
            with pytest.raises(ValueError, match="hidden_layer_sizes"):
                reg.fit(X, y)
            assert not hasattr(reg, "n_features_in_")
            return
        reg.fit(X, y)
    assert reg._model.hidden_layer_sizes == tuple(int(width) for width in widths)
    assert np.all(np.isfinite(reg.influence_score(X)))
