"""Pickles carry the package version; an incompatible version is refused clearly."""

import pickle

import numpy as np
import pytest

import sklearn_curiosity
from sklearn_curiosity import CuriousRegressor, HierarchicalCuriousRegressor


def _fit(estimator_class):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = X.sum(axis=1) + rng.normal(size=30)
    if estimator_class is HierarchicalCuriousRegressor:
        groups = np.repeat([1, 2, 3], 10)
        return HierarchicalCuriousRegressor(alpha=0.3).fit(X, y, groups=groups), X
    return CuriousRegressor(alpha=0.3).fit(X, y), X


ESTIMATORS = [CuriousRegressor, HierarchicalCuriousRegressor]


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def fitted(request):
    return _fit(request.param)


def _pickled_as(estimator, version, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(sklearn_curiosity, "__version__", version)
        return pickle.dumps(estimator)


def test_round_trip_keeps_scores(fitted):
    reg, X = fitted
    state = reg.__getstate__()
    assert state["_sklearn_curiosity_version"] == sklearn_curiosity.__version__
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.influence_score(X), reg.influence_score(X))
    assert not hasattr(loaded, "_sklearn_curiosity_version")


def test_same_minor_release_loads(fitted, monkeypatch):
    reg, X = fitted
    major, minor, _ = sklearn_curiosity.__version__.split(".")
    blob = _pickled_as(reg, f"{major}.{minor}.99", monkeypatch)
    np.testing.assert_array_equal(pickle.loads(blob).tangent_, reg.tangent_)


@pytest.mark.parametrize("version", ["0.0.1", "99.1.0"])
def test_other_release_is_refused(fitted, monkeypatch, version):
    reg, _ = fitted
    blob = _pickled_as(reg, version, monkeypatch)
    with pytest.raises(ValueError, match=f"pickled with sklearn_curiosity {version}.*Refit"):
        pickle.loads(blob)


def test_unversioned_pickle_says_refit_not_install_unknown(fitted):
    # A pickle written by a release that did not record its version (the
    # hierarchical estimator until now) must not suggest "==unknown".
    reg, _ = fitted
    state = reg.__getstate__()
    del state["_sklearn_curiosity_version"]
    blank = type(reg).__new__(type(reg))
    with pytest.raises(ValueError, match="did not record its version") as raised:
        blank.__setstate__(state)
    assert "unknown" not in str(raised.value)
    assert "Refit" in str(raised.value)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_unfitted_estimator_loads_across_versions(estimator_class, monkeypatch):
    blob = _pickled_as(estimator_class(alpha=2.0), "99.0.0", monkeypatch)
    assert pickle.loads(blob).alpha == 2.0
