"""Bad input gets a clear error, and nothing is left half-fitted."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_curiosity import (
    CuriosityWarning,
    CuriousRegressor,
    CuriousRegressorCV,
    HierarchicalCuriousRegressor,
    influence_score,
)


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=30)
    return X, y


FITTED_ATTRIBUTES = ["coef_", "intercept_", "params_", "tangent_", "complexity_", "noise_variance_"]


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
@pytest.mark.parametrize("where", ["X", "y"])
def test_non_finite_input_is_refused(data, bad_value, where):
    X, y = data
    X, y = X.copy(), y.copy()
    if where == "X":
        X[3, 1] = bad_value
    else:
        y[3] = bad_value
    reg = CuriousRegressor()
    with pytest.raises(ValueError, match="NaN|infinity"):
        reg.fit(X, y)
    assert not any(hasattr(reg, name) for name in FITTED_ATTRIBUTES)


@pytest.mark.parametrize("method", ["predict", "regularity_sensitivity", "influence_score"])
def test_non_finite_input_is_refused_after_fit(data, method):
    X, y = data
    reg = CuriousRegressor().fit(X, y)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        getattr(reg, method)(X_bad)


def test_wrong_shapes_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        CuriousRegressor().fit(X, y[:-1])
    with pytest.raises(ValueError, match="2D array"):
        CuriousRegressor().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="sample_weight"):
        CuriousRegressor().fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        CuriousRegressor().fit(X, y, sample_weight=-np.ones(len(y)))


@pytest.mark.parametrize("method", ["predict", "regularity_sensitivity", "influence_score", "score"])
def test_wrong_feature_count_after_fit(data, method):
    X, y = data
    reg = CuriousRegressor().fit(X, y)
    args = (X[:, :2], y) if method == "score" else (X[:, :2],)
    with pytest.raises(ValueError, match="3 features"):
        getattr(reg, method)(*args)


def test_labels_of_the_wrong_length_are_refused(data):
    X, y = data
    reg = CuriousRegressor().fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        reg.influence_score(X, y[:-2])


@pytest.mark.parametrize("alpha", [-1.0, "big", None])
def test_invalid_alpha(data, alpha):
    X, y = data
    with pytest.raises(InvalidParameterError, match="alpha"):
        CuriousRegressor(alpha=alpha).fit(X, y)


def test_alpha_zero_with_a_singular_system_says_raise_alpha(data):
    X, y = data
    X_collinear = np.column_stack([X, X[:, 0] + 2 * X[:, 1]])
    reg = CuriousRegressor(alpha=0.0)
    with pytest.raises(ValueError, match="Raise alpha"):
        reg.fit(X_collinear, y)
    assert not any(hasattr(reg, name) for name in FITTED_ATTRIBUTES)
    # More features than samples is singular too at alpha=0.
    rng = np.random.RandomState(1)
    with pytest.raises(ValueError, match="Raise alpha"):
        CuriousRegressor(alpha=0.0).fit(rng.normal(size=(5, 8)), rng.normal(size=5))
    # ...and fine with any alpha > 0.
    CuriousRegressor(alpha=1e-3).fit(X_collinear, y)


def test_a_failed_refit_leaves_the_previous_fit_intact(data):
    X, y = data
    reg = CuriousRegressor(alpha=0.0).fit(X, y)
    before = {name: np.copy(getattr(reg, name)) for name in FITTED_ATTRIBUTES}
    with pytest.raises(ValueError, match="Raise alpha"):
        reg.fit(np.column_stack([X, X[:, 0]]), y)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(reg, name), value)
    assert reg.n_features_in_ == 3


@pytest.mark.parametrize("method", ["predict", "regularity_sensitivity", "influence_score"])
def test_methods_before_fit_raise_not_fitted(data, method):
    X, _ = data
    with pytest.raises(NotFittedError):
        getattr(CuriousRegressor(), method)(X)
    with pytest.raises(NotFittedError):
        influence_score(CuriousRegressor(), X)


def test_no_residual_degrees_of_freedom_warns_and_refuses_unlabelled_scores():
    X = np.array([[1.0, 2.0]])
    reg = CuriousRegressor()
    with pytest.warns(UserWarning, match="No residual degrees of freedom"):
        reg.fit(X, [3.0])
    assert np.isnan(reg.noise_variance_)
    with pytest.raises(ValueError, match="noise variance could not be estimated"):
        reg.influence_score(X)
    # Labelled scores and predictions need no noise estimate.
    assert np.isfinite(reg.influence_score(X, [1.0])).all()


@pytest.mark.parametrize(
    "sizes, entry",
    [((0,), "entry 0 is 0"), ((4, 0), "entry 1 is 0"), ((-1,), "entry 0 is -1"),
     ((2.5,), "entry 0 is 2.5"), ((2.0,), "entry 0 is 2.0"), ((True,), "entry 0 is True"),
     (True, "entry 0 is True"), (((2, 3),), r"entry 0 is \(2, 3\)")],
)
def test_hidden_layer_sizes_are_checked_layer_by_layer(data, sizes, entry):
    # As MLPRegressor: integers >= 1. Before, (0,) fitted a constant model
    # silently and the others failed with numpy's errors.
    X, y = data
    reg = CuriousRegressor(model="mlp", hidden_layer_sizes=sizes, max_iter=5)
    with pytest.raises(ValueError, match=f"hidden_layer_sizes must hold integers >= 1.*{entry}"):
        reg.fit(X, y)
    assert not hasattr(reg, "n_features_in_") and not hasattr(reg, "params_")


@pytest.mark.parametrize(
    "sizes, layers", [(3, (3,)), (np.int64(3), (3,)), ([2, np.int32(4)], (2, 4)),
                      (np.array([2, 3]), (2, 3)), ((), ())],
)
def test_hidden_layer_sizes_accepts_ints_as_mlpregressor_does(data, sizes, layers):
    # An int is one layer; numpy integers are integers; () is a linear network.
    X, y = data
    reg = CuriousRegressor(model="mlp", hidden_layer_sizes=sizes, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=5 does not converge
        reg.fit(X, y)
    expected = CuriousRegressor(model="mlp", hidden_layer_sizes=layers, max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected.fit(X, y)
    assert reg._model.hidden_layer_sizes == layers
    np.testing.assert_array_equal(reg.params_, expected.params_)


def _hierarchical_fit(X, y):
    return HierarchicalCuriousRegressor().fit(X, y, groups=np.arange(len(y)) % 3)


ESTIMATOR_FITS = {
    "CuriousRegressor": lambda X, y: CuriousRegressor().fit(X, y),
    "CuriousRegressorCV": lambda X, y: CuriousRegressorCV(alphas=[0.1, 1.0, 10.0]).fit(X, y),
    "HierarchicalCuriousRegressor": _hierarchical_fit,
}


@pytest.mark.parametrize("fit", ESTIMATOR_FITS.values(), ids=ESTIMATOR_FITS.keys())
@pytest.mark.parametrize(
    "as_text", [lambda y: y.astype(str), lambda y: y.astype(str).astype(object)]
)
def test_numeric_strings_as_labels_fit_as_their_numbers(data, fit, as_text):
    # As Ridge: numeric strings are their numbers. Before, a '<U' y failed
    # with "UFuncTypeError: ufunc 'matmul'".
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CuriosityWarning)  # alpha at the grid's edge
        from_text, from_numbers = fit(X, as_text(y)), fit(X, y)
    np.testing.assert_array_equal(from_text.params_, from_numbers.params_)
    np.testing.assert_array_equal(from_text.tangent_, from_numbers.tangent_)
    assert Ridge().fit(X, as_text(y)).coef_ == pytest.approx(Ridge().fit(X, y).coef_)


@pytest.mark.parametrize("fit", ESTIMATOR_FITS.values(), ids=ESTIMATOR_FITS.keys())
def test_text_labels_are_refused_with_a_clear_error(data, fit):
    X, y = data
    letters = np.array(["a", "b", "c"])[np.arange(len(y)) % 3]
    with pytest.raises(ValueError, match="could not convert string to float"):
        Ridge().fit(X, letters)  # the behaviour matched
    with pytest.raises(ValueError, match="y must hold numbers.*'a'.*encode text labels"):
        fit(X, letters)
    with pytest.raises(ValueError, match="y contains NaN"):
        fit(X, np.where(np.arange(len(y)) == 2, "nan", y.astype(str)))


def test_labelled_scores_take_numeric_strings(data):
    X, y = data
    reg = CuriousRegressor().fit(X, y)
    np.testing.assert_array_equal(reg.influence_score(X, y.astype(str)), reg.influence_score(X, y))
    hier = _hierarchical_fit(X, y)
    groups = np.arange(len(y)) % 3
    np.testing.assert_array_equal(
        hier.influence_score(X, y.astype(str), groups), hier.influence_score(X, y, groups)
    )
    with pytest.raises(ValueError, match="y must hold numbers"):
        reg.influence_score(X, np.full(len(y), "a"))


@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic", "identity"])
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_network_scoring_refuses_non_finite_pools(data, activation, bad_value):
    # A network's sensitivities skip the pool's O(n p) check and look at their
    # results instead (an infinite input saturates tanh, so f alone can be
    # finite): each call must still name the bad input, in every dtype.
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = CuriousRegressor(
            "mlp", hidden_layer_sizes=(4, 3), activation=activation, max_iter=30, random_state=0
        ).fit(X, y)
    for dtype in [np.float64, np.float32]:
        X_bad = X.astype(dtype)
        X_bad[5, 2] = bad_value
        for call in [
            reg.predict,
            reg.regularity_sensitivity,
            reg.influence_score,
            lambda P: reg.influence_score(P, y),
            lambda P: reg.influence_score(P, uncertainty="total"),
        ]:
            with pytest.raises(ValueError, match="NaN|infinity"):
                call(X_bad)
