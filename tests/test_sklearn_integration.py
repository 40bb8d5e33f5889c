"""CuriousRegressor as an ordinary scikit-learn estimator."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_curiosity import CuriousRegressor, influence_score, regularity_sensitivity


@parametrize_with_checks([CuriousRegressor(), CuriousRegressor(fit_intercept=False, alpha=0.3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X[:, :4], y


def make_poly_pipeline(alpha=1.0, degree=3):
    return make_pipeline(
        StandardScaler(), PolynomialFeatures(degree), CuriousRegressor(alpha=alpha)
    )


def test_pipeline_scores_equal_scores_on_transformed_data(diabetes):
    X, y = diabetes
    pipe = make_poly_pipeline().fit(X[:200], y[:200])
    X_pool = X[200:]
    X_transformed = pipe[:-1].transform(X_pool)
    final = pipe[-1]
    np.testing.assert_array_equal(
        influence_score(pipe, X_pool), final.influence_score(X_transformed)
    )
    np.testing.assert_array_equal(
        influence_score(pipe, X_pool, y[200:]), final.influence_score(X_transformed, y[200:])
    )
    np.testing.assert_array_equal(
        regularity_sensitivity(pipe, X_pool), final.regularity_sensitivity(X_transformed)
    )
    # A bare estimator goes straight through.
    np.testing.assert_array_equal(influence_score(final, X_transformed), final.influence_score(X_transformed))


def test_module_level_score_rejects_estimators_without_a_tangent(diabetes):
    from sklearn.linear_model import Ridge

    X, y = diabetes
    with pytest.raises(TypeError, match="CuriousRegressor"):
        influence_score(make_pipeline(StandardScaler(), Ridge()).fit(X, y), X)


def test_grid_search_over_alpha_and_degree(diabetes):
    X, y = diabetes
    search = GridSearchCV(
        make_poly_pipeline(),
        {"curiousregressor__alpha": [0.1, 10.0, 1000.0], "polynomialfeatures__degree": [1, 2]},
        cv=3,
    ).fit(X, y)
    best = search.best_estimator_
    assert best[-1].alpha == search.best_params_["curiousregressor__alpha"]
    # The refitted pipeline scores through the module-level function.
    assert influence_score(best, X[:5]).shape == (5,)


@pytest.mark.parametrize("round_trip", ["clone", "pickle", "joblib"])
def test_round_trips_keep_scores_identical(diabetes, round_trip, tmp_path):
    X, y = diabetes
    pipe = make_poly_pipeline(alpha=3.0, degree=2).fit(X, y)
    if round_trip == "clone":
        restored = clone(pipe).fit(X, y)
    elif round_trip == "pickle":
        restored = pickle.loads(pickle.dumps(pipe))
    else:
        joblib.dump(pipe, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(influence_score(restored, X), influence_score(pipe, X))
    np.testing.assert_array_equal(influence_score(restored, X, y), influence_score(pipe, X, y))
    np.testing.assert_array_equal(restored[-1].tangent_, pipe[-1].tangent_)
