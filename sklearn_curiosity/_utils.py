"""Small helpers shared by the estimators."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib

import numpy as np
from scipy.linalg import blas
from sklearn.utils.validation import _check_sample_weight


@contextlib.contextmanager
def fitted_state_restored_on_failure(estimator):
    """Undo every change to ``estimator``'s attributes if the block raises.

    ``validate_data(reset=True)`` records ``n_features_in_`` and
    ``feature_names_in_`` before a fit can still fail; wrapping the fit in this
    block keeps a failed fit from leaving a half-fitted estimator.
    """
    before = dict(vars(estimator))
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(before)
        raise


def check_sample_weight(sample_weight, X):
    """Float64 sample weights, one per row of ``X``, non-negative and not all zero.

    scikit-learn refuses all-zero weights itself only from 1.7 on; before, a
    fit without weight gave NaN parameters.
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.any(sample_weight):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def weighted_gram(J, weights):
    """``J^T diag(weights) J`` for non-negative ``weights``, by a symmetric rank-k update.

    BLAS ``syrk`` on ``sqrt(weights) J`` does half the work of a general
    product.
    """
    scaled = np.sqrt(weights)[:, None] * J
    # scaled.T is Fortran-ordered: syrk reads it without a copy.
    gram = blas.dsyrk(1.0, scaled.T, trans=0, lower=1)
    return gram + np.tril(gram, -1).T
