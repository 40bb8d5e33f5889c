"""Checks that keep a fit from answering wrong in silence.

Each raises (or warns) with the cause and the remedy, where the arithmetic
would otherwise carry on: text labels, values whose squares overflow
float64, fitted quantities that came out infinite, and fits whose curiosity
is zero everywhere. The row-wise check of the scores is
:func:`sklearn_curiosity.scores.check_finite_scores`.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from scipy import sparse
from sklearn.utils.validation import assert_all_finite

from .exceptions import CuriosityWarning


def as_numeric_target(y):
    """``y`` as finite float64; numeric strings are converted, as in Ridge.

    ``validate_data(y_numeric=True)`` converts object arrays only; a NumPy
    string array ('<U') would otherwise reach the arithmetic.
    """
    if y.dtype.kind in "USO":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"The target y must hold numbers (numeric strings are converted); {error}. "
                "This is a regressor: encode text labels as numbers first."
            ) from None
    y = y.astype(np.float64, copy=False)
    # "nan" and "inf" are valid numeric strings: check once converted.
    assert_all_finite(y, input_name="y")
    return y


def check_squares_finite(X, y, sample_weight):
    """Refuse values whose weighted sums of squares overflow float64.

    The fit works with ``X^T W X`` and ``y^T W y``: when those overflow, the
    solution comes out as zeros or infinities behind unrelated warnings. The
    sums cost one pass over the data, far less than the fit.

    Returns
    -------
    column_squares : ndarray of shape (n_features,)
        ``sum_i w_i x_ij^2`` for each column, for callers that need them too.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if sparse.issparse(X):
            column_squares = np.asarray(X.multiply(X).T @ sample_weight).ravel()
        else:
            column_squares = np.einsum("i,ij,ij->j", sample_weight, X, X)
        target_squares = sample_weight @ (y * y)
    remedy = (
        "Values that large cannot be fitted in float64 arithmetic: rescale them"
    )
    if not np.all(np.isfinite(column_squares)):
        column = int(np.flatnonzero(~np.isfinite(column_squares))[0])
        values = X.tocsc()[:, [column]].toarray() if sparse.issparse(X) else X[:, column]
        largest = np.abs(values).max()
        raise ValueError(
            f"The features overflow: the sample-weighted sum of squares of column "
            f"{column} of X is not finite in float64 (largest |value| {largest:.3g}, "
            f"total sample weight {sample_weight.sum():.3g}). {remedy}, e.g. with "
            "sklearn.preprocessing.StandardScaler in a Pipeline."
        )
    if not np.isfinite(target_squares):
        raise ValueError(
            f"The target overflows: the sample-weighted sum of squares of y is not "
            f"finite in float64 (largest |y| {np.abs(y).max():.3g}, total sample weight "
            f"{sample_weight.sum():.3g}). {remedy}, e.g. with "
            "sklearn.compose.TransformedTargetRegressor(transformer=StandardScaler())."
        )
    return column_squares


def check_fit_is_finite(quantities, nan_allowed=()):
    """Refuse a fit whose learned quantities are not finite (an overflow).

    ``quantities`` maps attribute names to values; those named in
    ``nan_allowed`` may be NaN (a documented outcome, such as a noise
    variance without residual degrees of freedom) but not infinite.
    """
    bad = []
    for name, value in quantities.items():
        value = np.asarray(value, dtype=np.float64)
        finite = np.isfinite(value) | (np.isnan(value) if name in nan_allowed else False)
        if not np.all(finite):
            bad.append(name)
    if bad:
        raise ValueError(
            f"The fit overflowed: {', '.join(bad)} came out infinite or NaN in float64. "
            "The values of X, y or sample_weight are too large (or training diverged): "
            "rescale X and y, e.g. with sklearn.preprocessing.StandardScaler (and "
            "TransformedTargetRegressor for y), or lower learning_rate_init."
        )


def warn_if_curiosity_is_zero(X, y, sample_weight, noise_variance, tangent, linear=True):
    """Warn (CuriosityWarning) when every unlabelled curiosity is zero, and say why.

    The curiosity is ``noise_variance_ * g(x)^2``. A constant target is fitted
    exactly by parameters that do not move with ``alpha`` (``g = 0``); so are
    constant features in a linear model (its coefficients are zero); and
    residuals that are all zero give ``noise_variance_ = 0``. A ranking by
    such scores is the order of the rows, not a preference.
    """
    used = sample_weight > 0
    if np.count_nonzero(used) < 2:
        return  # one sample: the degrees-of-freedom warning says it all
    y_used = y[used]
    if y_used.min() == y_used.max():
        cause = (
            f"the target y is constant ({y_used[0]:.6g}) over the samples with positive "
            "weight, so the fit reproduces it whatever alpha is"
        )
    elif linear and _all_columns_constant(X, used):
        cause = (
            "every feature of X is constant over the samples with positive weight, so "
            "the linear model's coefficients and their tangent are zero"
        )
    elif noise_variance == 0:
        cause = "the training residuals are all zero, so noise_variance_ is 0"
    elif not np.any(tangent):
        cause = (
            "the regularity tangent tangent_ is zero, so no point's influence moves the "
            "complexity (alpha is so large that the fitted parameters are numerically "
            "zero, or the regularizer does not depend on alpha); lower alpha"
        )
    else:
        return
    warnings.warn(
        f"Every curiosity (expected squared influence) of this model is zero: {cause}. "
        "Its scores carry no information, and a ranking by them is the order of the "
        "rows. Add varied labelled data before choosing points by curiosity.",
        CuriosityWarning,
        stacklevel=5,  # the caller of fit: warn, _fit, fit, _fit_context, caller
    )


def warn_if_scores_are_zero(scores, estimator):
    """Warn (CuriosityWarning) when every score of a pool is zero though the fit is not degenerate.

    The fit-time causes (:func:`warn_if_curiosity_is_zero`) all make the
    tangent or the noise variance zero; any other all-zero pool is either
    rows where ``g(x) = 0`` or values whose square underflows.
    """
    # The first rows settle it almost always, without a pass over the pool.
    if scores.size == 0 or np.any(scores[:64]) or np.any(scores):
        return
    if not np.any(estimator.tangent_) or not estimator.noise_variance_ > 0:
        return  # fit already warned, naming the cause
    warnings.warn(
        f"Every curiosity of these {scores.shape[0]} points is zero: g(x) = 0 at each of "
        "them (rows the tangent does not see, e.g. all-zero rows without an intercept), "
        "or noise_variance_ * g(x)^2 underflows float64 (alpha very large, or X or y "
        "on a tiny scale). A ranking by them is the order of the rows. Rescale X and "
        "y, or lower alpha.",
        CuriosityWarning,
        stacklevel=3,
    )


def _all_columns_constant(X, rows):
    rows = np.flatnonzero(rows)
    if sparse.issparse(X):
        X = X.tocsr()
        # Two used rows that differ settle it without a pass over the data.
        if (X[rows[0]] != X[rows[1]]).nnz:
            return False
        X = X[rows]
        return bool(np.all((X.max(axis=0) - X.min(axis=0)).toarray() == 0))
    if np.any(X[rows[0]] != X[rows[1]]):
        return False
    if rows.size < X.shape[0]:
        X = X[rows]
    return bool(np.all(X == X[0]))
