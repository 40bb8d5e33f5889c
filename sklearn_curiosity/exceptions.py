"""Warnings of sklearn_curiosity.

A single class, so that a caller (the command line, a notebook) can catch or
silence every warning that says the scores carry no information, without
matching on message texts.
"""

# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["CuriosityWarning"]


class CuriosityWarning(UserWarning):
    """The fitted model's curiosity scores carry little or no information.

    Issued when every curiosity is zero (a constant target,
    constant features, residuals that are all zero), when the noise variance
    cannot be estimated, or when :class:`~sklearn_curiosity.CuriousRegressorCV`
    chose ``alpha`` at the edge of its search range. A ranking built from such
    scores is file order, not a preference.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from sklearn_curiosity import CuriousRegressor, CuriosityWarning
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = CuriousRegressor().fit(X, np.full(10, 3.0))
    >>> any(issubclass(w.category, CuriosityWarning) for w in caught)
    True
    """
