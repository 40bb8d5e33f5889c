"""Small helpers shared by the estimators."""

# SPDX-License-Identifier: BSD-3-Clause

import contextlib


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
