"""What running the suite at the declared minimum versions found.

- A user Model gets dense rows, whatever sparse container the caller passes.
  Fit has always densified for a user Model; predict and the scores passed a
  scipy sparse *matrix* through, on which ``X**2`` is a matrix power: a square
  block of rows gave wrong numbers without an error (at every version).
  scikit-learn 1.6's common checks use sparse matrices, which is how the
  declared minimums found it.
- All-zero sample weights are refused by every estimator; scikit-learn 1.6's
  ``_check_sample_weight`` lets them through, and the fit gave NaN parameters.

``.ci/run`` runs the core test files at the declared minimums.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from scipy import sparse

from sklearn_curiosity import CuriousRegressor, CuriousRegressorCV, HierarchicalCuriousRegressor
from sklearn_curiosity.models import Model
from sklearn_curiosity.query import influence_sampling, variance_sampling


class SquaredFeatures(Model):
    def init_params(self, n_features, random_state):
        return 0.1 * random_state.normal(size=n_features + 1)

    def predict(self, params, X):
        return (X**2) @ params[:-1] + params[-1]


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array])
def test_sparse_rows_give_the_dense_answers(container):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 3))
    y = anp.sum(X**2, axis=1) + 0.1 * rng.normal(size=40)
    reg = CuriousRegressor(model=SquaredFeatures(), alpha=0.1, random_state=0).fit(X, y)
    square = X[:3]  # as many rows as features: X**2 as a matrix power is defined
    as_sparse = container(square)
    np.testing.assert_array_equal(reg.predict(as_sparse), reg.predict(square))
    np.testing.assert_array_equal(
        reg.predict(as_sparse, return_std=True)[1], reg.predict(square, return_std=True)[1]
    )
    np.testing.assert_array_equal(reg.influence_score(as_sparse), reg.influence_score(square))
    np.testing.assert_array_equal(
        reg.regularity_sensitivity(as_sparse), reg.regularity_sensitivity(square)
    )
    for strategy in (influence_sampling, variance_sampling):
        picks, scores = strategy(reg, as_sparse, 3)
        expected_picks, expected_scores = strategy(reg, square, 3)
        np.testing.assert_array_equal(picks, expected_picks)
        np.testing.assert_array_equal(scores, expected_scores)


@pytest.mark.parametrize(
    "estimator", [CuriousRegressor(alpha=0.0), CuriousRegressorCV(), HierarchicalCuriousRegressor()]
)
def test_all_zero_sample_weights_are_refused(estimator):
    X = np.array([[-1.7], [1.0], [0.3]])
    with pytest.raises(ValueError, match="at least one non-zero"):
        estimator.fit(X, [0.3, 1.0, 0.5], sample_weight=np.zeros(3))
    assert not hasattr(estimator, "params_")
