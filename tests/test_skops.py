"""skops round trips of every estimator, and files with unknown types refused.

The oracle is the estimator before saving: after ``skops.io.dump`` and
``skops.io.load(trusted=trusted_types())`` predictions, stds, scores and every
fitted attribute are bitwise equal.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import sparse
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_curiosity import (
    CuriousRegressor,
    CuriousRegressorCV,
    HierarchicalCuriousRegressor,
    influence_score,
    regularity_sensitivity,
)
from sklearn_curiosity.models import Model
from sklearn_curiosity.persistence import trusted_types
from sklearn_curiosity.regularizers import QuadraticPenalties

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402


class TanhFeatures(Model):
    """A user-written model: its type is the user's to trust, not the package's."""

    def init_params(self, n_features, random_state):
        return 0.1 * random_state.normal(size=n_features + 1)

    def predict(self, params, X):
        return anp.tanh(X @ params[:-1]) + params[-1]


USER_MODEL = f"{__name__}.TanhFeatures"

ESTIMATORS = {
    "linear": lambda: CuriousRegressor(alpha=0.7),
    "linear-penalties": lambda: CuriousRegressor(
        alpha=[0.5, 2.0], regularizer=QuadraticPenalties.feature_groups([0, 0, 1])
    ),
    "mlp": lambda: CuriousRegressor(
        "mlp", alpha=1.0, hidden_layer_sizes=(4,), max_iter=200, random_state=0
    ),
    "mlp-cg": lambda: CuriousRegressor(
        "mlp", alpha=1.0, hidden_layer_sizes=(3, 2), tangent_solver="cg", max_iter=200,
        random_state=0,
    ),
    "user-model": lambda: CuriousRegressor(model=TanhFeatures(), alpha=0.5, random_state=0),
    "cv": lambda: CuriousRegressorCV(alphas=[0.1, 1.0, 10.0]),
    "pipeline": lambda: make_pipeline(StandardScaler(), CuriousRegressor(alpha=2.0)),
    "hierarchical": lambda: HierarchicalCuriousRegressor(1.0, 3.0),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = np.tanh(X @ [1.0, -0.5, 0.3]) + 0.1 * rng.normal(size=40)
    groups = np.repeat([3, 7, 9, 11], 10)
    return X, y, groups, rng.normal(size=(15, 3))


def _round_trip(obj, tmp_path, extra_trusted=()):
    path = tmp_path / "model.skops"
    sio.dump(obj, path)
    untrusted = set(sio.get_untrusted_types(file=path))
    # Everything skops does not trust by default is the package's, or named here.
    assert untrusted <= set(trusted_types()) | set(extra_trusted), untrusted
    return sio.load(path, trusted=trusted_types() + list(extra_trusted))


def _outputs(estimator, X, y, groups):
    n = X.shape[0]
    if isinstance(estimator, HierarchicalCuriousRegressor):
        users = groups[:n]
        return [
            estimator.predict(X, users),
            estimator.influence_score(X, groups=users),
            estimator.influence_score(X, y[:n], groups=users),
            estimator.regularity_sensitivity(X, users),
        ]
    return [
        estimator.predict(X),
        influence_score(estimator, X),
        influence_score(estimator, X, y[:n]),
        regularity_sensitivity(estimator, X),
        # A Pipeline passes return_std to its last step.
        estimator.predict(X, return_std=True)[1],
    ]


def _assert_same_parameters(loaded, original):
    params, loaded_params = original.get_params(deep=True), loaded.get_params(deep=True)
    assert set(params) == set(loaded_params)
    for name, value in params.items():
        other = loaded_params[name]
        if isinstance(value, Model):
            # A user model has no parameters' repr: compare its state.
            assert type(other) is type(value) and vars(other) == vars(value)
        elif not hasattr(value, "get_params"):  # estimators: through their parameters
            assert repr(other) == repr(value), name


def _assert_same_state(loaded, original):
    assert type(loaded) is type(original)
    _assert_same_parameters(loaded, original)
    fitted = {k: v for k, v in vars(original).items() if k.endswith("_") and not k.startswith("_")}
    for name, value in fitted.items():
        other = getattr(loaded, name)
        if isinstance(value, (np.ndarray, float, int)):
            np.testing.assert_array_equal(other, value, err_msg=name)
    assert set(fitted) <= set(vars(loaded))


@pytest.mark.filterwarnings("ignore:The (Gauss-Newton )?Hessian:UserWarning")
@pytest.mark.parametrize("name", ESTIMATORS)
def test_fitted_round_trip_is_bitwise(name, data, tmp_path):
    X, y, groups, X_new = data
    estimator = ESTIMATORS[name]()
    if name == "hierarchical":
        estimator.fit(X, y, groups)
    else:
        estimator.fit(X, y)
    extra = [USER_MODEL] if name == "user-model" else []
    loaded = _round_trip(estimator, tmp_path, extra)
    final, final_loaded = (
        (estimator[-1], loaded[-1]) if name == "pipeline" else (estimator, loaded)
    )
    _assert_same_state(final_loaded, final)
    for before, after in zip(_outputs(estimator, X_new, y, groups), _outputs(loaded, X_new, y, groups)):
        np.testing.assert_array_equal(after, before)
    # The version stamp of pickles is not left behind as an attribute.
    assert not hasattr(final_loaded, "_sklearn_curiosity_version")


def test_sparse_fit_round_trip(data, tmp_path):
    X, y, groups, X_new = data
    estimator = CuriousRegressor(alpha=0.3).fit(sparse.csr_matrix(X), y)
    loaded = _round_trip(estimator, tmp_path)
    for before, after in zip(
        _outputs(estimator, sparse.csr_matrix(X_new), y, groups),
        _outputs(loaded, sparse.csr_matrix(X_new), y, groups),
    ):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_unfitted_round_trip_keeps_the_parameters(name, tmp_path):
    estimator = ESTIMATORS[name]()
    extra = [USER_MODEL] if name == "user-model" else []
    loaded = _round_trip(estimator, tmp_path, extra)
    assert type(loaded) is type(estimator)
    _assert_same_parameters(loaded, estimator)


def test_skactiveml_plugins_round_trip(data, tmp_path):
    pytest.importorskip("skactiveml")
    from sklearn_curiosity.skactiveml import CuriousProbabilisticRegressor, InfluenceSampling

    X, y, _, X_new = data
    y_partial = y.copy()
    y_partial[25:] = np.nan
    reg = CuriousProbabilisticRegressor(CuriousRegressor(alpha=0.5), random_state=0)
    reg.fit(X, y_partial)
    loaded = _round_trip(reg, tmp_path)
    np.testing.assert_array_equal(
        loaded.predict(X_new, return_std=True), reg.predict(X_new, return_std=True)
    )
    np.testing.assert_array_equal(
        loaded.sample_y(X_new, n_samples=3, random_state=1),
        reg.sample_y(X_new, n_samples=3, random_state=1),
    )
    strategy = InfluenceSampling(batch="greedy", random_state=0, fallback="raise")
    loaded_strategy = _round_trip(strategy, tmp_path)
    np.testing.assert_array_equal(
        loaded_strategy.query(X, y_partial, reg, batch_size=3),
        strategy.query(X, y_partial, reg, batch_size=3),
    )


def test_trusted_types_are_the_package_own():
    names = trusted_types()
    assert names == sorted(set(names))
    assert all(name.startswith("sklearn_curiosity.") for name in names)
    assert "sklearn_curiosity._regressor.CuriousRegressor" in names
    assert not any("Error" in name or "_Parser" in name for name in names)


class _RunsCodeOnLoad:
    """Stands for a crafted object: loading it would run its ``__setstate__``."""

    ran = False

    def __setstate__(self, state):
        type(self).ran = True
        self.__dict__.update(state)


@pytest.mark.parametrize("kind", ["user-model", "crafted"])
def test_a_file_with_an_unknown_type_is_refused(kind, data, tmp_path):
    X, y, _, _ = data
    if kind == "user-model":
        obj = ESTIMATORS["user-model"]().fit(X, y)
        unknown = USER_MODEL
    else:
        # A fitted estimator carrying a foreign object in its state.
        obj = CuriousRegressor().fit(X, y)
        obj.payload_ = _RunsCodeOnLoad()
        unknown = f"{__name__}._RunsCodeOnLoad"
    path = tmp_path / "model.skops"
    sio.dump(obj, path)
    assert unknown in sio.get_untrusted_types(file=path)
    with pytest.raises(UntrustedTypesFoundException, match=unknown.split(".")[-1]):
        sio.load(path, trusted=trusted_types())
    assert not _RunsCodeOnLoad.ran


@pytest.mark.parametrize("estimator", [CuriousRegressor(), CuriousRegressorCV()])
def test_the_version_check_applies_to_skops_files(estimator, data, monkeypatch):
    import sklearn_curiosity

    X, y, _, _ = data
    estimator.fit(X, y)
    with monkeypatch.context() as m:
        m.setattr(sklearn_curiosity, "__version__", "99.0.0")
        blob = sio.dumps(estimator)
    with pytest.raises(ValueError, match="sklearn_curiosity 99.0.0.*Refit"):
        sio.loads(blob, trusted=trusted_types())
